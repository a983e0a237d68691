//! A buyer's orders as agents and the buyer see them: the 采购人订单 panel a page at a time, the
//! order cards in a chat's history, and an order's detail with the phone masked.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{MAX_PAGE, MAX_SUMMARY_IDS, ORDERS_PAGE_SIZE, safe_picture_url};
use crate::DomainError;
use crate::entity::{buyer, order_item, purchase_order};

/// One order as a card: in the 采购人订单 panel and as the order card in the chat (the browser
/// shows the same type).
pub use vocab::orders::OrderSummary as OrderSummaryRow;

/// A page of a buyer's orders, newest first; more follow when `has_more` (加载更多).
pub use vocab::orders::OrdersPage;

/// One line of an order's detail (the browser shows the same type).
pub use vocab::orders::OrderItemLine as OrderItemRow;

/// An order's detail as an agent or its buyer sees it (the browser shows the same type).
pub use vocab::orders::OrderDetail as OrderDetailRow;

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
            order_id: o.id,
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
        .map(|row| (row.order_id, row))
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
        order_id: order.id,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_masked() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("+8613812345678"), "+86****5678");
        assert_eq!(mask_phone("0571-8888"), "05****88");
        assert_eq!(mask_phone("12345"), "****");
        assert!(!mask_phone("13812345678").contains("1234"));
    }
}
