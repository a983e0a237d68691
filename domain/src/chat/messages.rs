//! Messages: validated, numbered per conversation (`seq`) and stored before they are
//! acknowledged; a resend with the same `client_msg_id` is answered with the stored message.

use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use crate::DomainError;
use crate::db::{begin_write, retry_transient};
use crate::entity::{conversation, message, purchase_order, upload};

/// Longest text message, in characters (after trimming).
pub const MAX_TEXT_CHARS: usize = 2000;
/// The font sizes (px) the composer offers (字体); the first is the default.
pub const FONT_SIZES: [i16; 5] = [14, 12, 16, 18, 20];
/// Longest `client_msg_id`.
pub const MAX_CLIENT_MSG_ID_CHARS: usize = 64;
/// Largest page of messages one call returns.
pub const MAX_PAGE: u64 = 500;

/// Who sends a message.
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
    fn as_str(self) -> &'static str {
        match self {
            Sender::Buyer => message::SENDER_BUYER,
            Sender::Agent(_) => message::SENDER_AGENT,
            Sender::System => message::SENDER_SYSTEM,
        }
    }
}

/// A message to store. `kind` is one of `message::KIND_*`: text needs a body; an image needs
/// `upload_id`, an order card `order_id` (their body is an optional caption).
#[derive(Clone, Debug)]
pub struct NewMessage<'a> {
    pub sender: Sender,
    /// Chosen by the client, unique per conversation: a resend carries the same one.
    pub client_msg_id: &'a str,
    pub kind: &'a str,
    pub body: &'a str,
    /// One of [`FONT_SIZES`].
    pub font_size: i16,
    pub upload_id: Option<i64>,
    pub order_id: Option<i64>,
}

impl<'a> NewMessage<'a> {
    /// A text message in the default font size.
    pub fn text(sender: Sender, client_msg_id: &'a str, body: &'a str) -> Self {
        NewMessage {
            sender,
            client_msg_id,
            kind: message::KIND_TEXT,
            body,
            font_size: FONT_SIZES[0],
            upload_id: None,
            order_id: None,
        }
    }
}

