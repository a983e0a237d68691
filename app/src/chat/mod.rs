//! Real-time chat between agents and buyers: the frame protocol, the socket client, the shared
//! pieces of both chat pages (unsent messages, typing, the message list and composer), the
//! buyer widget page `/chat` and the demo entry `/demo`. The agent side lives in
//! `crate::workspace`.

mod buyer_header;
mod buyer_page;
pub mod buyer_state;
mod composer;
mod demo_page;
pub mod effect;
mod emoji_palette;
mod follow;
mod font_menu;
mod lightbox;
pub mod message;
mod message_body;
mod message_bubble;
mod message_list;
mod message_text;
mod order_card;
mod order_detail_dialog;
pub mod outbox;
mod pending_bubble;
mod picture;
mod picture_button;
mod picture_choice;
mod picture_preview;
mod popup_toggle;
pub mod protocol;
pub mod socket;
pub mod typing;
pub mod upload;

pub use buyer_page::BuyerChatPage;
pub use composer::Composer;
pub use demo_page::{DemoBuyer, DemoPage, demo_buyers};
pub use effect::{ChatHandle, ChatState, Effect};
pub use emoji_palette::EMOJI;
pub use font_menu::{DEFAULT_FONT_SIZE, FONT_SIZES};
pub use message::{from_agent, from_buyer, merge_messages, preview_text};
pub use message_list::MessageList;
pub use message_text::{TextPiece, text_pieces};
pub use order_detail_dialog::{DetailState, OrderDetailDialog, load_order_detail};
pub use outbox::{Outbox, Pending};
pub use typing::{TYPING_EVERY_MS, TYPING_SHOWS_MS, TypingNotice, TypingThrottle};
