//! Login, the live session (single login), logout, password change, and kicking a login.
//!
//! Single login is enforced by the database, not by a check in code: `login_session` has a
//! UNIQUE `account_id`, a login first deletes the account's row only if it has gone idle, then
//! inserts; when two logins race, the constraint lets exactly one insert win.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use sha2::{Digest, Sha256};

use crate::DomainError;
use crate::audit;
use crate::db::now_ms;
use crate::entity::{account, audit_log, login_session, supplier};
use crate::password::{self, DUMMY_PHC, PasswordHasher};

/// Longest login name accepted.
pub const MAX_LOGIN_LEN: usize = 32;
/// A live login's `last_seen_at` is written at most this often (keeps heartbeat writes low).
pub const HEARTBEAT_WRITE_INTERVAL_MS: i64 = 15_000;
/// Longest user agent kept with a login.
const MAX_USER_AGENT_LEN: usize = 200;
/// Longest client address kept with a login.
const MAX_CLIENT_ADDR_LEN: usize = 64;

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
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            login_idle_timeout: Duration::from_secs(10 * 60),
            max_failures_per_account: 5,
            max_failures_per_addr: 20,
            failure_window: Duration::from_secs(15 * 60),
        }
    }
}

/// Entries kept per map before expired ones are swept.
const LIMITER_SWEEP_AT: usize = 1_024;
/// Hard cap of keys per map; past it the stalest keys are forgotten.
const LIMITER_MAX_KEYS: usize = 100_000;

/// Counts failed logins, in memory, per account name and per client address inside a sliding
/// window, and refuses further attempts once a limit is reached.
///
/// Only failures are counted. The maps are swept of expired entries as they grow and are
/// capped, so a flood of distinct names or addresses cannot grow them without bound.
#[derive(Debug)]
pub struct LoginLimiter {
    max_per_account: usize,
    max_per_addr: usize,
    window_ms: i64,
    state: Mutex<LimiterState>,
}

#[derive(Debug, Default)]
struct LimiterState {
    accounts: FailureMap,
    addrs: FailureMap,
}

/// Key → timestamps (ms) of its most recent failures, oldest first, at most `max` of them.
#[derive(Debug, Default)]
struct FailureMap {
    entries: HashMap<String, VecDeque<i64>>,
    sweep_at: usize,
}

impl FailureMap {
    /// Seconds until `key` may try again, or `None` when it is under `max`.
    fn blocked_for(&mut self, key: &str, max: usize, window_ms: i64, now: i64) -> Option<u64> {
        let times = self.entries.get_mut(key)?;
        while times.front().is_some_and(|t| *t <= now - window_ms) {
            times.pop_front();
        }
        if times.is_empty() {
            self.entries.remove(key);
            return None;
        }
        if times.len() < max {
            return None;
        }
        // With at most `max` kept, one more attempt is allowed when the oldest expires.
        let oldest = times.front().copied().unwrap_or(now);
        let wait_ms = (oldest + window_ms - now).max(1);
        Some((wait_ms as u64).div_ceil(1000))
    }

    fn record(&mut self, key: String, max: usize, window_ms: i64, now: i64) {
        let times = self.entries.entry(key).or_default();
        times.push_back(now);
        while times.len() > max.max(1) {
            times.pop_front();
        }
        if self.entries.len() >= self.sweep_at.max(LIMITER_SWEEP_AT) {
            self.sweep(window_ms, now);
        }
    }

    /// Drops expired entries; if still over the cap, forgets the stalest half.
    fn sweep(&mut self, window_ms: i64, now: i64) {
        self.entries
            .retain(|_, times| times.back().is_some_and(|t| *t > now - window_ms));
        if self.entries.len() > LIMITER_MAX_KEYS {
            let mut newest: Vec<i64> = self
                .entries
                .values()
                .filter_map(|times| times.back().copied())
                .collect();
            newest.sort_unstable();
            let cutoff = newest[newest.len() / 2];
            self.entries
                .retain(|_, times| times.back().is_some_and(|t| *t > cutoff));
        }
        // Sweep again only once the map has doubled, so sweeping stays amortised O(1).
        self.sweep_at = self.entries.len() * 2;
    }
}

fn limiter_key(login: &str) -> String {
    login.trim().to_lowercase()
}

