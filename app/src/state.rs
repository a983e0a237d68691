//! Server-side state shared by pages and server functions, and the helpers every server
//! function uses to find out who is calling.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use domain::auth::{Auth, Role, Session};
use http::{HeaderMap, header::SET_COOKIE};
use leptos::prelude::*;

use crate::error::AppError;

/// Name of the cookie that carries the login token.
pub const SESSION_COOKIE: &str = "kefu_session";

/// Web settings the server functions need.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Mark the session cookie `Secure` (serve over HTTPS).
    pub secure_cookie: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

/// Everything a request handler needs; provided to server functions as context.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub auth: Auth,
    /// Real-time events to open pages (in-process now; Redis-backed for several nodes).
    pub bus: std::sync::Arc<dyn domain::bus::Bus>,
    pub web: WebConfig,
    pub chat: ChatConfig,
}

/// Chat settings the server functions need.
#[derive(Clone)]
pub struct ChatConfig {
    /// The HMAC secret shared with the mall; signs and verifies buyer tokens
    /// (`domain::chat::sign` / `verify`).
    pub buyer_token_secret: std::sync::Arc<[u8]>,
}

impl std::fmt::Debug for ChatConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatConfig").field("buyer_token_secret", &"<secret>").finish()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from context");
        AppError::Internal
    })
}

/// The session token from the request's cookie, if any.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers).get(SESSION_COOKIE).map(|c| c.value().to_owned())
}

/// The client address: the socket peer, or the first `X-Forwarded-For` hop when configured.
pub fn client_addr(headers: &HeaderMap, peer: Option<SocketAddr>, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for
        && let Some(first) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
    {
        return first.trim().chars().take(64).collect();
    }
    peer.map(|p| p.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

async fn request_headers() -> Result<HeaderMap, AppError> {
    let parts = use_context::<http::request::Parts>().ok_or(AppError::Internal)?;
    Ok(parts.headers)
}

/// The caller's session; `Unauthenticated` when there is none. Also the heartbeat: a valid
/// session has its last-seen time refreshed.
pub async fn current_session() -> Result<Session, AppError> {
    let state = app_state()?;
    let headers = request_headers().await?;
    let token = token_from_headers(&headers).ok_or(AppError::Unauthenticated)?;
    state.auth.session(&token).await?.ok_or(AppError::Unauthenticated)
}

/// The caller's session, which must have the given role.
pub async fn require_role(role: Role) -> Result<Session, AppError> {
    let session = current_session().await?;
    if session.role == role { Ok(session) } else { Err(AppError::Forbidden) }
}

/// Client address and user agent of the current request.
pub async fn request_origin() -> Result<(String, String), AppError> {
    let state = app_state()?;
    let headers = request_headers().await?;
    let peer = leptos_axum::extract::<ConnectInfo<SocketAddr>>().await.ok().map(|c| c.0);
    let addr = client_addr(&headers, peer, state.web.trust_forwarded_for);
    let agent = headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    Ok((addr, agent))
}

fn session_cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .build()
}

/// Sets the session cookie on the response (a new token on every login).
pub fn set_session_cookie(token: String) -> Result<(), AppError> {
    let state = app_state()?;
    let cookie = session_cookie(token, state.web.secure_cookie);
    append_set_cookie(&cookie)
}

/// Removes the session cookie from the browser.
pub fn clear_session_cookie() -> Result<(), AppError> {
    let state = app_state()?;
    let mut cookie = session_cookie(String::new(), state.web.secure_cookie);
    cookie.make_removal();
    append_set_cookie(&cookie)
}

fn append_set_cookie(cookie: &Cookie<'_>) -> Result<(), AppError> {
    let resp = use_context::<leptos_axum::ResponseOptions>().ok_or(AppError::Internal)?;
    let value = http::HeaderValue::from_str(&cookie.to_string()).map_err(|_| AppError::Internal)?;
    resp.append_header(SET_COOKIE, value);
    Ok(())
}

/// Where a role lands after login.
pub fn landing_path(role: &Role) -> &'static str {
    match role {
        Role::Admin => "/admin",
        Role::Agent => "/agent",
    }
}
