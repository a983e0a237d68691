//! `conversation`: one chat session between a buyer and an agent of a supplier.

use sea_orm::entity::prelude::*;

/// `status`: waiting for a serving agent.
pub const STATUS_QUEUED: &str = "queued";
/// `status`: assigned to an agent.
pub const STATUS_OPEN: &str = "open";
/// `status`: over.
pub const STATUS_ENDED: &str = "ended";

/// `end_reason`: the agent pressed 结束对话.
pub const END_AGENT: &str = vocab::EndReason::Agent.as_str();
/// `end_reason`: the buyer ended it.
pub const END_BUYER: &str = vocab::EndReason::Buyer.as_str();
/// `end_reason`: nobody wrote for too long.
pub const END_TIMEOUT: &str = vocab::EndReason::Timeout.as_str();
/// `end_reason`: the agent's login was kicked (剔除登录) and the buyer went back to routing.
pub const END_KICKED: &str = vocab::EndReason::Kicked.as_str();

/// A conversation. Report times: t0 `entered_at`, t1 `agent_joined_at`, r1
/// `first_agent_reply_at`, t2 `ended_at` (all unix ms).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub supplier_id: i64,
    pub buyer_id: i64,
    /// The agent the conversation is assigned to now; cleared when that agent's login is kicked
    /// and the buyer goes back to routing.
    pub agent_id: Option<i64>,
    /// The agent who served it: the one whose opening or first answer set t1. Set once, kept
    /// when the assignment changes; the report's 客服姓名 and 客服工号.
    pub served_agent_id: Option<i64>,
    /// [`STATUS_QUEUED`], [`STATUS_OPEN`] or [`STATUS_ENDED`].
    pub status: String,
    pub entered_at: i64,
    pub agent_joined_at: Option<i64>,
    pub first_agent_reply_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// One of the `END_*` constants once ended.
    pub end_reason: Option<String>,
    pub agent_msg_count: i32,
    pub buyer_msg_count: i32,
    /// The seq of the newest message; the next message gets `last_seq + 1`.
    pub last_seq: i32,
    pub last_message_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::supplier::Entity",
        from = "Column::SupplierId",
        to = "super::supplier::Column::Id"
    )]
    Supplier,
    #[sea_orm(
        belongs_to = "super::buyer::Entity",
        from = "Column::BuyerId",
        to = "super::buyer::Column::Id"
    )]
    Buyer,
    #[sea_orm(
        belongs_to = "super::account::Entity",
        from = "Column::AgentId",
        to = "super::account::Column::Id"
    )]
    Agent,
    #[sea_orm(has_many = "super::message::Entity")]
    Message,
}

impl Related<super::supplier::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Supplier.def()
    }
}

impl Related<super::buyer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Buyer.def()
    }
}

impl Related<super::account::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Agent.def()
    }
}

impl Related<super::message::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Message.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
