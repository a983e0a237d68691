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
use crate::bus::{AccountEvent, LoginEndReason};
use crate::db::{begin_write, now_ms};
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

/// Entries kept per map before expired ones are swept.
const LIMITER_SWEEP_AT: usize = 1_024;
/// Hard cap of keys per map; past it the stalest keys are forgotten.
const LIMITER_MAX_KEYS: usize = 100_000;

/// Counts failed password checks, in memory, per account name and per client address inside a
/// sliding window, and refuses further attempts once a limit is reached.
///
/// An attempt is counted *before* its password is hashed: [`LoginLimiter::reserve`] checks the
/// limits and books a pending failure in one step under the lock, so however many attempts
/// arrive at once, at most the limit of them reach argon2. The booking stays a failure when the
/// password was wrong ([`Reservation::failed`]), is taken back on success
/// ([`Reservation::succeeded`], which also forgets the account's earlier failures) and when the
/// attempt never reached a verdict (dropped: hasher busy, database error, cancelled request).
///
/// The maps are swept of expired entries as they grow and are capped, so a flood of distinct
/// names or addresses cannot grow them without bound.
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
    next_id: u64,
}

/// One counted failure: when, and the attempt that booked it while that is still in flight.
#[derive(Debug, Clone, Copy)]
struct Mark {
    at: i64,
    pending: Option<u64>,
}

/// Key → its most recent failures (pending or settled), oldest first.
#[derive(Debug, Default)]
struct FailureMap {
    entries: HashMap<String, VecDeque<Mark>>,
    sweep_at: usize,
}

impl FailureMap {
    /// Seconds until `key` may try again, or `None` when it is under `max`.
    fn blocked_for(&mut self, key: &str, max: usize, window_ms: i64, now: i64) -> Option<u64> {
        let marks = self.entries.get_mut(key)?;
        while marks.front().is_some_and(|m| m.at <= now - window_ms) {
            marks.pop_front();
        }
        if marks.is_empty() {
            self.entries.remove(key);
            return None;
        }
        if marks.len() < max {
            return None;
        }
        // One more attempt is allowed when the `max`-th newest expires.
        let oldest = marks.get(marks.len() - max).map(|m| m.at).unwrap_or(now);
        let wait_ms = (oldest + window_ms - now).max(1);
        Some((wait_ms as u64).div_ceil(1000))
    }

    /// Books a failure for `key`; keeps at most `keep` marks for it.
    fn record(&mut self, key: String, mark: Mark, keep: usize, window_ms: i64, now: i64) {
        let marks = self.entries.entry(key).or_default();
        marks.push_back(mark);
        while marks.len() > keep.max(1) {
            marks.pop_front();
        }
        if self.entries.len() >= self.sweep_at.max(LIMITER_SWEEP_AT) {
            self.sweep(window_ms, now);
        }
    }

    /// Applies `f` to the marks of `key`, dropping the key when none are left.
    fn update(&mut self, key: &str, f: impl FnOnce(&mut VecDeque<Mark>)) {
        if let Some(marks) = self.entries.get_mut(key) {
            f(marks);
            if marks.is_empty() {
                self.entries.remove(key);
            }
        }
    }

    /// Drops expired entries; if still over the cap, forgets the stalest half.
    fn sweep(&mut self, window_ms: i64, now: i64) {
        self.entries
            .retain(|_, marks| marks.back().is_some_and(|m| m.at > now - window_ms));
        if self.entries.len() > LIMITER_MAX_KEYS {
            let mut newest: Vec<i64> = self
                .entries
                .values()
                .filter_map(|marks| marks.back().map(|m| m.at))
                .collect();
            newest.sort_unstable();
            let cutoff = newest[newest.len() / 2];
            self.entries
                .retain(|_, marks| marks.back().is_some_and(|m| m.at > cutoff));
        }
        // Sweep again only once the map has doubled, so sweeping stays amortised O(1).
        self.sweep_at = self.entries.len() * 2;
    }
}

