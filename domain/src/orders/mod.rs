//! Orders beside the chat (§7): a buyer's orders with a supplier, a page at a time, an order's
//! detail with the consignee's phone masked, and the two ways orders come in (the mall's HTTP
//! API through [`upsert_order`], and the admin's .xlsx [`import`]).
//!
//! Every read is scoped by supplier AND buyer: an order of another supplier or another buyer is
//! [`DomainError::NotFound`], exactly like one that does not exist. Amounts are integer fen (分)
//! everywhere; the only place yuan appear is the .xlsx sheet, parsed as decimal text in
//! [`money`].

pub mod api_key;
pub mod import;
pub mod money;

use std::collections::HashMap;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::db::begin_write;
use crate::entity::{buyer, order_item, purchase_order, supplier};
use crate::error::is_unique_violation;

pub use api_key::{ApiKeyStatus, api_key_status, rotate_api_key, supplier_for_api_key};
pub use import::{ImportError, ImportReport, RowError, import_orders_xlsx, orders_template_xlsx};

/// Orders per page of the agent's 采购人订单 panel.
pub const ORDERS_PAGE_SIZE: u64 = 5;
/// Highest page index [`list_for_buyer`] accepts (keeps offsets sane).
pub const MAX_PAGE: u64 = 10_000;
/// Most ids [`summaries_by_ids`] looks up at once.
pub const MAX_SUMMARY_IDS: usize = 200;
/// Longest picture URL kept (the `order_item.picture_url` column).
pub const MAX_PICTURE_URL_LEN: usize = 500;
/// Longest order number (the mall's 订单编号).
pub const MAX_ORDER_NO_CHARS: usize = 64;
/// Most items (lines) in one order.
pub const MAX_ITEMS: usize = 100;
/// Most pieces of one line.
pub const MAX_QUANTITY: i64 = 1_000_000;
/// Highest unit price or freight: 1 亿元 in fen.
pub const MAX_AMOUNT_FEN: i64 = 10_000_000_000;
/// Highest order total: 100 亿元 in fen (far inside i64 even at the item maxima).
pub const MAX_TOTAL_FEN: i64 = 1_000_000_000_000;
/// Item name length (the column is 200).
pub const MAX_ITEM_NAME_CHARS: usize = 200;
/// Item spec length (the column is 200).
pub const MAX_ITEM_SPEC_CHARS: usize = 200;
/// Longest 客户编号 (as in the buyer token).
pub const MAX_BUYER_ID_CHARS: usize = 64;
/// Longest buyer name (as in the buyer token).
pub const MAX_BUYER_NAME_CHARS: usize = 32;
/// Longest budget unit (as in the buyer token).
pub const MAX_BUYER_UNIT_CHARS: usize = 64;
/// Consignee name length (the column is 64).
pub const MAX_CONSIGNEE_NAME_CHARS: usize = 64;
/// Consignee phone length (the column is 32).
pub const MAX_PHONE_CHARS: usize = 32;
/// Address length (the column is 255).
pub const MAX_ADDRESS_CHARS: usize = 255;
/// Logistics company and tracking number length (the columns are 64).
pub const MAX_LOGISTICS_CHARS: usize = 64;
/// Earliest accepted time: 2000-01-01 UTC, in ms.
pub const MIN_TIME_MS: i64 = 946_684_800_000;
/// Latest accepted time: 2100-01-01 UTC, in ms.
pub const MAX_TIME_MS: i64 = 4_102_444_800_000;

/// One order as a card: in the 采购人订单 panel and as the order card in the chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummaryRow {
    pub id: i64,
    pub order_no: String,
    pub status: String,
    /// 下单时间, unix ms.
    pub created_at: i64,
    pub total_fen: i64,
    /// 件数: the sum of the quantities of every line (what the buyer counts as pieces).
    pub item_count: i64,
    /// The first line's picture, when it passes [`safe_picture_url`].
    pub picture_url: Option<String>,
}

