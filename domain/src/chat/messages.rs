//! Messages: validated, numbered per conversation (`seq`) and stored before they are
//! acknowledged; a resend with the same `client_msg_id` is answered with the stored message.

use sea_orm::sea_query::{Expr, ExprTrait, Func, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::DomainError;
use crate::db::{begin_write, retry_transient};
use crate::entity::{conversation, message, purchase_order, upload};
use crate::scoped::{of_supplier, one_or_not_found};

/// Longest text message, in characters (after trimming).
pub const MAX_TEXT_CHARS: usize = 2000;
/// The font sizes (px) the composer offers (字体); the first is the default.
pub const FONT_SIZES: [i16; 5] = [14, 12, 16, 18, 20];
/// Longest `client_msg_id`.
pub const MAX_CLIENT_MSG_ID_CHARS: usize = 64;
/// Largest page of messages one call returns.
pub const MAX_PAGE: u64 = 500;

/// Who sends a message: [`vocab::Sender`] with the agent's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    /// The conversation's buyer.
    Buyer,
    /// An agent (the account id).
    Agent(i64),
    /// A notice of the system (queued, agent joined…); counts for nobody.
    System,
}

impl Sender {
    /// The sender as every layer names it (the stored `message.sender`).
    pub fn role(self) -> vocab::Sender {
        match self {
            Sender::Buyer => vocab::Sender::Buyer,
            Sender::Agent(_) => vocab::Sender::Agent,
            Sender::System => vocab::Sender::System,
        }
    }

    /// The agent's account, for an agent's message.
    fn account_id(self) -> Option<i64> {
        match self {
            Sender::Agent(id) => Some(id),
            Sender::Buyer | Sender::System => None,
        }
    }
}

/// What a new message holds: a text's font size, the upload of a picture or the order of an
/// order card (by id; the store checks they belong to the conversation).
pub type Content = vocab::MessageContent<i64, i64>;

/// What a stored message holds; the upload or the order is `None` once it was deleted.
pub type StoredContent = vocab::MessageContent<Option<i64>, Option<i64>>;

/// The content of a stored message, read back from its columns. A kind this version does not
/// know reads as text.
pub fn content_of(stored: &message::Model) -> StoredContent {
    match vocab::MessageKind::parse(&stored.kind) {
        Some(vocab::MessageKind::Image) => StoredContent::Image {
            picture: stored.upload_id,
        },
        Some(vocab::MessageKind::Order) => StoredContent::Order {
            order: stored.order_id,
        },
        Some(vocab::MessageKind::Text) | None => StoredContent::Text {
            font_size: stored.font_size,
        },
    }
}

/// A message to store: text needs a body; a picture or an order card may have a caption.
#[derive(Clone, Debug)]
pub struct NewMessage<'a> {
    pub sender: Sender,
    /// Chosen by the client, unique per conversation: a resend carries the same one.
    pub client_msg_id: &'a str,
    pub body: &'a str,
    pub content: Content,
}

impl<'a> NewMessage<'a> {
    /// A text message in the default font size.
    pub fn text(sender: Sender, client_msg_id: &'a str, body: &'a str) -> Self {
        NewMessage {
            sender,
            client_msg_id,
            body,
            content: Content::Text {
                font_size: FONT_SIZES[0],
            },
        }
    }

    /// A message with this content and no text yet (a picture, an order card).
    pub fn of(sender: Sender, client_msg_id: &'a str, content: Content) -> Self {
        NewMessage {
            sender,
            client_msg_id,
            body: "",
            content,
        }
    }

    /// The same message with this text (a text message's body, a caption).
    pub fn with_body(self, body: &'a str) -> Self {
        NewMessage { body, ..self }
    }
}

