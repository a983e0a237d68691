//! What the chat sockets show: a conversation with its buyer and last message (the agent's
//! list), the agent's open conversations, and the few names a buyer's widget displays. Read-only.

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::agent_status;
use crate::DomainError;
use crate::entity::{account, buyer, conversation, message, supplier};

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
    let buyer = buyer::Entity::find_by_id(conversation.buyer_id)
        .filter(buyer::Column::SupplierId.eq(conversation.supplier_id))
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
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
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(conversation::Entity::find()
        .filter(conversation::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(conversation::Column::Id)
        .all(db)
        .await?)
}

/// The supplier's name (shown in the buyer's widget).
pub async fn supplier_name(
    db: &DatabaseConnection,
    supplier_id: i64,
) -> Result<String, DomainError> {
    Ok(supplier::Entity::find_by_id(supplier_id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?
        .name)
}

/// The display name of an agent of the supplier.
pub async fn agent_name(
    db: &DatabaseConnection,
    supplier_id: i64,
    agent_id: i64,
) -> Result<String, DomainError> {
    Ok(agent_status::agent_of_supplier(db, supplier_id, agent_id)
        .await?
        .display_name)
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
