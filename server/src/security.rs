//! The browser-facing defences, in one layer around every route:
//!
//! - **Cross-site requests**: a request that changes something (any method but GET/HEAD/OPTIONS)
//!   must come from one of this app's own origins (`Origin`, else `Referer`); without either it
//!   may not carry the session cookie. The session export (a GET that does work) refuses
//!   `Sec-Fetch-Site: cross-site`. The order API (`/api/v1/`) authenticates with a key, not a
//!   cookie, and is exempt.
//! - **WebSocket origin**: `/ws/account` and `/ws/agent` accept only the app's origins,
//!   `/ws/buyer` also the configured mall origins (a non-browser client sends no `Origin`; a
//!   browser always does, so a page of another site cannot ride an agent's cookie).
//! - **Headers**: `Content-Security-Policy` (scripts from this origin and the per-response
//!   nonce Leptos puts on its inline hydration script, no `unsafe-eval`, `object-src 'none'`,
//!   `base-uri 'none'`), `frame-ancestors 'none'` + `X-Frame-Options: DENY` everywhere except the
//!   buyer chat `/chat`, which the mall origins may frame; HSTS when the public URL is https.
//! - **Load**: at most `max_concurrent` requests in the handlers at once; beyond that a 503 at
//!   once rather than an unbounded queue.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tokio::sync::Semaphore;

use crate::config::origin_of;

/// Response header through which the page shell hands its CSP nonce to this layer (removed
/// before the response leaves the server).
pub const NONCE_HEADER: &str = app::CSP_NONCE_HEADER;

/// Paths of the WebSockets and who may open them.
const AGENT_SOCKETS: [&str; 2] = [
    app::realtime::ACCOUNT_CHANNEL_PATH,
    app::chat::protocol::AGENT_CHAT_PATH,
];
const BUYER_SOCKET: &str = app::chat::protocol::BUYER_CHAT_PATH;
/// GET routes that do work for a logged-in user (never from another site).
const ACTION_GETS: [&str; 2] = ["/admin/sessions/export", "/admin/orders/template.xlsx"];
/// Authenticated by an API key, never by the cookie: no origin check.
const KEY_API_PREFIX: &str = "/api/v1/";

/// The refusal text of a cross-site request.
pub const CROSS_SITE_REFUSED: &str = "已拒绝来自其他网站的请求：请在本系统的页面中操作";
/// The refusal text when too many requests are in flight.
pub const BUSY: &str = "服务器繁忙，请稍后再试";

#[derive(Debug)]
pub struct Security {
    /// The app's own origins (the public URL; in development also the listening address).
    own: Vec<String>,
    /// Mall origins: may frame /chat and open /ws/buyer.
    mall: Vec<String>,
    https: bool,
    /// Development: allow the live-reload socket of `cargo leptos watch`.
    dev: bool,
    slots: Arc<Semaphore>,
}

impl Security {
    pub fn new(
        own: Vec<String>,
        mall: Vec<String>,
        https: bool,
        dev: bool,
        max_concurrent: usize,
    ) -> Self {
        Self {
            own,
            mall,
            https,
            dev,
            slots: Arc::new(Semaphore::new(max_concurrent.max(1))),
        }
    }

    fn is_own(&self, origin: &str) -> bool {
        self.own.iter().any(|o| o == origin)
    }

    fn is_mall(&self, origin: &str) -> bool {
        self.mall.iter().any(|o| o == origin)
    }

    /// `frame-ancestors` and whether `X-Frame-Options: DENY` applies, by path.
    fn frame_ancestors(&self, path: &str) -> (String, bool) {
        if path == "/chat" || path.starts_with("/chat/") {
            let mut v = String::from("'self'");
            for origin in &self.mall {
                v.push(' ');
                v.push_str(origin);
            }
            (v, false)
        } else {
            ("'none'".into(), true)
        }
    }

    fn csp(&self, path: &str, nonce: Option<&str>) -> String {
        let (ancestors, _) = self.frame_ancestors(path);
        let nonce = nonce
            .filter(|n| {
                n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+' | '/' | '='))
            })
            .map(|n| format!(" 'nonce-{n}'"))
            .unwrap_or_default();
        // 'self' covers ws:/wss: to this host in CSP 3; the dev live-reload listens elsewhere.
        let connect = if self.dev {
            "'self' ws: wss:"
        } else {
            "'self'"
        };
        format!(
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{nonce}; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data: blob: https: http:; connect-src {connect}; font-src 'self'; object-src 'none'; \
             base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
        )
    }
}

fn refuse(status: StatusCode, text: &'static str) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], text).into_response()
}

fn header_str(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Where a browser says the request comes from: `Origin`, else the origin of `Referer`.
/// `Some(None)` when the header is there but is no usable origin (`null`, garbage).
fn claimed_origin(headers: &HeaderMap) -> Option<Option<String>> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        return Some(origin.to_str().ok().and_then(origin_of));
    }
    headers
        .get(header::REFERER)
        .map(|r| r.to_str().ok().and_then(origin_of))
}

fn has_session_cookie(headers: &HeaderMap) -> bool {
    app::state::token_from_headers(headers).is_some()
}

/// A request refused as cross-site (403 with [`CROSS_SITE_REFUSED`]).
#[derive(Debug)]
struct Refusal;

