//! The signed-in areas: the frame every page shares (header, account menu, heartbeat), the
//! agent workbench. The admin backend lives in `crate::admin`.

mod agent_page;
mod frame;

pub use agent_page::AgentPage;
pub use frame::Frame;
