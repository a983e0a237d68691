//! Group commit: messages of any conversations stored in one transaction with a fixed number of
//! statements, whatever the group's size. For a group of N messages over C conversations:
//!
//! 1. one `SELECT … FOR UPDATE` of the C conversations (PostgreSQL locks them in id order;
//!    SQLite's `BEGIN IMMEDIATE` holds the write lock already);
//! 2. one `SELECT` of the messages already stored under the group's client ids (resends);
//! 3. seq numbers, counts and t1/r1 worked out in memory from the locked rows, in group order;
//! 4. one multi-row `INSERT` of the new messages;
//! 5. one `UPDATE … FROM (VALUES …)` of the C conversations;
//! 6. one `SELECT` of the new rows (their ids), then the commit: one fsync for the group.
//!
//! Each message keeps the rules of [`super::store_message`] and its own outcome: a refused one
//! (not the sender's conversation, invalid, ended, another tenant's picture or order) refuses
//! nothing else, and a resend (same client id, stored before or earlier in the same group) is
//! answered with the stored message and stores nothing.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement, Value,
};

use super::conversations::Member;
use super::messages::{NewMessage, Sender, check_content_belongs, new_row, validate};
use crate::DomainError;
use crate::db::begin_write;
use crate::entity::{conversation, message};

/// One message of [`store_messages_grouped`]: its conversation, the message, its time and who
/// must be the conversation's member.
#[derive(Clone, Debug)]
pub struct GroupedMessage<'a> {
    pub conversation_id: i64,
    pub msg: NewMessage<'a>,
    pub now: i64,
    /// Checked on the locked conversation row ([`Member::check`]), so the caller needs no read
    /// of its own; `None` when the caller has checked.
    pub member: Option<Member>,
}

/// A message the group stored, or found stored before.
#[derive(Clone, Debug)]
pub struct StoredMessage {
    pub message: message::Model,
    /// `false` for a resend: it was stored before and nothing changed.
    pub created: bool,
    /// The conversation as the group left it (its agent, its last seq): whom to tell.
    pub conversation: conversation::Model,
}

/// What became of one message of a group.
pub type GroupOutcome = Result<StoredMessage, DomainError>;

