//! A conversation's life after routing: the agent joins (t1), it ends (t2, 结束方式), idle ones
//! time out; and the checks that a caller may see a conversation at all.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, UpdateMany};

use crate::DomainError;
use crate::db::begin_write;
use crate::entity::conversation;
use crate::scoped::find_of_supplier;

/// How a conversation ended (the report's 结束方式), stored as [`EndReason::as_str`].
pub use vocab::EndReason;

/// The stored 结束方式 of a conversation; `None` while it is open (or for a value this version
/// does not know).
pub fn end_reason_of(conversation: &conversation::Model) -> Option<EndReason> {
    conversation
        .end_reason
        .as_deref()
        .and_then(EndReason::parse)
}

/// Who acts in a conversation: the agent assigned to it or its buyer, within their supplier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    Agent { supplier_id: i64, agent_id: i64 },
    Buyer { supplier_id: i64, buyer_id: i64 },
}

impl Member {
    /// Whether `conversation` is this member's: `NotFound` when it is another supplier's,
    /// `Forbidden` when it is another agent's (or still queued) or another buyer's.
    pub fn check(self, conversation: &conversation::Model) -> Result<(), DomainError> {
        let (supplier_id, theirs) = match self {
            Member::Agent {
                supplier_id,
                agent_id,
            } => (supplier_id, conversation.agent_id == Some(agent_id)),
            Member::Buyer {
                supplier_id,
                buyer_id,
            } => (supplier_id, conversation.buyer_id == buyer_id),
        };
        if conversation.supplier_id != supplier_id {
            return Err(DomainError::NotFound);
        }
        if !theirs {
            return Err(DomainError::Forbidden);
        }
        Ok(())
    }
}

/// The conversation if it is `member`'s ([`Member::check`]); `NotFound` when it does not exist.
pub async fn conversation_of(
    db: &DatabaseConnection,
    member: Member,
    conversation_id: i64,
) -> Result<conversation::Model, DomainError> {
    let supplier_id = match member {
        Member::Agent { supplier_id, .. } | Member::Buyer { supplier_id, .. } => supplier_id,
    };
    let conversation =
        find_of_supplier::<conversation::Entity, _>(db, supplier_id, conversation_id).await?;
    member.check(&conversation)?;
    Ok(conversation)
}

/// The conversation if it is the agent's (assigned to them); `NotFound` when it does not exist
/// or is another supplier's, `Forbidden` when it is another agent's or still queued.
pub async fn conversation_for_agent(
    db: &DatabaseConnection,
    supplier_id: i64,
    agent_id: i64,
    conversation_id: i64,
) -> Result<conversation::Model, DomainError> {
    let member = Member::Agent {
        supplier_id,
        agent_id,
    };
    conversation_of(db, member, conversation_id).await
}

/// The conversation if it is the buyer's; `NotFound` when it does not exist or is another
/// supplier's, `Forbidden` when it is another buyer's.
pub async fn conversation_for_buyer(
    db: &DatabaseConnection,
    supplier_id: i64,
    buyer_id: i64,
    conversation_id: i64,
) -> Result<conversation::Model, DomainError> {
    let member = Member::Buyer {
        supplier_id,
        buyer_id,
    };
    conversation_of(db, member, conversation_id).await
}

/// t1: the assigned agent opened the conversation, and is recorded as the agent who served it.
/// Only the first time counts; later calls change nothing. Returns the conversation.
pub async fn mark_agent_joined(
    db: &DatabaseConnection,
    supplier_id: i64,
    conversation_id: i64,
    agent_id: i64,
    now: i64,
) -> Result<conversation::Model, DomainError> {
    conversation::Entity::update_many()
        .col_expr(conversation::Column::AgentJoinedAt, Expr::value(now))
        .col_expr(conversation::Column::ServedAgentId, Expr::value(agent_id))
        .filter(conversation::Column::Id.eq(conversation_id))
        .filter(conversation::Column::SupplierId.eq(supplier_id))
        .filter(conversation::Column::AgentId.eq(agent_id))
        .filter(conversation::Column::AgentJoinedAt.is_null())
        .filter(conversation::Column::Status.eq(conversation::STATUS_OPEN))
        .exec(db)
        .await?;
    conversation_for_agent(db, supplier_id, agent_id, conversation_id).await
}

/// The update that ends conversations: status ended, t2 = `now`, 结束方式 `reason` (the caller
/// says which).
fn ending(reason: EndReason, now: i64) -> UpdateMany<conversation::Entity> {
    conversation::Entity::update_many()
        .col_expr(
            conversation::Column::Status,
            Expr::value(conversation::STATUS_ENDED),
        )
        .col_expr(conversation::Column::EndedAt, Expr::value(now))
        .col_expr(
            conversation::Column::EndReason,
            Expr::value(reason.as_str()),
        )
}

/// Ends the conversation (t2 = `now`, 结束方式 `reason`). Idempotent: ending an ended
/// conversation changes nothing and returns `false`. Returns the conversation and whether this
/// call ended it.
pub async fn end_conversation(
    db: &DatabaseConnection,
    supplier_id: i64,
    conversation_id: i64,
    reason: EndReason,
    now: i64,
) -> Result<(conversation::Model, bool), DomainError> {
    let ended = ending(reason, now)
        .filter(conversation::Column::Id.eq(conversation_id))
        .filter(conversation::Column::SupplierId.eq(supplier_id))
        .filter(conversation::Column::Status.ne(conversation::STATUS_ENDED))
        .exec(db)
        .await?;
    let conversation =
        find_of_supplier::<conversation::Entity, _>(db, supplier_id, conversation_id).await?;
    Ok((conversation, ended.rows_affected == 1))
}

/// 超时结束: ends every open or queued conversation (all suppliers) with no message for
/// `idle_ms` (counted from its last message, or from t0 when it has none). Returns the ids it
/// ended. A message stored concurrently keeps its conversation alive: each end re-checks the
/// idle condition.
pub async fn end_idle_conversations(
    db: &DatabaseConnection,
    idle_ms: i64,
    now: i64,
) -> Result<Vec<i64>, DomainError> {
    let cutoff = now.saturating_sub(idle_ms);
    let idle_filter = || {
        conversation::Column::Status
            .is_in([conversation::STATUS_OPEN, conversation::STATUS_QUEUED])
            .and(conversation::Column::LastMessageAt.lt(cutoff))
    };
    let txn = begin_write(db).await?;
    let candidates = conversation::Entity::find()
        .filter(idle_filter())
        // One lock order for every sweep.
        .order_by_asc(conversation::Column::Id)
        .all(&txn)
        .await?;
    let mut ended = Vec::new();
    for candidate in candidates {
        let done = ending(EndReason::Timeout, now)
            .filter(conversation::Column::Id.eq(candidate.id))
            .filter(idle_filter())
            .exec(&txn)
            .await?;
        if done.rows_affected == 1 {
            ended.push(candidate.id);
        }
    }
    txn.commit().await?;
    Ok(ended)
}
