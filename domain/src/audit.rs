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

/// A supplier's audit entries, newest first, `limit` (at most [`MAX_PAGE_SIZE`]) from `offset`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    offset: u64,
    limit: u64,
) -> Result<Vec<audit_log::Model>, DomainError> {
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::SupplierId.eq(supplier_id))
        .order_by_desc(audit_log::Column::CreatedAt)
        .order_by_desc(audit_log::Column::Id)
        .offset(offset)
        .limit(limit.clamp(1, MAX_PAGE_SIZE))
        .all(db)
        .await?)
}

/// How many audit entries a supplier has (for paging).
pub async fn count<C: ConnectionTrait>(db: &C, supplier_id: i64) -> Result<u64, DomainError> {
    use sea_orm::PaginatorTrait;
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::SupplierId.eq(supplier_id))
        .count(db)
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
        audit_log::ACTION_ORDERS_IMPORTED => "导入订单",
        audit_log::ACTION_ACCOUNT_DISABLED => "停用账号",
        audit_log::ACTION_ACCOUNT_ENABLED => "启用账号",
        audit_log::ACTION_LOGIN => "登录",
        audit_log::ACTION_LOGIN_FAILED => "登录失败",
        audit_log::ACTION_PASSWORD_CHANGED => "修改密码",
        _ => "其他操作",
    }
}
