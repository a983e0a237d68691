//! Orders beside the chat (SPEC §3, §7): the types the panel, the order card and the detail
//! share between server and browser, the server functions that load them (an agent only for the
//! buyer of a conversation they hold, a buyer only their own orders), the components
//! ([`OrdersPanel`], [`OrderDetailView`]) and the admin's 接口密钥 and 订单导入 pages.

mod api_key_page;
mod import_page;
mod order_detail_view;
mod orders_panel;

pub use api_key_page::ApiKeyPage;
pub use import_page::ImportPage;
pub use order_detail_view::OrderDetailView;
pub use orders_panel::OrdersPanel;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Where the admin downloads the import template (a GET route of the server).
pub const TEMPLATE_PATH: &str = "/admin/orders/template.xlsx";
/// Where the admin's browser POSTs the .xlsx file as the raw request body.
pub const IMPORT_PATH: &str = "/admin/orders/import";
/// The order API's OpenAPI document.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// An order's card, a page of cards, an order's detail (订单详情) and its lines: the domain's
/// own types, so both sides agree.
pub use vocab::orders::{OrderDetail, OrderItemLine, OrderSummary, OrdersPage};

/// Whether the supplier has an order-API key and since when (never the key itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyState {
    pub issued: bool,
    /// 签发时间, Beijing time text.
    pub issued_at: Option<String>,
}

/// One bad row of an import, as the admin sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRowError {
    /// The sheet row number, as Excel shows it.
    pub row: u32,
    pub column: Option<String>,
    pub reason: String,
}

/// The answer of [`IMPORT_PATH`] (JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ImportResponse {
    Imported {
        orders_created: u32,
        orders_updated: u32,
        items: u32,
    },
    /// Nothing was imported; `rows` lists every bad row (empty when the file as a whole was
    /// refused: wrong type, too large, empty…).
    Rejected {
        message: String,
        rows: Vec<ImportRowError>,
    },
}

/// Fen as yuan with thousands separators: the same text on the server and in the browser.
pub use vocab::orders::format_fen;

/// Unix ms as Beijing time `2026-11-20 10:30`, the same on the server and in the browser
/// (integer civil-calendar maths, no time-zone database needed: China has no DST).
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000) + 8 * 3600;
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    // Howard Hinnant's days_from_civil inverse.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        of_day / 3600,
        (of_day % 3600) / 60
    )
}

/// The CSS modifier of a status tag.
pub fn status_class(status: &str) -> &'static str {
    match status {
        "待付款" => "orders-status pending",
        "待发货" | "已发货" | "待验收" => "orders-status active",
        "已完成" => "orders-status done",
        "已取消" => "orders-status cancelled",
        "售后中" => "orders-status after-sale",
        _ => "orders-status",
    }
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use domain::orders as d;

    impl From<d::ImportReport> for ImportResponse {
        fn from(r: d::ImportReport) -> Self {
            ImportResponse::Imported {
                orders_created: r.orders_created,
                orders_updated: r.orders_updated,
                items: r.items,
            }
        }
    }

    impl From<d::ImportError> for ImportResponse {
        fn from(err: d::ImportError) -> Self {
            let message = err.user_message();
            let rows = match err {
                d::ImportError::BadRows(rows) => rows
                    .into_iter()
                    .map(|r| ImportRowError {
                        row: r.row,
                        column: r.column,
                        reason: r.reason,
                    })
                    .collect(),
                d::ImportError::Domain(e) => {
                    // Logged once here; the admin sees only the Chinese message.
                    if matches!(
                        e,
                        domain::DomainError::Db(_) | domain::DomainError::Internal(_)
                    ) {
                        tracing::error!(error = %e, "order import failed");
                    }
                    Vec::new()
                }
                _ => Vec::new(),
            };
            ImportResponse::Rejected { message, rows }
        }
    }
}

