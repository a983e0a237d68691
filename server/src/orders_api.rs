//! Orders in from outside: the mall's HTTP API (`POST /api/v1/orders`, idempotent by 订单编号,
//! authenticated with the supplier's API key), its OpenAPI document, and the admin's .xlsx
//! template download and import upload (cookie login, admin role).
//!
//! These routes carry their own body limits (the API [`MAX_ORDER_BODY_BYTES`], the import a
//! little over the importer's 5 MiB), so they are mounted outside the app's general
//! `KEFU_MAX_BODY_BYTES` limit. Every answer of the API is JSON; errors are
//! `{"error": "中文说明", "field": "items[3].quantity"}` (`field` when one field is at fault).

use crate::caller::HttpError;
use app::orders::ImportResponse;
use axum::{
    Json, Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use domain::DomainError;
use domain::logins::{Auth, Role};
use domain::orders::{OrderInput, import::ImportGate, import::MAX_IMPORT_BYTES};
use serde::Serialize;
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;

/// Path of the order upsert.
pub const ORDERS_API_PATH: &str = "/api/v1/orders";
/// Largest JSON body of the order API (an order of 100 long lines fits with room to spare).
pub const MAX_ORDER_BODY_BYTES: usize = 256 * 1024;
/// Largest import upload: the importer's own cap plus a little, so the importer's clear "too
/// large" answer is what an admin sees for a file just over 5 MiB.
pub const MAX_IMPORT_BODY_BYTES: usize = MAX_IMPORT_BYTES + 64 * 1024;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// What these routes need: the database (through [`Auth`], which also resolves admin logins)
/// and the gate that lets one import per supplier run at a time.
#[derive(Clone)]
pub struct OrdersState {
    pub auth: Auth,
    pub import_gate: ImportGate,
}

impl OrdersState {
    pub fn new(auth: Auth) -> Self {
        OrdersState {
            auth,
            import_gate: ImportGate::new(),
        }
    }
}

/// The routes, with their state and body limits applied.
pub fn routes<S>(state: OrdersState) -> Router<S> {
    Router::new()
        .route(
            ORDERS_API_PATH,
            post(upsert_order).layer(RequestBodyLimitLayer::new(MAX_ORDER_BODY_BYTES)),
        )
        .route(app::orders::OPENAPI_PATH, get(openapi))
        .route(app::orders::TEMPLATE_PATH, get(template))
        .route(
            app::orders::IMPORT_PATH,
            post(import).layer(RequestBodyLimitLayer::new(MAX_IMPORT_BODY_BYTES)),
        )
        .with_state(state)
}

#[derive(Serialize)]
struct ApiError {
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

fn api_error(status: StatusCode, error: impl Into<String>, field: Option<String>) -> Response {
    let mut response = (
        status,
        Json(ApiError {
            error: error.into(),
            field,
        }),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn body_error(err: axum::Error) -> Response {
    let too_large = err
        .into_inner()
        .downcast_ref::<http_body_util::LengthLimitError>()
        .is_some();
    if too_large {
        api_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("请求体过大，最大 {} KB", MAX_ORDER_BODY_BYTES / 1024),
            None,
        )
    } else {
        api_error(StatusCode::BAD_REQUEST, "请求体读取失败", None)
    }
}

/// A serde error as `(Chinese message, field path)`. The path comes from
/// `serde_path_to_error` (`items[3].quantity`); a missing field's name is added to its parent's.
fn json_error(
    err: &serde_path_to_error::Error<serde_json::Error>,
) -> (StatusCode, String, Option<String>) {
    let inner = err.inner();
    let path = err.path().to_string();
    let path = (path != ".").then_some(path);
    let message = inner.to_string();
    let quoted = |m: &str| m.split('`').nth(1).map(str::to_owned);
    let join = |parent: &Option<String>, name: &str| match parent {
        Some(p) => format!("{p}.{name}"),
        None => name.to_owned(),
    };
    use serde_json::error::Category;
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => (
            StatusCode::BAD_REQUEST,
            format!(
                "请求体不是合法的 JSON（第 {} 行第 {} 列）",
                inner.line(),
                inner.column()
            ),
            None,
        ),
        Category::Data => {
            if message.starts_with("missing field") {
                let name = quoted(&message).unwrap_or_default();
                let field = join(&path, &name);
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("缺少字段 {field}"),
                    Some(field),
                )
            } else if message.starts_with("unknown field") {
                let name = quoted(&message).unwrap_or_default();
                let field = path.unwrap_or(name);
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("不支持的字段 {field}"),
                    Some(field),
                )
            } else {
                let shown = path.clone().unwrap_or_else(|| "请求体".to_owned());
                let kind = if message.contains("out of range")
                    || message.contains("invalid value: integer")
                {
                    "超出范围"
                } else {
                    "类型不正确（金额为整数分，时间为 Unix 毫秒整数）"
                };
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("字段 {shown} {kind}"),
                    path,
                )
            }
        }
    }
}

