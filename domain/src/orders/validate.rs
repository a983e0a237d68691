//! The rules of an order from the mall (the HTTP API and the .xlsx import alike): every field
//! checked, trimmed, and the total computed in fen.

use serde::{Deserialize, Serialize};

use super::{
    MAX_ADDRESS_CHARS, MAX_AMOUNT_FEN, MAX_BUYER_ID_CHARS, MAX_BUYER_NAME_CHARS,
    MAX_BUYER_UNIT_CHARS, MAX_CONSIGNEE_NAME_CHARS, MAX_ITEM_NAME_CHARS, MAX_ITEM_SPEC_CHARS,
    MAX_ITEMS, MAX_LOGISTICS_CHARS, MAX_ORDER_NO_CHARS, MAX_PHONE_CHARS, MAX_PICTURE_URL_LEN,
    MAX_QUANTITY, MAX_TIME_MS, MAX_TOTAL_FEN, MIN_TIME_MS,
};
use crate::DomainError;
use crate::entity::purchase_order;

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

/// The rule of a text field of the order: its name on the wire, its label in the reasons, and
/// how many characters it takes (a `min` of 0: it may be left empty).
struct TextRule {
    field: &'static str,
    label: &'static str,
    min: usize,
    max: usize,
}

impl TextRule {
    const fn new(field: &'static str, label: &'static str, min: usize, max: usize) -> Self {
        TextRule {
            field,
            label,
            min,
            max,
        }
    }

    /// The trimmed value, or the reason it breaks the rule.
    fn check(&self, value: &str) -> Result<String, FieldError> {
        text(value, self.field, self.label, self.min, self.max)
    }

    /// The trimmed value, `None` when absent or empty.
    fn check_optional(&self, value: Option<&str>) -> Result<Option<String>, FieldError> {
        let value = self.check(value.unwrap_or_default())?;
        Ok((!value.is_empty()).then_some(value))
    }
}

const ORDER_NO: TextRule = TextRule::new("order_no", "订单编号", 1, MAX_ORDER_NO_CHARS);
const BUYER_ID: TextRule = TextRule::new("buyer_id", "客户编号", 1, MAX_BUYER_ID_CHARS);
const BUYER_NAME: TextRule = TextRule::new("buyer_name", "客户名称", 1, MAX_BUYER_NAME_CHARS);
const BUYER_UNIT: TextRule = TextRule::new("buyer_unit", "单位名称", 0, MAX_BUYER_UNIT_CHARS);
const CONSIGNEE_NAME: TextRule =
    TextRule::new("consignee_name", "收货人", 1, MAX_CONSIGNEE_NAME_CHARS);
const CONSIGNEE_PHONE: TextRule = TextRule::new("consignee_phone", "收货电话", 1, MAX_PHONE_CHARS);
const CONSIGNEE_ADDRESS: TextRule =
    TextRule::new("consignee_address", "收货地址", 1, MAX_ADDRESS_CHARS);
const LOGISTICS_COMPANY: TextRule =
    TextRule::new("logistics_company", "物流公司", 0, MAX_LOGISTICS_CHARS);
