//! Routing: which serving agent gets a buyer, and the queue of buyers nobody serves yet.
//!
//! Rule (§3): the serving agent of the supplier with the fewest open conversations; ties go to
//! the agent idle longest ([`agent_status::Model::idle_since`]), then the lower account id. With
//! nobody serving the conversation stays `queued`; when an agent switches on, queued
//! conversations are assigned first come, first served (by `entered_at`, then id).
//!
//! Every routing transaction first takes the supplier's routing lock (an `UPDATE` of the supplier
//! row that changes nothing: the row lock on PostgreSQL; on SQLite `BEGIN IMMEDIATE` already
//! serialises writers), so the open-conversation counts it reads cannot go stale under it.
//! Independently, every assignment is `UPDATE … WHERE id = ? AND status = 'queued'` and only a
//! changed row counts, so a buyer is never assigned twice whatever the interleaving.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::agent_status;
use crate::DomainError;
use crate::db::begin_write;
use crate::entity::{buyer, conversation, supplier};
use crate::scoped::find_of_supplier;

/// Takes the per-supplier routing lock inside `txn`; `NotFound` for an unknown supplier.
async fn lock_supplier<C: ConnectionTrait>(txn: &C, supplier_id: i64) -> Result<(), DomainError> {
    let locked = supplier::Entity::update_many()
        .col_expr(
            supplier::Column::NextAgentNo,
            Expr::col(supplier::Column::NextAgentNo),
        )
        .filter(supplier::Column::Id.eq(supplier_id))
        .exec(txn)
        .await?;
    if locked.rows_affected == 0 {
        return Err(DomainError::NotFound);
    }
    Ok(())
}

/// The serving agents of a supplier with their open-conversation counts.
struct Candidates {
    agents: Vec<(agent_status::Model, u64)>,
}

impl Candidates {
    async fn load<C: ConnectionTrait>(txn: &C, supplier_id: i64) -> Result<Self, DomainError> {
        let serving = agent_status::Entity::find()
            .filter(agent_status::Column::SupplierId.eq(supplier_id))
            .filter(agent_status::Column::Serving.eq(true))
            .all(txn)
            .await?;
        let counts: Vec<(Option<i64>, i64)> = conversation::Entity::find()
            .select_only()
            .column(conversation::Column::AgentId)
            .column_as(conversation::Column::Id.count(), "n")
            .filter(conversation::Column::SupplierId.eq(supplier_id))
            .filter(conversation::Column::Status.eq(conversation::STATUS_OPEN))
            .group_by(conversation::Column::AgentId)
            .into_tuple()
            .all(txn)
            .await?;
        let counts: HashMap<i64, u64> = counts
            .into_iter()
            .filter_map(|(agent, n)| Some((agent?, u64::try_from(n).unwrap_or_default())))
            .collect();
        let agents = serving
            .into_iter()
            .map(|s| {
                let n = counts.get(&s.account_id).copied().unwrap_or_default();
                (s, n)
            })
            .collect();
        Ok(Self { agents })
    }

    /// The index of the agent the next buyer goes to.
    fn best(&self) -> Option<usize> {
        self.agents
            .iter()
            .enumerate()
            .min_by_key(|(_, (s, n))| (*n, s.idle_since(), s.account_id))
            .map(|(i, _)| i)
    }

    /// Assigns `conversation_id` to the best agent if it is still queued; returns the agent.
    async fn assign<C: ConnectionTrait>(
        &mut self,
        txn: &C,
        conversation_id: i64,
        now: i64,
    ) -> Result<Option<i64>, DomainError> {
        let Some(i) = self.best() else {
            return Ok(None);
        };
        let agent_id = self.agents[i].0.account_id;
        let assigned = conversation::Entity::update_many()
            .col_expr(conversation::Column::AgentId, Expr::value(agent_id))
            .col_expr(
                conversation::Column::Status,
                Expr::value(conversation::STATUS_OPEN),
            )
            .filter(conversation::Column::Id.eq(conversation_id))
            .filter(conversation::Column::Status.eq(conversation::STATUS_QUEUED))
            .exec(txn)
            .await?;
        if assigned.rows_affected == 0 {
            return Ok(None);
        }
        agent_status::Entity::update_many()
            .col_expr(agent_status::Column::LastAssignedAt, Expr::value(now))
            .filter(agent_status::Column::AccountId.eq(agent_id))
            .exec(txn)
            .await?;
        let (status, n) = &mut self.agents[i];
        *n += 1;
        status.last_assigned_at = Some(now);
        Ok(Some(agent_id))
    }
}

/// How many new conversations one buyer may start (first entry, 重新咨询) in a time window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewConversationLimit {
    pub max: u32,
    pub window_ms: i64,
}