/// A page of a buyer's orders, newest first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdersPage {
    pub orders: Vec<OrderSummaryRow>,
    /// True when [`list_for_buyer`] with the next page returns more orders (加载更多).
    pub has_more: bool,
}

/// One line of an order's detail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItemRow {
    pub picture_url: Option<String>,
    pub name: String,
    pub spec: String,
    pub unit_price_fen: i64,
    pub quantity: i64,
    pub subtotal_fen: i64,
}

/// An order's detail as an agent or its buyer sees it: the phone is already masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDetailRow {
    pub id: i64,
    pub order_no: String,
    pub status: String,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub updated_at: i64,
    /// Sum of the lines' subtotals.
    pub goods_fen: i64,
    pub freight_fen: i64,
    pub total_fen: i64,
    pub consignee_name: String,
    /// e.g. `138****5678`; the full phone never leaves the domain.
    pub consignee_phone_masked: String,
    pub consignee_address: String,
    pub logistics_company: Option<String>,
    pub tracking_no: Option<String>,
    pub items: Vec<OrderItemRow>,
}

/// An order as the mall sends it (the HTTP API's JSON body; the .xlsx import builds the same).
///
/// The total is not sent: it is the lines' subtotals plus the freight, computed here in fen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    /// 订单编号, 1–64 characters; unique per supplier, the key of the upsert.
    pub order_no: String,
    /// 客户编号 (the buyer's id in the mall, as in the buyer token).
    pub buyer_id: String,
    /// 客户名称: used when the buyer is new to this system.
    pub buyer_name: String,
    /// 单位名称.
    #[serde(default)]
    pub buyer_unit: String,
    /// One of 待付款, 待发货, 已发货, 待验收, 已完成, 已取消, 售后中.
    pub status: String,
    /// 下单时间, unix milliseconds.
    pub created_at: i64,
    /// 付款时间, unix milliseconds.
    #[serde(default)]
    pub paid_at: Option<i64>,
    /// 运费 in fen.
    #[serde(default)]
    pub freight_fen: i64,
    pub consignee_name: String,
    /// Stored in full, only ever shown masked.
    pub consignee_phone: String,
    pub consignee_address: String,
    #[serde(default)]
    pub logistics_company: Option<String>,
    #[serde(default)]
    pub tracking_no: Option<String>,
    /// 1–100 lines.
    pub items: Vec<OrderItemInput>,
}

/// One line of an [`OrderInput`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderItemInput {
    pub name: String,
    #[serde(default)]
    pub spec: String,
    /// http(s) URL or a site path starting with `/`; see [`safe_picture_url`].
    #[serde(default)]
    pub picture_url: Option<String>,
    /// 单价 in fen.
    pub unit_price_fen: i64,
    /// 1–1,000,000.
    pub quantity: i64,
}

/// What [`upsert_order`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpsertOutcome {
    /// True when the order was new, false when an existing one was replaced.
    pub created: bool,
    pub order_id: i64,
}

/// A picture URL that may be put in an `<img src>`: an absolute `http://` / `https://` URL with a
/// host, or a path on this site starting with a single `/` (the demo pictures). Everything else
/// (`javascript:`, `data:`, `//host`, backslashes, whitespace or control characters, quotes and
/// angle brackets, over [`MAX_PICTURE_URL_LEN`] bytes) is refused with `None`.
pub fn safe_picture_url(url: &str) -> Option<String> {
    let url = url.trim();
    if url.is_empty() || url.len() > MAX_PICTURE_URL_LEN {
        return None;
    }
    if url.chars().any(|c| {
        c.is_control() || c.is_whitespace() || matches!(c, '\\' | '"' | '\'' | '<' | '>' | '`')
    }) {
        return None;
    }
    if url.starts_with('/') {
        return (!url.starts_with("//")).then(|| url.to_owned());
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // A host, and no user-info trick (`http://good@evil`).
    if host.is_empty() || host.contains('@') || rest.starts_with('/') {
        return None;
    }
    Some(url.to_owned())
}

/// The phone as shown to agents and buyers: `13812345678` → `138****5678`; shorter numbers keep
/// less (7–10 characters: first and last two; under 7: `****`).
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    let n = chars.len();
    if n >= 11 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[n - 4..].iter().collect();
        format!("{head}****{tail}")
    } else if n >= 7 {
        let head: String = chars[..2].iter().collect();
        let tail: String = chars[n - 2..].iter().collect();
        format!("{head}****{tail}")
    } else {
        "****".to_owned()
    }
}

