//! 服务中 / 示忙: whether an agent takes new buyers. A busy agent keeps the buyers they have.
//!
//! The table is `agent_status` (migration `m20261126_000001_agent_status`); an agent without a
//! row is busy. The entity lives here rather than in [`crate::entity`] because only the chat
//! core reads it.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DatabaseConnection, Set};

use crate::DomainError;
use crate::entity::account;
use crate::scoped::{of_supplier, one_or_not_found};

/// One agent's status.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_status")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: i64,
    pub supplier_id: i64,
    /// 服务中 when true, 示忙 when false.
    pub serving: bool,
    /// When the agent last switched to serving (unix ms); `None` while busy.
    pub serving_since: Option<i64>,
    /// When the agent was last given a buyer (unix ms).
    pub last_assigned_at: Option<i64>,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "crate::entity::account::Entity",
        from = "Column::AccountId",
        to = "crate::entity::account::Column::Id"
    )]
    Account,
}

impl Related<account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Account.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Since when the agent has been waiting for a buyer: the later of their last assignment
    /// and their switch to serving (time spent 示忙 is not idle time). Routing ties go to the
    /// smallest value.
    pub fn idle_since(&self) -> i64 {
        match (self.last_assigned_at, self.serving_since) {
            (Some(a), Some(s)) => a.max(s),
            (Some(a), None) => a,
            (None, Some(s)) => s,
            (None, None) => self.updated_at,
        }
    }
}

/// The agent account `account_id` of the supplier, or `NotFound` (also for another supplier's
/// account, and for an admin).
pub(crate) async fn agent_of_supplier<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    account_id: i64,
) -> Result<account::Model, DomainError> {
    let agent = of_supplier::<account::Entity>(supplier_id, account_id)
        .filter(account::Column::Role.eq(account::ROLE_AGENT));
    one_or_not_found(db, agent).await
}

/// Writes the agent's status row (created on first use).
pub(crate) async fn write_serving<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    account_id: i64,
    serving: bool,
    now: i64,
) -> Result<(), DomainError> {
    let current = Entity::find_by_id(account_id).one(db).await?;
    match current {
        None => {
            let row = ActiveModel {
                account_id: Set(account_id),
                supplier_id: Set(supplier_id),
                serving: Set(serving),
                serving_since: Set(serving.then_some(now)),
                last_assigned_at: Set(None),
                updated_at: Set(now),
            };
            Entity::insert(row)
                .on_conflict(
                    OnConflict::column(Column::AccountId)
                        .update_columns([Column::Serving, Column::ServingSince, Column::UpdatedAt])
                        .to_owned(),
                )
                .exec_without_returning(db)
                .await?;
        }
        // Switching on again while serving keeps `serving_since` (no queue jump).
        Some(row) if row.serving == serving => {}
        Some(_) => {
            Entity::update_many()
                .col_expr(Column::Serving, Expr::value(serving))
                .col_expr(Column::ServingSince, Expr::value(serving.then_some(now)))
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(Column::AccountId.eq(account_id))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

/// Switches an agent of the supplier to 服务中 (`serving = true`) or 示忙. Switching to serving
/// does not hand out waiting buyers by itself: call
/// [`assign_waiting_buyers`](super::assign_waiting_buyers) next (the web layer then tells the
/// sockets).
pub async fn set_serving(
    db: &DatabaseConnection,
    supplier_id: i64,
    account_id: i64,
    serving: bool,
    now: i64,
) -> Result<(), DomainError> {
    agent_of_supplier(db, supplier_id, account_id).await?;
    write_serving(db, supplier_id, account_id, serving, now).await
}

/// After login an agent is 示忙 until they switch; the web layer calls this on every agent
/// login.
pub async fn reset_status_on_login(
    db: &DatabaseConnection,
    supplier_id: i64,
    account_id: i64,
    now: i64,
) -> Result<(), DomainError> {
    set_serving(db, supplier_id, account_id, false, now).await
}

/// The agent's status (`None`: never set, i.e. 示忙).
pub async fn status_of(
    db: &DatabaseConnection,
    supplier_id: i64,
    account_id: i64,
) -> Result<Option<Model>, DomainError> {
    Ok(of_supplier::<Entity>(supplier_id, account_id)
        .one(db)
        .await?)
}
