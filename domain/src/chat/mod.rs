//! The chat core: who the buyer is (the mall's signed token), which agent serves them
//! (status, routing, queue), and the messages they exchange (stored before they are
//! acknowledged, numbered per conversation so a reconnecting client gets exactly what it missed).
//!
//! Everything is a plain async function over a database connection and is scoped by
//! `supplier_id`; the web layer checks who is calling with [`conversation_for_agent`] /
//! [`conversation_for_buyer`] before passing a conversation id on.
//!
//! Writes that must not interleave run in [`crate::db::begin_write`] transactions. Routing of one
//! supplier is additionally serialised by a row lock on the supplier (see [`routing`]), and every
//! assignment is a conditional `UPDATE … WHERE status = 'queued'`, so a buyer is never given to
//! two agents.

pub mod agent_status;
pub mod buyer_token;
pub mod conversations;
pub mod group;
pub mod messages;
pub mod pictures;
pub mod routing;
pub mod views;

pub use agent_status::{reset_status_on_login, set_serving};
pub use buyer_token::{BuyerClaims, sign, upsert_buyer, verify};
pub use conversations::{
    EndReason, Member, conversation_for_agent, conversation_for_buyer, conversation_of,
    end_conversation, end_idle_conversations, end_reason_of, mark_agent_joined,
};
pub use group::{GroupOutcome, GroupedMessage, StoredMessage, store_messages_grouped};
pub use messages::{
    Content, FONT_SIZES, MAX_PAGE, MAX_TEXT_CHARS, NewMessage, Sender, StoredContent, content_of,
    history_before, messages_since, store_message, store_messages_batch,
};
pub use routing::{
    assign_waiting_buyers, open_conversation, queue_position, release_agent_conversations, route,
};
