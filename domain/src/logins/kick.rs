//! 剔除登录: ending another account's live login, and the search that lists the logins.

use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};

use super::{Auth, EndedLogin, LoginStatus, MAX_SEARCH_LEN, SELF_KICK_MESSAGE, Session};
use crate::DomainError;
use crate::accounts::account_label;
use crate::audit;
use crate::bus::LoginEndReason;
use crate::db::now_ms;
use crate::entity::{account, audit_log, login_session};
use crate::scoped::find_of_supplier;

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

impl Auth {
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
        let account =
            find_of_supplier::<account::Entity, _>(&self.db, supplier_id, account_id).await?;
        self.end_login(
            &account,
            Some(actor),
            format!("剔除登录：{}", account_label(&account)),
        )
        .await
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
        self.end_login(
            &account,
            None,
            format!("平台运营剔除登录：{}", account_label(&account)),
        )
        .await
    }

    /// Ends the account's live login, if any; when there was one, `note` is written to the
    /// account's audit log as 剔除登录 by `actor`. Returns whether a login was ended.
    async fn end_login(
        &self,
        account: &account::Model,
        actor: Option<i64>,
        note: String,
    ) -> Result<bool, DomainError> {
        let result = login_session::Entity::delete_many()
            .filter(login_session::Column::AccountId.eq(account.id))
            .exec(&self.db)
            .await?;
        let kicked = result.rows_affected > 0;
        if kicked {
            audit::record(
                &self.db,
                account.supplier_id,
                actor,
                audit_log::ACTION_LOGIN_KICKED,
                &note,
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
