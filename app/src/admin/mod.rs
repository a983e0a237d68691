//! Admin backend (manual §三): agent accounts, 剔除登录, the session report and the audit log.
//! Every server function here requires an admin login and touches only that admin's supplier.

mod accounts_page;
mod admin_layout;
mod audit_page;
mod date_field;
mod kick_page;
pub mod report;
mod sessions_page;

pub use accounts_page::AccountsPage;
pub use admin_layout::AdminLayout;
pub use audit_page::{AuditPage, AuditQuery};
pub use kick_page::KickPage;
pub use sessions_page::SessionsPage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One agent account in 账号新增's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRow {
    pub id: i64,
    pub display_name: String,
    /// The login account, which is also the 工号.
    pub login: String,
    pub created_at: String,
    pub logged_in: bool,
    /// 已停用: the account cannot log in until it is enabled again.
    pub disabled: bool,
}

/// A new agent account with its initial password, shown once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAgent {
    pub display_name: String,
    pub login: String,
    pub password: String,
}

/// One account in 剔除登录's search results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRow {
    pub account_id: i64,
    pub display_name: String,
    pub login: String,
    pub role_label: String,
    /// Since when and from where, when logged in.
    pub since: Option<String>,
    pub client_addr: Option<String>,
}

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

#[cfg(feature = "ssr")]
async fn admin_session() -> Result<domain::auth::Session, AppError> {
    crate::state::require_role(domain::auth::Role::Admin).await
}

/// 账号新增: the supplier's agents.
#[server(prefix = "/api", endpoint = "admin/agents")]
pub async fn list_agents() -> Result<Vec<AgentRow>, AppError> {
    let session = admin_session().await?;
    let state = crate::state::app_state()?;
    let agents = state.auth.agents_with_logins(session.supplier_id).await?;
    Ok(agents.into_iter().map(agent_row).collect())
}

#[cfg(feature = "ssr")]
fn agent_row(status: domain::auth::LoginStatus) -> AgentRow {
    AgentRow {
        id: status.account.id,
        display_name: status.account.display_name,
        login: status.account.login,
        created_at: domain::report::format_shanghai(status.account.created_at),
        logged_in: status.login.is_some(),
        disabled: status.account.disabled_at.is_some(),
    }
}

/// 停用 (`disabled` true) or 启用 an agent of the admin's supplier. Disabling ends its login at
/// once (its open pages go to the login page, told 账号已停用) and refuses its logins until enabled.
#[server(prefix = "/api", endpoint = "admin/set_agent_disabled")]
pub async fn set_agent_disabled(account_id: i64, disabled: bool) -> Result<(), AppError> {
    let session = admin_session().await?;
    let state = crate::state::app_state()?;
    let ended =
        domain::accounts::switch_agent_disabled(&state.auth.db, &session, account_id, disabled)
            .await?;
    crate::auth::publish_ended_login(&state, ended);
    Ok(())
}

/// 新增: creates an agent; the system assigns the login (工号) and an initial password.
#[server(prefix = "/api", endpoint = "admin/add_agent")]
pub async fn add_agent(display_name: String) -> Result<NewAgent, AppError> {
    let session = admin_session().await?;
    let state = crate::state::app_state()?;
    let (account, password) = domain::accounts::create_agent(
        &state.auth.db,
        &state.auth.hasher,
        session.supplier_id,
        &display_name,
        Some(session.account_id),
    )
    .await?;
    Ok(NewAgent {
        display_name: account.display_name,
        login: account.login,
        password,
    })
}

/// 编辑: renames an agent and, when `new_password` is not blank, sets a new password (which
/// ends the agent's current login).
#[server(prefix = "/api", endpoint = "admin/edit_agent")]
pub async fn edit_agent(
    account_id: i64,
    display_name: String,
    new_password: String,
) -> Result<(), AppError> {
    let session = admin_session().await?;
    let state = crate::state::app_state()?;
    let (db, hasher) = (&state.auth.db, &state.auth.hasher);
    let ended = domain::accounts::edit_agent(
        db,
        hasher,
        &session,
        account_id,
        &display_name,
        &new_password,
    )
    .await?;
    crate::auth::publish_ended_login(&state, ended);
    Ok(())
}