/// `POST /api/v1/orders`: creates or replaces the key's supplier's order with this 订单编号.
/// 201 when created, 200 when updated; `{"order_id": …, "created": …}`.
async fn upsert_order(State(state): State<OrdersState>, request: Request) -> Response {
    let db = &state.auth.db;
    let Some(key) = bearer(request.headers()) else {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "缺少接口密钥，请在请求头中携带 Authorization: Bearer <密钥>",
            None,
        );
    };
    let supplier_id = match domain::orders::supplier_for_api_key(db, key).await {
        Ok(id) => id,
        Err(DomainError::BadCredentials) => {
            return api_error(StatusCode::UNAUTHORIZED, "接口密钥无效或已被重置", None);
        }
        Err(err) => {
            tracing::error!(error = %err, "api key lookup failed");
            return api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器内部错误，请稍后再试",
                None,
            );
        }
    };
    if let Some(kind) = request.headers().get(header::CONTENT_TYPE)
        && !kind
            .to_str()
            .unwrap_or_default()
            .to_ascii_lowercase()
            .starts_with("application/json")
    {
        return api_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "请求体须为 JSON（Content-Type: application/json）",
            None,
        );
    }
    let bytes: Bytes = match axum::body::to_bytes(request.into_body(), MAX_ORDER_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(err) => return body_error(err),
    };
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let input: OrderInput = match serde_path_to_error::deserialize(&mut de) {
        Ok(input) => input,
        Err(err) => {
            let (status, message, field) = json_error(&err);
            return api_error(status, message, field);
        }
    };
    if de.end().is_err() {
        return api_error(
            StatusCode::BAD_REQUEST,
            "请求体不是合法的 JSON（末尾有多余内容）",
            None,
        );
    }
    match domain::orders::upsert_order(db, supplier_id, &input, domain::db::now_ms()).await {
        Ok(outcome) => {
            let status = if outcome.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (
                status,
                Json(json!({ "order_id": outcome.order_id, "created": outcome.created })),
            )
                .into_response()
        }
        Err(DomainError::FieldInvalid { field, reason }) => {
            api_error(StatusCode::UNPROCESSABLE_ENTITY, reason, Some(field))
        }
        Err(DomainError::Validation { field, reason }) => api_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            reason,
            Some(field.to_owned()),
        ),
        Err(DomainError::Conflict(message)) => api_error(StatusCode::CONFLICT, message, None),
        Err(DomainError::NotFound) => {
            api_error(StatusCode::UNAUTHORIZED, "接口密钥无效或已被重置", None)
        }
        Err(err) => {
            tracing::error!(error = %err, "order upsert failed");
            api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器内部错误，请稍后再试",
                None,
            )
        }
    }
}

