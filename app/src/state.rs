//! Server-side state shared by pages and server functions, and the helpers every server
//! function uses to find out who is calling.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use domain::logins::{Auth, Role, Session};
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
    /// The demo data is switched on (`KEFU_DEMO_DATA`): only then do `/demo` and its token
    /// signing exist.
    pub demo_data: bool,
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
    /// A buyer token must expire within this many seconds of its use.
    pub buyer_token_max_lifetime_secs: i64,
}

impl std::fmt::Debug for ChatConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatConfig")
            .field("buyer_token_secret", &"<secret>")
            .finish()
    }
}

impl FromRef<AppState> for Auth {
    fn from_ref(state: &AppState) -> Self {
        state.auth.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The app state the server provides to every server function (a logged 500 when missing).
pub fn app_state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from context");
        AppError::Internal
    })
}

/// The session token from the request's cookie, if any.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

/// The client address: the socket peer, or, behind the one trusted reverse proxy
/// (`trust_forwarded_for`), the right-most `X-Forwarded-For` hop.
///
/// The proxy appends the address it saw to whatever the client sent, so only the right-most hop
/// was written by someone we trust; anything to its left may be made up by the client (and the
/// failed-login limit per address would be worthless if the client could pick its address).
/// Several `X-Forwarded-For` header lines count as one list, in order. A right-most hop that is
/// not an IP address (`unknown`, garbage) is not believed: the peer (the proxy) is used.
pub fn client_addr(
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> String {
    let peer_ip = || {
        peer.map(|p| p.ip().to_string())
            .unwrap_or_else(|| "unknown".into())
    };
    if !trust_forwarded_for {
        return peer_ip();
    }
    let right_most = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|hop| !hop.is_empty());
    match right_most.and_then(forwarded_ip) {
        Some(ip) => ip.to_string(),
        None => peer_ip(),
    }
}

/// The IP address of one `X-Forwarded-For` hop: `203.0.113.7`, `2001:db8::1`, or either with a
/// port (`203.0.113.7:4711`, `[2001:db8::1]:4711`).
fn forwarded_ip(hop: &str) -> Option<std::net::IpAddr> {
    hop.parse::<std::net::IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
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
    state
        .auth
        .session(&token)
        .await?
        .ok_or(AppError::Unauthenticated)
}

/// The caller's session, which must have the given role.
pub async fn require_role(role: Role) -> Result<Session, AppError> {
    let session = current_session().await?;
    if session.role == role {
        Ok(session)
    } else {
        Err(AppError::Forbidden)
    }
}

/// The calling admin's session and the app state: where every admin server function starts.
pub async fn admin_context() -> Result<(Session, AppState), AppError> {
    let session = require_role(Role::Admin).await?;
    Ok((session, app_state()?))
}

/// Client address and user agent of the current request.
pub async fn request_origin() -> Result<(String, String), AppError> {
    let state = app_state()?;
    let headers = request_headers().await?;
    let peer = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .ok()
        .map(|c| c.0);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append(
                "x-forwarded-for",
                http::HeaderValue::from_str(line).expect("header"),
            );
        }
        map
    }

    fn proxy() -> Option<SocketAddr> {
        Some("10.0.0.2:51000".parse().expect("addr"))
    }

    #[test]
    fn without_a_trusted_proxy_the_header_is_ignored() {
        let h = headers(&["198.51.100.9"]);
        assert_eq!(client_addr(&h, proxy(), false), "10.0.0.2");
        assert_eq!(client_addr(&h, None, false), "unknown");
    }

    #[test]
    fn the_right_most_hop_is_the_one_the_proxy_wrote() {
        // The proxy appended the real client; everything left of it came from the client.
        let h = headers(&["1.2.3.4, 203.0.113.7"]);
        assert_eq!(client_addr(&h, proxy(), true), "203.0.113.7");
        let h = headers(&["203.0.113.7"]);
        assert_eq!(client_addr(&h, proxy(), true), "203.0.113.7");
    }

    #[test]
    fn spoofed_left_hops_never_become_the_address() {
        // A client rotating made-up left hops to dodge the per-address limit stays one address.
        for spoof in [
            "9.9.9.9",
            "127.0.0.1",
            "10.0.0.2, 8.8.8.8",
            "unknown",
            "<script>",
            &"1.1.1.1,".repeat(200),
        ] {
            let h = headers(&[&format!("{spoof}, 203.0.113.7")]);
            assert_eq!(client_addr(&h, proxy(), true), "203.0.113.7", "{spoof}");
        }
        // The spoof sent as its own header line, the proxy's as the last line.
        let h = headers(&["6.6.6.6", "203.0.113.7"]);
        assert_eq!(client_addr(&h, proxy(), true), "203.0.113.7");
    }

    #[test]
    fn ports_and_ipv6_are_understood() {
        for (hops, address) in [
            ("1.2.3.4, 203.0.113.7:4711", "203.0.113.7"),
            ("2001:db8::1", "2001:db8::1"),
            ("[2001:db8::1]:4711", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
        ] {
            assert_eq!(
                client_addr(&headers(&[hops]), proxy(), true),
                address,
                "{hops}"
            );
        }
    }

    #[test]
    fn a_missing_or_unbelievable_right_most_hop_falls_back_to_the_proxy() {
        assert_eq!(client_addr(&HeaderMap::new(), proxy(), true), "10.0.0.2");
        for hops in ["", "203.0.113.7, unknown", "203.0.113.7, not-an-ip"] {
            assert_eq!(
                client_addr(&headers(&[hops]), proxy(), true),
                "10.0.0.2",
                "{hops}"
            );
        }
        // Trailing empty entries are skipped, not taken as the address.
        assert_eq!(
            client_addr(&headers(&["1.2.3.4, 203.0.113.7, "]), proxy(), true),
            "203.0.113.7"
        );
        let long = "9".repeat(500);
        assert_eq!(client_addr(&headers(&[&long]), proxy(), true), "10.0.0.2");
    }
}
