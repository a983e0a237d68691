//! `account`: a supplier's customer-service admin or agent.

use sea_orm::entity::prelude::*;

/// `role` of an admin (客服管理员).
pub const ROLE_ADMIN: &str = "admin";
/// `role` of an agent (在线客服).
pub const ROLE_AGENT: &str = "agent";

/// A login account. `login` is unique across all suppliers; for agents it is the 工号
/// (see [`crate::accounts::agent_login`]).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub supplier_id: i64,
    /// [`ROLE_ADMIN`] or [`ROLE_AGENT`].
    pub role: String,
    #[sea_orm(unique)]
    pub login: String,
    pub display_name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the admin disabled the account (停用); `None` while it may log in.
    pub disabled_at: Option<i64>,
    /// Client address of the last successful login (at most 64 characters).
    pub last_login_addr: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::supplier::Entity",
        from = "Column::SupplierId",
        to = "super::supplier::Column::Id"
    )]
    Supplier,
    #[sea_orm(has_one = "super::login_session::Entity")]
    LoginSession,
}

impl Related<super::supplier::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Supplier.def()
    }
}

impl Related<super::login_session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LoginSession.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
