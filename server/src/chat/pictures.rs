//! 上传图片 over HTTP: `POST /api/chat/pictures?conversation_id=…` takes the raw bytes of one
//! picture from an agent (session cookie) or a buyer (`&token=…`), checks and re-encodes it
//! ([`domain::chat::pictures`]) and answers with the upload id the chat frame then carries.
//! `GET /media/{name}` serves it, only to the conversation's buyer and agent and the supplier's
//! admin, with `nosniff` and a CSP that forbids everything but showing it.

use std::sync::Arc;

use app::chat::protocol::{ChatImage, UploadedPicture};
use app::state::token_from_headers;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::DomainError;
use domain::auth::Role;
use domain::chat::pictures::{CleanPicture, clean_picture, save_picture, upload_by_name};
use domain::db::now_ms;
use domain::entity::{conversation, upload};
use serde::Deserialize;

use super::ChatState;

#[derive(Deserialize)]
pub struct UploadQuery {
    conversation_id: Option<i64>,
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct MediaQuery {
    #[serde(default)]
    token: String,
}

fn json_error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message.into() }))).into_response()
}

fn domain_error(err: &DomainError) -> Response {
    let status = match err {
        DomainError::Validation { .. } => StatusCode::BAD_REQUEST,
        DomainError::NotFound => StatusCode::NOT_FOUND,
        DomainError::Forbidden => StatusCode::FORBIDDEN,
        DomainError::Conflict(_) => StatusCode::CONFLICT,
        DomainError::Db(_) | DomainError::Internal(_) => {
            tracing::error!(error = %err, "chat picture");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    json_error(status, err.user_message())
}

/// Who is asking: a buyer by token (their supplier and buyer id) or a signed-in account.
enum Caller {
    Buyer { supplier_id: i64, buyer_id: i64 },
    Account { supplier_id: i64, account_id: i64, role: Role },
}

async fn caller(chat: &ChatState, headers: &HeaderMap, token: &str) -> Result<Caller, Response> {
    if !token.is_empty() {
        let claims = domain::chat::verify(&chat.buyer_token_secret, token, now_ms() / 1000)
            .map_err(|e| json_error(StatusCode::UNAUTHORIZED, e.user_message()))?;
        let buyer = domain::chat::upsert_buyer(&chat.db, &claims).await.map_err(|e| domain_error(&e))?;
        return Ok(Caller::Buyer { supplier_id: buyer.supplier_id, buyer_id: buyer.id });
    }
    let session = match token_from_headers(headers) {
        Some(t) => chat.auth.session(&t).await.ok().flatten(),
        None => None,
    };
    match session {
        Some(s) => Ok(Caller::Account { supplier_id: s.supplier_id, account_id: s.account_id, role: s.role }),
        None => Err(json_error(StatusCode::UNAUTHORIZED, "登录已失效，请重新登录")),
    }
}

/// `POST /api/chat/pictures?conversation_id=…[&token=…]`, body: the picture's bytes.
pub async fn upload_picture(
    State(chat): State<ChatState>,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(conversation_id) = query.conversation_id else {
        return json_error(StatusCode::BAD_REQUEST, "缺少会话编号");
    };
    let caller = match caller(&chat, &headers, &query.token).await {
        Ok(c) => c,
        Err(response) => return response,
    };
    let conversation = match &caller {
        Caller::Buyer { supplier_id, buyer_id } => {
            domain::chat::conversation_for_buyer(&chat.db, *supplier_id, *buyer_id, conversation_id).await
        }
        Caller::Account { supplier_id, account_id, role: Role::Agent } => {
            domain::chat::conversation_for_agent(&chat.db, *supplier_id, *account_id, conversation_id).await
        }
        Caller::Account { .. } => Err(DomainError::Forbidden),
    };
    let conversation = match conversation {
        Ok(c) if c.status == conversation::STATUS_ENDED => {
            return json_error(StatusCode::CONFLICT, "会话已结束，无法继续发送消息");
        }
        Ok(c) => c,
        Err(err) => return domain_error(&err),
    };

    // Read the body only once the caller is known to hold the conversation.
    let too_large = || {
        json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("图片不能超过 {} MB", domain::chat::pictures::MAX_PICTURE_BYTES / 1024 / 1024),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > domain::chat::pictures::MAX_PICTURE_BYTES) {
        return too_large();
    }
    let body = match axum::body::to_bytes(body, domain::chat::pictures::MAX_PICTURE_BYTES).await {
        Ok(b) => b,
        Err(_) if declared.is_none_or(|n| n > 0) => return too_large(),
        Err(_) => return json_error(StatusCode::BAD_REQUEST, "图片上传中断，请重试"),
    };
    let picture = match clean(&chat, body).await {
        Ok(p) => p,
        Err(err) => return domain_error(&err),
    };
    let saved = save_picture(
        &chat.db,
        &chat.upload_dir,
        conversation.supplier_id,
        conversation.id,
        &picture,
        now_ms(),
    )
    .await;
    match saved {
        Ok(row) => axum::Json(UploadedPicture { upload_id: row.id, image: image_of(&row) }).into_response(),
        Err(err) => domain_error(&err),
    }
}

/// Decoding is CPU work: a blocking thread, a few at a time.
async fn clean(chat: &ChatState, body: Bytes) -> Result<CleanPicture, DomainError> {
    let _permit = chat
        .picture_permits
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| DomainError::Internal("picture permits closed".into()))?;
    tokio::task::spawn_blocking(move || clean_picture(&body))
        .await
        .map_err(|e| DomainError::Internal(format!("picture task: {e}")))?
}

/// How a message shows an upload.
pub fn image_of(row: &upload::Model) -> ChatImage {
    ChatImage {
        url: format!("{}{}", app::chat::protocol::MEDIA_PATH, row.stored_name),
        width: row.width,
        height: row.height,
    }
}

/// `GET /media/{name}[?token=…]`: the picture, to those who may see it; 404 to everyone else
/// (the name is random, so nothing tells a stranger whether it exists).
pub async fn serve_picture(
    State(chat): State<ChatState>,
    Path(name): Path<String>,
    Query(query): Query<MediaQuery>,
    headers: HeaderMap,
) -> Response {
    let not_found = || json_error(StatusCode::NOT_FOUND, "图片不存在或无权查看");
    let caller = match caller(&chat, &headers, &query.token).await {
        Ok(c) => c,
        Err(response) => return response,
    };
    let Ok(row) = upload_by_name(&chat.db, &name).await else { return not_found() };
    let conversation = match row.conversation_id {
        Some(id) => domain::chat::views::conversations_by_ids(&chat.db, &[id]).await.ok().and_then(|mut v| v.pop()),
        None => None,
    };
    let allowed = match (&caller, &conversation) {
        (Caller::Buyer { supplier_id, buyer_id }, Some(c)) => {
            c.supplier_id == *supplier_id && c.buyer_id == *buyer_id && row.supplier_id == *supplier_id
        }
        (Caller::Account { supplier_id, role: Role::Admin, .. }, _) => row.supplier_id == *supplier_id,
        (Caller::Account { supplier_id, account_id, role: Role::Agent }, Some(c)) => {
            row.supplier_id == *supplier_id && c.supplier_id == *supplier_id && c.agent_id == Some(*account_id)
        }
        _ => false,
    };
    if !allowed {
        return not_found();
    }
    let path = chat.upload_dir.join(&row.stored_name);
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(err) => {
            tracing::warn!(error = %err, path = %path.display(), "picture file missing");
            return not_found();
        }
    };
    let mut response = Body::from(bytes).into_response();
    let h = response.headers_mut();
    let content_type = match row.content_type.as_str() {
        "image/jpeg" => "image/jpeg",
        _ => "image/png",
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("inline"));
    // The name never changes content; only this browser may keep it.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=86400, immutable"));
    response
}

/// Shared permit count for picture decoding.
pub fn picture_permits() -> Arc<tokio::sync::Semaphore> {
    Arc::new(tokio::sync::Semaphore::new(2))
}
