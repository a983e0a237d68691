//! Suppliers and their accounts: creating a supplier with its admin, and the admin's 账号新增
//! and 编辑 of agent accounts (at most [`MAX_AGENTS_PER_SUPPLIER`]), 停用 and 启用.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use crate::DomainError;
use crate::audit;
use crate::bus::LoginEndReason;
use crate::db::{begin_write, now_ms};
use crate::entity::{account, audit_log, login_session, supplier};
use crate::error::is_unique_violation;
use crate::logins::{EndedLogin, Session};
use crate::password::{self, PasswordHasher};
use crate::scoped::find_of_supplier;

/// A supplier may have at most this many agent accounts (§3.3).
pub const MAX_AGENTS_PER_SUPPLIER: u64 = 2;
/// Longest supplier name.
pub const MAX_SUPPLIER_NAME_LEN: usize = 100;
/// Longest display name of an account.
pub const MAX_DISPLAY_NAME_LEN: usize = 32;

/// A new account of `supplier_id` with `role`, created (and last changed) at `now`.
fn new_account(
    supplier_id: i64,
    role: &str,
    login: String,
    display_name: String,
    password_hash: String,
    now: i64,
) -> account::ActiveModel {
    account::ActiveModel {
        supplier_id: Set(supplier_id),
        role: Set(role.to_owned()),
        login: Set(login),
        display_name: Set(display_name),
        password_hash: Set(password_hash),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// The agent login (客服工号) rule: `kf` + supplier id + the agent number as at least two digits,
/// e.g. supplier 1 → `kf101`, `kf102`; supplier 12 → `kf1201`.
///
/// `n` is taken from `supplier.next_agent_no`, which only ever grows, so a number is never
/// reused even if an account is removed. Because the last two digits are always the number,
/// logins of different suppliers cannot collide while `n < 100` (the cap of
/// [`MAX_AGENTS_PER_SUPPLIER`] keeps it far below). Admin logins of the form `kf` + digits are
/// refused so they can never take an agent's login.
pub fn agent_login(supplier_id: i64, n: i64) -> String {
    format!("kf{supplier_id}{n:02}")
}

fn unique_or(err: DbErr, message: &str) -> DomainError {
    if is_unique_violation(&err) {
        DomainError::Conflict(message.to_owned())
    } else {
        DomainError::Db(err)
    }
}

/// A trimmed display name of 1–32 characters.
fn display_name(value: &str, field: &'static str, empty: &str) -> Result<String, DomainError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::validation(field, empty));
    }
    if value.chars().count() > MAX_DISPLAY_NAME_LEN {
        return Err(DomainError::validation(field, "姓名不能超过 32 个字"));
    }
    if value.chars().any(char::is_control) {
        return Err(DomainError::validation(field, "姓名不能包含控制字符"));
    }
    Ok(value.to_owned())
}

/// An admin login: 3–32 of a–z, 0–9 and `_`, starting with a letter, not of the agent form.
fn admin_login(value: &str) -> Result<String, DomainError> {
    let login = value.trim().to_lowercase();
    let fail = |reason: &str| Err(DomainError::validation("login", reason));
    let len = login.chars().count();
    if !(3..=32).contains(&len) {
        return fail("登录账号须为 3–32 个字符");
    }
    if !login
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        || !login.starts_with(|c: char| c.is_ascii_lowercase())
    {
        return fail("登录账号只能包含英文字母、数字和下划线，并以字母开头");
    }
    if login
        .strip_prefix("kf")
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()))
    {
        return fail("“kf+数字”形式的账号留给在线客服工号，请换一个");
    }
    Ok(login)
}

/// Creates a supplier and its customer-service admin (the platform operator's CLI does this).
///
/// Returns the supplier id and the admin's password: `admin_password` when given (it must pass
/// [`password::check_strength`]), otherwise a generated one to hand over once.
pub async fn create_supplier(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    name: &str,
    admin_login: &str,
    admin_name: &str,
    admin_password: Option<&str>,
) -> Result<(i64, String), DomainError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::validation("name", "请输入供应商名称"));
    }
    if name.chars().count() > MAX_SUPPLIER_NAME_LEN {
        return Err(DomainError::validation(
            "name",
            "供应商名称不能超过 100 个字",
        ));
    }
    let login = self::admin_login(admin_login)?;
    let admin_name = display_name(admin_name, "display_name", "请输入管理员姓名")?;
    let password = match admin_password {
        Some(given) => {
            password::check_strength(given, &login)?;
            given.to_owned()
        }
        None => password::generate_initial_password(),
    };
    let hash = hasher.hash(&password).await?;

    let now = now_ms();
    let txn = begin_write(db).await?;
    let supplier = supplier::ActiveModel {
        name: Set(name.to_owned()),
        api_key_hash: Set(None),
        next_agent_no: Set(1),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|err| unique_or(err, "供应商名称已存在"))?;
    new_account(
        supplier.id,
        account::ROLE_ADMIN,
        login,
        admin_name,
        hash,
        now,
    )
    .insert(&txn)
    .await
    .map_err(|err| unique_or(err, "该登录账号已被使用"))?;
    txn.commit().await?;
    Ok((supplier.id, password))
}