fn limiter_key(login: &str) -> String {
    login.trim().to_lowercase()
}

/// How an attempt was booked: the account key, and the address key when addresses count.
#[derive(Debug)]
struct Booking {
    id: u64,
    account: String,
    addr: Option<String>,
}

/// A password attempt booked by [`LoginLimiter::reserve`] as a pending failure. Settle it with
/// [`Reservation::failed`] or [`Reservation::succeeded`] right after the password check;
/// dropping it unsettled takes the booking back.
#[derive(Debug)]
#[must_use = "settle the attempt with failed() or succeeded()"]
pub struct Reservation {
    limiter: Arc<LoginLimiter>,
    booking: Option<Booking>,
}

impl Reservation {
    /// The password was wrong: the booking stays, as a failure.
    pub fn failed(mut self) {
        if let Some(booking) = self.booking.take() {
            let mut state = self.limiter.state();
            let settle = |marks: &mut VecDeque<Mark>| {
                if let Some(mark) = marks.iter_mut().find(|m| m.pending == Some(booking.id)) {
                    mark.pending = None;
                }
            };
            state.accounts.update(&booking.account, settle);
            if let Some(addr) = &booking.addr {
                state.addrs.update(addr, settle);
            }
        }
    }

    /// The password was right: the account's settled failures are forgotten (attempts still in
    /// flight keep theirs) and this booking is taken back. The address keeps its earlier
    /// failures, so one client cannot reset its budget by logging into its own account.
    pub fn succeeded(mut self) {
        if let Some(booking) = self.booking.take() {
            let mut state = self.limiter.state();
            state.accounts.update(&booking.account, |marks| {
                marks.retain(|m| m.pending.is_some_and(|id| id != booking.id));
            });
            if let Some(addr) = &booking.addr {
                state.addrs.update(addr, |marks| {
                    marks.retain(|m| m.pending != Some(booking.id));
                });
            }
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(booking) = self.booking.take() {
            let mut state = self.limiter.state();
            let release = |marks: &mut VecDeque<Mark>| {
                marks.retain(|m| m.pending != Some(booking.id));
            };
            state.accounts.update(&booking.account, release);
            if let Some(addr) = &booking.addr {
                state.addrs.update(addr, release);
            }
        }
    }
}

/// Whether the client address's own limit applies to an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrRule {
    /// The address limit applies: an address over it is refused.
    Enforce,
    /// The account last logged in successfully from this very address (a colleague in the same
    /// office): the address being over its limit does not refuse it; the account's own limit
    /// still does. The attempt still counts for the address.
    KnownHere,
    /// Addresses do not count (修改密码's old-password check, from a logged-in session).
    Ignore,
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
    /// of failures inside the window (`now` in unix ms). Books nothing.
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

    /// Checks the limits and, when the attempt may go on, books it as a pending failure of the
    /// account name (and of `addr` unless `rule` is [`AddrRule::Ignore`]), in one step under the
    /// lock. `Err(RateLimited)` books nothing.
    pub fn reserve(
        self: &Arc<Self>,
        login: &str,
        addr: &str,
        rule: AddrRule,
        now: i64,
    ) -> Result<Reservation, DomainError> {
        let account = limiter_key(login);
        let mut state = self.state();
        let account_wait =
            state
                .accounts
                .blocked_for(&account, self.max_per_account, self.window_ms, now);
        let addr_wait = match rule {
            AddrRule::Enforce => {
                state
                    .addrs
                    .blocked_for(addr, self.max_per_addr, self.window_ms, now)
            }
            AddrRule::KnownHere | AddrRule::Ignore => None,
        };
        if let Some(retry_after_secs) = account_wait.max(addr_wait) {
            return Err(DomainError::RateLimited { retry_after_secs });
        }
        state.next_id += 1;
        let id = state.next_id;
        let mark = Mark {
            at: now,
            pending: Some(id),
        };
        state.accounts.record(
            account.clone(),
            mark,
            self.max_per_account,
            self.window_ms,
            now,
        );
        let addr = (rule != AddrRule::Ignore).then(|| addr.to_owned());
        if let Some(addr) = &addr {
            // Keep a little more than the limit: known accounts may go on past it.
            state.addrs.record(
                addr.clone(),
                mark,
                self.max_per_addr.saturating_mul(2),
                self.window_ms,
                now,
            );
        }
        Ok(Reservation {
            limiter: Arc::clone(self),
            booking: Some(Booking { id, account, addr }),
        })
    }

