//! 账号新增 (manual §3.3): the supplier's agent accounts — the list, 新增, 编辑, 停用/启用 — as
//! server functions (an admin login, that admin's supplier only) and the page that uses them.

mod accounts_page;
mod add_agent_dialog;
mod agent_line;
mod created_dialog;
mod edit_agent_dialog;
mod toggle_agent_dialog;

pub use accounts_page::AccountsPage;

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

/// 账号新增: the supplier's agents.
#[server(prefix = "/api", endpoint = "admin/agents")]
pub async fn list_agents() -> Result<Vec<AgentRow>, AppError> {
    let (session, state) = crate::state::admin_context().await?;
    let agents = state.auth.agents_with_logins(session.supplier_id).await?;
    Ok(agents.into_iter().map(agent_row).collect())
}

#[cfg(feature = "ssr")]
fn agent_row(status: domain::logins::LoginStatus) -> AgentRow {
    AgentRow {
        id: status.account.id,
        display_name: status.account.display_name,
        login: status.account.login,
        created_at: domain::reports::format_shanghai(status.account.created_at),
        logged_in: status.login.is_some(),
        disabled: status.account.disabled_at.is_some(),
    }
}

/// 停用 (`disabled` true) or 启用 an agent of the admin's supplier. Disabling ends its login at
/// once (its open pages go to the login page, told 账号已停用) and refuses its logins until enabled.
#[server(prefix = "/api", endpoint = "admin/set_agent_disabled")]
pub async fn set_agent_disabled(account_id: i64, disabled: bool) -> Result<(), AppError> {
    let (session, state) = crate::state::admin_context().await?;
    let ended =
        domain::accounts::switch_agent_disabled(&state.auth.db, &session, account_id, disabled)
            .await?;
    crate::logins::publish_ended_login(&state, ended);
    Ok(())
}

/// 新增: creates an agent; the system assigns the login (工号) and an initial password.
#[server(prefix = "/api", endpoint = "admin/add_agent")]
pub async fn add_agent(display_name: String) -> Result<NewAgent, AppError> {
    let (session, state) = crate::state::admin_context().await?;
    let (auth, by) = (&state.auth, Some(session.account_id));
    let (db, hasher, supplier_id) = (&auth.db, &auth.hasher, session.supplier_id);
    let (account, password) =
        domain::accounts::create_agent(db, hasher, supplier_id, &display_name, by).await?;
    Ok(new_agent(account, password))
}

/// The new account and its initial password, as 新增 shows them this once.
#[cfg(feature = "ssr")]
fn new_agent(account: domain::entity::account::Model, password: String) -> NewAgent {
    NewAgent {
        display_name: account.display_name,
        login: account.login,
        password,
    }
}

/// 编辑: renames an agent and, when `new_password` is not blank, sets a new password (which
/// ends the agent's current login).
#[server(prefix = "/api", endpoint = "admin/edit_agent")]
pub async fn edit_agent(
    account_id: i64,
    display_name: String,
    new_password: String,
) -> Result<(), AppError> {
    let (session, state) = crate::state::admin_context().await?;
    let (auth, name, password) = (&state.auth, &display_name, &new_password);
    let edit =
        domain::accounts::edit_agent(&auth.db, &auth.hasher, &session, account_id, name, password);
    crate::logins::publish_ended_login(&state, edit.await?);
    Ok(())
}
