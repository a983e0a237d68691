//! The admin backend's frame: the layout with the menu of the manual (§三). The pages it shows
//! live with their domains: [`crate::accounts`], [`crate::logins`], [`crate::audit`],
//! [`crate::reports`] and [`crate::orders`].

mod admin_layout;

pub use admin_layout::AdminLayout;
