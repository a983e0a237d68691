//! 导出: the 在线会话清单 download. The workbook is written in constant-memory mode to a
//! temporary file and streamed from it, so a large export does not grow the server's memory.

use crate::caller::AdminCaller;
use app::error::AppError;
use app::reports::{ReportQuery, resolve_query};
use app::state::AppState;
use axum::{
    body::Body,
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use tokio_util::io::ReaderStream;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_owned(),
    )
        .into_response()
}

pub async fn export_sessions(
    State(state): State<AppState>,
    AdminCaller(session): AdminCaller,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return refuse(StatusCode::BAD_REQUEST, "查询条件格式不正确");
    };
    let now = domain::db::now_ms();
    let (filter, _) = match resolve_query(&query, now) {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    match write_to_temp(&state, session.supplier_id, &filter, now).await {
        Ok(file) => {
            let name = domain::reports::export::export_file_name(
                &session.supplier_name,
                filter.from_ms,
                filter.to_ms,
            );
            let disposition = format!(
                "attachment; filename=\"session-report.xlsx\"; filename*=UTF-8''{}",
                utf8_percent_encode(&name, NON_ALPHANUMERIC)
            );
            let mut response = Body::from_stream(ReaderStream::new(file)).into_response();
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            response
        }
        Err(AppError::Invalid { message, .. }) => refuse(StatusCode::BAD_REQUEST, &message),
        Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// Writes the workbook to a temporary file and returns it open for reading; the file's name is
/// already gone, so nothing is left on disk once the download ends.
async fn write_to_temp(
    state: &AppState,
    supplier_id: i64,
    filter: &domain::reports::ReportFilter,
    now: i64,
) -> Result<tokio::fs::File, AppError> {
    let temp = tempfile::NamedTempFile::new().map_err(|e| {
        tracing::error!(error = %e, "export temp file");
        AppError::Internal
    })?;
    domain::reports::export::write_report_xlsx(
        &state.auth.db,
        supplier_id,
        filter,
        now,
        temp.path(),
    )
    .await?;
    let file = tokio::fs::File::open(temp.path()).await.map_err(|e| {
        tracing::error!(error = %e, "export reopen");
        AppError::Internal
    })?;
    drop(temp);
    Ok(file)
}
