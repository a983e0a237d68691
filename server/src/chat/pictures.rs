//! 上传图片 over HTTP: `POST /api/chat/pictures?conversation_id=…` takes the raw bytes of one
//! picture from an agent (session cookie) or a buyer (`&token=…`), checks and re-encodes it
//! ([`domain::chat::pictures`]) and answers with the upload id the chat frame then carries.
//! `GET /media/{name}` serves it, only to the conversation's buyer and agent and the supplier's
//! admin, with `nosniff` and a CSP that forbids everything but showing it.

use std::time::Duration;

use app::chat::protocol::{ChatImage, UploadedPicture};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::DomainError;
use domain::chat::pictures::{CleanPicture, clean_picture, save_picture, upload_by_name};
use domain::db::now_ms;
use domain::entity::{conversation, upload};
use domain::logins::Role;
use serde::Deserialize;

use super::ChatState;
use super::limits::{PICTURE_UPLOAD_TIMEOUT, PICTURES_BUSY, PICTURES_TOO_FAST};

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
    (
        status,
        axum::Json(serde_json::json!({ "error": message.into() })),
    )
        .into_response()
}

/// Someone else's conversation and one that does not exist get this same answer.
fn domain_error(err: &DomainError) -> Response {
    let err = super::hide_foreign(err);
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
    Buyer {
        supplier_id: i64,
        buyer_id: i64,
    },
    Account {
        supplier_id: i64,
        account_id: i64,
        role: Role,
    },
}

impl Caller {
    /// Whose upload rate a picture counts against: `(supplier, buyer or account, is_buyer)`.
    fn uploader(&self) -> (i64, i64, bool) {
        match *self {
            Caller::Buyer {
                supplier_id,
                buyer_id,
            } => (supplier_id, buyer_id, true),
            Caller::Account {
                supplier_id,
                account_id,
                ..
            } => (supplier_id, account_id, false),
        }
    }
}

async fn caller(chat: &ChatState, headers: &HeaderMap, token: &str) -> Result<Caller, Response> {
    if !token.is_empty() {
        let claims = domain::chat::buyer_token::verify_within(
            &chat.buyer_token_secret,
            token,
            now_ms() / 1000,
            chat.limits.buyer_token_max_lifetime_secs,
        )
        .map_err(|e| json_error(StatusCode::UNAUTHORIZED, e.user_message()))?;
        let buyer = domain::chat::upsert_buyer(&chat.db, &claims)
            .await
            .map_err(|e| domain_error(&e))?;
        return Ok(Caller::Buyer {
            supplier_id: buyer.supplier_id,
            buyer_id: buyer.id,
        });
    }
    let session = crate::caller::session_of(&chat.auth, headers)
        .await
        .map_err(|e| json_error(e.status(), e.to_string()))?;
    match session {
        Some(s) => Ok(Caller::Account {
            supplier_id: s.supplier_id,
            account_id: s.account_id,
            role: s.role,
        }),
        None => Err(json_error(
            StatusCode::UNAUTHORIZED,
            "登录已失效，请重新登录",
        )),
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
    let conversation = match open_conversation_of(&chat, &caller, conversation_id).await {
        Ok(c) => c,
        Err(response) => return response,
    };
    // Counted per uploader before anything is read.
    if !chat.upload_rate.allow(caller.uploader()) {
        return json_error(StatusCode::TOO_MANY_REQUESTS, PICTURES_TOO_FAST);
    }
    // Read the body only once the caller is known to hold the conversation.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > domain::chat::pictures::MAX_PICTURE_BYTES) {
        return too_large();
    }
    // A decode slot BEFORE the body is buffered: at most `decode_slots` bodies in memory.
    let Ok(_slot) = chat.pictures.enter().await else {
        return json_error(StatusCode::SERVICE_UNAVAILABLE, PICTURES_BUSY);
    };
    let picture = match read_picture(&chat, body, declared).await {
        Ok(p) => p,
        Err(response) => return response,
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
        Ok(row) => axum::Json(UploadedPicture {
            upload_id: row.id,
            image: image_of(&row),
        })
        .into_response(),
        Err(err) => domain_error(&err),
    }
}

/// The conversation, if the caller holds it and it is open: the buyer's own, or the agent's
/// assigned one. An admin holds none, and gets the same answer as for someone else's.
async fn open_conversation_of(
    chat: &ChatState,
    caller: &Caller,
    conversation_id: i64,
) -> Result<conversation::Model, Response> {
    let db = &chat.db;
    let conversation = match *caller {
        Caller::Buyer {
            supplier_id,
            buyer_id,
        } => domain::chat::conversation_for_buyer(db, supplier_id, buyer_id, conversation_id).await,
        Caller::Account {
            supplier_id,
            account_id,
            role: Role::Agent,
        } => {
            domain::chat::conversation_for_agent(db, supplier_id, account_id, conversation_id).await
        }
        Caller::Account { .. } => Err(DomainError::NotFound),
    };
    match conversation {
        Ok(c) if c.status == conversation::STATUS_ENDED => Err(json_error(
            StatusCode::CONFLICT,
            "会话已结束，无法继续发送消息",
        )),
        Ok(c) => Ok(c),
        Err(err) => Err(domain_error(&err)),
    }
}