/// 账号新增: creates an agent account named `display_name` (1–32 characters) for the supplier;
/// the login follows [`agent_login`] and the returned initial password is shown once.
///
/// The cap of [`MAX_AGENTS_PER_SUPPLIER`] holds under concurrency: inside one transaction the
/// supplier row is first bumped (`next_agent_no + 1`), which takes its write lock (SQLite:
/// `BEGIN IMMEDIATE`; PostgreSQL: the row lock), so creations for one supplier run one after
/// another, and only then are the existing agents counted, by a statement that sees every
/// committed creation. A single `UPDATE … WHERE (SELECT count(*) …) < 2` would not do on
/// PostgreSQL: after waiting for the row lock it re-checks the row, but not the sub-select,
/// which keeps its old snapshot.
pub async fn create_agent(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    supplier_id: i64,
    display_name: &str,
    actor_account_id: Option<i64>,
) -> Result<(account::Model, String), DomainError> {
    let name = self::display_name(display_name, "display_name", "请输入客服姓名")?;
    let initial_password = password::generate_initial_password();
    // Hash before the transaction, so the supplier stays locked only for a few statements.
    let hash = hasher.hash(&initial_password).await?;

    let txn = begin_write(db).await?;
    let bumped = supplier::Entity::update_many()
        .col_expr(
            supplier::Column::NextAgentNo,
            Expr::col(supplier::Column::NextAgentNo).add(1),
        )
        .filter(supplier::Column::Id.eq(supplier_id))
        .exec(&txn)
        .await?;
    if bumped.rows_affected == 0 {
        return Err(DomainError::NotFound);
    }
    let agents = account::Entity::find()
        .filter(account::Column::SupplierId.eq(supplier_id))
        .filter(account::Column::Role.eq(account::ROLE_AGENT))
        .count(&txn)
        .await?;
    if agents >= MAX_AGENTS_PER_SUPPLIER {
        // Dropping `txn` rolls the bump back.
        return Err(DomainError::Conflict(format!(
            "每个供应商最多只能新增 {MAX_AGENTS_PER_SUPPLIER} 个在线客服账号"
        )));
    }
    let supplier = supplier::Entity::find_by_id(supplier_id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let login = agent_login(supplier_id, i64::from(supplier.next_agent_no) - 1);

    let now = now_ms();
    let agent = new_account(
        supplier_id,
        account::ROLE_AGENT,
        login.clone(),
        name.clone(),
        hash,
        now,
    )
    .insert(&txn)
    .await
    .map_err(|err| unique_or(err, &format!("工号 {login} 已被占用，请联系平台运营人员")))?;
    audit::record(
        &txn,
        supplier_id,
        actor_account_id,
        audit_log::ACTION_ACCOUNT_ADDED,
        &format!("新增在线客服：{name}（{login}）"),
    )
    .await?;
    txn.commit().await?;
    Ok((agent, initial_password))
}

/// The supplier's agent accounts, oldest first.
pub async fn list_agents(
    db: &DatabaseConnection,
    supplier_id: i64,
) -> Result<Vec<account::Model>, DomainError> {
    Ok(account::Entity::find()
        .filter(account::Column::SupplierId.eq(supplier_id))
        .filter(account::Column::Role.eq(account::ROLE_AGENT))
        .order_by_asc(account::Column::Id)
        .all(db)
        .await?)
}

/// How an account is named in the audit log and the report: `显示名（登录名）`.
pub fn account_label(account: &account::Model) -> String {
    format!("{}（{}）", account.display_name, account.login)
}

/// One account of the supplier (`NotFound` for another supplier's account).
pub async fn find_account(
    db: &DatabaseConnection,
    supplier_id: i64,
    account_id: i64,
) -> Result<account::Model, DomainError> {
    find_of_supplier::<account::Entity, _>(db, supplier_id, account_id).await
}

/// 编辑 by the supplier's admin, from its session: renames the agent to `display_name` and,
/// unless `new_password` is empty (which leaves the password as it is), sets that password
/// (see [`update_agent`]). A new password ends the agent's login: the returned [`EndedLogin`]
/// is to be told to its open pages.
pub async fn edit_agent(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    admin: &Session,
    account_id: i64,
    display_name: &str,
    new_password: &str,
) -> Result<Option<EndedLogin>, DomainError> {
    let password = (!new_password.is_empty()).then_some(new_password);
    update_agent(
        db,
        hasher,
        admin.supplier_id,
        account_id,
        Some(display_name),
        password,
        Some(admin.account_id),
    )
    .await?;
    Ok(password.map(|_| EndedLogin {
        account_id,
        reason: LoginEndReason::PasswordReset,
    }))
}

/// 编辑: renames an agent of the supplier and/or sets a new password for it (which must pass
/// [`password::check_strength`]). A new password ends the agent's current login. Each change
/// is written to the audit log. Returns the updated account.
pub async fn update_agent(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    supplier_id: i64,
    account_id: i64,
    new_display_name: Option<&str>,
    new_password: Option<&str>,
    actor_account_id: Option<i64>,
) -> Result<account::Model, DomainError> {
    let current = find_account(db, supplier_id, account_id).await?;
    if current.role != account::ROLE_AGENT {
        return Err(DomainError::NotFound);
    }
    let name = new_display_name
        .map(|n| display_name(n, "display_name", "请输入客服姓名"))
        .transpose()?
        .filter(|n| *n != current.display_name);
    let hash = match new_password.filter(|p| !p.is_empty()) {
        Some(new_password) => {
            password::check_strength(new_password, &current.login)?;
            Some(hasher.hash(new_password).await?)
        }
        None => None,
    };
    if name.is_none() && hash.is_none() {
        return Ok(current);
    }

    let txn = begin_write(db).await?;
    let mut update = account::Entity::update_many()
        .col_expr(account::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(account::Column::Id.eq(account_id))
        .filter(account::Column::SupplierId.eq(supplier_id));
    if let Some(name) = &name {
        update = update.col_expr(account::Column::DisplayName, Expr::value(name.clone()));
    }
    if let Some(hash) = &hash {
        update = update.col_expr(account::Column::PasswordHash, Expr::value(hash.clone()));
    }
    if update.exec(&txn).await?.rows_affected == 0 {
        return Err(DomainError::NotFound);
    }
    // One audit row per change, the rename first.
    let mut entries = Vec::new();
    if let Some(name) = &name {
        let detail = format!("修改客服姓名：{}→ {name}", account_label(&current));
        entries.push((audit_log::ACTION_ACCOUNT_EDITED, detail));
    }
    if hash.is_some() {
        login_session::Entity::delete_many()
            .filter(login_session::Column::AccountId.eq(account_id))
            .exec(&txn)
            .await?;
        entries.push((
            audit_log::ACTION_PASSWORD_RESET,
            format!("重置密码：{}", account_label(&current)),
        ));
    }
    for (action, detail) in entries {
        audit::record(&txn, supplier_id, actor_account_id, action, &detail).await?;
    }
    txn.commit().await?;
    find_account(db, supplier_id, account_id).await
}

/// 停用 (`disabled` true) or 启用 by the supplier's admin, from its session (see
/// [`set_agent_disabled`]). Returns the agent's login when disabling ended one, to be told to
/// its open pages (they return to the login page with 账号已停用).
pub async fn switch_agent_disabled(
    db: &DatabaseConnection,
    admin: &Session,
    account_id: i64,
    disabled: bool,
) -> Result<Option<EndedLogin>, DomainError> {
    let ended = set_agent_disabled(
        db,
        admin.supplier_id,
        account_id,
        disabled,
        Some(admin.account_id),
    )
    .await?;
    Ok(ended.then_some(EndedLogin {
        account_id,
        reason: LoginEndReason::Disabled,
    }))
}

/// 停用 (`disabled` true) or 启用 (`disabled` false) an agent of the supplier. Disabling ends
/// the agent's live login at once and refuses its logins until it is enabled again; another
/// supplier's account, or an admin account, is `NotFound`. Written to the audit log with
/// `actor_account_id` as the actor. Returns whether a live login was ended (the caller tells
/// that login's open pages). Setting the state it already has changes nothing.
pub async fn set_agent_disabled(
    db: &DatabaseConnection,
    supplier_id: i64,
    account_id: i64,
    disabled: bool,
    actor_account_id: Option<i64>,
) -> Result<bool, DomainError> {
    let txn = begin_write(db).await?;
    let current = account::Entity::find_by_id(account_id)
        .filter(account::Column::SupplierId.eq(supplier_id))
        .filter(account::Column::Role.eq(account::ROLE_AGENT))
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    if current.disabled_at.is_some() == disabled {
        return Ok(false);
    }
    let now = now_ms();
    account::Entity::update_many()
        .col_expr(
            account::Column::DisabledAt,
            Expr::value(disabled.then_some(now)),
        )
        .col_expr(account::Column::UpdatedAt, Expr::value(now))
        .filter(account::Column::Id.eq(account_id))
        .filter(account::Column::SupplierId.eq(supplier_id))
        .exec(&txn)
        .await?;
    let ended = if disabled {
        login_session::Entity::delete_many()
            .filter(login_session::Column::AccountId.eq(account_id))
            .exec(&txn)
            .await?
            .rows_affected
            > 0
    } else {
        false
    };
    let (action, verb) = if disabled {
        (audit_log::ACTION_ACCOUNT_DISABLED, "停用账号")
    } else {
        (audit_log::ACTION_ACCOUNT_ENABLED, "启用账号")
    };
    audit::record(
        &txn,
        supplier_id,
        actor_account_id,
        action,
        &format!("{verb}：{}", account_label(&current)),
    )
    .await?;
    txn.commit().await?;
    Ok(ended)
}