/// The agent's conversation, which must be assigned to them: the state, and the supplier and
/// buyer of it.
#[cfg(feature = "ssr")]
async fn agent_scope(conversation_id: i64) -> Result<(crate::state::AppState, i64, i64), AppError> {
    let session = crate::state::require_role(domain::logins::Role::Agent).await?;
    let state = crate::state::app_state()?;
    let conversation = domain::chat::conversation_for_agent(
        &state.auth.db,
        session.supplier_id,
        session.account_id,
        conversation_id,
    )
    .await
    // Someone else's conversation gets the same answer as a missing one.
    .map_err(|err| match err {
        domain::DomainError::Forbidden => domain::DomainError::NotFound,
        other => other,
    })?;
    Ok((state, session.supplier_id, conversation.buyer_id))
}

/// 采购人订单: page `page` (0 first) of the orders of the buyer of a conversation the agent
/// holds, with the agent's supplier.
#[server(prefix = "/api", endpoint = "orders/agent_buyer_orders")]
pub async fn agent_buyer_orders(conversation_id: i64, page: u64) -> Result<OrdersPage, AppError> {
    let (state, supplier_id, buyer_id) = agent_scope(conversation_id).await?;
    let found = domain::orders::list_for_buyer(&state.auth.db, supplier_id, buyer_id, page);
    Ok(found.await?)
}

/// 订单详情 for an agent: only an order of the buyer of a conversation they hold.
#[server(prefix = "/api", endpoint = "orders/agent_order_detail")]
pub async fn agent_order_detail(
    conversation_id: i64,
    order_id: i64,
) -> Result<OrderDetail, AppError> {
    let (state, supplier_id, buyer_id) = agent_scope(conversation_id).await?;
    let detail = domain::orders::detail(&state.auth.db, supplier_id, buyer_id, order_id);
    Ok(detail.await?)
}

/// 订单详情 for a buyer (the chat widget): the buyer token says who they are; only their own
/// orders with the token's supplier, also when a card names someone else's order.
#[server(prefix = "/api", endpoint = "orders/buyer_order_detail")]
pub async fn buyer_order_detail(token: String, order_id: i64) -> Result<OrderDetail, AppError> {
    let state = crate::state::app_state()?;
    let (supplier_id, buyer_id) = buyer_scope(&state, &token).await?;
    let detail = domain::orders::detail(&state.auth.db, supplier_id, buyer_id, order_id);
    Ok(detail.await?)
}

/// The buyer a chat widget's token names (checked, and not valid for too long): `(supplier,
/// buyer)`.
#[cfg(feature = "ssr")]
async fn buyer_scope(state: &crate::state::AppState, token: &str) -> Result<(i64, i64), AppError> {
    let (chat, now_secs) = (&state.chat, domain::db::now_ms() / 1000);
    let claims = domain::chat::buyer_token::verify_within(
        &chat.buyer_token_secret,
        token,
        now_secs,
        chat.buyer_token_max_lifetime_secs,
    )?;
    let buyer_id =
        domain::orders::buyer_id_by_external(&state.auth.db, claims.supplier_id, &claims.buyer_id)
            .await?;
    Ok((claims.supplier_id, buyer_id))
}

/// 接口密钥: whether the admin's supplier has an order-API key, and since when.
#[server(prefix = "/api", endpoint = "admin/api_key_info")]
pub async fn api_key_info() -> Result<ApiKeyState, AppError> {
    let (session, state) = crate::state::admin_context().await?;
    let status = domain::orders::api_key_status(&state.auth.db, session.supplier_id).await?;
    Ok(ApiKeyState {
        issued: status.issued,
        issued_at: status.issued_at.map(domain::reports::format_shanghai),
    })
}

/// 重置接口密钥: issues a new key (the old one stops working at once) and returns it, the only
/// time it is shown.
#[server(prefix = "/api", endpoint = "admin/rotate_api_key")]
pub async fn rotate_api_key() -> Result<String, AppError> {
    let (session, state) = crate::state::admin_context().await?;
    Ok(
        domain::orders::rotate_api_key(&state.auth.db, session.supplier_id, session.account_id)
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_beijing() {
        // 2026-11-20 10:30:00 +08:00
        assert_eq!(format_time(1_795_141_800_000), "2026-11-20 10:30");
        assert_eq!(format_time(0), "1970-01-01 08:00");
        // 2024-02-29 23:59 +08:00 (leap day)
        assert_eq!(format_time(1_709_222_340_000), "2024-02-29 23:59");
    }
}
