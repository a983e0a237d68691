//! The signed-in areas: the frame every page shares (header, account menu, heartbeat), the
//! admin backend and the agent workbench.

mod admin_page;
mod agent_page;
mod frame;

pub use admin_page::AdminPage;
pub use agent_page::AgentPage;
pub use frame::Frame;