/// A buyer's internal id from the 客户编号 the mall gave (the buyer token's `buyer_id`).
pub async fn buyer_id_by_external(
    db: &DatabaseConnection,
    supplier_id: i64,
    external_id: &str,
) -> Result<i64, DomainError> {
    buyer::Entity::find()
        .filter(buyer::Column::SupplierId.eq(supplier_id))
        .filter(buyer::Column::ExternalId.eq(external_id.trim()))
        .one(db)
        .await?
        .map(|b| b.id)
        .ok_or(DomainError::NotFound)
}

/// Cards for orders, in the given order, from their lines.
async fn summaries<C: ConnectionTrait>(
    db: &C,
    orders: Vec<purchase_order::Model>,
) -> Result<Vec<OrderSummaryRow>, DomainError> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let items = order_item::Entity::find()
        .filter(order_item::Column::OrderId.is_in(ids))
        .order_by_asc(order_item::Column::Id)
        .all(db)
        .await?;
    let mut counts: HashMap<i64, i64> = HashMap::new();
    let mut pictures: HashMap<i64, Option<String>> = HashMap::new();
    for item in items {
        *counts.entry(item.order_id).or_default() += i64::from(item.quantity);
        pictures
            .entry(item.order_id)
            .or_insert_with(|| safe_picture_url(&item.picture_url));
    }
    Ok(orders
        .into_iter()
        .map(|o| OrderSummaryRow {
            item_count: counts.get(&o.id).copied().unwrap_or(0),
            picture_url: pictures.remove(&o.id).flatten(),
            id: o.id,
            order_no: o.order_no,
            status: o.status,
            created_at: o.created_at,
            total_fen: o.total_fen,
        })
        .collect())
}

/// Page `page` (0 is the newest) of a buyer's orders with a supplier, [`ORDERS_PAGE_SIZE`] at a
/// time, newest first (下单时间, then id, both descending, so paging is stable).
pub async fn list_for_buyer(
    db: &DatabaseConnection,
    supplier_id: i64,
    buyer_id: i64,
    page: u64,
) -> Result<OrdersPage, DomainError> {
    if page > MAX_PAGE {
        return Err(DomainError::validation("page", "页码超出范围"));
    }
    let mut orders = purchase_order::Entity::find()
        .filter(purchase_order::Column::SupplierId.eq(supplier_id))
        .filter(purchase_order::Column::BuyerId.eq(buyer_id))
        .order_by_desc(purchase_order::Column::CreatedAt)
        .order_by_desc(purchase_order::Column::Id)
        .offset(page * ORDERS_PAGE_SIZE)
        // One more than a page tells whether there is a next one.
        .limit(ORDERS_PAGE_SIZE + 1)
        .all(db)
        .await?;
    let has_more = orders.len() as u64 > ORDERS_PAGE_SIZE;
    orders.truncate(ORDERS_PAGE_SIZE as usize);
    Ok(OrdersPage {
        orders: summaries(db, orders).await?,
        has_more,
    })
}

/// Cards for the given order ids that are this supplier's and this buyer's (for the order cards
/// in a chat's history); ids of anyone else's orders are simply absent from the map.
pub async fn summaries_by_ids(
    db: &DatabaseConnection,
    supplier_id: i64,
    buyer_id: i64,
    ids: &[i64],
) -> Result<HashMap<i64, OrderSummaryRow>, DomainError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    if ids.len() > MAX_SUMMARY_IDS {
        return Err(DomainError::validation("ids", "一次查询的订单过多"));
    }
    let orders = purchase_order::Entity::find()
        .filter(purchase_order::Column::SupplierId.eq(supplier_id))
        .filter(purchase_order::Column::BuyerId.eq(buyer_id))
        .filter(purchase_order::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    Ok(summaries(db, orders)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect())
}

