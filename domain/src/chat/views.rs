//! What the chat sockets show: a conversation with its buyer and last message (the agent's
//! list), the agent's open conversations, and the few names a buyer's widget displays. Read-only.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::agent_status;
use crate::DomainError;
use crate::db::rows_by_ids;
use crate::entity::{account, buyer, conversation, message, supplier};
use crate::scoped::{find_of_supplier, one_or_not_found};

/// A conversation as the agent's list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversationView {
    pub conversation: conversation::Model,
    pub buyer: buyer::Model,
    /// The message with `seq = last_seq`, if any.
    pub last_message: Option<message::Model>,
}

/// The view of one conversation (its buyer and last message).
pub async fn conversation_view(
    db: &DatabaseConnection,
    conversation: conversation::Model,
) -> Result<ConversationView, DomainError> {
    let buyer =
        find_of_supplier::<buyer::Entity, _>(db, conversation.supplier_id, conversation.buyer_id)
            .await?;
    let last_message = if conversation.last_seq > 0 {
        message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation.id))
            .filter(message::Column::Seq.eq(conversation.last_seq))
            .one(db)
            .await?
    } else {
        None
    };
    Ok(ConversationView {
        conversation,
        buyer,
        last_message,
    })
}

/// The buyer's messages still waiting for an answer: those after the conversation's last agent
/// message. The agent's list shows their number as unread when the conversation reaches the
/// agent (messages left while queued included) and the waiting clock from `since`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Unanswered {
    /// Buyer messages after the last agent message (all of them if no agent wrote yet).
    pub count: u64,
    /// Since when the buyer waits for an answer: the first of those messages, or the buyer's
    /// entry (t0) while no agent has written at all. `None` once the agent answered the
    /// buyer's last message.
    pub since: Option<i64>,
}

/// [`Unanswered`] of one conversation (already scoped to its supplier by the caller).
pub async fn unanswered(
    db: &DatabaseConnection,
    conversation: &conversation::Model,
) -> Result<Unanswered, DomainError> {
    let last_answer: Option<i32> = message::Entity::find()
        .select_only()
        .column(message::Column::Seq)
        .filter(message::Column::ConversationId.eq(conversation.id))
        .filter(message::Column::Sender.eq(message::SENDER_AGENT))
        .order_by_desc(message::Column::Seq)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    let waiting: Option<(i64, Option<i64>)> = message::Entity::find()
        .select_only()
        .column_as(message::Column::Id.count(), "n")
        .column_as(message::Column::CreatedAt.min(), "since")
        .filter(message::Column::ConversationId.eq(conversation.id))
        .filter(message::Column::Sender.eq(message::SENDER_BUYER))
        .filter(message::Column::Seq.gt(last_answer.unwrap_or(0)))
        .into_tuple()
        .one(db)
        .await?;
    let (count, first) = waiting.unwrap_or((0, None));
    let since = match last_answer {
        None => Some(conversation.entered_at),
        Some(_) => first,
    };
    Ok(Unanswered {
        count: u64::try_from(count).unwrap_or_default(),
        since,
    })
}

/// The agent's open conversations, oldest first.
pub async fn open_conversations_of_agent(
    db: &DatabaseConnection,
    supplier_id: i64,
    agent_id: i64,
) -> Result<Vec<ConversationView>, DomainError> {
    let rows = conversation::Entity::find()
        .filter(conversation::Column::SupplierId.eq(supplier_id))
        .filter(conversation::Column::AgentId.eq(agent_id))
        .filter(conversation::Column::Status.eq(conversation::STATUS_OPEN))
        .order_by_asc(conversation::Column::EnteredAt)
        .order_by_asc(conversation::Column::Id)
        .all(db)
        .await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        views.push(conversation_view(db, row).await?);
    }
    Ok(views)
}

/// Conversations by id, whatever their supplier (for the idle sweep, which spans suppliers).
pub async fn conversations_by_ids(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<Vec<conversation::Model>, DomainError> {
    rows_by_ids::<conversation::Entity>(db, conversation::Column::Id, ids).await
}

/// The supplier's name (shown in the buyer's widget).
pub async fn supplier_name(
    db: &DatabaseConnection,
    supplier_id: i64,
) -> Result<String, DomainError> {
    let supplier = one_or_not_found(db, supplier::Entity::find_by_id(supplier_id)).await?;
    Ok(supplier.name)
}

/// The display name of an agent of the supplier.
pub async fn agent_name(
    db: &DatabaseConnection,
    supplier_id: i64,
    agent_id: i64,
) -> Result<String, DomainError> {
    let agent = agent_status::agent_of_supplier(db, supplier_id, agent_id).await?;
    Ok(agent.display_name)
}

/// Whether any agent of the supplier is 服务中.
pub async fn anyone_serving(
    db: &DatabaseConnection,
    supplier_id: i64,
) -> Result<bool, DomainError> {
    Ok(agent_status::Entity::find()
        .filter(agent_status::Column::SupplierId.eq(supplier_id))
        .filter(agent_status::Column::Serving.eq(true))
        .one(db)
        .await?
        .is_some())
}

/// Whether the agent is 服务中 (an agent without a status row is 示忙).
pub async fn is_serving(
    db: &DatabaseConnection,
    supplier_id: i64,
    agent_id: i64,
) -> Result<bool, DomainError> {
    Ok(agent_status::status_of(db, supplier_id, agent_id)
        .await?
        .is_some_and(|s| s.serving))
}

/// The account's supplier and whether it is an agent (`None`: no such account). Used when a
/// login ends and only the account id is known.
pub async fn account_supplier(
    db: &DatabaseConnection,
    account_id: i64,
) -> Result<Option<(i64, bool)>, DomainError> {
    Ok(account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .map(|a| (a.supplier_id, a.role == account::ROLE_AGENT)))
}
