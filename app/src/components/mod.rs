//! Domain-free building blocks.

mod modal;

pub use modal::Modal;
