//! sea-orm entities, one file per table (schema: `migrations/src/m20261125_000001_init.rs`).
//!
//! Timestamps are `i64` unix milliseconds (UTC). Enumerated columns are short strings; their
//! allowed values are the constants next to each entity.

pub mod account;
pub mod audit_log;
pub mod buyer;
pub mod conversation;
pub mod login_session;
pub mod message;
pub mod order_item;
pub mod purchase_order;
pub mod supplier;
pub mod upload;

/// The entities under short names: `use domain::entity::prelude::*;`.
pub mod prelude {
    pub use super::account::Entity as Account;
    pub use super::audit_log::Entity as AuditLog;
    pub use super::buyer::Entity as Buyer;
    pub use super::conversation::Entity as Conversation;
    pub use super::login_session::Entity as LoginSession;
    pub use super::message::Entity as Message;
    pub use super::order_item::Entity as OrderItem;
    pub use super::purchase_order::Entity as PurchaseOrder;
    pub use super::supplier::Entity as Supplier;
    pub use super::upload::Entity as Upload;
}
