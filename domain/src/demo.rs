//! Demo data so a person can try the product locally: two suppliers with their admins and
//! agents, buyers from different budget units, and a few dozen farm-product orders.
//!
//! Logins (all passwords are shown here on purpose; this is demo data):
//! - 示例农产品供应商: admin `demo_admin` / `Demo@832admin`; agents 客服小童 and 客服小李 whose
//!   logins follow the 工号 rule (`kf101`, `kf102` on a fresh database) / `Demo@832agent`.
//! - 山区茶叶合作社 (for tenant tests): admin `demo_admin2` / `Demo@832admin`; agent 茶社客服 /
//!   `Demo@832agent`.

use chrono::{FixedOffset, TimeZone};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use crate::DomainError;
use crate::accounts::{create_agent, create_supplier};
use crate::db::{begin_write, now_ms};
use crate::entity::{account, buyer, order_item, purchase_order, supplier};
use crate::password::PasswordHasher;

/// The first demo supplier.
pub const SUPPLIER_NAME: &str = "示例农产品供应商";
/// The second demo supplier (another tenant).
pub const SUPPLIER2_NAME: &str = "山区茶叶合作社";
/// Admin login of the first demo supplier.
pub const ADMIN_LOGIN: &str = "demo_admin";
/// Admin login of the second demo supplier.
pub const ADMIN2_LOGIN: &str = "demo_admin2";
/// Password of both demo admins.
pub const ADMIN_PASSWORD: &str = "Demo@832admin";
/// Password of every demo agent.
pub const AGENT_PASSWORD: &str = "Demo@832agent";
/// Display names of the first supplier's agents.
pub const AGENT_NAMES: [&str; 2] = ["客服小童", "客服小李"];
/// Display name of the second supplier's agent.
pub const AGENT2_NAME: &str = "茶社客服";

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const MINUTE_MS: i64 = 60 * 1000;

/// (客户编号, name, unit, delivery address) of the first supplier's buyers.
const BUYERS: [(&str, &str, &str, &str); 3] = [
    (
        "CG1001",
        "王采购",
        "某县第一中学",
        "某省某县城关镇学府路 18 号 某县第一中学 食堂",
    ),
    (
        "CG1002",
        "李老师",
        "某市人民医院",
        "某省某市健康大道 66 号 某市人民医院 后勤处",
    ),
    (
        "CG1003",
        "赵科长",
        "某区农业农村局",
        "某省某市某区政务中心 3 号楼 农业农村局 201 室",
    ),
];
/// The second supplier's buyer.
const BUYER2: (&str, &str, &str, &str) = (
    "CG2001",
    "孙主任",
    "某镇卫生院",
    "某省某县某镇中心街 9 号 某镇卫生院 办公室",
);

/// (name, spec, unit price in fen, picture number) of the first supplier's products.
const FARM_PRODUCTS: [(&str, &str, i64, u32); 8] = [
    ("高山小米", "5kg/袋", 6_800, 1),
    ("土蜂蜜", "500g/瓶", 5_800, 2),
    ("野生木耳", "250g/袋", 4_500, 3),
    ("富硒大米", "10kg/袋", 8_900, 4),
    ("红薯粉条", "2.5kg/箱", 3_900, 5),
    ("农家菜籽油", "5L/桶", 12_800, 6),
    ("高山土豆", "10kg/箱", 4_200, 1),
    ("香菇干", "500g/袋", 7_600, 3),
];
/// The second supplier's products.
const TEA_PRODUCTS: [(&str, &str, i64, u32); 3] = [
    ("高山绿茶", "250g/罐", 9_800, 4),
    ("古树红茶", "200g/盒", 12_800, 5),
    ("野生白茶饼", "357g/饼", 16_800, 6),
];
const LOGISTICS: [&str; 4] = ["顺丰速运", "中国邮政", "京东物流", "中通快递"];

/// Orders of the first supplier; the second gets [`TEA_ORDERS`] more.
const FARM_ORDERS: usize = 30;
const TEA_ORDERS: usize = 6;

