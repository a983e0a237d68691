//! The `/demo` page's buyer tokens: none before the demo data is loaded, then one valid token
//! per seeded buyer of the first demo supplier.

mod common;

use common::{each_db, hasher};
use domain::demo;

const SECRET: &[u8] = b"demo-test-secret";
const NOW: i64 = 1_780_000_000;

#[tokio::test]
async fn demo_buyer_tokens_exist_only_with_the_demo_data_and_verify() {
    each_db(|db| async move {
        let none = demo::buyer_tokens(&db, SECRET, NOW).await.expect("query");
        assert_eq!(none, None, "no demo admin, no tokens");

        demo::seed(&db, &hasher()).await.expect("seed");
        let buyers = demo::buyer_tokens(&db, SECRET, NOW)
            .await
            .expect("query")
            .expect("demo data loaded");
        let names: Vec<_> = buyers
            .iter()
            .map(|b| (b.buyer_id.as_str(), b.name.as_str(), b.unit.as_str()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("CG1001", "王采购", "某县第一中学"),
                ("CG1002", "李老师", "某市人民医院"),
                ("CG1003", "赵科长", "某区农业农村局"),
            ]
        );
        let admin_supplier = demo_admin_supplier(&db).await;
        for b in &buyers {
            let claims = domain::chat::verify(SECRET, &b.token, NOW).expect("valid token");
            assert_eq!(claims.buyer_id, b.buyer_id);
            assert_eq!(
                claims.supplier_id, admin_supplier,
                "the first demo supplier"
            );
            assert_eq!(claims.exp, NOW + demo::DEMO_TOKEN_SECS);
            assert!(domain::chat::verify(b"other", &b.token, NOW).is_err());
        }
    })
    .await;
}

/// The supplier of [`demo::ADMIN_LOGIN`], found by name rather than by login.
async fn demo_admin_supplier(db: &sea_orm::DatabaseConnection) -> i64 {
    use domain::entity::supplier;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    supplier::Entity::find()
        .filter(supplier::Column::Name.eq(demo::SUPPLIER_NAME))
        .one(db)
        .await
        .expect("query")
        .expect("the first demo supplier")
        .id
}