/// The refusal when a buyer starts conversations faster than [`NewConversationLimit`].
pub const TOO_MANY_NEW_CONVERSATIONS: &str = "您新建会话过于频繁，请稍后再试";

/// The buyer's conversation with the supplier: the open or queued one if there is one, else a
/// new one (status `queued`, t0 = `now`). Either way a queued conversation is then routed
/// ([`route`]); the returned row shows the outcome (`status`, `agent_id`).
pub async fn open_conversation(
    db: &DatabaseConnection,
    supplier_id: i64,
    buyer_id: i64,
    now: i64,
) -> Result<conversation::Model, DomainError> {
    open_conversation_limited(db, supplier_id, buyer_id, now, None).await
}

/// [`open_conversation`], refusing to create a new conversation (a `Conflict` saying
/// [`TOO_MANY_NEW_CONVERSATIONS`], nothing stored) when the buyer already started
/// `limit.max` conversations in the last `limit.window_ms`. Re-entering an open or queued
/// conversation is never refused. Counted from the rows under the supplier's routing lock, so
/// it holds across sockets and concurrent entries.
pub async fn open_conversation_limited(
    db: &DatabaseConnection,
    supplier_id: i64,
    buyer_id: i64,
    now: i64,
    limit: Option<NewConversationLimit>,
) -> Result<conversation::Model, DomainError> {
    let txn = begin_write(db).await?;
    lock_supplier(&txn, supplier_id).await?;
    find_of_supplier::<buyer::Entity, _>(&txn, supplier_id, buyer_id).await?;
    // Under the supplier lock no other transaction can insert for this buyer in between.
    let existing = conversation::Entity::find()
        .filter(conversation::Column::SupplierId.eq(supplier_id))
        .filter(conversation::Column::BuyerId.eq(buyer_id))
        .filter(
            conversation::Column::Status
                .is_in([conversation::STATUS_OPEN, conversation::STATUS_QUEUED]),
        )
        .order_by_desc(conversation::Column::EnteredAt)
        .one(&txn)
        .await?;
    let conversation = match existing {
        Some(conversation) => conversation,
        None => {
            if let Some(limit) = limit {
                let recent = conversation::Entity::find()
                    .filter(conversation::Column::SupplierId.eq(supplier_id))
                    .filter(conversation::Column::BuyerId.eq(buyer_id))
                    .filter(conversation::Column::EnteredAt.gt(now.saturating_sub(limit.window_ms)))
                    .count(&txn)
                    .await?;
                if recent >= u64::from(limit.max) {
                    return Err(DomainError::Conflict(TOO_MANY_NEW_CONVERSATIONS.to_owned()));
                }
            }
            queued_conversation(supplier_id, buyer_id, now)
                .insert(&txn)
                .await?
        }
    };
    if conversation.status == conversation::STATUS_QUEUED {
        let mut candidates = Candidates::load(&txn, supplier_id).await?;
        candidates.assign(&txn, conversation.id, now).await?;
    }
    let conversation = reload(&txn, conversation.id).await?;
    txn.commit().await?;
    Ok(conversation)
}

async fn reload<C: ConnectionTrait>(
    txn: &C,
    conversation_id: i64,
) -> Result<conversation::Model, DomainError> {
    conversation::Entity::find_by_id(conversation_id)
        .one(txn)
        .await?
        .ok_or(DomainError::NotFound)
}

/// The row of a buyer who has just entered: queued, no agent yet, no messages.
pub fn queued_conversation(supplier_id: i64, buyer_id: i64, now: i64) -> conversation::ActiveModel {
    conversation::ActiveModel {
        supplier_id: Set(supplier_id),
        buyer_id: Set(buyer_id),
        agent_id: Set(None),
        status: Set(conversation::STATUS_QUEUED.to_owned()),
        entered_at: Set(now),
        agent_joined_at: Set(None),
        first_agent_reply_at: Set(None),
        ended_at: Set(None),
        end_reason: Set(None),
        agent_msg_count: Set(0),
        buyer_msg_count: Set(0),
        last_seq: Set(0),
        last_message_at: Set(now),
        ..Default::default()
    }
}

/// Gives a queued conversation of the supplier to the best serving agent. Returns the agent, or
/// `None` when nobody is serving or the conversation is no longer queued (then nothing changes).
pub async fn route(
    db: &DatabaseConnection,
    supplier_id: i64,
    conversation_id: i64,
    now: i64,
) -> Result<Option<i64>, DomainError> {
    let txn = begin_write(db).await?;
    lock_supplier(&txn, supplier_id).await?;
    let conversation = reload(&txn, conversation_id).await?;
    if conversation.supplier_id != supplier_id {
        return Err(DomainError::NotFound);
    }
    if conversation.status != conversation::STATUS_QUEUED {
        return Ok(None);
    }
    let mut candidates = Candidates::load(&txn, supplier_id).await?;
    let agent = candidates.assign(&txn, conversation_id, now).await?;
    txn.commit().await?;
    Ok(agent)
}

