//! 操作日志: the admin actions of a supplier (logins, 新增, 编辑, 停用, 剔除登录, imports…),
//! newest first, by action and day — the server function, its types and the page.

mod audit_filter;
mod audit_page;
mod audit_table;
mod query;

pub use audit_page::AuditPage;
pub use query::AuditQuery;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One entry of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub time: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

/// A page of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPageData {
    pub rows: Vec<AuditRow>,
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
    /// The filter as applied (dates as `YYYY-MM-DD`).
    pub query: AuditQuery,
    /// The 操作 filter's choices: (code, Chinese name) of the actions in this supplier's log.
    pub actions: Vec<(String, String)>,
}

/// Rows per page of the audit log.
pub const AUDIT_PAGE_SIZE: u64 = 20;

/// 操作日志: the supplier's audit log, newest first, optionally one action and a range of days.
#[server(prefix = "/api", endpoint = "admin/audit_log")]
pub async fn audit_log(query: AuditQuery) -> Result<AuditPageData, AppError> {
    let (session, state) = crate::state::admin_context().await?;
    let (filter, query) = query::resolve_audit_query(&query)?;
    let (supplier_id, page) = (session.supplier_id, query.page);
    let found =
        domain::audit::page(&state.auth.db, supplier_id, &filter, page, AUDIT_PAGE_SIZE).await?;
    Ok(audit_page_data(query, found))
}

/// The page as the browser gets it, for the query as applied.
#[cfg(feature = "ssr")]
fn audit_page_data(query: AuditQuery, found: domain::audit::AuditPage) -> AuditPageData {
    AuditPageData {
        rows: found.entries.into_iter().map(audit_row).collect(),
        total: found.total,
        page: query.page,
        page_size: AUDIT_PAGE_SIZE,
        query,
        actions: found.actions,
    }
}

#[cfg(feature = "ssr")]
fn audit_row(entry: domain::audit::AuditEntry) -> AuditRow {
    AuditRow {
        id: entry.id,
        time: domain::reports::format_shanghai(entry.created_at),
        actor: entry.actor,
        action: domain::audit::action_label(&entry.action).into(),
        detail: entry.detail,
    }
}
