//! `purchase_order`: this system's copy of a mall order.

use sea_orm::entity::prelude::*;

/// Every order status the mall uses, in the order of an order's life.
pub const STATUSES: [&str; 7] = [
    "待付款",
    "待发货",
    "已发货",
    "待验收",
    "已完成",
    "已取消",
    "售后中",
];

/// An order of a buyer with a supplier; amounts are in fen (分).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purchase_order")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub supplier_id: i64,
    pub buyer_id: i64,
    /// The mall's order number, unique per supplier.
    pub order_no: String,
    /// One of [`STATUSES`].
    pub status: String,
    pub total_fen: i64,
    pub freight_fen: i64,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub consignee_name: String,
    /// Stored in full; masked when shown.
    pub consignee_phone: String,
    pub consignee_address: String,
    pub logistics_company: Option<String>,
    pub tracking_no: Option<String>,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::supplier::Entity",
        from = "Column::SupplierId",
        to = "super::supplier::Column::Id"
    )]
    Supplier,
    #[sea_orm(
        belongs_to = "super::buyer::Entity",
        from = "Column::BuyerId",
        to = "super::buyer::Column::Id"
    )]
    Buyer,
    #[sea_orm(has_many = "super::order_item::Entity")]
    OrderItem,
}

impl Related<super::supplier::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Supplier.def()
    }
}

impl Related<super::buyer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Buyer.def()
    }
}

impl Related<super::order_item::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OrderItem.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