/// An order's detail, if it is this supplier's and this buyer's; otherwise `NotFound`.
pub async fn detail(
    db: &DatabaseConnection,
    supplier_id: i64,
    buyer_id: i64,
    order_id: i64,
) -> Result<OrderDetailRow, DomainError> {
    let order = purchase_order::Entity::find_by_id(order_id)
        .filter(purchase_order::Column::SupplierId.eq(supplier_id))
        .filter(purchase_order::Column::BuyerId.eq(buyer_id))
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let items: Vec<OrderItemRow> = order_item::Entity::find()
        .filter(order_item::Column::OrderId.eq(order.id))
        .order_by_asc(order_item::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|item| OrderItemRow {
            picture_url: safe_picture_url(&item.picture_url),
            subtotal_fen: item.unit_price_fen.saturating_mul(i64::from(item.quantity)),
            name: item.name,
            spec: item.spec,
            unit_price_fen: item.unit_price_fen,
            quantity: i64::from(item.quantity),
        })
        .collect();
    let goods_fen = items
        .iter()
        .map(|i| i.subtotal_fen)
        .fold(0i64, i64::saturating_add);
    Ok(OrderDetailRow {
        id: order.id,
        order_no: order.order_no,
        status: order.status,
        created_at: order.created_at,
        paid_at: order.paid_at,
        updated_at: order.updated_at,
        goods_fen,
        freight_fen: order.freight_fen,
        total_fen: order.total_fen,
        consignee_name: order.consignee_name,
        consignee_phone_masked: mask_phone(&order.consignee_phone),
        consignee_address: order.consignee_address,
        logistics_company: order.logistics_company,
        tracking_no: order.tracking_no,
        items,
    })
}

/// An input that broke a rule: `field` names it as the API client wrote it
/// (`items[3].quantity`), `reason` is Chinese and names it too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<FieldError> for DomainError {
    fn from(err: FieldError) -> Self {
        DomainError::FieldInvalid {
            field: err.field,
            reason: err.reason,
        }
    }
}

/// An [`OrderInput`] that passed [`validate_order`]: trimmed, with its total computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidOrder {
    pub order_no: String,
    pub buyer_external_id: String,
    pub buyer_name: String,
    pub buyer_unit: String,
    pub status: String,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub freight_fen: i64,
    pub total_fen: i64,
    pub consignee_name: String,
    pub consignee_phone: String,
    pub consignee_address: String,
    pub logistics_company: Option<String>,
    pub tracking_no: Option<String>,
    pub items: Vec<ValidItem>,
}

/// A checked line of a [`ValidOrder`]; `picture_url` is empty when there is none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidItem {
    pub name: String,
    pub spec: String,
    pub picture_url: String,
    pub unit_price_fen: i64,
    pub quantity: i32,
}

