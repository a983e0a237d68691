//! The audit log of admin actions, readable by the supplier's admin.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use crate::DomainError;
use crate::db::now_ms;
use crate::entity::audit_log;

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