/// Checks the limits; returns the body to store (trimmed).
fn validate(msg: &NewMessage<'_>) -> Result<String, DomainError> {
    let client_id_chars = msg.client_msg_id.chars().count();
    if client_id_chars == 0 || client_id_chars > MAX_CLIENT_MSG_ID_CHARS {
        return Err(DomainError::validation(
            "client_msg_id",
            format!("消息编号须为 1–{MAX_CLIENT_MSG_ID_CHARS} 个字符"),
        ));
    }
    if !FONT_SIZES.contains(&msg.font_size) {
        return Err(DomainError::validation("font_size", "不支持的字体大小"));
    }
    let body = msg.body.trim();
    if body.chars().count() > MAX_TEXT_CHARS {
        return Err(DomainError::validation(
            "body",
            format!("消息不能超过 {MAX_TEXT_CHARS} 个字符"),
        ));
    }
    match msg.kind {
        message::KIND_TEXT => {
            if body.is_empty() {
                return Err(DomainError::validation("body", "不能发送空白消息"));
            }
        }
        message::KIND_IMAGE if msg.upload_id.is_none() => {
            return Err(DomainError::validation("upload_id", "请选择要发送的图片"));
        }
        message::KIND_ORDER if msg.order_id.is_none() => {
            return Err(DomainError::validation("order_id", "请选择要发送的订单"));
        }
        message::KIND_IMAGE | message::KIND_ORDER => {}
        _ => return Err(DomainError::validation("kind", "不支持的消息类型")),
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
    let conversation = conversation::Entity::find_by_id(conversation_id)
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    // A picture must have been uploaded to this very conversation, an order card must be an
    // order of its supplier and buyer: nobody can show another tenant's data by id.
    if let Some(upload_id) = msg.upload_id {
        upload::Entity::find_by_id(upload_id)
            .filter(upload::Column::SupplierId.eq(conversation.supplier_id))
            .filter(upload::Column::ConversationId.eq(conversation_id))
            .one(txn)
            .await?
            .ok_or(DomainError::NotFound)?;
    }
    if let Some(order_id) = msg.order_id {
        purchase_order::Entity::find_by_id(order_id)
            .filter(purchase_order::Column::SupplierId.eq(conversation.supplier_id))
            .filter(purchase_order::Column::BuyerId.eq(conversation.buyer_id))
            .one(txn)
            .await?
            .ok_or(DomainError::NotFound)?;
    }

    // Lock the conversation row (PostgreSQL; SQLite holds the write lock already) and refuse
    // an ended conversation, before looking for a resend that may have committed meanwhile.
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
    if let Some(existing) = find_by_client_id(txn, conversation_id, msg.client_msg_id).await? {
        return Ok((existing, false));
    }
    // The next seq and the counters, in the same transaction as the message.
    let mut bump = conversation::Entity::update_many()
        .col_expr(
            conversation::Column::LastSeq,
            Expr::col(conversation::Column::LastSeq).add(1),
        )
        .col_expr(conversation::Column::LastMessageAt, Expr::value(now));
    match msg.sender {
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
                    Func::coalesce([
                        Expr::col(conversation::Column::FirstAgentReplyAt),
                        Expr::value(now),
                    ])
                    .into(),
                )
                .col_expr(
                    conversation::Column::AgentJoinedAt,
                    Func::coalesce([
                        Expr::col(conversation::Column::AgentJoinedAt),
                        Expr::value(now),
                    ])
                    .into(),
                )
                // The agent who served it: set with t1 (whoever answered first).
                .col_expr(
                    conversation::Column::ServedAgentId,
                    Func::coalesce([
                        Expr::col(conversation::Column::ServedAgentId),
                        Expr::value(agent_id),
                    ])
                    .into(),
                );
        }
        Sender::System => {}
    }
    bump.filter(conversation::Column::Id.eq(conversation_id))
        .exec(txn)
        .await?;
    let seq: i32 = conversation::Entity::find_by_id(conversation_id)
        .select_only()
        .column(conversation::Column::LastSeq)
        .into_tuple()
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let sender_account_id = match msg.sender {
        Sender::Agent(id) => Some(id),
        Sender::Buyer | Sender::System => None,
    };
    let stored = message::ActiveModel {
        conversation_id: Set(conversation_id),
        seq: Set(seq),
        sender: Set(msg.sender.as_str().to_owned()),
        sender_account_id: Set(sender_account_id),
        client_msg_id: Set(msg.client_msg_id.to_owned()),
        kind: Set(msg.kind.to_owned()),
        body: Set(body),
        font_size: Set(msg.font_size),
        upload_id: Set(msg.upload_id),
        order_id: Set(msg.order_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok((stored, true))
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

/// One message of [`store_messages_grouped`]: its conversation, the message and its time.
#[derive(Clone, Debug)]
pub struct GroupedMessage<'a> {
    pub conversation_id: i64,
    pub msg: NewMessage<'a>,
    pub now: i64,
}

/// Group commit: stores messages of ANY conversations in one transaction (one commit, so one
/// fsync for all of them), each with the rules of [`store_message`] and its own outcome. Each
/// message runs in a savepoint, so a refused one (invalid, ended conversation, a concurrent
/// resend) does not refuse the others. `Err` when the transaction itself fails or a message
/// fails with a transient error ([`DomainError::is_transient`]), and then nothing of the group
/// is stored: the caller retries the whole group.
pub async fn store_messages_grouped(
    db: &DatabaseConnection,
    group: &[GroupedMessage<'_>],
) -> Result<Vec<Result<(message::Model, bool), DomainError>>, DomainError> {
    let txn = begin_write(db).await?;
    let mut outcomes = Vec::with_capacity(group.len());
    for item in group {
        let outcome = match validate(&item.msg) {
            Err(err) => Err(err),
            Ok(body) => {
                let savepoint = txn.begin().await?;
                match store_in(&savepoint, item.conversation_id, &item.msg, body, item.now).await {
                    Ok(stored) => {
                        savepoint.commit().await?;
                        Ok(stored)
                    }
                    // A deadlock or a lost connection: the whole group is tried again.
                    Err(err) if err.is_transient() => return Err(err),
                    Err(err) => {
                        savepoint.rollback().await?;
                        // A concurrent resend won the race on PostgreSQL (unique client_msg_id).
                        if err.is_unique_violation() {
                            match find_by_client_id(
                                &txn,
                                item.conversation_id,
                                item.msg.client_msg_id,
                            )
                            .await?
                            {
                                Some(existing) => Ok((existing, false)),
                                None => Err(err),
                            }
                        } else {
                            Err(err)
                        }
                    }
                }
            }
        };
        outcomes.push(outcome);
    }
    txn.commit().await?;
    Ok(outcomes)
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