/// Checks the limits; returns the body to store (trimmed).
pub(super) fn validate(msg: &NewMessage<'_>) -> Result<String, DomainError> {
    let client_id_chars = msg.client_msg_id.chars().count();
    if client_id_chars == 0 || client_id_chars > MAX_CLIENT_MSG_ID_CHARS {
        return Err(DomainError::validation(
            "client_msg_id",
            format!("消息编号须为 1–{MAX_CLIENT_MSG_ID_CHARS} 个字符"),
        ));
    }
    if let Content::Text { font_size } = msg.content
        && !FONT_SIZES.contains(&font_size)
    {
        return Err(DomainError::validation("font_size", "不支持的字体大小"));
    }
    let body = msg.body.trim();
    if body.chars().count() > MAX_TEXT_CHARS {
        return Err(DomainError::validation(
            "body",
            format!("消息不能超过 {MAX_TEXT_CHARS} 个字符"),
        ));
    }
    if matches!(msg.content, Content::Text { .. }) && body.is_empty() {
        return Err(DomainError::validation("body", "不能发送空白消息"));
    }
    Ok(body.to_owned())
}

async fn find_by_client_id<C: ConnectionTrait>(
    db: &C,
    conversation_id: i64,
    client_msg_id: &str,
) -> Result<Option<message::Model>, DomainError> {
    Ok(message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::ClientMsgId.eq(client_msg_id))
        .one(db)
        .await?)
}

/// The row of a new message numbered `seq` (validation and checks done).
pub(super) fn new_row(
    conversation_id: i64,
    seq: i32,
    msg: &NewMessage<'_>,
    body: String,
    now: i64,
) -> message::ActiveModel {
    let (upload_id, order_id, font_size) = match msg.content {
        Content::Text { font_size } => (None, None, font_size),
        Content::Image { picture } => (Some(picture), None, FONT_SIZES[0]),
        Content::Order { order } => (None, Some(order), FONT_SIZES[0]),
    };
    message::ActiveModel {
        conversation_id: Set(conversation_id),
        seq: Set(seq),
        sender: Set(msg.sender.role().as_str().to_owned()),
        sender_account_id: Set(msg.sender.account_id()),
        client_msg_id: Set(msg.client_msg_id.to_owned()),
        kind: Set(msg.content.kind().as_str().to_owned()),
        body: Set(body),
        font_size: Set(font_size),
        upload_id: Set(upload_id),
        order_id: Set(order_id),
        created_at: Set(now),
        ..Default::default()
    }
}

/// Stores one message inside `txn` (validation already done). See [`store_message`].
async fn store_in(
    txn: &DatabaseTransaction,
    conversation_id: i64,
    msg: &NewMessage<'_>,
    body: String,
    now: i64,
) -> Result<(message::Model, bool), DomainError> {
    if let Some(existing) = find_by_client_id(txn, conversation_id, msg.client_msg_id).await? {
        return Ok((existing, false));
    }
    let conversation =
        one_or_not_found(txn, conversation::Entity::find_by_id(conversation_id)).await?;
    check_content_belongs(txn, &conversation, &msg.content).await?;
    lock_open_conversation(txn, conversation_id).await?;
    // A resend may have committed while this one waited for the lock.
    if let Some(existing) = find_by_client_id(txn, conversation_id, msg.client_msg_id).await? {
        return Ok((existing, false));
    }
    let seq = next_seq(txn, conversation_id, msg.sender, now).await?;
    let stored = new_row(conversation_id, seq, msg, body, now)
        .insert(txn)
        .await?;
    Ok((stored, true))
}

/// A picture must have been uploaded to this very conversation, an order card must be an
/// order of its supplier and buyer: nobody can show another tenant's data by id.
pub(super) async fn check_content_belongs(
    txn: &DatabaseTransaction,
    conversation: &conversation::Model,
    content: &Content,
) -> Result<(), DomainError> {
    match *content {
        Content::Text { .. } => {}
        Content::Image { picture } => {
            let of_conversation = of_supplier::<upload::Entity>(conversation.supplier_id, picture)
                .filter(upload::Column::ConversationId.eq(conversation.id));
            one_or_not_found(txn, of_conversation).await?;
        }
        Content::Order { order } => {
            let of_buyer = of_supplier::<purchase_order::Entity>(conversation.supplier_id, order)
                .filter(purchase_order::Column::BuyerId.eq(conversation.buyer_id));
            one_or_not_found(txn, of_buyer).await?;
        }
    }
    Ok(())
}

