//! The axum host as a library: configuration, the page guard, the account channel, the session
//! export and the real-time chat, so integration tests can start the real routes.

pub mod chat;
pub mod config;
pub mod export;
pub mod guard;
pub mod ws;