/// `GET /api/v1/openapi.json`.
async fn openapi() -> Response {
    let mut response = Json(openapi_document()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The OpenAPI 3 description of the order API (hand-written; a test checks it names every
/// field of [`OrderInput`] and its lines).
pub fn openapi_document() -> serde_json::Value {
    let string = |description: &str, max: usize| json!({ "type": "string", "maxLength": max, "description": description });
    let fen = |description: &str| json!({ "type": "integer", "format": "int64", "minimum": 0, "maximum": domain::orders::MAX_AMOUNT_FEN, "description": description });
    let ms = |description: &str| json!({ "type": "integer", "format": "int64", "minimum": domain::orders::MIN_TIME_MS, "maximum": domain::orders::MAX_TIME_MS, "description": description });
    let error = json!({ "$ref": "#/components/schemas/Error" });
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "832 客服 订单接口",
            "version": "1.0.0",
            "description": "商城向 832 客服推送（新增或更新）供应商的订单。以订单编号为幂等键：同一订单编号重复推送只会有一个订单，后一次推送整体替换订单信息和商品。金额单位为分（整数），时间为 Unix 毫秒。"
        },
        "servers": [{ "url": "/" }],
        "security": [{ "apiKey": [] }],
        "paths": {
            ORDERS_API_PATH: {
                "post": {
                    "summary": "新增或更新订单",
                    "operationId": "upsertOrder",
                    "requestBody": {
                        "required": true,
                        "description": format!("JSON，最大 {} KB；不认识的字段会被拒绝。", MAX_ORDER_BODY_BYTES / 1024),
                        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/OrderInput" } } }
                    },
                    "responses": {
                        "200": { "description": "已更新", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/UpsertResult" } } } },
                        "201": { "description": "已新增", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/UpsertResult" } } } },
                        "400": { "description": "请求体不是合法的 JSON", "content": { "application/json": { "schema": error } } },
                        "401": { "description": "缺少接口密钥或密钥无效", "content": { "application/json": { "schema": error } } },
                        "409": { "description": "同一订单正在被同时写入，请重试", "content": { "application/json": { "schema": error } } },
                        "413": { "description": "请求体过大" },
                        "415": { "description": "Content-Type 不是 application/json", "content": { "application/json": { "schema": error } } },
                        "422": { "description": "字段不合法；field 指出出错的字段，如 items[3].quantity", "content": { "application/json": { "schema": error } } }
                    }
                }
            }
        },
        "components": {
            "securitySchemes": {
                "apiKey": { "type": "http", "scheme": "bearer", "description": "客服管理后台「接口密钥」页面生成的密钥，形如 kf_…" }
            },
            "schemas": {
                "OrderInput": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["order_no", "buyer_id", "buyer_name", "status", "created_at", "consignee_name", "consignee_phone", "consignee_address", "items"],
                    "properties": {
                        "order_no": string("订单编号，供应商内唯一，幂等键", domain::orders::MAX_ORDER_NO_CHARS),
                        "buyer_id": string("客户编号（与买家令牌中的 buyer_id 相同）", domain::orders::MAX_BUYER_ID_CHARS),
                        "buyer_name": string("客户名称（新采购人时使用）", domain::orders::MAX_BUYER_NAME_CHARS),
                        "buyer_unit": string("单位名称", domain::orders::MAX_BUYER_UNIT_CHARS),
                        "status": { "type": "string", "enum": domain::entity::purchase_order::STATUSES, "description": "订单状态" },
                        "created_at": ms("下单时间，Unix 毫秒"),
                        "paid_at": { "allOf": [ms("付款时间，Unix 毫秒")], "nullable": true },
                        "freight_fen": fen("运费（分），默认 0"),
                        "consignee_name": string("收货人", domain::orders::MAX_CONSIGNEE_NAME_CHARS),
                        "consignee_phone": string("收货电话（只以打码形式展示）", domain::orders::MAX_PHONE_CHARS),
                        "consignee_address": string("收货地址", domain::orders::MAX_ADDRESS_CHARS),
                        "logistics_company": { "type": "string", "nullable": true, "maxLength": domain::orders::MAX_LOGISTICS_CHARS, "description": "物流公司" },
                        "tracking_no": { "type": "string", "nullable": true, "maxLength": domain::orders::MAX_LOGISTICS_CHARS, "description": "物流单号" },
                        "items": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": domain::orders::MAX_ITEMS,
                            "items": { "$ref": "#/components/schemas/OrderItemInput" },
                            "description": "商品行；订单总额 = 单价 × 数量之和 + 运费，由系统计算"
                        }
                    }
                },
                "OrderItemInput": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "unit_price_fen", "quantity"],
                    "properties": {
                        "name": string("商品名称", domain::orders::MAX_ITEM_NAME_CHARS),
                        "spec": string("规格", domain::orders::MAX_ITEM_SPEC_CHARS),
                        "picture_url": { "type": "string", "nullable": true, "maxLength": domain::orders::MAX_PICTURE_URL_LEN, "description": "商品图片：http(s) 网址或以 / 开头的站内路径；javascript:、data: 等会被拒绝" },
                        "unit_price_fen": fen("单价（分）"),
                        "quantity": { "type": "integer", "minimum": 1, "maximum": domain::orders::MAX_QUANTITY, "description": "数量" }
                    }
                },
                "UpsertResult": {
                    "type": "object",
                    "required": ["order_id", "created"],
                    "properties": {
                        "order_id": { "type": "integer", "format": "int64" },
                        "created": { "type": "boolean", "description": "true 为新增，false 为更新" }
                    }
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": { "type": "string", "description": "中文错误说明" },
                        "field": { "type": "string", "description": "出错的字段，如 items[3].quantity" }
                    }
                }
            }
        }
    })
}