/// Locks the conversation row (PostgreSQL; SQLite holds the write lock already) and refuses an
/// ended conversation with a `Conflict`.
async fn lock_open_conversation(
    txn: &DatabaseTransaction,
    conversation_id: i64,
) -> Result<(), DomainError> {
    let locked = conversation::Entity::update_many()
        .col_expr(
            conversation::Column::LastSeq,
            Expr::col(conversation::Column::LastSeq),
        )
        .filter(conversation::Column::Id.eq(conversation_id))
        .filter(conversation::Column::Status.ne(conversation::STATUS_ENDED))
        .exec(txn)
        .await?;
    if locked.rows_affected == 0 {
        return Err(DomainError::Conflict(
            "会话已结束，无法继续发送消息".to_owned(),
        ));
    }
    Ok(())
}

/// Takes the conversation's next seq and counts the message (the buyer's or agents' count; for
/// an agent's message r1, t1 and the agent who served it when not yet set). Returns the seq.
async fn next_seq(
    txn: &DatabaseTransaction,
    conversation_id: i64,
    sender: Sender,
    now: i64,
) -> Result<i32, DomainError> {
    let mut bump = conversation::Entity::update_many()
        .col_expr(
            conversation::Column::LastSeq,
            Expr::col(conversation::Column::LastSeq).add(1),
        )
        .col_expr(conversation::Column::LastMessageAt, Expr::value(now));
    // Set once: the stored value if any, else this one.
    let first = |column: conversation::Column, value: i64| -> SimpleExpr {
        Func::coalesce([Expr::col(column), Expr::value(value)]).into()
    };
    match sender {
        Sender::Buyer => {
            bump = bump.col_expr(
                conversation::Column::BuyerMsgCount,
                Expr::col(conversation::Column::BuyerMsgCount).add(1),
            );
        }
        Sender::Agent(agent_id) => {
            bump = bump
                .col_expr(
                    conversation::Column::AgentMsgCount,
                    Expr::col(conversation::Column::AgentMsgCount).add(1),
                )
                .col_expr(
                    conversation::Column::FirstAgentReplyAt,
                    first(conversation::Column::FirstAgentReplyAt, now),
                )
                .col_expr(
                    conversation::Column::AgentJoinedAt,
                    first(conversation::Column::AgentJoinedAt, now),
                )
                // The agent who served it: set with t1 (whoever answered first).
                .col_expr(
                    conversation::Column::ServedAgentId,
                    first(conversation::Column::ServedAgentId, agent_id),
                );
        }
        Sender::System => {}
    }
    bump.filter(conversation::Column::Id.eq(conversation_id))
        .exec(txn)
        .await?;
    conversation::Entity::find_by_id(conversation_id)
        .select_only()
        .column(conversation::Column::LastSeq)
        .into_tuple()
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)
}

/// Stores a message in the conversation and returns it with `created = true`; a resend (same
/// `client_msg_id`) returns the stored message with `created = false` and stores nothing, even
/// after the conversation ended.
///
/// In the same transaction: the next `seq` (`conversation.last_seq + 1`), the buyer's or
/// agents' message count, and for an agent's message r1 (first reply) and t1 (joined) when not
/// yet set. A new message on an ended conversation is a `Conflict`. The caller has checked that
/// the sender belongs to the conversation ([`super::conversation_for_agent`] /
/// [`super::conversation_for_buyer`]).
pub async fn store_message(
    db: &DatabaseConnection,
    conversation_id: i64,
    msg: &NewMessage<'_>,
    now: i64,
) -> Result<(message::Model, bool), DomainError> {
    let body = validate(msg)?;
    // A busy database is tried again; a commit whose answer was lost is found by its client
    // message id on the next attempt, so the message is still stored once.
    retry_transient("storing a message", |_| {
        store_once(db, conversation_id, msg, body.clone(), now)
    })
    .await
}