impl LoginLimiter {
    /// A limiter with the limits and window of `config`.
    pub fn new(config: &AuthConfig) -> Self {
        LoginLimiter {
            max_per_account: config.max_failures_per_account.max(1) as usize,
            max_per_addr: config.max_failures_per_addr.max(1) as usize,
            window_ms: i64::try_from(config.failure_window.as_millis()).unwrap_or(i64::MAX / 2),
            state: Mutex::new(LimiterState::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        // The maps stay consistent even if a holder panicked; keep using them.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `Err(RateLimited)` when the account name or the client address has reached its limit
    /// of failures inside the window (`now` in unix ms).
    pub fn check(&self, login: &str, addr: &str, now: i64) -> Result<(), DomainError> {
        let mut state = self.state();
        let account_wait = state.accounts.blocked_for(
            &limiter_key(login),
            self.max_per_account,
            self.window_ms,
            now,
        );
        let addr_wait = state
            .addrs
            .blocked_for(addr, self.max_per_addr, self.window_ms, now);
        match account_wait.max(addr_wait) {
            Some(retry_after_secs) => Err(DomainError::RateLimited { retry_after_secs }),
            None => Ok(()),
        }
    }

    /// Counts one failed login for the account name and for the client address.
    pub fn record_failure(&self, login: &str, addr: &str, now: i64) {
        let mut state = self.state();
        state.accounts.record(
            limiter_key(login),
            self.max_per_account,
            self.window_ms,
            now,
        );
        state
            .addrs
            .record(addr.to_owned(), self.max_per_addr, self.window_ms, now);
    }

    /// Forgets the failures of an account name (after a successful login). The address keeps
    /// its count, so one client cannot reset its budget by logging into its own account.
    pub fn clear_account(&self, login: &str) {
        self.state().accounts.entries.remove(&limiter_key(login));
    }
}

/// An account together with its live login, if any (for 剔除登录's search).
#[derive(Clone, Debug)]
pub struct LoginStatus {
    pub account: account::Model,
    /// The live login: since `created_at`, from `client_addr`; `None` when logged out.
    pub login: Option<login_session::Model>,
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

    /// Logs in: returns a new random session token (32 bytes, base64url; put it in the cookie)
    /// and the session.
    ///
    /// Refused with `Validation` for empty or too long input, `RateLimited` after too many
    /// failures, `BadCredentials` for an unknown account or a wrong password alike (same
    /// answer, same time), and `AlreadyLoggedIn` when the account has a live login that has not
    /// gone idle.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client_addr: &str,
        user_agent: &str,
    ) -> Result<(String, Session), DomainError> {
        let login = login.trim().to_lowercase();
        if login.is_empty() {
            return Err(DomainError::validation("login", "请输入账号"));
        }
        if password.is_empty() {
            return Err(DomainError::validation("password", "请输入密码"));
        }
        if login.chars().count() > MAX_LOGIN_LEN {
            return Err(DomainError::validation("login", "账号不能超过 32 个字符"));
        }
        if password.chars().count() > password::MAX_LEN {
            return Err(DomainError::validation(
                "password",
                "密码不能超过 64 个字符",
            ));
        }
        let client_addr = truncate_chars(client_addr, MAX_CLIENT_ADDR_LEN);

        self.limiter.check(&login, &client_addr, now_ms())?;

        let found = account::Entity::find()
            .filter(account::Column::Login.eq(login.as_str()))
            .one(&self.db)
            .await?;
        let password_ok = match &found {
            Some(account) => self.hasher.verify(password, &account.password_hash).await?,
            None => {
                // Same work as a real check, so timing does not tell which accounts exist.
                let _ = self.hasher.verify(password, DUMMY_PHC).await?;
                false
            }
        };
        let account = match found {
            Some(account) if password_ok => account,
            _ => {
                self.limiter.record_failure(&login, &client_addr, now_ms());
                return Err(DomainError::BadCredentials);
            }
        };
        self.limiter.clear_account(&login);

        let role = Role::from_db(&account.role).ok_or_else(|| {
            DomainError::Internal(format!(
                "account {} has role {:?}",
                account.id, account.role
            ))
        })?;
        let supplier = supplier::Entity::find_by_id(account.supplier_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| {
                DomainError::Internal(format!("account {} has no supplier", account.id))
            })?;

        let now = now_ms();
        // Release this account's login only if it has gone idle (a crashed browser).
        login_session::Entity::delete_many()
            .filter(login_session::Column::AccountId.eq(account.id))
            .filter(login_session::Column::LastSeenAt.lt(now - self.idle_ms()))
            .exec(&self.db)
            .await?;

        // No check-then-insert: UNIQUE(account_id) decides, also between racing logins.
        let token = new_token();
        let inserted = login_session::ActiveModel {
            account_id: Set(account.id),
            token_hash: Set(token_hash(&token)),
            client_addr: Set(client_addr),
            user_agent: Set(truncate_chars(user_agent, MAX_USER_AGENT_LEN)),
            created_at: Set(now),
            last_seen_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await;
        let row = match inserted {
            Ok(row) => row,
            Err(err) if crate::error::is_unique_violation(&err) => {
                return Err(DomainError::AlreadyLoggedIn);
            }
            Err(err) => return Err(err.into()),
        };

        Ok((
            token,
            Session {
                login_id: row.id,
                account_id: account.id,
                supplier_id: account.supplier_id,
                supplier_name: supplier.name,
                role,
                login: account.login,
                display_name: account.display_name,
            },
        ))
    }

    /// The session of a token, or `None` when the token is unknown or its login has been idle
    /// longer than the timeout (that login is then released). This is also the heartbeat: it
    /// refreshes `last_seen_at`, writing at most every 15 s.
    pub async fn session(&self, token: &str) -> Result<Option<Session>, DomainError> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let Some((row, account)) = login_session::Entity::find()
            .filter(login_session::Column::TokenHash.eq(token_hash(token)))
            .find_also_related(account::Entity)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let Some(account) = account else {
            return Ok(None);
        };

        let now = now_ms();
        let cutoff = now - self.idle_ms();
        if row.last_seen_at < cutoff {
            login_session::Entity::delete_many()
                .filter(login_session::Column::Id.eq(row.id))
                .filter(login_session::Column::LastSeenAt.lt(cutoff))
                .exec(&self.db)
                .await?;
            return Ok(None);
        }
        if now - row.last_seen_at >= HEARTBEAT_WRITE_INTERVAL_MS {
            login_session::Entity::update_many()
                .col_expr(login_session::Column::LastSeenAt, Expr::value(now))
                .filter(login_session::Column::Id.eq(row.id))
                .filter(login_session::Column::LastSeenAt.lt(now - HEARTBEAT_WRITE_INTERVAL_MS))
                .exec(&self.db)
                .await?;
        }

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
        Ok(Some(Session {
            login_id: row.id,
            account_id: account.id,
            supplier_id: account.supplier_id,
            supplier_name: supplier.name,
            role,
            login: account.login,
            display_name: account.display_name,
        }))
    }

    /// Ends the login of this token on the server (退出系统). Unknown tokens are fine.
    pub async fn logout(&self, token: &str) -> Result<(), DomainError> {
        login_session::Entity::delete_many()
            .filter(login_session::Column::TokenHash.eq(token_hash(token)))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// 修改密码. Every error is a `Validation` naming its field, and nothing changes on any
    /// error. The current login stays.
    pub async fn change_password(
        &self,
        session: &Session,
        old: &str,
        new: &str,
        confirm: &str,
    ) -> Result<(), DomainError> {
        if old.is_empty() {
            return Err(DomainError::validation("old_password", "请输入原密码"));
        }
        if new.is_empty() {
            return Err(DomainError::validation("new_password", "请输入新密码"));
        }
        if confirm.is_empty() {
            return Err(DomainError::validation(
                "confirm_password",
                "请再次输入新密码",
            ));
        }
        let wrong_old = || DomainError::validation("old_password", "原密码不正确");
        if old.chars().count() > password::MAX_LEN {
            return Err(wrong_old());
        }
        let account = account::Entity::find_by_id(session.account_id)
            .filter(account::Column::SupplierId.eq(session.supplier_id))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound)?;
        if !self.hasher.verify(old, &account.password_hash).await? {
            return Err(wrong_old());
        }
        if new != confirm {
            return Err(DomainError::validation(
                "confirm_password",
                "两次输入的新密码不一致",
            ));
        }
        if new == old {
            return Err(DomainError::validation(
                "new_password",
                "新密码不能与原密码相同",
            ));
        }
        password::check_strength(new, &account.login)?;

        let hash = self.hasher.hash(new).await?;
        account::Entity::update_many()
            .col_expr(account::Column::PasswordHash, Expr::value(hash))
            .col_expr(account::Column::UpdatedAt, Expr::value(now_ms()))
            .filter(account::Column::Id.eq(account.id))
            .filter(account::Column::SupplierId.eq(session.supplier_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Releases every login whose heartbeat has been silent longer than the idle timeout;
    /// returns how many. Run it periodically.
    pub async fn release_idle_logins(&self) -> Result<u64, DomainError> {
        let result = login_session::Entity::delete_many()
            .filter(login_session::Column::LastSeenAt.lt(now_ms() - self.idle_ms()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }

    /// 剔除登录: ends the live login of `account_id`, an account of `supplier_id` (another
    /// supplier's account is `NotFound`). Returns whether a login was ended; when one was, the
    /// kick is written to the audit log with `actor` as the actor.
    pub async fn kick_login(
        &self,
        supplier_id: i64,
        account_id: i64,
        actor: i64,
    ) -> Result<bool, DomainError> {
        let account = account::Entity::find_by_id(account_id)
            .filter(account::Column::SupplierId.eq(supplier_id))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound)?;
        let result = login_session::Entity::delete_many()
            .filter(login_session::Column::AccountId.eq(account.id))
            .exec(&self.db)
            .await?;
        let kicked = result.rows_affected > 0;
        if kicked {
            audit::record(
                &self.db,
                supplier_id,
                Some(actor),
                audit_log::ACTION_LOGIN_KICKED,
                &format!("剔除登录：{}（{}）", account.display_name, account.login),
            )
            .await?;
        }
        Ok(kicked)
    }

    /// The platform operator's kick (server CLI): ends the live login of the account named
    /// `login`, whatever its supplier. Unknown login → `NotFound`. Returns whether a login was
    /// ended; when one was, it is written to that supplier's audit log with no actor.
    pub async fn kick_login_by_login(&self, login: &str) -> Result<bool, DomainError> {
        let login = login.trim().to_lowercase();
        let account = account::Entity::find()
            .filter(account::Column::Login.eq(login.as_str()))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound)?;
        let result = login_session::Entity::delete_many()
            .filter(login_session::Column::AccountId.eq(account.id))
            .exec(&self.db)
            .await?;
        let kicked = result.rows_affected > 0;
        if kicked {
            audit::record(
                &self.db,
                account.supplier_id,
                None,
                audit_log::ACTION_LOGIN_KICKED,
                &format!(
                    "平台运营剔除登录：{}（{}）",
                    account.display_name, account.login
                ),
            )
            .await?;
        }
        Ok(kicked)
    }

    /// 剔除登录's search: the supplier's accounts whose name or login contains `query`
    /// (all of them when it is blank), each with its live login. Logins idle past the timeout
    /// count as logged out.
    pub async fn search_logins(
        &self,
        supplier_id: i64,
        query: &str,
    ) -> Result<Vec<LoginStatus>, DomainError> {
        let query = query.trim();
        let mut find = account::Entity::find()
            .filter(account::Column::SupplierId.eq(supplier_id))
            .find_also_related(login_session::Entity)
            .order_by_asc(account::Column::Id);
        if !query.is_empty() {
            let query = truncate_chars(query, MAX_LOGIN_LEN);
            find = find.filter(
                Condition::any()
                    .add(account::Column::DisplayName.contains(query.as_str()))
                    .add(account::Column::Login.contains(query.to_lowercase().as_str())),
            );
        }
        let cutoff = now_ms() - self.idle_ms();
        Ok(find
            .all(&self.db)
            .await?
            .into_iter()
            .map(|(account, login)| LoginStatus {
                account,
                login: login.filter(|l| l.last_seen_at >= cutoff),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_account: u32, per_addr: u32) -> LoginLimiter {
        LoginLimiter::new(&AuthConfig {
            max_failures_per_account: per_account,
            max_failures_per_addr: per_addr,
            failure_window: Duration::from_secs(60),
            ..AuthConfig::default()
        })
    }

    #[test]
    fn limiter_window_slides() {
        let l = limiter(2, 100);
        l.record_failure("a", "ip", 0);
        l.record_failure("a", "ip", 10_000);
        match l.check("a", "ip", 20_000) {
            Err(DomainError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 40),
            other => panic!("expected RateLimited, got {other:?}"),
        }
        assert!(
            l.check("A ", "other-ip", 20_000).is_err(),
            "names are case-insensitive"
        );
        // The first failure left the window: one more try is allowed.
        assert!(l.check("a", "ip", 60_001).is_ok());
    }

    #[test]
    fn limiter_map_is_bounded() {
        let l = limiter(5, 5);
        // One new name and address every 10 ms for 500 s; the window is 60 s (6,000 keys).
        for i in 0..50_000 {
            let now = i * 10;
            l.record_failure(
                &format!("user{i}"),
                &format!("10.0.{}.{}", i / 256, i % 256),
                now,
            );
        }
        let state = l.state();
        assert!(
            state.accounts.entries.len() <= 12_000,
            "{}",
            state.accounts.entries.len()
        );
        assert!(
            state.addrs.entries.len() <= 12_000,
            "{}",
            state.addrs.entries.len()
        );
    }
}
