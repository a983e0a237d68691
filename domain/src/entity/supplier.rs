//! `supplier`: one tenant of the system.

use sea_orm::entity::prelude::*;

/// A supplier (tenant). `next_agent_no` numbers its agent logins and is never reused.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    /// sha256 hex of the key the mall uses for the order API; `None` when not issued.
    pub api_key_hash: Option<String>,
    /// When the current API key was issued (unix ms); `None` when not issued.
    pub api_key_issued_at: Option<i64>,
    pub next_agent_no: i32,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::account::Entity")]
    Account,
    #[sea_orm(has_many = "super::buyer::Entity")]
    Buyer,
}

impl Related<super::account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Account.def()
    }
}

impl Related<super::buyer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Buyer.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
