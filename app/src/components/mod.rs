//! Domain-free building blocks.

mod escape;
mod modal;

pub use escape::close_on_escape;
pub use modal::Modal;
mod toast;
pub use toast::{TOAST_MS, Toast};