    /// Counts one failed login for the account name and for the client address.
    pub fn record_failure(&self, login: &str, addr: &str, now: i64) {
        let mut state = self.state();
        let mark = Mark {
            at: now,
            pending: None,
        };
        state.accounts.record(
            limiter_key(login),
            mark,
            self.max_per_account,
            self.window_ms,
            now,
        );
        state.addrs.record(
            addr.to_owned(),
            mark,
            self.max_per_addr.saturating_mul(2),
            self.window_ms,
            now,
        );
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
/// `LIKE '%text%'` with `%`, `_` and `\` in `text` taken literally: a search for `kf_0` finds
/// that text, not every login with a character between `kf` and `0`.
fn contains_literally(text: &str) -> sea_orm::sea_query::LikeExpr {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    sea_orm::sea_query::LikeExpr::new(pattern).escape('\\')
}

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

    /// Logs in: returns a new random session token (32 bytes, base64url; put it in the cookie)
    /// and the session.
    ///
    /// Refused with `Validation` for empty or too long input, `RateLimited` after too many
    /// failures (booked before hashing, see [`LoginLimiter`]), `BadCredentials` for an unknown
    /// account or a wrong password alike (same answer, same time), `Conflict` with
    /// [`ACCOUNT_DISABLED_MESSAGE`] for a disabled account (only once its password was right),
    /// `Conflict` with [`password::BUSY_MESSAGE`] when the hasher's queue is full, and
    /// `AlreadyLoggedIn` when the account has a live login that is not over.
    ///
    /// The limit per client address refuses an address that has failed too often, except for
    /// the accounts whose last successful login came from that same address: many agents of
    /// one office share an address, and one colleague's (or an intruder's) failures there must
    /// not lock the others out. Those accounts keep their own per-account limit. Every success
    /// and every wrong password of an existing account is written to its supplier's audit log
    /// (登录 / 登录失败).
    ///
    /// An agent starts every login 示忙 (§3): its status is reset here, and a failure to do so
    /// is logged but does not refuse the login.
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

        let found = account::Entity::find()
            .filter(account::Column::Login.eq(login.as_str()))
            .one(&self.db)
            .await?;
        // An address over its limit is not trusted with new accounts, but the colleagues who
        // last logged in from it (an office behind one address) still get their own checks.
        let rule = match &found {
            Some(account) if account.last_login_addr.as_deref() == Some(client_addr.as_str()) => {
                AddrRule::KnownHere
            }
            _ => AddrRule::Enforce,
        };
        // Booked before hashing: concurrent attempts cannot all slip past the limit.
        let reservation = self.limiter.reserve(&login, &client_addr, rule, now_ms())?;
        let password_ok = match &found {
            Some(account) => self.hasher.verify(password, &account.password_hash).await?,
            None => {
                // Same work as a real check, so timing does not tell which accounts exist.
                let _ = self.hasher.verify(password, DUMMY_PHC).await?;
                false
            }
        };
        let account = match found {
            Some(account) if password_ok => {
                reservation.succeeded();
                account
            }
            found => {
                reservation.failed();
                if let Some(account) = found {
                    audit::record(
                        &self.db,
                        account.supplier_id,
                        Some(account.id),
                        audit_log::ACTION_LOGIN_FAILED,
                        &format!(
                            "登录失败（密码错误）：{}（{}），地址 {client_addr}",
                            account.display_name, account.login
                        ),
                    )
                    .await?;
                }
                return Err(DomainError::BadCredentials);
            }
        };
        if account.disabled_at.is_some() {
            audit::record(
                &self.db,
                account.supplier_id,
                Some(account.id),
                audit_log::ACTION_LOGIN_FAILED,
                &format!(
                    "登录失败（账号已停用）：{}（{}），地址 {client_addr}",
                    account.display_name, account.login
                ),
            )
            .await?;
            return Err(DomainError::Conflict(ACCOUNT_DISABLED_MESSAGE.to_owned()));
        }

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
        // Release this account's login only if it is over: gone idle (a crashed browser) or
        // past its lifetime.
        login_session::Entity::delete_many()
            .filter(login_session::Column::AccountId.eq(account.id))
            .filter(self.ended_logins(now))
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
        account::Entity::update_many()
            .col_expr(
                account::Column::LastLoginAddr,
                Expr::value(row.client_addr.clone()),
            )
            .filter(account::Column::Id.eq(account.id))
            .exec(&self.db)
            .await?;
        audit::record(
            &self.db,
            account.supplier_id,
            Some(account.id),
            audit_log::ACTION_LOGIN,
            &format!(
                "登录：{}（{}），地址 {}",
                account.display_name, account.login, row.client_addr
            ),
        )
        .await?;
        if role == Role::Agent
            && let Err(err) =
                crate::chat::reset_status_on_login(&self.db, account.supplier_id, account.id, now)
                    .await
        {
            tracing::warn!(error = %err, account = account.id, "resetting the agent's status failed");
        }

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

    /// The session of a token, or `None` when the token is unknown, its login has been idle
    /// longer than the timeout or is older than `login_max_age`, or its account is disabled
    /// (that login is then released). This is also the heartbeat: it
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
        if row.last_seen_at < cutoff || row.created_at < now - self.max_age_ms() {
            login_session::Entity::delete_many()
                .filter(login_session::Column::Id.eq(row.id))
                .filter(self.ended_logins(now))
                .exec(&self.db)
                .await?;
            return Ok(None);
        }
        if account.disabled_at.is_some() {
            // Disabling deletes the login; this catches a login that raced with it.
            login_session::Entity::delete_many()
                .filter(login_session::Column::Id.eq(row.id))
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

    /// Ends the login of this token on the server (退出系统). Unknown tokens are fine. Returns
    /// the ended login when it was live, so that its other open pages are told.
    pub async fn logout(&self, token: &str) -> Result<Option<EndedLogin>, DomainError> {
        let ended = self.session(token).await?.map(|session| EndedLogin {
            account_id: session.account_id,
            reason: LoginEndReason::LoggedOut,
        });
        login_session::Entity::delete_many()
            .filter(login_session::Column::TokenHash.eq(token_hash(token)))
            .exec(&self.db)
            .await?;
        Ok(ended)
    }

    /// 修改密码. Every error is a `Validation` naming its field, and nothing changes on any
    /// error. On success the login gets a new token, which is returned (set it as the cookie):
    /// the old token stops working wherever it was copied to. Written to the audit log.
    ///
    /// The old-password check is limited like a login, per account (the same counter): once
    /// it has failed `max_failures_per_account` times inside the window, further checks are
    /// refused without hashing.
    pub async fn change_password(
        &self,
        session: &Session,
        old: &str,
        new: &str,
        confirm: &str,
    ) -> Result<String, DomainError> {
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
        let account = account::Entity::find_by_id(session.account_id)
            .filter(account::Column::SupplierId.eq(session.supplier_id))
            .one(&self.db)
            .await?
            .ok_or(DomainError::NotFound)?;
        let reservation = match self
            .limiter
            .reserve(&account.login, "", AddrRule::Ignore, now_ms())
        {
            Ok(reservation) => reservation,
            Err(DomainError::RateLimited { retry_after_secs }) => {
                let minutes = retry_after_secs.div_ceil(60).max(1);
                return Err(DomainError::validation(
                    "old_password",
                    format!("原密码错误次数过多，请 {minutes} 分钟后再试"),
                ));
            }
            Err(err) => return Err(err),
        };
        let old_ok = old.chars().count() <= password::MAX_LEN
            && self.hasher.verify(old, &account.password_hash).await?;
        if !old_ok {
            reservation.failed();
            return Err(wrong_old());
        }
        reservation.succeeded();
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
        let token = new_token();
        let txn = begin_write(&self.db).await?;
        let changed = account::Entity::update_many()
            .col_expr(account::Column::PasswordHash, Expr::value(hash))
            .col_expr(account::Column::UpdatedAt, Expr::value(now_ms()))
            .filter(account::Column::Id.eq(account.id))
            .filter(account::Column::SupplierId.eq(session.supplier_id))
            .exec(&txn)
            .await?;
        // The login goes on under a new token; one that ended meanwhile stays ended.
        let rotated = login_session::Entity::update_many()
            .col_expr(
                login_session::Column::TokenHash,
                Expr::value(token_hash(&token)),
            )
            .filter(login_session::Column::Id.eq(session.login_id))
            .filter(login_session::Column::AccountId.eq(account.id))
            .exec(&txn)
            .await?;
        if changed.rows_affected == 0 || rotated.rows_affected == 0 {
            // Dropping `txn` rolls the password back: the login ended while we worked.
            return Err(DomainError::NotFound);
        }
        audit::record(
            &txn,
            account.supplier_id,
            Some(account.id),
            audit_log::ACTION_PASSWORD_CHANGED,
            &format!("修改密码：{}（{}）", account.display_name, account.login),
        )
        .await?;
        txn.commit().await?;
        Ok(token)
    }

    /// Releases every login whose heartbeat has been silent longer than the idle timeout or
    /// that is older than `login_max_age`; returns how many. Run it periodically.
    pub async fn release_idle_logins(&self) -> Result<u64, DomainError> {
        let result = login_session::Entity::delete_many()
            .filter(self.ended_logins(now_ms()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }

    /// 剔除登录 by the supplier's admin, from its session: ends the live login of `account_id`
    /// (see [`Auth::kick_login`]) and returns it, to be told to its open pages; `None` when the
    /// account was not logged in.
    pub async fn kick(
        &self,
        admin: &Session,
        account_id: i64,
    ) -> Result<Option<EndedLogin>, DomainError> {
        let kicked = self
            .kick_login(admin.supplier_id, account_id, admin.account_id)
            .await?;
        Ok(kicked.then_some(EndedLogin {
            account_id,
            reason: LoginEndReason::Kicked,
        }))
    }

    /// 剔除登录: ends the live login of `account_id`, an account of `supplier_id` (another
    /// supplier's account is `NotFound`). Returns whether a login was ended; when one was, the
    /// kick is written to the audit log with `actor` as the actor. Nobody kicks their own login
    /// (`Conflict` with [`SELF_KICK_MESSAGE`]): that is 退出系统.
    pub async fn kick_login(
        &self,
        supplier_id: i64,
        account_id: i64,
        actor: i64,
    ) -> Result<bool, DomainError> {
        if account_id == actor {
            return Err(DomainError::Conflict(SELF_KICK_MESSAGE.to_owned()));
        }
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
    /// count as logged out. A query longer than [`MAX_SEARCH_LEN`] characters (counted as
    /// sent, before trimming) is refused with a `Validation` of `query`.
    pub async fn search_logins(
        &self,
        supplier_id: i64,
        query: &str,
    ) -> Result<Vec<LoginStatus>, DomainError> {
        if query.chars().count() > MAX_SEARCH_LEN {
            return Err(DomainError::validation(
                "query",
                format!("搜索内容不能超过 {MAX_SEARCH_LEN} 个字符"),
            ));
        }
        self.login_statuses(supplier_id, query.trim(), None).await
    }

    /// 账号新增's list: the supplier's agent accounts (never its admin), oldest first, each with
    /// its live login.
    pub async fn agents_with_logins(
        &self,
        supplier_id: i64,
    ) -> Result<Vec<LoginStatus>, DomainError> {
        self.login_statuses(supplier_id, "", Some(account::ROLE_AGENT))
            .await
    }

    /// The supplier's accounts (of `role` when given) whose name or login contains `query`
    /// (every one when it is empty), oldest first, each with its live login.
    async fn login_statuses(
        &self,
        supplier_id: i64,
        query: &str,
        role: Option<&str>,
    ) -> Result<Vec<LoginStatus>, DomainError> {
        let mut find = account::Entity::find()
            .filter(account::Column::SupplierId.eq(supplier_id))
            .find_also_related(login_session::Entity)
            .order_by_asc(account::Column::Id);
        if let Some(role) = role {
            find = find.filter(account::Column::Role.eq(role));
        }
        if !query.is_empty() {
            find = find.filter(
                Condition::any()
                    .add(account::Column::DisplayName.like(contains_literally(query)))
                    .add(account::Column::Login.like(contains_literally(&query.to_lowercase()))),
            );
        }
        let now = now_ms();
        let cutoff = now - self.idle_ms();
        let born_after = now - self.max_age_ms();
        Ok(find
            .all(&self.db)
            .await?
            .into_iter()
            .map(|(account, login)| LoginStatus {
                account,
                login: login.filter(|l| l.last_seen_at >= cutoff && l.created_at >= born_after),
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
    fn reservations_count_until_settled_and_drop_gives_them_back() {
        let l = Arc::new(limiter(2, 100));
        let first = l.reserve("a", "ip", AddrRule::Enforce, 0).expect("first");
        let second = l.reserve("a", "ip", AddrRule::Enforce, 0).expect("second");
        // Two in flight: a third is refused before any of them has a verdict.
        assert!(l.reserve("a", "ip", AddrRule::Enforce, 0).is_err());
        // A dropped (unsettled) attempt gives its place back …
        drop(second);
        let third = l.reserve("a", "ip", AddrRule::Enforce, 0).expect("third");
        // … a failed one keeps it, and a success forgets settled failures but not the attempts
        // still in flight.
        first.failed();
        assert!(l.reserve("a", "ip", AddrRule::Enforce, 0).is_err());
        let other = l.reserve("b", "ip", AddrRule::Enforce, 0).expect("other");
        third.succeeded();
        let fourth = l.reserve("a", "ip", AddrRule::Enforce, 0).expect("cleared");
        let fifth = l.reserve("a", "ip", AddrRule::Enforce, 0).expect("cleared");
        assert!(l.reserve("a", "ip", AddrRule::Enforce, 0).is_err());
        fourth.failed();
        fifth.succeeded();
        other.failed();
        // The address still counts what failed from it: the 1st and the 4th of "a", "b".
        let state = l.state();
        assert_eq!(state.addrs.entries.get("ip").map(VecDeque::len), Some(3));
        assert!(!state.accounts.entries.contains_key("a"));
    }

    #[test]
    fn an_address_over_its_limit_lets_known_accounts_and_ignores_password_changes() {
        let l = Arc::new(limiter(100, 2));
        l.reserve("x", "office", AddrRule::Enforce, 0)
            .expect("1")
            .failed();
        l.reserve("y", "office", AddrRule::Enforce, 0)
            .expect("2")
            .failed();
        assert!(l.reserve("z", "office", AddrRule::Enforce, 0).is_err());
        l.reserve("colleague", "office", AddrRule::KnownHere, 0)
            .expect("known here")
            .succeeded();
        l.reserve("z", "", AddrRule::Ignore, 0)
            .expect("address not counted")
            .failed();
        assert!(l.reserve("z", "elsewhere", AddrRule::Enforce, 0).is_ok());
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
