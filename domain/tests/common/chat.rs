//! Buyers and conversations as the chat and report tests set them up.

use domain::chat::BuyerClaims;
use domain::entity::{buyer, conversation};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};

/// The mall's claims for buyer `buyer_id` (张三 of 某市财政局) of the supplier, valid until 2033.
pub fn claims(supplier_id: i64, buyer_id: &str) -> BuyerClaims {
    BuyerClaims {
        v: 1,
        supplier_id,
        buyer_id: buyer_id.to_owned(),
        name: "张三".to_owned(),
        unit: "某市财政局".to_owned(),
        exp: 2_000_000_000,
    }
}

/// The conversation row as stored now.
pub async fn reload(db: &DatabaseConnection, id: i64) -> conversation::Model {
    conversation::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("query")
        .expect("conversation")
}

/// A buyer row written directly, without a token.
pub async fn new_buyer(
    db: &DatabaseConnection,
    supplier_id: i64,
    external_id: &str,
    name: &str,
    unit: &str,
) -> buyer::Model {
    buyer::ActiveModel {
        supplier_id: Set(supplier_id),
        external_id: Set(external_id.to_owned()),
        name: Set(name.to_owned()),
        unit: Set(unit.to_owned()),
        created_at: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("buyer")
}
