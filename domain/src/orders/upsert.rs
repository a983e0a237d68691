//! Writing an order from the mall: created, or replaced by order number, with its buyer.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set,
};
use serde::{Deserialize, Serialize};

use super::{OrderInput, ValidOrder, validate_order};
use crate::DomainError;
use crate::db::begin_write;
use crate::entity::{buyer, order_item, purchase_order, supplier};
use crate::error::is_unique_violation;

/// What [`upsert_order`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpsertOutcome {
    /// True when the order was new, false when an existing one was replaced.
    pub created: bool,
    pub order_id: i64,
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
