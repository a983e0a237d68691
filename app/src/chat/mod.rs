//! Real-time chat between agents and buyers.

pub mod protocol;