/// The admin's session from the cookie, or what to refuse with (a failed lookup is a 500).
async fn admin_session(
    auth: &Auth,
    headers: &HeaderMap,
) -> Result<domain::logins::Session, HttpError> {
    match crate::caller::session_of(auth, headers).await? {
        None => Err(HttpError::Unauthenticated),
        Some(s) if s.role != Role::Admin => Err(HttpError::Forbidden),
        Some(s) => Ok(s),
    }
}

/// `GET /admin/orders/template.xlsx`: the import template.
async fn template(State(state): State<OrdersState>, headers: HeaderMap) -> Response {
    if let Err(refusal) = admin_session(&state.auth, &headers).await {
        return refusal.into_response();
    }
    match domain::orders::orders_template_xlsx() {
        Ok(bytes) => {
            let mut response = Body::from(bytes).into_response();
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static(
                    "attachment; filename=\"orders-template.xlsx\"; filename*=UTF-8''%E8%AE%A2%E5%8D%95%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx",
                ),
            );
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "orders template");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "服务器内部错误，请稍后再试",
            )
                .into_response()
        }
    }
}

fn import_answer(status: StatusCode, answer: ImportResponse) -> Response {
    (status, Json(answer)).into_response()
}

/// `POST /admin/orders/import`: the .xlsx file as the raw body; answers an [`ImportResponse`].
async fn import(State(state): State<OrdersState>, request: Request) -> Response {
    let session = match admin_session(&state.auth, request.headers()).await {
        Ok(s) => s,
        Err(refusal) => {
            return import_answer(
                refusal.status(),
                ImportResponse::Rejected {
                    message: refusal.to_string(),
                    rows: Vec::new(),
                },
            );
        }
    };
    let bytes = match axum::body::to_bytes(request.into_body(), MAX_IMPORT_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let too_large = domain::orders::ImportError::TooLarge {
                max_bytes: MAX_IMPORT_BYTES,
            };
            return import_answer(StatusCode::PAYLOAD_TOO_LARGE, too_large.into());
        }
    };
    // One import per supplier at a time: a second upload while one runs is refused (429).
    let result = state
        .import_gate
        .import_orders_xlsx(
            &state.auth.db,
            session.supplier_id,
            session.account_id,
            &bytes,
            domain::db::now_ms(),
        )
        .await;
    match result {
        Ok(report) => import_answer(StatusCode::OK, report.into()),
        Err(err) => {
            let status = match &err {
                domain::orders::ImportError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                domain::orders::ImportError::Busy => StatusCode::TOO_MANY_REQUESTS,
                domain::orders::ImportError::Domain(
                    DomainError::Db(_) | DomainError::Internal(_),
                ) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            import_answer(status, err.into())
        }
    }
}
