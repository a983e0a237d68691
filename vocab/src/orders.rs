//! An order's detail (订单详情) as the domain reads it and the browser shows it: one type for
//! both sides, so a column added to the detail is added once.

use serde::{Deserialize, Serialize};

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
