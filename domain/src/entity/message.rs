//! `message`: one chat message, stored before it is acknowledged.

use sea_orm::entity::prelude::*;

/// `sender` of a buyer's message.
pub const SENDER_BUYER: &str = vocab::Sender::Buyer.as_str();
/// `sender` of an agent's message.
pub const SENDER_AGENT: &str = vocab::Sender::Agent.as_str();
/// `sender` of a system notice (queued, agent joined, ended…).
pub const SENDER_SYSTEM: &str = vocab::Sender::System.as_str();

/// `kind`: plain text (may hold emoji).
pub const KIND_TEXT: &str = vocab::MessageKind::Text.as_str();
/// `kind`: a picture; `upload_id` is set.
pub const KIND_IMAGE: &str = vocab::MessageKind::Image.as_str();
/// `kind`: an order card; `order_id` is set.
pub const KIND_ORDER: &str = vocab::MessageKind::Order.as_str();

/// A message. `seq` orders a conversation (unique per conversation) and lets a reconnecting
/// client ask for what it missed; `client_msg_id` (unique per conversation) makes a resend
/// idempotent.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "message")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub conversation_id: i64,
    pub seq: i32,
    pub sender: String,
    pub sender_account_id: Option<i64>,
    pub client_msg_id: String,
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub font_size: i16,
    pub upload_id: Option<i64>,
    pub order_id: Option<i64>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::conversation::Entity",
        from = "Column::ConversationId",
        to = "super::conversation::Column::Id"
    )]
    Conversation,
    #[sea_orm(
        belongs_to = "super::upload::Entity",
        from = "Column::UploadId",
        to = "super::upload::Column::Id",
        on_delete = "SetNull"
    )]
    Upload,
    #[sea_orm(
        belongs_to = "super::purchase_order::Entity",
        from = "Column::OrderId",
        to = "super::purchase_order::Column::Id",
        on_delete = "SetNull"
    )]
    PurchaseOrder,
}

impl Related<super::conversation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Conversation.def()
    }
}

impl Related<super::upload::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Upload.def()
    }
}

impl Related<super::purchase_order::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::PurchaseOrder.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
