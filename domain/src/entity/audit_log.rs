//! `audit_log`: admin actions (account added, edited, disabled or enabled, password reset,
//! kick) and the accounts' own logins, failed logins and password changes.

use sea_orm::entity::prelude::*;

/// An agent account was created.
pub const ACTION_ACCOUNT_ADDED: &str = "account_added";
/// An account's name or password was changed by an admin.
pub const ACTION_ACCOUNT_EDITED: &str = "account_edited";
/// An admin set a new password for an account.
pub const ACTION_PASSWORD_RESET: &str = "password_reset";
/// An admin ended an account's live login (剔除登录).
pub const ACTION_LOGIN_KICKED: &str = "login_kicked";
/// An admin issued a new order-API key (the old one stops working).
pub const ACTION_API_KEY_ROTATED: &str = "api_key_rotated";
/// An admin issued the supplier's first order-API key (there was no old one).
pub const ACTION_API_KEY_ISSUED: &str = "api_key_issued";
/// An admin imported orders from an .xlsx file.
pub const ACTION_ORDERS_IMPORTED: &str = "orders_imported";
/// An admin disabled an agent account (停用): its login ended and it cannot log in.
pub const ACTION_ACCOUNT_DISABLED: &str = "account_disabled";
/// An admin enabled a disabled agent account again (启用).
pub const ACTION_ACCOUNT_ENABLED: &str = "account_enabled";
/// An account logged in (the actor is the account itself).
pub const ACTION_LOGIN: &str = "login";
/// A login of an existing account was refused: wrong password, or the account is disabled.
pub const ACTION_LOGIN_FAILED: &str = "login_failed";
/// An account changed its own password (修改密码).
pub const ACTION_PASSWORD_CHANGED: &str = "password_changed";

/// One audit entry of a supplier; `detail` is Chinese text for the admin to read.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub supplier_id: i64,
    pub actor_account_id: Option<i64>,
    pub action: String,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::supplier::Entity",
        from = "Column::SupplierId",
        to = "super::supplier::Column::Id"
    )]
    Supplier,
}

impl Related<super::supplier::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Supplier.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
