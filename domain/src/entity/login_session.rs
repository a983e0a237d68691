//! `login_session`: the live logins, at most one per account (that is single login).

use sea_orm::entity::prelude::*;

/// One live login. Only the sha256 hex of the cookie token is stored.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_session")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub account_id: i64,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub client_addr: String,
    /// Truncated to 200 characters.
    pub user_agent: String,
    pub created_at: i64,
    /// The heartbeat: a login silent for longer than the idle timeout is released.
    pub last_seen_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::account::Entity",
        from = "Column::AccountId",
        to = "super::account::Column::Id",
        on_delete = "Cascade"
    )]
    Account,
}

impl Related<super::account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Account.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