/// A trimmed text of `min..=max` characters without control characters.
fn text(
    value: &str,
    field: &str,
    label: &str,
    min: usize,
    max: usize,
) -> Result<String, FieldError> {
    let value = value.trim();
    let chars = value.chars().count();
    if chars < min {
        return Err(FieldError::new(field, format!("请填写{label}")));
    }
    if chars > max {
        return Err(FieldError::new(
            field,
            format!("{label}不能超过 {max} 个字符"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(field, format!("{label}不能包含控制字符")));
    }
    Ok(value.to_owned())
}

fn optional_text(
    value: Option<&str>,
    field: &str,
    label: &str,
    max: usize,
) -> Result<Option<String>, FieldError> {
    let value = text(value.unwrap_or_default(), field, label, 0, max)?;
    Ok((!value.is_empty()).then_some(value))
}

fn amount(value: i64, field: &str, label: &str) -> Result<i64, FieldError> {
    if value < 0 {
        return Err(FieldError::new(field, format!("{label}不能为负数")));
    }
    if value > MAX_AMOUNT_FEN {
        return Err(FieldError::new(field, format!("{label}超出上限（1 亿元）")));
    }
    Ok(value)
}

fn time(value: i64, field: &str, label: &str) -> Result<i64, FieldError> {
    if !(MIN_TIME_MS..=MAX_TIME_MS).contains(&value) {
        return Err(FieldError::new(
            field,
            format!("{label}须为 2000 年至 2100 年之间的 Unix 毫秒时间戳"),
        ));
    }
    Ok(value)
}

/// Checks every rule of an order from the mall; the first broken one is returned, naming its
/// field (`items[3].quantity`).
pub fn validate_order(input: &OrderInput) -> Result<ValidOrder, FieldError> {
    let order_no = text(
        &input.order_no,
        "order_no",
        "订单编号",
        1,
        MAX_ORDER_NO_CHARS,
    )?;
    if order_no.chars().any(char::is_whitespace) {
        return Err(FieldError::new("order_no", "订单编号不能包含空格"));
    }
    let buyer_external_id = text(
        &input.buyer_id,
        "buyer_id",
        "客户编号",
        1,
        MAX_BUYER_ID_CHARS,
    )?;
    let buyer_name = text(
        &input.buyer_name,
        "buyer_name",
        "客户名称",
        1,
        MAX_BUYER_NAME_CHARS,
    )?;
    let buyer_unit = text(
        &input.buyer_unit,
        "buyer_unit",
        "单位名称",
        0,
        MAX_BUYER_UNIT_CHARS,
    )?;
    let status = input.status.trim();
    if !purchase_order::STATUSES.contains(&status) {
        return Err(FieldError::new(
            "status",
            format!(
                "订单状态须为以下之一：{}",
                purchase_order::STATUSES.join("、")
            ),
        ));
    }
    let created_at = time(input.created_at, "created_at", "下单时间")?;
    let paid_at = input
        .paid_at
        .map(|t| time(t, "paid_at", "付款时间"))
        .transpose()?;
    let freight_fen = amount(input.freight_fen, "freight_fen", "运费")?;
    let consignee_name = text(
        &input.consignee_name,
        "consignee_name",
        "收货人",
        1,
        MAX_CONSIGNEE_NAME_CHARS,
    )?;
    let consignee_phone = text(
        &input.consignee_phone,
        "consignee_phone",
        "收货电话",
        1,
        MAX_PHONE_CHARS,
    )?;
    if !consignee_phone
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'))
    {
        return Err(FieldError::new(
            "consignee_phone",
            "收货电话只能包含数字、+、-、括号和空格",
        ));
    }
    let consignee_address = text(
        &input.consignee_address,
        "consignee_address",
        "收货地址",
        1,
        MAX_ADDRESS_CHARS,
    )?;
    let logistics_company = optional_text(
        input.logistics_company.as_deref(),
        "logistics_company",
        "物流公司",
        MAX_LOGISTICS_CHARS,
    )?;
    let tracking_no = optional_text(
        input.tracking_no.as_deref(),
        "tracking_no",
        "物流单号",
        MAX_LOGISTICS_CHARS,
    )?;
    if input.items.is_empty() {
        return Err(FieldError::new("items", "订单至少要有 1 个商品"));
    }
    if input.items.len() > MAX_ITEMS {
        return Err(FieldError::new(
            "items",
            format!("一个订单最多 {MAX_ITEMS} 个商品"),
        ));
    }
    let mut items = Vec::with_capacity(input.items.len());
    let mut total_fen = freight_fen;
    for (i, item) in input.items.iter().enumerate() {
        let n = i + 1;
        let field = |name: &str| format!("items[{i}].{name}");
        let name = text(
            &item.name,
            &field("name"),
            &format!("第 {n} 个商品的商品名称"),
            1,
            MAX_ITEM_NAME_CHARS,
        )?;
        let spec = text(
            &item.spec,
            &field("spec"),
            &format!("第 {n} 个商品的规格"),
            0,
            MAX_ITEM_SPEC_CHARS,
        )?;
        let picture_url = match item.picture_url.as_deref().map(str::trim) {
            None | Some("") => String::new(),
            Some(url) => safe_picture_url(url).ok_or_else(|| {
                FieldError::new(
                    field("picture_url"),
                    format!(
                        "第 {n} 个商品的图片地址须为 http(s) 网址或以 / 开头的站内路径，且不超过 {MAX_PICTURE_URL_LEN} 个字符"
                    ),
                )
            })?,
        };
        let unit_price_fen = amount(
            item.unit_price_fen,
            &field("unit_price_fen"),
            &format!("第 {n} 个商品的单价"),
        )?;
        if !(1..=MAX_QUANTITY).contains(&item.quantity) {
            return Err(FieldError::new(
                field("quantity"),
                format!("第 {n} 个商品的数量须为 1–{MAX_QUANTITY} 的整数"),
            ));
        }
        // Both factors are capped, so this cannot overflow; checked anyway.
        total_fen = unit_price_fen
            .checked_mul(item.quantity)
            .and_then(|sub| total_fen.checked_add(sub))
            .filter(|t| *t <= MAX_TOTAL_FEN)
            .ok_or_else(|| FieldError::new("items", "订单总金额超出上限（100 亿元）"))?;
        items.push(ValidItem {
            name,
            spec,
            picture_url,
            unit_price_fen,
            quantity: i32::try_from(item.quantity)
                .map_err(|_| FieldError::new(field("quantity"), "数量超出范围"))?,
        });
    }
    Ok(ValidOrder {
        order_no,
        buyer_external_id,
        buyer_name,
        buyer_unit,
        status: status.to_owned(),
        created_at,
        paid_at,
        freight_fen,
        total_fen,
        consignee_name,
        consignee_phone,
        consignee_address,
        logistics_company,
        tracking_no,
        items,
    })
}

/// Creates or replaces the supplier's order with this order number (the mall's order number is
/// the idempotency key: sending the same order twice leaves one order). The buyer is found by
/// 客户编号 or created; on update every field and all lines are replaced. One write transaction.
pub async fn upsert_order(
    db: &DatabaseConnection,
    supplier_id: i64,
    input: &OrderInput,
    now: i64,
) -> Result<UpsertOutcome, DomainError> {
    let order = validate_order(input)?;
    let txn = begin_write(db).await?;
    supplier::Entity::find_by_id(supplier_id)
        .one(&txn)
        .await?
        .ok_or(DomainError::NotFound)?;
    let outcome = upsert_in(&txn, supplier_id, &order, now).await?;
    txn.commit().await.map_err(conflict_on_race)?;
    Ok(outcome)
}

fn conflict_on_race(err: sea_orm::DbErr) -> DomainError {
    if is_unique_violation(&err) {
        DomainError::Conflict("同一订单正在被同时写入，请稍后重试".to_owned())
    } else {
        DomainError::Db(err)
    }
}

/// The buyer with this 客户编号, created when new (an existing buyer keeps the name and unit
/// the buyer token last gave).
async fn buyer_for_order(
    txn: &DatabaseTransaction,
    supplier_id: i64,
    order: &ValidOrder,
    now: i64,
) -> Result<i64, DomainError> {
    let row = buyer::ActiveModel {
        supplier_id: Set(supplier_id),
        external_id: Set(order.buyer_external_id.clone()),
        name: Set(order.buyer_name.clone()),
        unit: Set(order.buyer_unit.clone()),
        created_at: Set(now),
        ..Default::default()
    };
    buyer::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([buyer::Column::SupplierId, buyer::Column::ExternalId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    buyer::Entity::find()
        .filter(buyer::Column::SupplierId.eq(supplier_id))
        .filter(buyer::Column::ExternalId.eq(order.buyer_external_id.as_str()))
        .one(txn)
        .await?
        .map(|b| b.id)
        .ok_or_else(|| DomainError::Internal("buyer vanished after insert".to_owned()))
}

/// The upsert inside the caller's write transaction (shared with the import).
pub(crate) async fn upsert_in(
    txn: &DatabaseTransaction,
    supplier_id: i64,
    order: &ValidOrder,
    now: i64,
) -> Result<UpsertOutcome, DomainError> {
    let buyer_id = buyer_for_order(txn, supplier_id, order, now).await?;
    let existing = purchase_order::Entity::find()
        .filter(purchase_order::Column::SupplierId.eq(supplier_id))
        .filter(purchase_order::Column::OrderNo.eq(order.order_no.as_str()))
        .one(txn)
        .await?;
    let mut row = purchase_order::ActiveModel {
        supplier_id: Set(supplier_id),
        buyer_id: Set(buyer_id),
        order_no: Set(order.order_no.clone()),
        status: Set(order.status.clone()),
        total_fen: Set(order.total_fen),
        freight_fen: Set(order.freight_fen),
        created_at: Set(order.created_at),
        paid_at: Set(order.paid_at),
        consignee_name: Set(order.consignee_name.clone()),
        consignee_phone: Set(order.consignee_phone.clone()),
        consignee_address: Set(order.consignee_address.clone()),
        logistics_company: Set(order.logistics_company.clone()),
        tracking_no: Set(order.tracking_no.clone()),
        updated_at: Set(now),
        ..Default::default()
    };
    let (created, order_id) = match existing {
        Some(existing) => {
            row.id = Set(existing.id);
            row.update(txn).await?;
            order_item::Entity::delete_many()
                .filter(order_item::Column::OrderId.eq(existing.id))
                .exec(txn)
                .await?;
            (false, existing.id)
        }
        None => {
            let inserted = row.insert(txn).await.map_err(conflict_on_race)?;
            (true, inserted.id)
        }
    };
    let items: Vec<order_item::ActiveModel> = order
        .items
        .iter()
        .map(|item| order_item::ActiveModel {
            order_id: Set(order_id),
            name: Set(item.name.clone()),
            spec: Set(item.spec.clone()),
            picture_url: Set(item.picture_url.clone()),
            unit_price_fen: Set(item.unit_price_fen),
            quantity: Set(item.quantity),
            ..Default::default()
        })
        .collect();
    order_item::Entity::insert_many(items)
        .exec_without_returning(txn)
        .await?;
    Ok(UpsertOutcome { created, order_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picture_urls() {
        for ok in [
            "https://img.example.com/a.png",
            "http://img.example.com:8080/a.png?x=1",
            "HTTPS://IMG.EXAMPLE.COM/A.PNG",
            "/demo/product-3.svg",
            "  /demo/product-3.svg  ",
        ] {
            assert!(safe_picture_url(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:image/png;base64,AAAA",
            "//evil.example.com/a.png",
            "/\\evil.example.com/a.png",
            "https://",
            "https:///a.png",
            "https://user@evil.example.com/a.png",
            "ftp://example.com/a.png",
            "demo/product-3.svg",
            "https://example.com/a b.png",
            "https://example.com/a\u{0}.png",
            "https://example.com/\"onerror=\"x",
            "vbscript:x",
        ] {
            assert_eq!(safe_picture_url(bad), None, "{bad:?}");
        }
        let long = format!("https://example.com/{}", "a".repeat(481));
        assert_eq!(long.len(), 501);
        assert_eq!(safe_picture_url(&long), None);
        assert!(safe_picture_url(&long[..500]).is_some());
    }

    #[test]
    fn phones_are_masked() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+8613812345678"), "+86****5678");
        assert_eq!(mask_phone("0571-8888"), "05****88");
        assert_eq!(mask_phone("12345"), "****");
        assert!(!mask_phone("13812345678").contains("1234"));
    }
}
