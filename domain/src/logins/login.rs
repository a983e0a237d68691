//! Logging in, the live session behind a token (also the heartbeat), and logging out.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use super::{
    ACCOUNT_DISABLED_MESSAGE, AddrRule, Auth, EndedLogin, HEARTBEAT_WRITE_INTERVAL_MS,
    MAX_CLIENT_ADDR_LEN, MAX_LOGIN_LEN, MAX_USER_AGENT_LEN, Role, Session, new_token, token_hash,
    truncate_chars,
};
use crate::DomainError;
use crate::accounts::account_label;
use crate::audit;
use crate::bus::LoginEndReason;
use crate::db::now_ms;
use crate::entity::{account, audit_log, login_session};
use crate::password::{self, DUMMY_PHC};

/// Refuses an empty or too long login name or password (`login` is already trimmed).
fn check_login_input(login: &str, password: &str) -> Result<(), DomainError> {
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
    Ok(())
}

impl Auth {
    /// Logs in: returns a new random session token (32 bytes, base64url; put it in the cookie)
    /// and the session.
    ///
    /// Refused with `Validation` for empty or too long input, `RateLimited` after too many
    /// failures (booked before hashing, see [`LoginLimiter`](super::LoginLimiter)), `BadCredentials` for an unknown
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
        check_login_input(&login, password)?;
        let client_addr = truncate_chars(client_addr, MAX_CLIENT_ADDR_LEN);
        let account = self
            .account_with_password(&login, password, &client_addr)
            .await?;
        if account.disabled_at.is_some() {
            self.record_login_failed(&account, "账号已停用", &client_addr)
                .await?;
            return Err(DomainError::Conflict(ACCOUNT_DISABLED_MESSAGE.to_owned()));
        }
        let (role, supplier) = self.role_and_supplier(&account).await?;
        let now = now_ms();
        let (token, row) = self
            .open_login(&account, client_addr, user_agent, now)
            .await?;
        self.after_login(&account, &role, &row, now).await?;
        Ok((token, Session::of(row.id, account, role, supplier)))
    }

    /// The account named `login` when `password` is its password, else `BadCredentials` (a
    /// wrong password of an existing account is written to its audit log). The attempt is
    /// booked with the limiter before the password is hashed.
    async fn account_with_password(
        &self,
        login: &str,
        password: &str,
        client_addr: &str,
    ) -> Result<account::Model, DomainError> {
        let found = account::Entity::find()
            .filter(account::Column::Login.eq(login))
            .one(&self.db)
            .await?;
        // An address over its limit is not trusted with new accounts, but the colleagues who
        // last logged in from it (an office behind one address) still get their own checks.
        let rule = match &found {
            Some(account) if account.last_login_addr.as_deref() == Some(client_addr) => {
                AddrRule::KnownHere
            }
            _ => AddrRule::Enforce,
        };
        // Booked before hashing: concurrent attempts cannot all slip past the limit.
        let reservation = self.limiter.reserve(login, client_addr, rule, now_ms())?;
        let password_ok = match &found {
            Some(account) => self.hasher.verify(password, &account.password_hash).await?,
            None => {
                // Same work as a real check, so timing does not tell which accounts exist.
                let _ = self.hasher.verify(password, DUMMY_PHC).await?;
                false
            }
        };
        match found {
            Some(account) if password_ok => {
                reservation.succeeded();
                Ok(account)
            }
            found => {
                reservation.failed();
                if let Some(account) = found {
                    self.record_login_failed(&account, "密码错误", client_addr)
                        .await?;
                }
                Err(DomainError::BadCredentials)
            }
        }
    }

    /// Writes 登录失败 (`why`) to the account's audit log.
    async fn record_login_failed(
        &self,
        account: &account::Model,
        why: &str,
        client_addr: &str,
    ) -> Result<(), DomainError> {
        audit::record(
            &self.db,
            account.supplier_id,
            Some(account.id),
            audit_log::ACTION_LOGIN_FAILED,
            &format!(
                "登录失败（{why}）：{}，地址 {client_addr}",
                account_label(account)
            ),
        )
        .await
    }

    /// Opens the account's live login under a new token: releases its login if that one is
    /// over, then inserts; a live login refuses with `AlreadyLoggedIn`.
    async fn open_login(
        &self,
        account: &account::Model,
        client_addr: String,
        user_agent: &str,
        now: i64,
    ) -> Result<(String, login_session::Model), DomainError> {
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
        match inserted {
            Ok(row) => Ok((token, row)),
            Err(err) if crate::error::is_unique_violation(&err) => {
                Err(DomainError::AlreadyLoggedIn)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// What follows a login: the address it came from is remembered, 登录 is written to the
    /// audit log, and an agent is 示忙 (a failure of that last step is only logged).
    async fn after_login(
        &self,
        account: &account::Model,
        role: &Role,
        row: &login_session::Model,
        now: i64,
    ) -> Result<(), DomainError> {
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
            &format!("登录：{}，地址 {}", account_label(account), row.client_addr),
        )
        .await?;
        if *role == Role::Agent
            && let Err(err) =
                crate::chat::reset_status_on_login(&self.db, account.supplier_id, account.id, now)
                    .await
        {
            tracing::warn!(error = %err, account = account.id, "resetting the agent's status failed");
        }
        Ok(())
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

        let (role, supplier) = self.role_and_supplier(&account).await?;
        Ok(Some(Session::of(row.id, account, role, supplier)))
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

    /// Releases every login whose heartbeat has been silent longer than the idle timeout or
    /// that is older than `login_max_age`; returns how many. Run it periodically.
    pub async fn release_idle_logins(&self) -> Result<u64, DomainError> {
        let result = login_session::Entity::delete_many()
            .filter(self.ended_logins(now_ms()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }
}
