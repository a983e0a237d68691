//! Real-time chat between agents and buyers: the frame protocol, the socket client, the shared
//! message list and composer, the buyer widget page `/chat` and the demo entry `/demo`. The agent
//! side lives in `crate::workspace`.

mod buyer_page;
mod composer;
mod demo_page;
mod message_list;
pub mod protocol;
pub mod socket;
pub mod upload;

pub use buyer_page::BuyerChatPage;
pub use composer::{Composer, DEFAULT_FONT_SIZE, EMOJI, FONT_SIZES, TYPING_SHOWS_MS};
pub use demo_page::{DemoBuyer, DemoPage, demo_buyers};
pub use message_list::{
    MessageList, Pending, acked, mark_failed, mark_resending, merge_messages, preview_text,
    reset_for_reconnect, take_next,
};