/// Assigns the supplier's queued conversations, first come first served, to its serving agents
/// (each to the best agent at that moment). Returns `(conversation_id, agent_id)` for every
/// assignment made by this call, in queue order; two concurrent calls never return the same
/// conversation.
pub async fn assign_waiting_buyers(
    db: &DatabaseConnection,
    supplier_id: i64,
    now: i64,
) -> Result<Vec<(i64, i64)>, DomainError> {
    let txn = begin_write(db).await?;
    lock_supplier(&txn, supplier_id).await?;
    let assigned = assign_queue(&txn, supplier_id, now).await?;
    txn.commit().await?;
    Ok(assigned)
}

async fn assign_queue<C: ConnectionTrait>(
    txn: &C,
    supplier_id: i64,
    now: i64,
) -> Result<Vec<(i64, i64)>, DomainError> {
    let mut candidates = Candidates::load(txn, supplier_id).await?;
    if candidates.agents.is_empty() {
        return Ok(Vec::new());
    }
    let queued: Vec<i64> = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::Id)
        .filter(conversation::Column::SupplierId.eq(supplier_id))
        .filter(conversation::Column::Status.eq(conversation::STATUS_QUEUED))
        .order_by_asc(conversation::Column::EnteredAt)
        .order_by_asc(conversation::Column::Id)
        .into_tuple()
        .all(txn)
        .await?;
    let mut assigned = Vec::new();
    for conversation_id in queued {
        if let Some(agent_id) = candidates.assign(txn, conversation_id, now).await? {
            assigned.push((conversation_id, agent_id));
        }
    }
    Ok(assigned)
}

/// The 1-based place of a queued conversation in its supplier's queue; `None` once it is
/// assigned or ended. `NotFound` for another supplier's conversation.
pub async fn queue_position(
    db: &DatabaseConnection,
    supplier_id: i64,
    conversation_id: i64,
) -> Result<Option<u64>, DomainError> {
    let conversation = reload(db, conversation_id).await?;
    if conversation.supplier_id != supplier_id {
        return Err(DomainError::NotFound);
    }
    if conversation.status != conversation::STATUS_QUEUED {
        return Ok(None);
    }
    let ahead = conversation::Entity::find()
        .filter(conversation::Column::SupplierId.eq(supplier_id))
        .filter(conversation::Column::Status.eq(conversation::STATUS_QUEUED))
        .filter(
            conversation::Column::EnteredAt
                .lt(conversation.entered_at)
                .or(conversation::Column::EnteredAt
                    .eq(conversation.entered_at)
                    .and(conversation::Column::Id.lt(conversation.id))),
        )
        .count(db)
        .await?;
    Ok(Some(ahead + 1))
}

/// 剔除登录: the agent is set 示忙 and their open conversations go back to the queue (agent
/// cleared; t0, t1 and the messages are kept) and are re-routed to the other serving agents, or
/// wait. Returns `(conversation_id, new agent)` for each conversation taken from the agent.
pub async fn release_agent_conversations(
    db: &DatabaseConnection,
    supplier_id: i64,
    agent_id: i64,
    now: i64,
) -> Result<Vec<(i64, Option<i64>)>, DomainError> {
    let txn = begin_write(db).await?;
    lock_supplier(&txn, supplier_id).await?;
    agent_status::agent_of_supplier(&txn, supplier_id, agent_id).await?;
    agent_status::write_serving(&txn, supplier_id, agent_id, false, now).await?;
    let released: Vec<i64> = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::Id)
        .filter(conversation::Column::SupplierId.eq(supplier_id))
        .filter(conversation::Column::AgentId.eq(agent_id))
        .filter(conversation::Column::Status.eq(conversation::STATUS_OPEN))
        .order_by_asc(conversation::Column::EnteredAt)
        .order_by_asc(conversation::Column::Id)
        .into_tuple()
        .all(&txn)
        .await?;
    conversation::Entity::update_many()
        .col_expr(
            conversation::Column::AgentId,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            conversation::Column::Status,
            Expr::value(conversation::STATUS_QUEUED),
        )
        .filter(conversation::Column::Id.is_in(released.clone()))
        .filter(conversation::Column::Status.eq(conversation::STATUS_OPEN))
        .exec(&txn)
        .await?;
    let mut candidates = Candidates::load(&txn, supplier_id).await?;
    let mut result = Vec::with_capacity(released.len());
    for conversation_id in released {
        let agent = candidates.assign(&txn, conversation_id, now).await?;
        result.push((conversation_id, agent));
    }
    txn.commit().await?;
    Ok(result)
}
