//! Logins: the login page, 修改密码, the account menu with 退出系统, and 剔除登录 (manual §3.4)
//! — the server functions, their types and the components that use them. The one place where
//! an ended login is told to its open pages is here too.

mod account_menu;
mod change_password_dialog;
mod kick_dialog;
mod kick_page;
mod login_line;
mod login_page;
mod login_tag;

pub use account_menu::AccountMenu;
pub use change_password_dialog::ChangePasswordDialog;
pub use kick_page::KickPage;
pub use login_page::LoginPage;
pub use login_tag::LoginTag;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The signed-in account as pages show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub login: String,
    pub display_name: String,
    /// `admin` or `agent`.
    pub role: String,
    pub supplier_name: String,
}

/// Logs in; on success sets a fresh session cookie and returns the path to land on.
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(login: String, password: String) -> Result<String, AppError> {
    use crate::state::{app_state, landing_path, request_origin, set_session_cookie};
    let state = app_state()?;
    let (addr, agent) = request_origin().await?;
    let (token, session) = state
        .auth
        .login(login.trim(), &password, &addr, &agent)
        .await?;
    set_session_cookie(token)?;
    tracing::info!(account = session.account_id, %addr, "login");
    Ok(landing_path(&session.role).to_owned())
}

/// Ends the login on the server and removes the cookie.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::state::{app_state, clear_session_cookie, token_from_headers};
    let state = app_state()?;
    let parts = use_context::<http::request::Parts>().ok_or(AppError::Internal)?;
    if let Some(token) = token_from_headers(&parts.headers) {
        let ended = state.auth.logout(&token).await?;
        // Other open pages of this login follow.
        publish_ended_login(&state, ended);
    }
    clear_session_cookie()
}

/// Tells the open pages of a login that a domain operation ended it (剔除登录, 停用, a new
/// password, 退出系统): the one place such events are published.
#[cfg(feature = "ssr")]
pub(crate) fn publish_ended_login(
    state: &crate::state::AppState,
    ended: Option<domain::logins::EndedLogin>,
) {
    if let Some(ended) = ended {
        state.bus.publish(ended.account_id, ended.event());
    }
}

/// The signed-in account; also serves as the page's heartbeat.
#[server(prefix = "/api", endpoint = "me")]
pub async fn me() -> Result<AccountView, AppError> {
    let s = crate::state::current_session().await?;
    Ok(AccountView {
        login: s.login,
        display_name: s.display_name,
        role: s.role.as_str().to_owned(),
        supplier_name: s.supplier_name,
    })
}

/// Changes the caller's own password; nothing changes on any error. The login continues under
/// a new session token, set here as this browser's cookie: a copy of the old cookie anywhere
/// else stops working.
#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    old_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    use crate::state::{app_state, current_session, set_session_cookie};
    let (auth, session) = (app_state()?.auth, current_session().await?);
    let (old, new, confirm) = (&old_password, &new_password, &confirm_password);
    let token = auth.change_password(&session, old, new, confirm).await?;
    set_session_cookie(token)?;
    let account = session.account_id;
    tracing::info!(account, "password changed, session token rotated");
    Ok(())
}

/// Query parameter a page is reloaded with after 修改密码, so that it shows 密码已修改.
pub const PASSWORD_CHANGED_QUERY: &str = "notice=password_changed";

/// Reloads the current page (its path only) with [`PASSWORD_CHANGED_QUERY`]: its sockets then
/// reconnect with the new session cookie (the ones open now still hold the old token, which no
/// longer works).
pub fn reload_after_password_change() {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let path = window
            .location()
            .pathname()
            .unwrap_or_else(|_| "/".to_owned());
        let _ = window
            .location()
            .assign(&format!("{path}?{PASSWORD_CHANGED_QUERY}"));
    }
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

/// 剔除登录's 搜索: the supplier's accounts whose name or login contains `query`.
#[server(prefix = "/api", endpoint = "admin/search_logins")]
pub async fn search_logins(query: String) -> Result<Vec<LoginRow>, AppError> {
    let (session, state) = crate::state::admin_context().await?;
    let found = state
        .auth
        .search_logins(session.supplier_id, &query)
        .await?;
    Ok(found.into_iter().map(login_row).collect())
}

#[cfg(feature = "ssr")]
fn login_row(status: domain::logins::LoginStatus) -> LoginRow {
    LoginRow {
        account_id: status.account.id,
        role_label: status.role_label().to_owned(),
        display_name: status.account.display_name,
        login: status.account.login,
        since: status
            .login
            .as_ref()
            .map(|l| domain::reports::format_shanghai(l.created_at)),
        client_addr: status.login.map(|l| l.client_addr),
    }
}

/// 剔除登录: ends the account's live login. Returns whether a login was ended.
#[server(prefix = "/api", endpoint = "admin/kick_login")]
pub async fn kick_login(account_id: i64) -> Result<bool, AppError> {
    let (session, state) = crate::state::admin_context().await?;
    let ended = state.auth.kick(&session, account_id).await?;
    let kicked = ended.is_some();
    publish_ended_login(&state, ended);
    Ok(kicked)
}
