//! Opening the database, running migrations, and the clock.
//!
//! SQLite (one file under `data/`) is the embedded default; PostgreSQL is used when the URL says
//! `postgres://`. Both run the same migrations and pass the same tests.

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ColumnTrait, ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::DomainError;

/// Connections kept open to a SQLite file. WAL lets readers run beside the single writer;
/// writers queue on the busy timeout ([`SQLITE_BUSY_TIMEOUT`]). `synchronous = FULL` (not WAL's usual NORMAL): a
/// message acknowledged to its sender must survive a power cut, not only a crash.
const SQLITE_POOL_SIZE: u32 = 5;
/// How long a SQLite connection waits for another one's write lock before the statement fails
/// with `SQLITE_BUSY` (which [`retry_transient`] then retries).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts of an operation that keeps failing with a transient error (the first and three
/// retries), see [`retry_transient`].
pub const TRANSIENT_ATTEMPTS: u32 = 4;
/// Pause before the first retry; doubled before each next one (50, 100, 200 ms).
const RETRY_BACKOFF: Duration = Duration::from_millis(50);

/// The rows of `E` whose `id_column` is one of `ids`, in the order of that column (and no query
/// at all for no ids). Not scoped by supplier: for callers that span suppliers or check each
/// row's supplier themselves.
pub(crate) async fn rows_by_ids<E: EntityTrait>(
    db: &DatabaseConnection,
    id_column: E::Column,
    ids: &[i64],
) -> Result<Vec<E::Model>, DomainError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(E::find()
        .filter(id_column.is_in(ids.iter().copied()))
        .order_by_asc(id_column)
        .all(db)
        .await?)
}

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
    configure_with_busy_timeout(options, SQLITE_BUSY_TIMEOUT)
}

/// [`configure`] with another SQLite busy timeout (tests that hold the write lock use a short
/// one, so that a busy database shows in milliseconds instead of seconds).
pub fn configure_with_busy_timeout(
    options: &mut ConnectOptions,
    busy_timeout: Duration,
) -> Result<(), DomainError> {
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
        options.map_sqlx_sqlite_opts(move |opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(busy_timeout)
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

/// Runs `operation` until it succeeds, fails with an error that is not transient
/// ([`DomainError::is_transient`]), or has failed [`TRANSIENT_ATTEMPTS`] times; waits 50, 100,
/// 200 ms between attempts. `operation` gets the attempt number (0 for the first).
///
/// Only for operations that are safe to run again: one transaction that either committed or
/// did nothing, and whose effect is idempotent if a commit succeeded but its answer was lost
/// (a message is stored once per client message id).
pub async fn retry_transient<T, F, Fut>(what: &str, mut operation: F) -> Result<T, DomainError>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Result<T, DomainError>>,
{
    let mut attempt = 0;
    loop {
        match operation(attempt).await {
            Err(err) if err.is_transient() && attempt + 1 < TRANSIENT_ATTEMPTS => {
                tracing::warn!(error = %err, attempt, "{what}: transient database error, retrying");
                tokio::time::sleep(RETRY_BACKOFF * 2u32.pow(attempt)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
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

    fn busy() -> DomainError {
        DomainError::Db(sea_orm::DbErr::ConnectionAcquire(
            sea_orm::ConnAcquireErr::Timeout,
        ))
    }

    #[tokio::test]
    async fn transient_errors_are_retried_a_bounded_number_of_times() {
        let mut calls = 0;
        let ok = retry_transient("test", |attempt| {
            calls += 1;
            async move {
                if attempt < 2 {
                    Err(busy())
                } else {
                    Ok(attempt)
                }
            }
        })
        .await;
        assert_eq!(ok.expect("third attempt succeeds"), 2);
        assert_eq!(calls, 3);

        let mut calls = 0;
        let failed: Result<(), _> = retry_transient("test", |_| {
            calls += 1;
            async { Err(busy()) }
        })
        .await;
        assert!(failed.expect_err("gives up").is_transient());
        assert_eq!(calls, TRANSIENT_ATTEMPTS);

        // Not transient: answered at once.
        let mut calls = 0;
        let refused: Result<(), _> = retry_transient("test", |_| {
            calls += 1;
            async { Err(DomainError::NotFound) }
        })
        .await;
        assert!(matches!(refused, Err(DomainError::NotFound)));
        assert_eq!(calls, 1);
    }
}
