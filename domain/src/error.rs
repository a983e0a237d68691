//! The domain's error type: what went wrong, in domain terms.

/// Everything a domain operation can fail with.
///
/// `Display` is for logs; [`DomainError::user_message`] is the Chinese text a person sees.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The thing asked for does not exist, or belongs to another supplier.
    #[error("not found")]
    NotFound,
    /// The caller may not do this.
    #[error("forbidden")]
    Forbidden,
    /// An input broke a rule; `reason` is Chinese and fit for the user.
    #[error("invalid {field}: {reason}")]
    Validation { field: &'static str, reason: String },
    /// Like [`DomainError::Validation`], for a field named at run time, e.g. `items[3].quantity`
    /// of an order the mall sent.
    #[error("invalid {field}: {reason}")]
    FieldInvalid { field: String, reason: String },
    /// Unknown account or wrong password (deliberately indistinguishable).
    #[error("bad credentials")]
    BadCredentials,
    /// Single login: the account already has a live login elsewhere.
    #[error("account already logged in")]
    AlreadyLoggedIn,
    /// Too many failed logins for this account or client address.
    #[error("rate limited, retry after {retry_after_secs}s")]
    RateLimited { retry_after_secs: u64 },
    /// The request clashes with the current state; the message is Chinese.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A database error; never shown to a user.
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// Any other internal failure; never shown to a user.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    /// Shorthand for a [`DomainError::Validation`].
    pub fn validation(field: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Validation {
            field,
            reason: reason.into(),
        }
    }

    /// The Chinese text shown to a person. Internal details (database errors) are never in it.
    pub fn user_message(&self) -> String {
        match self {
            DomainError::NotFound => "要操作的内容不存在或已被删除".to_owned(),
            DomainError::Forbidden => "没有权限执行此操作".to_owned(),
            DomainError::Validation { reason, .. } | DomainError::FieldInvalid { reason, .. } => {
                reason.clone()
            }
            DomainError::BadCredentials => "账号或密码错误".to_owned(),
            DomainError::AlreadyLoggedIn => {
                "该账号已在其他地方登录。请先在原处退出系统，或请客服管理员「剔除登录」后再登录。"
                    .to_owned()
            }
            DomainError::RateLimited { retry_after_secs } => {
                let minutes = retry_after_secs.div_ceil(60).max(1);
                format!("登录失败次数过多，请 {minutes} 分钟后再试")
            }
            DomainError::Conflict(message) => message.clone(),
            DomainError::Db(_) | DomainError::Internal(_) => {
                "服务器内部错误，请稍后再试".to_owned()
            }
        }
    }

    /// True when this is a database unique-constraint violation (a lost race or a duplicate).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DomainError::Db(err) if is_unique_violation(err))
    }

    /// True when the same operation may well succeed if tried again in a moment: the database
    /// was busy or locked, a deadlock or serialization failure rolled the transaction back, or
    /// the connection was lost. See [`is_transient`]; [`crate::db::retry_transient`] retries.
    pub fn is_transient(&self) -> bool {
        matches!(self, DomainError::Db(err) if is_transient(err))
    }
}

/// SQLite result codes (the low byte of an extended code): `SQLITE_BUSY`, `SQLITE_LOCKED`.
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;

/// True when a database error is transient, on SQLite and PostgreSQL alike: the one place that
/// decides what is worth retrying.
///
/// - SQLite `SQLITE_BUSY` / `SQLITE_LOCKED` (any extended code): another connection held the
///   lock for longer than the busy timeout.
/// - PostgreSQL `40001` serialization_failure, `40P01` deadlock_detected, `55P03`
///   lock_not_available, class `08` (connection exception), `57P01`–`57P03` (the server is
///   shutting down or starting), `53300` too_many_connections.
/// - A lost connection (I/O error, crashed worker) or a pool that had no connection in time.
///
/// Constraint violations, bad SQL and decoding errors are not transient: retrying cannot help.
pub fn is_transient(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
    let sqlx_err = match err {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed) => {
            return true;
        }
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx_err.as_ref() {
        sea_orm::sqlx::Error::Io(_)
        | sea_orm::sqlx::Error::PoolTimedOut
        | sea_orm::sqlx::Error::WorkerCrashed => true,
        sea_orm::sqlx::Error::Database(db_err) => {
            let Some(code) = db_err.code() else {
                return false;
            };
            transient_code(&code)
        }
        _ => false,
    }
}

/// True when a database error is a unique-constraint violation, on SQLite and PostgreSQL alike.
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// A database error code worth retrying: a PostgreSQL SQLSTATE (always five characters) or a
/// SQLite result code (a number below 10 000: primary code | extension << 8).
fn transient_code(code: &str) -> bool {
    if code.len() == 5 {
        return code.starts_with("08")
            || matches!(
                code,
                "40001" | "40P01" | "55P03" | "57P01" | "57P02" | "57P03" | "53300"
            );
    }
    code.parse::<i64>()
        .is_ok_and(|sqlite| matches!(sqlite & 0xff, SQLITE_BUSY | SQLITE_LOCKED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_message_rounds_minutes_up() {
        let msg = DomainError::RateLimited {
            retry_after_secs: 61,
        }
        .user_message();
        assert_eq!(msg, "登录失败次数过多，请 2 分钟后再试");
        let msg = DomainError::RateLimited {
            retry_after_secs: 1,
        }
        .user_message();
        assert_eq!(msg, "登录失败次数过多，请 1 分钟后再试");
    }

    #[test]
    fn internal_details_are_hidden() {
        let err = DomainError::Db(sea_orm::DbErr::Custom("secret table xyz".into()));
        assert_eq!(err.user_message(), "服务器内部错误，请稍后再试");
    }

    #[test]
    fn transient_codes() {
        // SQLite: busy, busy_snapshot (517), locked, locked_sharedcache (262).
        for code in ["5", "517", "773", "6", "262"] {
            assert!(transient_code(code), "{code}");
        }
        // SQLite: unique (2067), constraint, error, readonly.
        for code in ["2067", "19", "1", "8"] {
            assert!(!transient_code(code), "{code}");
        }
        // PostgreSQL: serialization, deadlock, connection lost, shutting down.
        for code in ["40001", "40P01", "08006", "08003", "57P01", "55P03"] {
            assert!(transient_code(code), "{code}");
        }
        // PostgreSQL: unique violation, syntax error, query cancelled.
        for code in ["23505", "42601", "57014"] {
            assert!(!transient_code(code), "{code}");
        }
        let pool = sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout);
        assert!(DomainError::Db(pool).is_transient());
        assert!(!DomainError::Db(sea_orm::DbErr::Custom("x".into())).is_transient());
        assert!(!DomainError::NotFound.is_transient());
    }
}
