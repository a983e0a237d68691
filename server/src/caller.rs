//! Who is calling an axum route, and the one error type those routes answer with.
//!
//! Every route that takes the session cookie (the export, the import and its template, the
//! picture upload and media, the WebSockets) finds the caller here instead of looking the cookie
//! up itself. A failed session lookup (the database is down) is an error — logged once, a 500
//! for the client — never "nobody is logged in", which would send a working user to the login
//! page for what is the server's fault.

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use domain::{
    DomainError,
    logins::{Auth, Role, Session},
};

/// What an axum route refuses with: a status and a message for a person, in Chinese.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("登录已失效，请重新登录")]
    Unauthenticated,
    #[error("没有权限执行此操作")]
    Forbidden,
    /// Also what someone else's record gets: "not yours" and "not there" look the same.
    #[error("要操作的内容不存在或已被删除")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error("服务器内部错误，请稍后再试")]
    Internal,
}

impl HttpError {
    pub fn status(&self) -> StatusCode {
        match self {
            HttpError::Unauthenticated => StatusCode::UNAUTHORIZED,
            HttpError::Forbidden => StatusCode::FORBIDDEN,
            HttpError::NotFound => StatusCode::NOT_FOUND,
            HttpError::BadRequest(_) => StatusCode::BAD_REQUEST,
            HttpError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<DomainError> for HttpError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Db(_) | DomainError::Internal(_) => {
                tracing::error!(error = %err, "request failed");
                HttpError::Internal
            }
            DomainError::NotFound | DomainError::Forbidden => HttpError::NotFound,
            other => HttpError::BadRequest(other.user_message()),
        }
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        (
            self.status(),
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            self.to_string(),
        )
            .into_response()
    }
}

/// The session of the request's cookie: `Ok(None)` when there is no cookie or no such live
/// login, `Err` when it could not be looked up (logged).
pub async fn session_of(auth: &Auth, headers: &HeaderMap) -> Result<Option<Session>, HttpError> {
    let Some(token) = app::state::token_from_headers(headers) else {
        return Ok(None);
    };
    auth.session(&token).await.map_err(|err| {
        tracing::error!(error = %err, "session lookup failed");
        HttpError::Internal
    })
}

/// A signed-in admin (客服管理员); 401 without a login, 403 for an agent.
pub struct AdminCaller(pub Session);

impl<S> FromRequestParts<S> for AdminCaller
where
    Auth: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_ref(state);
        let session = session_of(&auth, &parts.headers)
            .await?
            .ok_or(HttpError::Unauthenticated)?;
        if session.role == Role::Admin {
            Ok(AdminCaller(session))
        } else {
            Err(HttpError::Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_failures_are_500_and_foreign_is_not_found() {
        let db = HttpError::from(DomainError::Internal("pool closed".into()));
        assert_eq!(db.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(db.to_string(), "服务器内部错误，请稍后再试");
        assert_eq!(
            HttpError::from(DomainError::Forbidden).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            HttpError::from(DomainError::Forbidden).to_string(),
            HttpError::from(DomainError::NotFound).to_string()
        );
    }
}
