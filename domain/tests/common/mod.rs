//! Runs each test body on every database the product supports.
//!
//! Always: a fresh SQLite file in a temporary directory. Also PostgreSQL when
//! `TEST_DATABASE_URL` is set: each run gets its own fresh schema (`t_<secs>_<random>`, reached
//! through the connection's search_path), so tests running in parallel never see each other's
//! rows. With `CI=true` a missing `TEST_DATABASE_URL` is a failure, not a skip.
#![allow(dead_code)]

pub mod chat;
pub mod orders;
pub mod sheet;

use std::future::Future;
use std::time::Duration;

use domain::logins::{Auth, AuthConfig};
use domain::password::PasswordHasher;
use rand::Rng;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, Statement};

/// Schemas left behind by crashed runs are dropped once older than this.
const STALE_SCHEMA_SECS: u64 = 3600;

/// One database to run a test body on.
pub struct TestDb {
    pub label: String,
    pub db: DatabaseConnection,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(DatabaseConnection, String)>,
}

impl TestDb {
    async fn cleanup(self) {
        let TestDb { db, pg, .. } = self;
        let _ = db.close().await;
        if let Some((admin, schema)) = pg {
            admin
                .execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .await
                .expect("drop test schema");
            let _ = admin.close().await;
        }
    }
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    // A directory that does not exist yet: connect() must create it.
    let path = dir.path().join("data").join("kefu.db");
    let url = format!("sqlite://{}", path.display());
    let db = domain::db::connect(&url).await.expect("open sqlite file");
    TestDb {
        label: format!("sqlite file {}", path.display()),
        db,
        _dir: Some(dir),
        pg: None,
    }
}

async fn postgres(url: &str) -> TestDb {
    let admin = Database::connect(url)
        .await
        .expect("connect TEST_DATABASE_URL");
    drop_stale_schemas(&admin).await;
    let schema = format!(
        "t_{}_{:08x}",
        unix_secs(),
        rand::thread_rng().r#gen::<u32>()
    );
    admin
        .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .expect("create test schema");
    let mut options = ConnectOptions::new(url.to_owned());
    domain::db::configure(&mut options).expect("configure");
    options
        .set_schema_search_path(schema.clone())
        .max_connections(12)
        .acquire_timeout(Duration::from_secs(30));
    let db = Database::connect(options)
        .await
        .expect("connect test schema");
    TestDb {
        label: format!("postgres schema {schema}"),
        db,
        _dir: None,
        pg: Some((admin, schema)),
    }
}

async fn drop_stale_schemas(admin: &DatabaseConnection) {
    let rows = admin
        .query_all_raw(Statement::from_string(
            admin.get_database_backend(),
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'".to_owned(),
        ))
        .await
        .expect("list schemas");
    let now = unix_secs();
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "nspname") else {
            continue;
        };
        let created = name
            .split('_')
            .nth(1)
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|secs| secs + STALE_SCHEMA_SECS < now) {
            let _ = admin
                .execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"))
                .await;
        }
    }
}

/// Fresh, unmigrated databases: SQLite always, PostgreSQL when configured.
pub async fn databases() -> Vec<TestDb> {
    let mut dbs = vec![sqlite().await];
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => dbs.push(postgres(url.trim()).await),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true but TEST_DATABASE_URL is not set: PostgreSQL tests must run in CI");
            }
            eprintln!("TEST_DATABASE_URL not set: running on SQLite only");
        }
    }
    dbs
}

/// Runs `test` on every database, each freshly migrated.
pub async fn each_db<F, Fut>(test: F)
where
    F: Fn(DatabaseConnection) -> Fut,
    Fut: Future<Output = ()>,
{
    for test_db in databases().await {
        eprintln!("== on {}", test_db.label);
        domain::db::migrate(&test_db.db).await.expect("migrate");
        test(test_db.db.clone()).await;
        test_db.cleanup().await;
    }
}

pub fn hasher() -> PasswordHasher {
    PasswordHasher::new(4)
}

pub fn auth(db: &DatabaseConnection) -> Auth {
    auth_with(db, AuthConfig::default())
}

pub fn auth_with(db: &DatabaseConnection, config: AuthConfig) -> Auth {
    Auth::new(db.clone(), hasher(), config)
}

