//! The rules of the 832 customer-service system, with no web framework in sight.
//!
//! Everything here takes a sea-orm [`DatabaseConnection`](sea_orm::DatabaseConnection) and is
//! tested against real SQLite and PostgreSQL databases (`domain/tests`). Every query that touches
//! tenant data is scoped by `supplier_id`.

pub mod accounts;
pub mod audit;
pub mod bus;
pub mod chat;
pub mod db;
pub mod demo;
pub mod entity;
pub mod error;
pub mod logins;
pub mod orders;
pub mod password;
pub mod reports;
mod scoped;

pub use error::DomainError;
