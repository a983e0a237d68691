//! Domain-free building blocks.

mod modal;

pub use modal::Modal;
mod toast;
pub use toast::{TOAST_MS, Toast};
