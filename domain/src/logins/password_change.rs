//! 修改密码: a new password for the logged-in account, and a new token for its login.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{AddrRule, Auth, Session, new_token, token_hash};
use crate::DomainError;
use crate::accounts::account_label;
use crate::audit;
use crate::db::{begin_write, now_ms};
use crate::entity::{account, audit_log, login_session};
use crate::password;
use crate::scoped::find_of_supplier;

impl Auth {
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
        let account = find_of_supplier::<account::Entity, _>(
            &self.db,
            session.supplier_id,
            session.account_id,
        )
        .await?;
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

        self.store_new_password(session, &account, new).await
    }

    /// Stores the new password and moves the login to a new token, in one transaction, with
    /// 修改密码 in the audit log; the new token. `NotFound` (nothing changed) when the login
    /// ended meanwhile.
    async fn store_new_password(
        &self,
        session: &Session,
        account: &account::Model,
        new: &str,
    ) -> Result<String, DomainError> {
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
            &format!("修改密码：{}", account_label(account)),
        )
        .await?;
        txn.commit().await?;
        Ok(token)
    }
}