pub const ADMIN_PASSWORD: &str = "Admin#2026pw";

/// A supplier with its admin (password [`ADMIN_PASSWORD`]); returns the supplier id.
pub async fn supplier(db: &DatabaseConnection, name: &str, admin_login: &str) -> i64 {
    let (id, password) = domain::accounts::create_supplier(
        db,
        &hasher(),
        name,
        admin_login,
        "客服管理员",
        Some(ADMIN_PASSWORD),
    )
    .await
    .expect("create supplier");
    assert_eq!(password, ADMIN_PASSWORD);
    id
}

/// 甲供应商 (admin `admin_a`) with one agent, 小王: the supplier id, the agent and its initial
/// password.
pub async fn supplier_with_agent(
    db: &DatabaseConnection,
) -> (i64, domain::entity::account::Model, String) {
    let s = supplier(db, "甲供应商", "admin_a").await;
    let (agent, pw) = domain::accounts::create_agent(db, &hasher(), s, "小王", None)
        .await
        .expect("agent");
    (s, agent, pw)
}

/// Shorthand for a login from a fixed browser.
pub async fn login(
    auth: &Auth,
    login: &str,
    password: &str,
) -> Result<(String, domain::logins::Session), domain::DomainError> {
    auth.login(login, password, "127.0.0.1", "test-browser")
        .await
}

/// 甲供应商 with its admin `admin_a` (password [`ADMIN_PASSWORD`]): the supplier id.
pub async fn supplier_a(db: &DatabaseConnection) -> i64 {
    supplier(db, "甲供应商", "admin_a").await
}

/// 甲供应商 (see [`supplier_a`]) and the login service over `db`: the supplier id and the service.
pub async fn supplier_a_and_auth(db: &DatabaseConnection) -> (i64, Auth) {
    (supplier_a(db).await, auth(db))
}

/// 甲供应商 and 乙供应商 (admins `admin_a` and `admin_b`, both with [`ADMIN_PASSWORD`]): their ids.
pub async fn suppliers_a_and_b(db: &DatabaseConnection) -> (i64, i64) {
    (
        supplier_a(db).await,
        supplier(db, "乙供应商", "admin_b").await,
    )
}

/// The field a [`domain::DomainError::Validation`] names (`None` for any other error).
pub fn invalid_field(err: &domain::DomainError) -> Option<&'static str> {
    match err {
        domain::DomainError::Validation { field, .. } => Some(field),
        _ => None,
    }
}

/// The actions of the supplier's audit rows, oldest first.
pub async fn audit_actions(db: &DatabaseConnection, supplier_id: i64) -> Vec<String> {
    use domain::entity::audit_log;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    audit_log::Entity::find()
        .filter(audit_log::Column::SupplierId.eq(supplier_id))
        .order_by_asc(audit_log::Column::Id)
        .all(db)
        .await
        .expect("audit")
        .into_iter()
        .map(|row| row.action)
        .collect()
}

/// How many rows the table of `E` holds.
pub async fn row_count<E: sea_orm::EntityTrait<Model: Sync>>(db: &DatabaseConnection) -> u64 {
    sea_orm::PaginatorTrait::count(E::find(), db)
        .await
        .expect("count rows")
}

/// Logs `admin_a` in with [`ADMIN_PASSWORD`]: the login's token and session.
pub async fn admin_a_login(auth: &Auth) -> (String, domain::logins::Session) {
    login(auth, "admin_a", ADMIN_PASSWORD).await.expect("login")
}

/// A login service that locks an account after `per_account` failures and an address after
/// `per_addr` (the default when `None`).
pub fn auth_limited(db: &DatabaseConnection, per_account: u32, per_addr: Option<u32>) -> Auth {
    let default = AuthConfig::default();
    auth_with(
        db,
        AuthConfig {
            max_failures_per_account: per_account,
            max_failures_per_addr: per_addr.unwrap_or(default.max_failures_per_addr),
            ..default
        },
    )
}

/// How many login rows the account has (live or ended).
pub async fn login_rows(db: &DatabaseConnection, account_id: i64) -> u64 {
    use domain::entity::login_session;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    login_session::Entity::find()
        .filter(login_session::Column::AccountId.eq(account_id))
        .count(db)
        .await
        .expect("count logins")
}
