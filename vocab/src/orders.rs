//! Orders as the domain reads them and the browser shows them: the card (in the 采购人订单 panel
//! and in the chat), a page of cards, and an order's detail (订单详情). One type each for both
//! sides, so a column is added once; and [`format_fen`], how an amount reads on both.

use serde::{Deserialize, Serialize};

/// An order as a card: in the 采购人订单 panel and as the order card sent into the chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    /// The order's id.
    pub order_id: i64,
    /// 订单编号.
    pub order_no: String,
    /// 待付款, 待发货, 已发货, 待验收, 已完成, 已取消 or 售后中.
    pub status: String,
    /// 下单时间, unix ms.
    pub created_at: i64,
    /// The order's total, fen.
    pub total_fen: i64,
    /// 件数: the sum of the quantities of every line (what the buyer counts as pieces).
    pub item_count: i64,
    /// The first line's picture: an http(s) URL or a site path, already checked.
    pub picture_url: Option<String>,
}

/// A page of a buyer's orders, newest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdersPage {
    /// The cards of this page.
    pub orders: Vec<OrderSummary>,
    /// More orders follow (加载更多); false on the last page (没有更多了).
    pub has_more: bool,
}

/// One line of an order's detail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItemLine {
    /// The line's picture: an http(s) URL or a site path, already checked.
    pub picture_url: Option<String>,
    /// 商品名称.
    pub name: String,
    /// 规格.
    pub spec: String,
    /// 单价, fen.
    pub unit_price_fen: i64,
    /// 数量.
    pub quantity: i64,
    /// 单价 × 数量, fen.
    pub subtotal_fen: i64,
}

/// An order's detail as an agent or its buyer sees it: the phone is already masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDetail {
    /// The order's id.
    pub order_id: i64,
    /// 订单编号.
    pub order_no: String,
    /// 待付款, 待发货, 已发货, 待验收, 已完成, 已取消 or 售后中.
    pub status: String,
    /// 下单时间, unix ms.
    pub created_at: i64,
    /// 付款时间, unix ms.
    pub paid_at: Option<i64>,
    /// Last change, unix ms.
    pub updated_at: i64,
    /// Sum of the lines' subtotals, fen.
    pub goods_fen: i64,
    /// 运费, fen.
    pub freight_fen: i64,
    /// The order's total, fen.
    pub total_fen: i64,
    /// 收货人.
    pub consignee_name: String,
    /// e.g. `138****5678`; the full phone never leaves the domain.
    pub consignee_phone_masked: String,
    /// 收货地址.
    pub consignee_address: String,
    /// 物流公司.
    pub logistics_company: Option<String>,
    /// 物流单号.
    pub tracking_no: Option<String>,
    /// The lines, in the order they were imported.
    pub items: Vec<OrderItemLine>,
}

/// Fen as yuan with thousands separators, integer maths only: `123450` → `¥1,234.50`.
pub fn format_fen(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    let yuan = (abs / 100).to_string();
    let mut grouped = String::with_capacity(yuan.len() + yuan.len() / 3);
    for (i, c) in yuan.chars().enumerate() {
        if i > 0 && (yuan.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}¥{grouped}.{:02}", abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fen_formats_with_integer_maths() {
        assert_eq!(format_fen(0), "¥0.00");
        assert_eq!(format_fen(5), "¥0.05");
        assert_eq!(format_fen(123_450), "¥1,234.50");
        assert_eq!(format_fen(99_999_999), "¥999,999.99");
        assert_eq!(format_fen(-150), "-¥1.50");
    }
}
