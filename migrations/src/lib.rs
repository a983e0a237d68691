//! Database schema of the 832 customer-service system, as sea-orm-migration migrations.
//!
//! Migration files are append-only: once a file has been released, change the schema by adding
//! a new timestamped file, never by editing an old one. Every migration must run on both SQLite
//! and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261125_000001_init;
mod m20261126_000001_agent_status;
mod m20261127_000001_supplier_api_key_issued_at;
mod m20261201_000001_account_disabled_and_last_login;
mod m20261201_000002_conversation_served_agent;
mod m20261202_000001_conversation_report_indexes;

/// Runs the product's migrations in order (`Migrator::up(&db, None)`).
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_init::Migration),
            Box::new(m20261126_000001_agent_status::Migration),
            Box::new(m20261127_000001_supplier_api_key_issued_at::Migration),
            Box::new(m20261201_000001_account_disabled_and_last_login::Migration),
            Box::new(m20261201_000002_conversation_served_agent::Migration),
            Box::new(m20261202_000001_conversation_report_indexes::Migration),
        ]
    }
}