/// Stores messages of ANY conversations in one transaction (one commit, so one fsync for all of
/// them), each with its own outcome (see the module). `Err` when the transaction itself fails or
/// a check fails with a transient error ([`DomainError::is_transient`]); then nothing of the
/// group is stored and the caller retries the whole group.
pub async fn store_messages_grouped(
    db: &DatabaseConnection,
    group: &[GroupedMessage<'_>],
) -> Result<Vec<GroupOutcome>, DomainError> {
    let txn = begin_write(db).await?;
    let outcomes = store_group(&txn, group).await?;
    txn.commit().await?;
    Ok(outcomes)
}

/// Where a message of the group stands before the insert.
enum Planned {
    Done(Box<GroupOutcome>),
    /// Inserted as this seq of its conversation.
    New {
        conversation_id: i64,
        seq: i32,
    },
    /// A resend of the group's message at this index.
    SameAs(usize),
}

/// The group's state while it is planned: the locked conversations, updated in memory as
/// messages are numbered, and the client ids already taken.
struct Plan {
    conversations: HashMap<i64, conversation::Model>,
    stored: HashMap<(i64, String), message::Model>,
    /// Client ids given to a message earlier in this group: index of that message.
    taken: HashMap<(i64, String), usize>,
    rows: Vec<message::ActiveModel>,
    touched: BTreeSet<i64>,
}

async fn store_group(
    txn: &DatabaseTransaction,
    group: &[GroupedMessage<'_>],
) -> Result<Vec<GroupOutcome>, DomainError> {
    let ids: BTreeSet<i64> = group.iter().map(|item| item.conversation_id).collect();
    let mut plan = Plan {
        conversations: locked_conversations(txn, &ids).await?,
        stored: stored_by_client_id(txn, group).await?,
        taken: HashMap::new(),
        rows: Vec::new(),
        touched: BTreeSet::new(),
    };
    let mut planned = Vec::with_capacity(group.len());
    for (index, item) in group.iter().enumerate() {
        planned.push(match plan_one(txn, &mut plan, index, item).await {
            Ok(step) => step,
            Err(err) if err.is_transient() => return Err(err),
            Err(err) => Planned::Done(Box::new(Err(err))),
        });
    }
    if plan.rows.is_empty() {
        return Ok(finish(planned, &plan, HashMap::new()));
    }
    message::Entity::insert_many(std::mem::take(&mut plan.rows))
        .exec(txn)
        .await?;
    update_conversations(txn, &plan).await?;
    let inserted = inserted_rows(txn, group, &plan).await?;
    Ok(finish(planned, &plan, inserted))
}

/// The group's conversations, locked for the transaction (`FOR UPDATE` in id order on
/// PostgreSQL, so two nodes' groups cannot deadlock; a no-op on SQLite, which holds the write
/// lock already).
async fn locked_conversations(
    txn: &DatabaseTransaction,
    ids: &BTreeSet<i64>,
) -> Result<HashMap<i64, conversation::Model>, DomainError> {
    Ok(conversation::Entity::find()
        .filter(conversation::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(conversation::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

/// Messages already stored under the group's (conversation, client id) pairs.
async fn stored_by_client_id(
    txn: &DatabaseTransaction,
    group: &[GroupedMessage<'_>],
) -> Result<HashMap<(i64, String), message::Model>, DomainError> {
    let conversations: BTreeSet<i64> = group.iter().map(|item| item.conversation_id).collect();
    let client_ids: BTreeSet<&str> = group.iter().map(|item| item.msg.client_msg_id).collect();
    let wanted: BTreeSet<(i64, &str)> = group
        .iter()
        .map(|item| (item.conversation_id, item.msg.client_msg_id))
        .collect();
    Ok(message::Entity::find()
        .filter(message::Column::ConversationId.is_in(conversations))
        .filter(message::Column::ClientMsgId.is_in(client_ids))
        .all(txn)
        .await?
        .into_iter()
        // The two IN lists also match pairs of another message's conversation and client id.
        .filter(|m| wanted.contains(&(m.conversation_id, m.client_msg_id.as_str())))
        .map(|m| ((m.conversation_id, m.client_msg_id.clone()), m))
        .collect())
}

/// Decides one message: refused, a resend, or numbered and queued for the insert.
async fn plan_one(
    txn: &DatabaseTransaction,
    plan: &mut Plan,
    index: usize,
    item: &GroupedMessage<'_>,
) -> Result<Planned, DomainError> {
    let conversation = plan
        .conversations
        .get(&item.conversation_id)
        .ok_or(DomainError::NotFound)?;
    if let Some(member) = item.member {
        member.check(conversation)?;
    }
    let body = validate(&item.msg)?;
    let key = (item.conversation_id, item.msg.client_msg_id.to_owned());
    if let Some(stored) = plan.stored.get(&key) {
        return Ok(Planned::Done(Box::new(Ok(StoredMessage {
            message: stored.clone(),
            created: false,
            conversation: conversation.clone(),
        }))));
    }
    if let Some(&first) = plan.taken.get(&key) {
        return Ok(Planned::SameAs(first));
    }
    check_content_belongs(txn, conversation, &item.msg.content).await?;
    if conversation.status == conversation::STATUS_ENDED {
        return Err(DomainError::Conflict(
            "会话已结束，无法继续发送消息".to_owned(),
        ));
    }
    let conversation = plan
        .conversations
        .get_mut(&item.conversation_id)
        .ok_or(DomainError::NotFound)?;
    let seq = count_message(conversation, item.msg.sender, item.now);
    plan.rows.push(new_row(
        item.conversation_id,
        seq,
        &item.msg,
        body,
        item.now,
    ));
    plan.taken.insert(key, index);
    plan.touched.insert(item.conversation_id);
    Ok(Planned::New {
        conversation_id: item.conversation_id,
        seq,
    })
}

/// Numbers a new message and counts it on the conversation (in memory): the next seq, the
/// buyer's or agents' count, and for an agent's message r1, t1 and the agent who served it
/// when not yet set. Returns the seq.
fn count_message(conversation: &mut conversation::Model, sender: Sender, now: i64) -> i32 {
    conversation.last_seq += 1;
    conversation.last_message_at = now;
    match sender {
        Sender::Buyer => conversation.buyer_msg_count += 1,
        Sender::Agent(agent_id) => {
            conversation.agent_msg_count += 1;
            conversation.first_agent_reply_at.get_or_insert(now);
            conversation.agent_joined_at.get_or_insert(now);
            conversation.served_agent_id.get_or_insert(agent_id);
        }
        Sender::System => {}
    }
    conversation.last_seq
}

/// Writes what the group changed on its conversations, in one statement:
/// `UPDATE conversation SET … FROM (VALUES (id, last_seq, …), …) AS v WHERE id = v.column1`
/// (SQLite ≥ 3.33 and PostgreSQL). Not `CASE id WHEN … THEN …` per column: SQLite compares
/// every constant of such a statement with every other while compiling it (quadratic: it was
/// the largest cost of a 256-message group in the profile).
async fn update_conversations(txn: &DatabaseTransaction, plan: &Plan) -> Result<(), DomainError> {
    const COLUMNS: [&str; 7] = [
        "last_seq",
        "last_message_at",
        "buyer_msg_count",
        "agent_msg_count",
        "first_agent_reply_at",
        "agent_joined_at",
        "served_agent_id",
    ];
    let backend = txn.get_database_backend();
    let mut values: Vec<Value> = Vec::with_capacity(plan.touched.len() * (COLUMNS.len() + 1));
    let mut rows = Vec::with_capacity(plan.touched.len());
    for c in plan
        .touched
        .iter()
        .filter_map(|id| plan.conversations.get(id))
    {
        let first = values.len();
        values.extend([
            c.id.into(),
            c.last_seq.into(),
            c.last_message_at.into(),
            c.buyer_msg_count.into(),
            c.agent_msg_count.into(),
            c.first_agent_reply_at.into(),
            c.agent_joined_at.into(),
            c.served_agent_id.into(),
        ]);
        let marks: Vec<String> = (first..values.len())
            .map(|i| match backend {
                DbBackend::Postgres => format!("${}", i + 1),
                _ => "?".to_owned(),
            })
            .collect();
        rows.push(format!("({})", marks.join(", ")));
    }
    let set: Vec<String> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, column)| format!("{column} = v.column{}", i + 2))
        .collect();
    let sql = format!(
        "UPDATE conversation SET {} FROM (VALUES {}) AS v WHERE conversation.id = v.column1",
        set.join(", "),
        rows.join(", ")
    );
    txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// The rows the group inserted, by (conversation, seq).
async fn inserted_rows(
    txn: &DatabaseTransaction,
    group: &[GroupedMessage<'_>],
    plan: &Plan,
) -> Result<HashMap<(i64, i32), message::Model>, DomainError> {
    let client_ids: BTreeSet<&str> = plan
        .taken
        .values()
        .map(|&index| group[index].msg.client_msg_id)
        .collect();
    Ok(message::Entity::find()
        .filter(message::Column::ConversationId.is_in(plan.touched.iter().copied()))
        .filter(message::Column::ClientMsgId.is_in(client_ids))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| ((m.conversation_id, m.seq), m))
        .collect())
}

/// Every message's outcome, with its conversation as the group left it.
fn finish(
    planned: Vec<Planned>,
    plan: &Plan,
    mut inserted: HashMap<(i64, i32), message::Model>,
) -> Vec<GroupOutcome> {
    let conversation_of = |message: &message::Model| {
        plan.conversations
            .get(&message.conversation_id)
            .cloned()
            .ok_or(DomainError::NotFound)
    };
    let mut outcomes: Vec<GroupOutcome> = Vec::with_capacity(planned.len());
    for step in planned {
        let outcome = match step {
            Planned::Done(outcome) => *outcome,
            Planned::New {
                conversation_id,
                seq,
            } => inserted
                .remove(&(conversation_id, seq))
                .ok_or_else(|| {
                    DomainError::Internal(format!(
                        "message {seq} of conversation {conversation_id} was not read back"
                    ))
                })
                .and_then(|message| {
                    Ok(StoredMessage {
                        conversation: conversation_of(&message)?,
                        message,
                        created: true,
                    })
                }),
            Planned::SameAs(first) => match &outcomes[first] {
                Ok(stored) => Ok(StoredMessage {
                    created: false,
                    ..stored.clone()
                }),
                Err(_) => Err(DomainError::Internal(
                    "the message this one resends was not read back".to_owned(),
                )),
            },
        };
        outcomes.push(outcome);
    }
    outcomes
}
