//! Login, the live session (single login), logout, password change, and kicking a login.
//!
//! Single login is enforced by the database, not by a check in code: `login_session` has a
//! UNIQUE `account_id`, a login first deletes the account's row only if it has gone idle, then
//! inserts; when two logins race, the constraint lets exactly one insert win.
//!
//! One file per topic: `login` (logging in, the live session, logging out), `limiter` (failed
//! attempts), `password_change` (修改密码) and `kick` (剔除登录 and its search).

mod kick;
mod limiter;
mod login;
mod password_change;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait};
use sha2::{Digest, Sha256};

pub use limiter::{AddrRule, LoginLimiter, Reservation};

use crate::DomainError;
use crate::bus::{AccountEvent, LoginEndReason};
use crate::entity::{account, login_session, supplier};
use crate::password::PasswordHasher;

/// Longest login name accepted.
pub const MAX_LOGIN_LEN: usize = 32;
/// A live login's `last_seen_at` is written at most this often (keeps heartbeat writes low).
pub const HEARTBEAT_WRITE_INTERVAL_MS: i64 = 15_000;
/// Longest user agent kept with a login.
const MAX_USER_AGENT_LEN: usize = 200;
/// Longest client address kept with a login.
const MAX_CLIENT_ADDR_LEN: usize = 64;
/// What a disabled account is told when it tries to log in.
pub const ACCOUNT_DISABLED_MESSAGE: &str = "账号已停用，请联系客服管理员";
/// Longest text 剔除登录's search accepts, counted as sent (as long as the longest login or
/// name: nothing longer can match). A longer one is refused, never cut short.
pub const MAX_SEARCH_LEN: usize = 32;
/// What an admin is told who tries to kick their own login.
pub const SELF_KICK_MESSAGE: &str = "不能剔除自己的登录，请使用「退出系统」";

/// A login that a domain operation ended (剔除登录, 停用, a new password, 退出系统). The web layer
/// publishes [`EndedLogin::event`] to the account's open pages, in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndedLogin {
    pub account_id: i64,
    pub reason: LoginEndReason,
}

impl EndedLogin {
    /// The event the account's open pages are told.
    pub fn event(&self) -> AccountEvent {
        AccountEvent::LoginEnded(self.reason)
    }
}

/// What an account may do: manage the supplier's agents, or serve buyers.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Role {
    /// 客服管理员: the admin backend.
    Admin,
    /// 在线客服: the agent workbench.
    Agent,
}

impl Role {
    /// The value stored in `account.role`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Admin => account::ROLE_ADMIN,
            Role::Agent => account::ROLE_AGENT,
        }
    }

    /// The role stored as `value` in `account.role`, if it is one.
    pub fn from_db(value: &str) -> Option<Role> {
        match value {
            account::ROLE_ADMIN => Some(Role::Admin),
            account::ROLE_AGENT => Some(Role::Agent),
            _ => None,
        }
    }
}

/// Who is logged in: the live login and its account, as the web layer needs them.
#[derive(Clone, Debug)]
pub struct Session {
    /// `login_session.id` of this live login.
    pub login_id: i64,
    pub account_id: i64,
    pub supplier_id: i64,
    pub supplier_name: String,
    pub role: Role,
    pub login: String,
    pub display_name: String,
}

/// Settings of login and single login.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// A login whose heartbeat has been silent this long is released (default 10 min).
    pub login_idle_timeout: Duration,
    /// Failed logins per account name inside the window before refusing (default 5).
    pub max_failures_per_account: u32,
    /// Failed logins per client address inside the window before refusing (default 20).
    pub max_failures_per_addr: u32,
    /// The window failed logins are counted in (default 15 min).
    pub failure_window: Duration,
    /// A login ends this long after it began, however active it is (default 12 h).
    pub login_max_age: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            login_idle_timeout: Duration::from_secs(10 * 60),
            max_failures_per_account: 5,
            max_failures_per_addr: 20,
            failure_window: Duration::from_secs(15 * 60),
            login_max_age: Duration::from_secs(12 * 60 * 60),
        }
    }
}

/// An account together with its live login, if any (for 剔除登录's search).
#[derive(Clone, Debug)]
pub struct LoginStatus {
    pub account: account::Model,
    /// The live login: since `created_at`, from `client_addr`; `None` when logged out.
    pub login: Option<login_session::Model>,
}

impl LoginStatus {
    /// The account's role as 剔除登录 lists it: 客服管理员, or 在线客服.
    pub fn role_label(&self) -> &'static str {
        if self.account.role == account::ROLE_ADMIN {
            "客服管理员"
        } else {
            "在线客服"
        }
    }
}

/// Login and the live sessions. Cheap to clone; share one per process (the limiter is shared).
#[derive(Clone)]
pub struct Auth {
    pub db: DatabaseConnection,
    pub hasher: PasswordHasher,
    pub limiter: Arc<LoginLimiter>,
    pub config: AuthConfig,
}

/// The sha256 hex of a session token: the only form of it the database sees.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn truncate_chars(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

impl Auth {
    /// An `Auth` with a fresh limiter built from `config`.
    pub fn new(db: DatabaseConnection, hasher: PasswordHasher, config: AuthConfig) -> Self {
        Auth {
            db,
            hasher,
            limiter: Arc::new(LoginLimiter::new(&config)),
            config,
        }
    }

    fn idle_ms(&self) -> i64 {
        i64::try_from(self.config.login_idle_timeout.as_millis()).unwrap_or(i64::MAX / 2)
    }

    fn max_age_ms(&self) -> i64 {
        i64::try_from(self.config.login_max_age.as_millis()).unwrap_or(i64::MAX / 2)
    }

    /// The live logins that are over: silent past the idle timeout, or older than the
    /// absolute lifetime.
    fn ended_logins(&self, now: i64) -> Condition {
        Condition::any()
            .add(login_session::Column::LastSeenAt.lt(now - self.idle_ms()))
            .add(login_session::Column::CreatedAt.lt(now - self.max_age_ms()))
    }

    /// The role and the supplier of a logged-in account; either missing is a broken row.
    async fn role_and_supplier(
        &self,
        account: &account::Model,
    ) -> Result<(Role, supplier::Model), DomainError> {
        let Some(role) = Role::from_db(&account.role) else {
            return Err(DomainError::Internal(format!(
                "account {} has role {:?}",
                account.id, account.role
            )));
        };
        let supplier = supplier::Entity::find_by_id(account.supplier_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| {
                DomainError::Internal(format!("account {} has no supplier", account.id))
            })?;
        Ok((role, supplier))
    }
}

impl Session {
    /// The session of the live login `login_id` of `account`.
    fn of(login_id: i64, account: account::Model, role: Role, supplier: supplier::Model) -> Self {
        Session {
            login_id,
            account_id: account.id,
            supplier_id: account.supplier_id,
            supplier_name: supplier.name,
            role,
            login: account.login,
            display_name: account.display_name,
        }
    }
}
