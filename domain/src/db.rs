//! Opening the database, running migrations, and the clock.
//!
//! SQLite (one file under `data/`) is the embedded default; PostgreSQL is used when the URL says
//! `postgres://`. Both run the same migrations and pass the same tests.

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

use crate::DomainError;

/// Connections kept open to a SQLite file. WAL lets readers run beside the single writer;
/// writers queue on the 5 s busy timeout. `synchronous = FULL` (not WAL's usual NORMAL): a
/// message acknowledged to its sender must survive a power cut, not only a crash.
const SQLITE_POOL_SIZE: u32 = 5;

/// Opens a connection pool for `url` (`sqlite://path/to/file.db`, `sqlite::memory:` or
/// `postgres://…`).
///
/// For a SQLite file the parent directory is created when missing, and every connection runs
/// with WAL, `busy_timeout` 5 s and foreign keys on.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DomainError> {
    let mut options = ConnectOptions::new(url.to_owned());
    configure(&mut options)?;
    Ok(Database::connect(options).await?)
}

/// Applies this crate's settings to `options` (used by [`connect`]; exposed so callers such as
/// tests can add their own, e.g. a PostgreSQL schema search path, and keep ours).
pub fn configure(options: &mut ConnectOptions) -> Result<(), DomainError> {
    options.sqlx_logging(false);
    let url = options.get_url().to_owned();
    if url.starts_with("sqlite:") {
        let path = sqlite_file_path(&url);
        match &path {
            Some(path) => {
                if let Some(parent) = std::path::Path::new(path).parent()
                    && !parent.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(parent).map_err(|err| {
                        DomainError::Internal(format!(
                            "cannot create database directory {}: {err}",
                            parent.display()
                        ))
                    })?;
                }
                options.max_connections(SQLITE_POOL_SIZE);
            }
            // Every connection to `:memory:` would be a different, empty database.
            None => {
                options.max_connections(1);
            }
        }
        options.map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    }
    Ok(())
}

/// The file path of a `sqlite:` URL, or `None` for an in-memory database.
fn sqlite_file_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
        None
    } else {
        Some(path.to_owned())
    }
}

/// Brings the schema up to date (all pending migrations).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DomainError> {
    Migrator::up(db, None).await?;
    Ok(())
}

/// Starts a transaction that will write.
///
/// On SQLite it is `BEGIN IMMEDIATE`: the write lock is taken up front (waiting on the busy
/// timeout), so a transaction that reads before it writes cannot fail half-way with
/// "database is locked" when another connection wrote in between. On PostgreSQL it is a plain
/// `BEGIN` (READ COMMITTED).
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DomainError> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    Ok(db.begin_with_options(options).await?)
}

/// Now, as unix milliseconds (UTC): the unit of every timestamp column.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_file_path("sqlite://data/kefu.db?mode=rwc").as_deref(),
            Some("data/kefu.db")
        );
        assert_eq!(
            sqlite_file_path("sqlite:///tmp/x/k.db").as_deref(),
            Some("/tmp/x/k.db")
        );
        assert_eq!(sqlite_file_path("sqlite::memory:"), None);
        assert_eq!(sqlite_file_path("postgres://a/b"), None);
    }
}