/// One attempt of [`store_message`].
async fn store_once(
    db: &DatabaseConnection,
    conversation_id: i64,
    msg: &NewMessage<'_>,
    body: String,
    now: i64,
) -> Result<(message::Model, bool), DomainError> {
    let txn = begin_write(db).await?;
    match store_in(&txn, conversation_id, msg, body, now).await {
        Ok((stored, true)) => {
            txn.commit().await?;
            Ok((stored, true))
        }
        Ok((stored, false)) => Ok((stored, false)),
        // A concurrent resend won the race on PostgreSQL (unique client_msg_id).
        Err(err) if err.is_unique_violation() => {
            drop(txn);
            let existing = find_by_client_id(db, conversation_id, msg.client_msg_id)
                .await?
                .ok_or(err)?;
            Ok((existing, false))
        }
        Err(err) => Err(err),
    }
}

/// Stores several messages of one conversation in ONE transaction (one commit), in order, with
/// the rules of [`store_message`]. All or nothing: one invalid message refuses the batch.
pub async fn store_messages_batch(
    db: &DatabaseConnection,
    conversation_id: i64,
    msgs: &[NewMessage<'_>],
    now: i64,
) -> Result<Vec<(message::Model, bool)>, DomainError> {
    let bodies = msgs.iter().map(validate).collect::<Result<Vec<_>, _>>()?;
    let txn = begin_write(db).await?;
    let mut stored = Vec::with_capacity(msgs.len());
    for (msg, body) in msgs.iter().zip(bodies) {
        stored.push(store_in(&txn, conversation_id, msg, body, now).await?);
    }
    txn.commit().await?;
    Ok(stored)
}

fn check_limit(limit: u64) -> Result<(), DomainError> {
    if limit == 0 || limit > MAX_PAGE {
        return Err(DomainError::validation(
            "limit",
            format!("每次最多读取 {MAX_PAGE} 条消息"),
        ));
    }
    Ok(())
}

/// The messages after `after_seq`, oldest first, at most `limit` (1–[`MAX_PAGE`]): what a
/// reconnecting client missed. Call again from the last seq until fewer than `limit` return.
pub async fn messages_since(
    db: &DatabaseConnection,
    conversation_id: i64,
    after_seq: i32,
    limit: u64,
) -> Result<Vec<message::Model>, DomainError> {
    check_limit(limit)?;
    Ok(message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::Seq.gt(after_seq))
        .order_by_asc(message::Column::Seq)
        .limit(limit)
        .all(db)
        .await?)
}

/// A bounded page of [`messages_after`].
#[derive(Clone, Debug)]
pub struct MessagePage {
    /// Oldest first.
    pub messages: Vec<message::Model>,
    /// More messages follow the last one of this page: ask again from its seq.
    pub has_more: bool,
}

/// The messages after `after_seq`, oldest first, at most `limit` (1–[`MAX_PAGE`]), and whether
/// more follow. A reconnecting client's replay reads and sends one page at a time, so a
/// conversation of 100 000 messages costs no more memory than a short one.
pub async fn messages_after(
    db: &DatabaseConnection,
    conversation_id: i64,
    after_seq: i32,
    limit: u64,
) -> Result<MessagePage, DomainError> {
    check_limit(limit)?;
    // One more than asked: tells whether another page follows without a second query.
    let mut messages = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::Seq.gt(after_seq))
        .order_by_asc(message::Column::Seq)
        .limit(limit + 1)
        .all(db)
        .await?;
    let has_more = messages.len() as u64 > limit;
    messages.truncate(limit as usize);
    Ok(MessagePage { messages, has_more })
}

/// The page of up to `limit` messages just before `before_seq` (history paging), oldest first.
pub async fn history_before(
    db: &DatabaseConnection,
    conversation_id: i64,
    before_seq: i32,
    limit: u64,
) -> Result<Vec<message::Model>, DomainError> {
    check_limit(limit)?;
    let mut page = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::Seq.lt(before_seq))
        .order_by_desc(message::Column::Seq)
        .limit(limit)
        .all(db)
        .await?;
    page.reverse();
    Ok(page)
}
