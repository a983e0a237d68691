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
use domain::bus::{AccountEvent, LoginEndReason};

#[cfg(feature = "ssr")]
async fn admin_session() -> Result<domain::auth::Session, AppError> {
    crate::state::require_role(domain::auth::Role::Admin).await
}

/// 账号新增: the supplier's agents.
#[server(prefix = "/api", endpoint = "admin/agents")]
pub async fn list_agents() -> Result<Vec<AgentRow>, AppError> {
    let session = admin_session().await?;
    let state = crate::state::app_state()?;
    let statuses = state.auth.search_logins(session.supplier_id, "").await?;
    Ok(statuses
        .into_iter()
        .filter(|s| s.account.role == domain::entity::account::ROLE_AGENT)
        .map(|s| AgentRow {
            id: s.account.id,
            display_name: s.account.display_name,
            login: s.account.login,
            created_at: domain::report::format_shanghai(s.account.created_at),
            logged_in: s.login.is_some(),
            disabled: s.account.disabled_at.is_some(),
        })
        .collect())
}

/// 停用 (`disabled` true) or 启用 an agent of the admin's supplier. Disabling ends its login at
/// once (its open pages go to the login page, told 账号已停用) and refuses its logins until enabled.
#[server(prefix = "/api", endpoint = "admin/set_agent_disabled")]
pub async fn set_agent_disabled(account_id: i64, disabled: bool) -> Result<(), AppError> {
    let session = admin_session().await?;
    let state = crate::state::app_state()?;
    let ended = domain::accounts::set_agent_disabled(
        &state.auth.db,
        session.supplier_id,
        account_id,
        disabled,
        Some(session.account_id),
    )
    .await?;
    if ended {
        state.bus.publish(
            account_id,
            AccountEvent::LoginEnded(LoginEndReason::Disabled),
        );
    }
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
    let password = (!new_password.is_empty()).then_some(new_password.as_str());
    domain::accounts::update_agent(
        &state.auth.db,
        &state.auth.hasher,
        session.supplier_id,
        account_id,
        Some(display_name.as_str()),
        password,
        Some(session.account_id),
    )
    .await?;
    if password.is_some() {
        // A new password ended the agent's login: tell its open pages.
        state.bus.publish(
            account_id,
            AccountEvent::LoginEnded(LoginEndReason::PasswordReset),
        );
    }
    Ok(())
}

/// 剔除登录's 搜索: the supplier's accounts whose name or login contains `query`.
#[server(prefix = "/api", endpoint = "admin/search_logins")]
pub async fn search_logins(query: String) -> Result<Vec<LoginRow>, AppError> {
    let session = admin_session().await?;
    let state = crate::state::app_state()?;
    if query.chars().count() > 32 {
        return Err(AppError::invalid(
            Some("query"),
            "搜索内容不能超过 32 个字符",
        ));
    }
    let statuses = state
        .auth
        .search_logins(session.supplier_id, &query)
        .await?;
    Ok(statuses
        .into_iter()
        .map(|s| LoginRow {
            account_id: s.account.id,
            role_label: if s.account.role == domain::entity::account::ROLE_ADMIN {
                "客服管理员".into()
            } else {
                "在线客服".into()
            },
            display_name: s.account.display_name,
            login: s.account.login,
            since: s
                .login
                .as_ref()
                .map(|l| domain::report::format_shanghai(l.created_at)),
            client_addr: s.login.map(|l| l.client_addr),
        })
        .collect())
}

/// 剔除登录: ends the account's live login. Returns whether a login was ended.
#[server(prefix = "/api", endpoint = "admin/kick_login")]
pub async fn kick_login(account_id: i64) -> Result<bool, AppError> {
    let session = admin_session().await?;
    let state = crate::state::app_state()?;
    if account_id == session.account_id {
        return Err(AppError::invalid(
            None,
            "不能剔除自己的登录，请使用「退出系统」",
        ));
    }
    let kicked = state
        .auth
        .kick_login(session.supplier_id, account_id, session.account_id)
        .await?;
    if kicked {
        // The agent's open pages go back to the login page at once.
        state
            .bus
            .publish(account_id, AccountEvent::LoginEnded(LoginEndReason::Kicked));
    }
    Ok(kicked)
}

/// 操作日志: the supplier's audit log, newest first, optionally one action and a range of days.
#[server(prefix = "/api", endpoint = "admin/audit_log")]
pub async fn audit_log(query: AuditQuery) -> Result<AuditPageData, AppError> {
    use std::collections::HashMap;
    let session = admin_session().await?;
    let state = crate::state::app_state()?;
    let db = &state.auth.db;
    let (filter, query) = audit_page::resolve_audit_query(&query)?;
    let page = query.page;
    let total = domain::audit::count_matching(db, session.supplier_id, &filter).await?;
    let entries = domain::audit::search(
        db,
        session.supplier_id,
        &filter,
        (page - 1) * AUDIT_PAGE_SIZE,
        AUDIT_PAGE_SIZE,
    )
    .await?;
    let actions = domain::audit::actions_in_use(db, session.supplier_id)
        .await?
        .into_iter()
        .map(|code| {
            let label = domain::audit::action_label(&code).to_owned();
            (code, label)
        })
        .collect();
    let names: HashMap<i64, String> = state
        .auth
        .search_logins(session.supplier_id, "")
        .await?
        .into_iter()
        .map(|s| {
            (
                s.account.id,
                format!("{} ({})", s.account.display_name, s.account.login),
            )
        })
        .collect();
    let rows = entries
        .into_iter()
        .map(|e| AuditRow {
            id: e.id,
            time: domain::report::format_shanghai(e.created_at),
            actor: e
                .actor_account_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| "平台运维".into()),
            action: domain::audit::action_label(&e.action).into(),
            detail: e.detail,
        })
        .collect();
    Ok(AuditPageData {
        rows,
        total,
        page,
        page_size: AUDIT_PAGE_SIZE,
        query,
        actions,
    })
}

/// 在线会话清单: one page of the report with totals over every filtered row.
#[server(prefix = "/api", endpoint = "admin/session_report")]
pub async fn session_report(query: report::ReportQuery) -> Result<report::ReportData, AppError> {
    let session = admin_session().await?;
    let state = crate::state::app_state()?;
    let now = domain::db::now_ms();
    let (filter, applied) = report::resolve_query(&query, now)?;
    let (rows, total, totals) = domain::report::report_page(
        &state.auth.db,
        session.supplier_id,
        &filter,
        applied.page,
        report::REPORT_PAGE_SIZE,
        now,
    )
    .await?;
    Ok(report::ReportData {
        query: applied,
        rows: rows.into_iter().map(report::row_view).collect(),
        total,
        page_size: report::REPORT_PAGE_SIZE,
        totals: report::totals_view(totals),
    })
}
