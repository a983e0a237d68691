//! Looks into a supplier's orders and accounts, for the order tests.

use domain::entity::{account, purchase_order};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

/// The id of the supplier's admin account.
pub async fn admin_of(db: &DatabaseConnection, supplier_id: i64) -> i64 {
    account::Entity::find()
        .filter(account::Column::SupplierId.eq(supplier_id))
        .filter(account::Column::Role.eq(account::ROLE_ADMIN))
        .one(db)
        .await
        .expect("admin")
        .expect("admin exists")
        .id
}

/// How many orders the database holds, of every supplier.
pub async fn order_count(db: &DatabaseConnection) -> u64 {
    purchase_order::Entity::find()
        .count(db)
        .await
        .expect("count")
}
