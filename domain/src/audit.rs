//! The audit log of admin actions, readable by the supplier's admin.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::DomainError;
use crate::db::now_ms;
use crate::entity::{account, audit_log};

/// Who an entry names as its actor when no account of the supplier did it (the platform
/// operator's CLI, or an account that no longer exists).
pub const OPERATOR_NAME: &str = "平台运维";

/// Most entries [`list`] returns at once.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Appends an entry to a supplier's audit log (inside the caller's transaction when given one).
pub async fn record<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    actor_account_id: Option<i64>,
    action: &str,
    detail: &str,
) -> Result<(), DomainError> {
    audit_log::ActiveModel {
        supplier_id: Set(supplier_id),
        actor_account_id: Set(actor_account_id),
        action: Set(action.to_owned()),
        detail: Set(detail.to_owned()),
        created_at: Set(now_ms()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Longest action code a filter may hold (the codes are short English words).
pub const MAX_ACTION_LEN: usize = 32;

/// Which audit entries to show: one action (its code, e.g. `login_kicked`) and a time range
/// `[from_ms, to_ms)` in unix ms; `None` leaves that part open.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl AuditFilter {
    /// Checks the filter: a range that ends after it starts, an action code of sane length.
    pub fn validate(&self) -> Result<(), DomainError> {
        if let (Some(from), Some(to)) = (self.from_ms, self.to_ms)
            && from >= to
        {
            return Err(DomainError::validation("to", "结束日期不能早于开始日期"));
        }
        if self
            .action
            .as_ref()
            .is_some_and(|a| a.chars().count() > MAX_ACTION_LEN)
        {
            return Err(DomainError::validation("action", "操作类型无效"));
        }
        Ok(())
    }
}

/// The supplier's entries matching `filter` (no order).
fn filtered(supplier_id: i64, filter: &AuditFilter) -> sea_orm::Select<audit_log::Entity> {
    use sea_orm::QueryTrait;
    audit_log::Entity::find()
        .filter(audit_log::Column::SupplierId.eq(supplier_id))
        .apply_if(filter.action.clone(), |q, action| {
            q.filter(audit_log::Column::Action.eq(action))
        })
        .apply_if(filter.from_ms, |q, from| {
            q.filter(audit_log::Column::CreatedAt.gte(from))
        })
        .apply_if(filter.to_ms, |q, to| {
            q.filter(audit_log::Column::CreatedAt.lt(to))
        })
}

/// A supplier's audit entries, newest first, `limit` (at most [`MAX_PAGE_SIZE`]) from `offset`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    offset: u64,
    limit: u64,
) -> Result<Vec<audit_log::Model>, DomainError> {
    search(db, supplier_id, &AuditFilter::default(), offset, limit).await
}

/// The supplier's audit entries matching `filter`, newest first, `limit` (at most
/// [`MAX_PAGE_SIZE`]) from `offset`. `Validation` when the filter breaks a rule.
pub async fn search<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    filter: &AuditFilter,
    offset: u64,
    limit: u64,
) -> Result<Vec<audit_log::Model>, DomainError> {
    filter.validate()?;
    Ok(filtered(supplier_id, filter)
        .order_by_desc(audit_log::Column::CreatedAt)
        .order_by_desc(audit_log::Column::Id)
        .offset(offset)
        .limit(limit.clamp(1, MAX_PAGE_SIZE))
        .all(db)
        .await?)
}

/// How many audit entries a supplier has (for paging).
pub async fn count<C: ConnectionTrait>(db: &C, supplier_id: i64) -> Result<u64, DomainError> {
    count_matching(db, supplier_id, &AuditFilter::default()).await
}

/// How many of the supplier's audit entries match `filter` (for paging).
pub async fn count_matching<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    filter: &AuditFilter,
) -> Result<u64, DomainError> {
    use sea_orm::PaginatorTrait;
    filter.validate()?;
    Ok(filtered(supplier_id, filter).count(db).await?)
}

/// The actions that occur in the supplier's audit log, sorted by code (the 操作 filter's choices).
pub async fn actions_in_use<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
) -> Result<Vec<String>, DomainError> {
    Ok(audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::Action)
        .distinct()
        .filter(audit_log::Column::SupplierId.eq(supplier_id))
        .order_by_asc(audit_log::Column::Action)
        .into_tuple()
        .all(db)
        .await?)
}

/// One audit entry as the admin reads it: the actor by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub created_at: i64,
    /// `姓名 (登录账号)` of the acting account, or [`OPERATOR_NAME`].
    pub actor: String,
    /// The action's code, e.g. `login_kicked` (its Chinese name: [`action_label`]).
    pub action: String,
    pub detail: String,
}

/// A page of 操作日志.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Entries matching the filter, on every page.
    pub total: u64,
    /// The 操作 filter's choices: (code, Chinese name) of every action in the supplier's log.
    pub actions: Vec<(String, String)>,
}

/// 操作日志: page `page` (from 1) of the supplier's entries matching `filter`, newest first,
/// `page_size` (at most [`MAX_PAGE_SIZE`]) to a page, each naming its actor.
pub async fn page<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    filter: &AuditFilter,
    page: u64,
    page_size: u64,
) -> Result<AuditPage, DomainError> {
    let total = count_matching(db, supplier_id, filter).await?;
    let offset = page.saturating_sub(1).saturating_mul(page_size);
    let found = search(db, supplier_id, filter, offset, page_size).await?;
    let actions = actions_in_use(db, supplier_id)
        .await?
        .into_iter()
        .map(|code| {
            let label = action_label(&code).to_owned();
            (code, label)
        })
        .collect();
    let names = actor_names(db, supplier_id, &found).await?;
    let entries = found
        .into_iter()
        .map(|e| AuditEntry {
            id: e.id,
            created_at: e.created_at,
            actor: e
                .actor_account_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| OPERATOR_NAME.to_owned()),
            action: e.action,
            detail: e.detail,
        })
        .collect();
    Ok(AuditPage {
        entries,
        total,
        actions,
    })
}

/// `姓名 (登录账号)` of the supplier's accounts that acted in `entries`, by account id.
async fn actor_names<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    entries: &[audit_log::Model],
) -> Result<std::collections::HashMap<i64, String>, DomainError> {
    let ids: std::collections::BTreeSet<i64> =
        entries.iter().filter_map(|e| e.actor_account_id).collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(account::Entity::find()
        .filter(account::Column::SupplierId.eq(supplier_id))
        .filter(account::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, format!("{} ({})", a.display_name, a.login)))
        .collect())
}

/// The Chinese name of an audit action, as the admin reads it.
pub fn action_label(action: &str) -> &'static str {
    match action {
        audit_log::ACTION_ACCOUNT_ADDED => "新增账号",
        audit_log::ACTION_ACCOUNT_EDITED => "编辑账号",
        audit_log::ACTION_PASSWORD_RESET => "重置密码",
        audit_log::ACTION_LOGIN_KICKED => "剔除登录",
        audit_log::ACTION_API_KEY_ROTATED => "重置接口密钥",
        audit_log::ACTION_API_KEY_ISSUED => "生成接口密钥",
        audit_log::ACTION_ORDERS_IMPORTED => "导入订单",
        audit_log::ACTION_ACCOUNT_DISABLED => "停用账号",
        audit_log::ACTION_ACCOUNT_ENABLED => "启用账号",
        audit_log::ACTION_LOGIN => "登录",
        audit_log::ACTION_LOGIN_FAILED => "登录失败",
        audit_log::ACTION_PASSWORD_CHANGED => "修改密码",
        _ => "其他操作",
    }
}