fn too_large() -> Response {
    json_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "图片不能超过 {} MB",
            domain::chat::pictures::MAX_PICTURE_BYTES / 1024 / 1024
        ),
    )
}

/// Reads the body (of `declared` bytes, if the client said), within the upload time, then
/// checks and re-encodes the picture. The caller holds a decode slot.
async fn read_picture(
    chat: &ChatState,
    body: Body,
    declared: Option<usize>,
) -> Result<CleanPicture, Response> {
    let read = axum::body::to_bytes(body, domain::chat::pictures::MAX_PICTURE_BYTES);
    let body = match tokio::time::timeout(chat.limits.upload_body_timeout, read).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) if declared.is_none_or(|n| n > 0) => return Err(too_large()),
        Ok(Err(_)) => return Err(json_error(StatusCode::BAD_REQUEST, "图片上传中断，请重试")),
        // A slow body must not hold the slot.
        Err(_) => {
            return Err(json_error(
                StatusCode::REQUEST_TIMEOUT,
                PICTURE_UPLOAD_TIMEOUT,
            ));
        }
    };
    let picture = clean(body).await.map_err(|err| domain_error(&err))?;
    if picture.bytes.len() > chat.limits.max_encoded_bytes {
        return Err(json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "图片处理后超过 {} MB，请缩小后再发送",
                chat.limits.max_encoded_bytes.div_ceil(1024 * 1024)
            ),
        ));
    }
    Ok(picture)
}

/// Decoding is CPU work: a blocking thread (the caller holds a decode slot).
async fn clean(body: Bytes) -> Result<CleanPicture, DomainError> {
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
    let Ok(row) = upload_by_name(&chat.db, &name).await else {
        return not_found();
    };
    let conversation = match row.conversation_id {
        Some(id) => domain::chat::views::conversations_by_ids(&chat.db, &[id])
            .await
            .ok()
            .and_then(|mut v| v.pop()),
        None => None,
    };
    let allowed = may_see(&caller, &row, conversation.as_ref());
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
    let content_type = match row.content_type.as_str() {
        "image/jpeg" => "image/jpeg",
        _ => "image/png",
    };
    let mut response = Body::from(bytes).into_response();
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        ),
        (header::CONTENT_DISPOSITION, "inline"),
        // The name never changes content; only this browser may keep it.
        (header::CACHE_CONTROL, "private, max-age=86400, immutable"),
    ];
    for (name, value) in headers {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Who may see an upload: the buyer and the assigned agent of its conversation, and any admin
/// of its supplier.
fn may_see(
    caller: &Caller,
    row: &upload::Model,
    conversation: Option<&conversation::Model>,
) -> bool {
    match (caller, conversation) {
        (
            Caller::Buyer {
                supplier_id,
                buyer_id,
            },
            Some(c),
        ) => {
            c.supplier_id == *supplier_id
                && c.buyer_id == *buyer_id
                && row.supplier_id == *supplier_id
        }
        (
            Caller::Account {
                supplier_id,
                role: Role::Admin,
                ..
            },
            _,
        ) => row.supplier_id == *supplier_id,
        (
            Caller::Account {
                supplier_id,
                account_id,
                role: Role::Agent,
            },
            Some(c),
        ) => {
            row.supplier_id == *supplier_id
                && c.supplier_id == *supplier_id
                && c.agent_id == Some(*account_id)
        }
        _ => false,
    }
}

/// Deletes, once, the uploads no message refers to that are older than
/// [`super::limits::ChatLimits::unreferenced_upload_ttl`] (row and file). Returns how many.
pub async fn sweep_unreferenced_uploads(chat: &ChatState) -> Result<usize, DomainError> {
    let ttl = i64::try_from(chat.limits.unreferenced_upload_ttl.as_millis()).unwrap_or(i64::MAX);
    let created_before = now_ms().saturating_sub(ttl);
    domain::chat::pictures::delete_unreferenced_uploads(&chat.db, &chat.upload_dir, created_before)
        .await
}

/// Every [`super::limits::ChatLimits::upload_sweep_every`], deletes the uploads nobody sent
/// (a picture uploaded and never sent, or a script filling the disk). Runs until the process
/// ends; call it once when serving.
pub fn spawn_upload_sweeper(chat: ChatState) {
    let every = chat.limits.upload_sweep_every.max(Duration::from_secs(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match sweep_unreferenced_uploads(&chat).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "unsent chat pictures deleted"),
                Err(err) => tracing::warn!(error = %err, "deleting unsent chat pictures failed"),
            }
        }
    });
}