const TRACKING_NO: TextRule = TextRule::new("tracking_no", "物流单号", 0, MAX_LOGISTICS_CHARS);

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
    let order_no = order_no(&input.order_no)?;
    let (buyer_external_id, buyer_name, buyer_unit) = buyer(input)?;
    let status = status(&input.status)?;
    let created_at = time(input.created_at, "created_at", "下单时间")?;
    let paid_at = input
        .paid_at
        .map(|t| time(t, "paid_at", "付款时间"))
        .transpose()?;
    let freight_fen = amount(input.freight_fen, "freight_fen", "运费")?;
    let (consignee_name, consignee_phone, consignee_address) = consignee(input)?;
    let logistics_company = LOGISTICS_COMPANY.check_optional(input.logistics_company.as_deref())?;
    let tracking_no = TRACKING_NO.check_optional(input.tracking_no.as_deref())?;
    let (items, total_fen) = items(&input.items, freight_fen)?;
    Ok(ValidOrder {
        order_no,
        buyer_external_id,
        buyer_name,
        buyer_unit,
        status,
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

/// 订单编号: 1–64 characters, no spaces.
fn order_no(value: &str) -> Result<String, FieldError> {
    let order_no = ORDER_NO.check(value)?;
    if order_no.chars().any(char::is_whitespace) {
        return Err(FieldError::new("order_no", "订单编号不能包含空格"));
    }
    Ok(order_no)
}

/// 客户编号, 客户名称 and 单位名称.
fn buyer(input: &OrderInput) -> Result<(String, String, String), FieldError> {
    let external_id = BUYER_ID.check(&input.buyer_id)?;
    let name = BUYER_NAME.check(&input.buyer_name)?;
    let unit = BUYER_UNIT.check(&input.buyer_unit)?;
    Ok((external_id, name, unit))
}

/// 订单状态: one of [`purchase_order::STATUSES`].
fn status(value: &str) -> Result<String, FieldError> {
    let status = value.trim();
    if !purchase_order::STATUSES.contains(&status) {
        return Err(FieldError::new(
            "status",
            format!(
                "订单状态须为以下之一：{}",
                purchase_order::STATUSES.join("、")
            ),
        ));
    }
    Ok(status.to_owned())
}

/// 收货人, 收货电话 (digits and `+-() `) and 收货地址.
fn consignee(input: &OrderInput) -> Result<(String, String, String), FieldError> {
    let name = CONSIGNEE_NAME.check(&input.consignee_name)?;
    let phone = CONSIGNEE_PHONE.check(&input.consignee_phone)?;
    if !phone
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'))
    {
        return Err(FieldError::new(
            "consignee_phone",
            "收货电话只能包含数字、+、-、括号和空格",
        ));
    }
    let address = CONSIGNEE_ADDRESS.check(&input.consignee_address)?;
    Ok((name, phone, address))
}

/// The order's 1–100 lines, each checked, and the order total: the lines' subtotals plus
/// `freight_fen`, at most [`MAX_TOTAL_FEN`].
fn items(input: &[OrderItemInput], freight_fen: i64) -> Result<(Vec<ValidItem>, i64), FieldError> {
    if input.is_empty() {
        return Err(FieldError::new("items", "订单至少要有 1 个商品"));
    }
    if input.len() > MAX_ITEMS {
        return Err(FieldError::new(
            "items",
            format!("一个订单最多 {MAX_ITEMS} 个商品"),
        ));
    }
    let mut items = Vec::with_capacity(input.len());
    let mut total_fen = freight_fen;
    for (i, item) in input.iter().enumerate() {
        let valid = line(i, item)?;
        // Both factors are capped, so this cannot overflow; checked anyway.
        total_fen = valid
            .unit_price_fen
            .checked_mul(i64::from(valid.quantity))
            .and_then(|sub| total_fen.checked_add(sub))
            .filter(|t| *t <= MAX_TOTAL_FEN)
            .ok_or_else(|| FieldError::new("items", "订单总金额超出上限（100 亿元）"))?;
        items.push(valid);
    }
    Ok((items, total_fen))
}

/// Line `i` (0-based; the reasons count from 1) of an order.
fn line(i: usize, item: &OrderItemInput) -> Result<ValidItem, FieldError> {
    let n = i + 1;
    let field = |name: &str| format!("items[{i}].{name}");
    let item_text = |value: &str, key: &str, what: &str, min: usize, max: usize| {
        text(
            value,
            &field(key),
            &format!("第 {n} 个商品的{what}"),
            min,
            max,
        )
    };
    let name = item_text(&item.name, "name", "商品名称", 1, MAX_ITEM_NAME_CHARS)?;
    let spec = item_text(&item.spec, "spec", "规格", 0, MAX_ITEM_SPEC_CHARS)?;
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
    Ok(ValidItem {
        name,
        spec,
        picture_url,
        unit_price_fen,
        quantity: i32::try_from(item.quantity)
            .map_err(|_| FieldError::new(field("quantity"), "数量超出范围"))?,
    })
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
}
