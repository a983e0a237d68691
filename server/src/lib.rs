//! The axum host as a library: configuration, the page guard, the account channel, the session
//! export, the real-time chat and the orders API and import, so integration tests can start the real routes.

pub mod assets;
pub mod caller;
pub mod chat;
pub mod config;
pub mod export;
pub mod guard;
pub mod listen;
pub mod orders_api;
pub mod security;
pub mod ws;
