//! The signed-in areas: the frame every page shares (header, account menu, heartbeat), the
//! agent workbench (its state in [`workbench`], its views one per file). The admin backend
//! lives in `crate::admin`.

mod agent_page;
mod chat_head;
mod chat_pane;
mod conversation_item;
mod conversation_list;
mod end_conversation_dialog;
mod frame;
mod status_bar;
pub mod workbench;

pub use agent_page::AgentPage;
pub use frame::Frame;