/// Loads the demo data. Idempotent: does nothing when 示例农产品供应商 already exists.
pub async fn seed(db: &DatabaseConnection, hasher: &PasswordHasher) -> Result<(), DomainError> {
    if supplier::Entity::find()
        .filter(supplier::Column::Name.eq(SUPPLIER_NAME))
        .one(db)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let supplier1 = match create_supplier(
        db,
        hasher,
        SUPPLIER_NAME,
        ADMIN_LOGIN,
        "客服管理员",
        Some(ADMIN_PASSWORD),
    )
    .await
    {
        Ok((id, _)) => id,
        // Another process seeded at the same moment.
        Err(DomainError::Conflict(_)) => return Ok(()),
        Err(err) => return Err(err),
    };
    let agent_hash = hasher.hash(AGENT_PASSWORD).await?;
    for name in AGENT_NAMES {
        let (agent, _) = create_agent(db, hasher, supplier1, name, None).await?;
        set_password_hash(db, agent.id, &agent_hash).await?;
    }

    let (supplier2, _) = create_supplier(
        db,
        hasher,
        SUPPLIER2_NAME,
        ADMIN2_LOGIN,
        "客服管理员",
        Some(ADMIN_PASSWORD),
    )
    .await?;
    let (agent, _) = create_agent(db, hasher, supplier2, AGENT2_NAME, None).await?;
    set_password_hash(db, agent.id, &agent_hash).await?;

    let now = now_ms();
    let txn = begin_write(db).await?;
    let mut farm_buyers = Vec::new();
    for (external_id, name, unit, address) in BUYERS {
        let row = insert_buyer(&txn, supplier1, external_id, name, unit, now - 90 * DAY_MS).await?;
        farm_buyers.push((row, address));
    }
    let (external_id, name, unit, address) = BUYER2;
    let tea_buyer =
        insert_buyer(&txn, supplier2, external_id, name, unit, now - 90 * DAY_MS).await?;

    let total = FARM_ORDERS + TEA_ORDERS;
    for i in 0..total {
        let (supplier_id, (buyer_row, address), products): (i64, (&buyer::Model, &str), &[_]) =
            if i < FARM_ORDERS {
                let (row, address) = &farm_buyers[i % farm_buyers.len()];
                (supplier1, (row, *address), &FARM_PRODUCTS)
            } else {
                (supplier2, (&tea_buyer, address), &TEA_PRODUCTS)
            };
        insert_order(
            &txn,
            supplier_id,
            buyer_row,
            address,
            products,
            i,
            total,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

async fn set_password_hash(
    db: &DatabaseConnection,
    account_id: i64,
    hash: &str,
) -> Result<(), DomainError> {
    account::Entity::update_many()
        .col_expr(account::Column::PasswordHash, Expr::value(hash.to_owned()))
        .filter(account::Column::Id.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

async fn insert_buyer(
    db: &impl sea_orm::ConnectionTrait,
    supplier_id: i64,
    external_id: &str,
    name: &str,
    unit: &str,
    created_at: i64,
) -> Result<buyer::Model, DomainError> {
    Ok(buyer::ActiveModel {
        supplier_id: Set(supplier_id),
        external_id: Set(external_id.to_owned()),
        name: Set(name.to_owned()),
        unit: Set(unit.to_owned()),
        created_at: Set(created_at),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Inserts the `i`-th of `total` demo orders: spread over the last 60 days (oldest first),
/// cycling through every status, with 1–3 items.
#[allow(clippy::too_many_arguments)]
async fn insert_order(
    db: &impl sea_orm::ConnectionTrait,
    supplier_id: i64,
    buyer: &buyer::Model,
    address: &str,
    products: &[(&str, &str, i64, u32)],
    i: usize,
    total: usize,
    now: i64,
) -> Result<(), DomainError> {
    let n = i as i64;
    let days_ago = 59 - n * 59 / (total as i64 - 1).max(1);
    let created_at = now - days_ago * DAY_MS - ((n * 53) % 480 + 30) * MINUTE_MS;
    let status = purchase_order::STATUSES[i % purchase_order::STATUSES.len()];

    let item_count = 1 + i % 3;
    let items: Vec<(&str, &str, i64, u32, i32)> = (0..item_count)
        .map(|k| {
            let (name, spec, price, picture) = products[(i + k * 3) % products.len()];
            let quantity = 1 + ((i + k * 2) % 5) as i32;
            (name, spec, price, picture, quantity)
        })
        .collect();
    let goods_fen: i64 = items
        .iter()
        .map(|(_, _, price, _, qty)| price * i64::from(*qty))
        .sum();
    let freight_fen = if goods_fen >= 9_900 { 0 } else { 1_000 };

    let paid_at = match status {
        "待付款" | "已取消" => None,
        _ => Some(created_at + 12 * MINUTE_MS),
    };
    let shipped = matches!(status, "已发货" | "待验收" | "已完成" | "售后中");
    let (logistics_company, tracking_no) = if shipped {
        (
            Some(LOGISTICS[i % LOGISTICS.len()].to_owned()),
            Some(format!(
                "{}{:010}",
                ["SF", "YZ", "JD", "ZT"][i % 4],
                7_310_000_000 + n * 7_919
            )),
        )
    } else {
        (None, None)
    };
    let updated_at = if shipped {
        created_at + DAY_MS
    } else {
        paid_at.unwrap_or(created_at)
    }
    .min(now);

    let beijing = FixedOffset::east_opt(8 * 3600)
        .ok_or_else(|| DomainError::Internal("UTC+8 offset".to_owned()))?;
    let date = beijing
        .timestamp_millis_opt(created_at)
        .single()
        .map(|t| t.format("%Y%m%d").to_string())
        .unwrap_or_default();

    let order = purchase_order::ActiveModel {
        supplier_id: Set(supplier_id),
        buyer_id: Set(buyer.id),
        order_no: Set(format!("832{date}{supplier_id}{:04}", 1_000 + n * 37)),
        status: Set(status.to_owned()),
        total_fen: Set(goods_fen + freight_fen),
        freight_fen: Set(freight_fen),
        created_at: Set(created_at),
        paid_at: Set(paid_at),
        consignee_name: Set(buyer.name.clone()),
        consignee_phone: Set(format!("138{:08}", 138_000 + n)),
        consignee_address: Set(address.to_owned()),
        logistics_company: Set(logistics_company),
        tracking_no: Set(tracking_no),
        updated_at: Set(updated_at),
        ..Default::default()
    }
    .insert(db)
    .await?;

    for (name, spec, price, picture, quantity) in items {
        order_item::ActiveModel {
            order_id: Set(order.id),
            name: Set(name.to_owned()),
            spec: Set(spec.to_owned()),
            picture_url: Set(format!("/demo/product-{picture}.svg")),
            unit_price_fen: Set(price),
            quantity: Set(quantity),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}