/// 剔除登录's 搜索: the supplier's accounts whose name or login contains `query`.
#[server(prefix = "/api", endpoint = "admin/search_logins")]
pub async fn search_logins(query: String) -> Result<Vec<LoginRow>, AppError> {
    let session = admin_session().await?;
    let state = crate::state::app_state()?;
    let found = state
        .auth
        .search_logins(session.supplier_id, &query)
        .await?;
    Ok(found.into_iter().map(login_row).collect())
}

#[cfg(feature = "ssr")]
fn login_row(status: domain::auth::LoginStatus) -> LoginRow {
    LoginRow {
        account_id: status.account.id,
        role_label: status.role_label().to_owned(),
        display_name: status.account.display_name,
        login: status.account.login,
        since: status
            .login
            .as_ref()
            .map(|l| domain::report::format_shanghai(l.created_at)),
        client_addr: status.login.map(|l| l.client_addr),
    }
}

/// 剔除登录: ends the account's live login. Returns whether a login was ended.
#[server(prefix = "/api", endpoint = "admin/kick_login")]
pub async fn kick_login(account_id: i64) -> Result<bool, AppError> {
    let session = admin_session().await?;
    let state = crate::state::app_state()?;
    let ended = state.auth.kick(&session, account_id).await?;
    let kicked = ended.is_some();
    crate::auth::publish_ended_login(&state, ended);
    Ok(kicked)
}

/// 操作日志: the supplier's audit log, newest first, optionally one action and a range of days.
#[server(prefix = "/api", endpoint = "admin/audit_log")]
pub async fn audit_log(query: AuditQuery) -> Result<AuditPageData, AppError> {
    let session = admin_session().await?;
    let state = crate::state::app_state()?;
    let (filter, query) = audit_page::resolve_audit_query(&query)?;
    let (supplier_id, page) = (session.supplier_id, query.page);
    let found =
        domain::audit::page(&state.auth.db, supplier_id, &filter, page, AUDIT_PAGE_SIZE).await?;
    Ok(AuditPageData {
        rows: found.entries.into_iter().map(audit_row).collect(),
        total: found.total,
        page,
        page_size: AUDIT_PAGE_SIZE,
        query,
        actions: found.actions,
    })
}

#[cfg(feature = "ssr")]
fn audit_row(entry: domain::audit::AuditEntry) -> AuditRow {
    AuditRow {
        id: entry.id,
        time: domain::report::format_shanghai(entry.created_at),
        actor: entry.actor,
        action: domain::audit::action_label(&entry.action).into(),
        detail: entry.detail,
    }
}

/// 在线会话清单: one page of the report with totals over every filtered row.
#[server(prefix = "/api", endpoint = "admin/session_report")]
pub async fn session_report(query: report::ReportQuery) -> Result<report::ReportData, AppError> {
    use report::REPORT_PAGE_SIZE;
    let session = admin_session().await?;
    let state = crate::state::app_state()?;
    let now = domain::db::now_ms();
    let (filter, applied) = report::resolve_query(&query, now)?;
    let (db, page) = (&state.auth.db, applied.page);
    let found = domain::report::report_page(
        db,
        session.supplier_id,
        &filter,
        page,
        REPORT_PAGE_SIZE,
        now,
    )
    .await?;
    Ok(report_data(applied, found))
}

/// The report page as the browser gets it, from the domain's (rows, total, totals).
#[cfg(feature = "ssr")]
fn report_data(
    query: report::ReportQuery,
    (rows, total, totals): (
        Vec<domain::report::ReportRow>,
        u64,
        domain::report::ReportTotals,
    ),
) -> report::ReportData {
    report::ReportData {
        query,
        rows: rows.into_iter().map(report::row_view).collect(),
        total,
        page_size: report::REPORT_PAGE_SIZE,
        totals: report::totals_view(totals),
    }
}
