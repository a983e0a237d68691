//! Page guard: signed-in pages need a valid login of the right role; the login page sends a
//! signed-in user to their own area. Server functions check the login themselves.

use app::state::{AppState, landing_path, token_from_headers};
use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use domain::logins::Role;

pub async fn page_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    // The demo buyer entry signs buyer tokens: it exists only with the demo data switched on.
    if (path == "/demo" || path.starts_with("/demo/")) && !state.web.demo_data {
        return (axum::http::StatusCode::NOT_FOUND, "页面不存在").into_response();
    }
    let under = |area: &str| path == area || path.starts_with(&format!("{area}/"));
    let needed = if under("/admin") {
        Some(Some(Role::Admin))
    } else if under("/agent") {
        Some(Some(Role::Agent))
    } else if path == "/" || path == "/login" {
        Some(None)
    } else {
        None
    };
    let Some(needed) = needed else {
        return next.run(req).await;
    };
    let token = token_from_headers(req.headers());
    let session = match &token {
        Some(t) => match state.auth.session(t).await {
            Ok(s) => s,
            Err(err) => {
                tracing::error!(error = %err, "session lookup failed");
                return (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "服务器内部错误，请稍后再试",
                )
                    .into_response();
            }
        },
        None => None,
    };
    match (needed, session) {
        // Login page or root while signed in: go to your own area.
        (None, Some(s)) => Redirect::to(landing_path(&s.role)).into_response(),
        (None, None) if path == "/" => Redirect::to("/login").into_response(),
        (None, None) => next.run(req).await,
        (Some(role), Some(s)) if s.role == role => next.run(req).await,
        (Some(_), Some(s)) => Redirect::to(landing_path(&s.role)).into_response(),
        (Some(_), None) if token.is_some() => Redirect::to("/login?reason=expired").into_response(),
        (Some(_), None) => Redirect::to("/login").into_response(),
    }
}