/// Whether the request may go on.
fn check_request(
    sec: &Security,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<(), Refusal> {
    let is_upgrade =
        header_str(headers, header::UPGRADE).is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    if is_upgrade || AGENT_SOCKETS.contains(&path) || path == BUYER_SOCKET {
        // Browsers always send Origin on a WebSocket handshake; other clients hold no cookie
        // of a victim, so no Origin is let through.
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().ok().and_then(origin_of);
            let allowed = origin
                .as_deref()
                .is_some_and(|o| sec.is_own(o) || (path == BUYER_SOCKET && sec.is_mall(o)));
            if !allowed {
                tracing::warn!(path, origin = ?headers.get(header::ORIGIN), "WebSocket from a foreign origin refused");
                return Err(Refusal);
            }
        }
        return Ok(());
    }
    if path.starts_with(KEY_API_PREFIX) {
        return Ok(());
    }
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if safe {
        if ACTION_GETS.contains(&path)
            && header_str(headers, HeaderName::from_static("sec-fetch-site")) == Some("cross-site")
        {
            return Err(Refusal);
        }
        return Ok(());
    }
    match claimed_origin(headers) {
        Some(Some(origin)) if sec.is_own(&origin) => Ok(()),
        Some(_) => {
            tracing::warn!(path, origin = ?headers.get(header::ORIGIN), referer = ?headers.get(header::REFERER), "cross-site request refused");
            Err(Refusal)
        }
        // No Origin and no Referer: not a browser's form or fetch (they send Origin on every
        // POST), so only a request without the login cookie may go on.
        None if has_session_cookie(headers) => Err(Refusal),
        None => Ok(()),
    }
}

/// The layer: `middleware::from_fn_with_state(Arc<Security>, security::layer)`.
pub async fn layer(State(sec): State<Arc<Security>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if check_request(&sec, req.method(), &path, req.headers()).is_err() {
        return with_headers(
            &sec,
            &path,
            refuse(StatusCode::FORBIDDEN, CROSS_SITE_REFUSED),
        );
    }
    let Ok(_slot) = sec.slots.clone().try_acquire_owned() else {
        tracing::warn!(path, "request refused: too many in flight");
        let mut busy = refuse(StatusCode::SERVICE_UNAVAILABLE, BUSY);
        busy.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return with_headers(&sec, &path, busy);
    };
    let response = next.run(req).await;
    with_headers(&sec, &path, response)
}

fn with_headers(sec: &Security, path: &str, mut response: Response) -> Response {
    let headers = response.headers_mut();
    let nonce = headers
        .remove(HeaderName::from_static(NONCE_HEADER))
        .and_then(|v| v.to_str().ok().map(str::to_owned));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(value) = HeaderValue::from_str(&sec.csp(path, nonce.as_deref()))
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    if sec.frame_ancestors(path).1 {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    if sec.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sec() -> Security {
        Security::new(
            vec!["https://kefu.example.com".into()],
            vec!["https://mall.example.com".into()],
            true,
            false,
            4,
        )
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    #[test]
    fn posts_need_an_own_origin() {
        let s = sec();
        let post = Method::POST;
        let ok = |h: &[(&'static str, &str)]| {
            check_request(&s, &post, "/api/logout", &headers(h)).is_ok()
        };
        assert!(ok(&[("origin", "https://kefu.example.com")]));
        assert!(ok(&[("origin", "https://KEFU.example.com:443")]));
        assert!(!ok(&[("origin", "https://evil.example.com")]));
        assert!(!ok(&[("origin", "https://kefu.example.com.evil.com")]));
        assert!(!ok(&[("origin", "null")]));
        assert!(
            !ok(&[("origin", "http://kefu.example.com")]),
            "scheme counts"
        );
        assert!(
            !ok(&[("origin", "https://mall.example.com")]),
            "the mall may not post as the app"
        );
        assert!(ok(&[(
            "referer",
            "https://kefu.example.com/admin/accounts"
        )]));
        assert!(!ok(&[(
            "referer",
            "https://evil.example.com/kefu.example.com"
        )]));
        assert!(
            !ok(&[("cookie", "kefu_session=abc")]),
            "cookie without origin or referer"
        );
        assert!(
            ok(&[]),
            "no cookie, no origin: not a browser riding a login"
        );
        assert!(
            check_request(
                &s,
                &post,
                "/api/v1/orders",
                &headers(&[("origin", "https://evil.example.com")])
            )
            .is_ok()
        );
    }

    #[test]
    fn sockets_check_origin_by_path() {
        let s = sec();
        let get = Method::GET;
        let ws = |path: &str, origin: &str| {
            check_request(
                &s,
                &get,
                path,
                &headers(&[("upgrade", "websocket"), ("origin", origin)]),
            )
            .is_ok()
        };
        assert!(ws("/ws/agent", "https://kefu.example.com"));
        assert!(!ws("/ws/agent", "https://mall.example.com"));
        assert!(!ws("/ws/account", "https://evil.example.com"));
        assert!(ws("/ws/buyer", "https://mall.example.com"));
        assert!(ws("/ws/buyer", "https://kefu.example.com"));
        assert!(!ws("/ws/buyer", "https://evil.example.com"));
    }

    #[test]
    fn framing_and_csp() {
        let s = sec();
        let chat = s.csp("/chat", Some("abc123"));
        assert!(
            chat.contains("frame-ancestors 'self' https://mall.example.com"),
            "{chat}"
        );
        assert!(chat.contains("'nonce-abc123'"));
        assert!(
            !chat.contains("unsafe-eval'")
                || chat.contains("'wasm-unsafe-eval'") && !chat.contains(" 'unsafe-eval'")
        );
        let admin = s.csp("/admin", None);
        assert!(
            admin.contains("frame-ancestors 'none'")
                && admin.contains("object-src 'none'")
                && admin.contains("base-uri 'none'")
        );
        assert!(
            !s.csp("/admin", Some("a'; script-src *"))
                .contains("script-src *"),
            "a bad nonce is dropped"
        );
        assert!(s.frame_ancestors("/admin").1 && !s.frame_ancestors("/chat").1);
    }
}
