//! Orders: paging with 加载更多, tenant and buyer scoping, masked phones, the idempotent upsert
//! the mall's API uses, its validation, the API key, and the .xlsx import (good file, bad rows,
//! wrong type, empty, oversize, the template round trip). On SQLite and PostgreSQL.

mod common;

use common::orders::{admin_of, order_count};
use common::sheet::{HEADERS, orders_workbook};
use common::{audit_actions, each_db, supplier, suppliers_a_and_b};
use domain::DomainError;
use domain::entity::{audit_log, buyer, order_item, purchase_order};
use domain::orders::import::MAX_IMPORT_BYTES;
use domain::orders::{
    ImportError, ImportGate, ORDERS_PAGE_SIZE, OrderInput, OrderItemInput, api_key_status, detail,
    list_for_buyer, orders_template_xlsx, rotate_api_key, summaries_by_ids, supplier_for_api_key,
    upsert_order, validate_order,
};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

/// 2026-11-20 10:30:00 Beijing time.
const T0: i64 = 1_795_141_800_000;
const NOW: i64 = T0 + 86_400_000;

fn item(name: &str, price_fen: i64, quantity: i64) -> OrderItemInput {
    OrderItemInput {
        name: name.to_owned(),
        spec: "5kg/箱".to_owned(),
        picture_url: Some("https://img.example.com/a.png".to_owned()),
        unit_price_fen: price_fen,
        quantity,
    }
}

fn order(order_no: &str, buyer: &str, created_at: i64) -> OrderInput {
    OrderInput {
        order_no: order_no.to_owned(),
        buyer_id: buyer.to_owned(),
        buyer_name: "王采购".to_owned(),
        buyer_unit: "某县第一中学".to_owned(),
        status: "已发货".to_owned(),
        created_at,
        paid_at: Some(created_at + 60_000),
        freight_fen: 1_000,
        consignee_name: "王采购".to_owned(),
        consignee_phone: "13812345678".to_owned(),
        consignee_address: "某省某县学府路 1 号".to_owned(),
        logistics_company: Some("顺丰速运".to_owned()),
        tracking_no: Some("SF1234567890".to_owned()),
        items: vec![item("苹果", 5_990, 2), item("大米", 8_800, 1)],
    }
}

async fn buyer_id(db: &DatabaseConnection, supplier_id: i64, external: &str) -> i64 {
    buyer::Entity::find()
        .filter(buyer::Column::SupplierId.eq(supplier_id))
        .filter(buyer::Column::ExternalId.eq(external))
        .one(db)
        .await
        .expect("buyer")
        .expect("buyer exists")
        .id
}

/// `n` orders for one buyer, one minute apart (order i is the i-th oldest).
async fn seed_orders(db: &DatabaseConnection, supplier_id: i64, buyer: &str, n: usize) {
    for i in 0..n {
        upsert_order(
            db,
            supplier_id,
            &order(&format!("{buyer}-{i:03}"), buyer, T0 + i as i64 * 60_000),
            NOW,
        )
        .await
        .expect("upsert");
    }
}

async fn all_pages(db: &DatabaseConnection, supplier_id: i64, buyer: i64) -> (Vec<String>, usize) {
    let mut numbers = Vec::new();
    let mut page = 0;
    loop {
        let got = list_for_buyer(db, supplier_id, buyer, page)
            .await
            .expect("page");
        assert!(got.orders.len() as u64 <= ORDERS_PAGE_SIZE);
        numbers.extend(got.orders.into_iter().map(|o| o.order_no));
        page += 1;
        if !got.has_more {
            return (numbers, page as usize);
        }
        assert!(page < 100, "paging never ends");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_newest_first_with_exact_boundaries() {
    each_db(|db| async move {
        let s = supplier(&db, "供应商甲", "admin_a").await;
        for (buyer, n, pages) in [
            ("B0", 0usize, 1usize),
            ("B5", 5, 1),
            ("B10", 10, 2),
            ("B12", 12, 3),
        ] {
            seed_orders(&db, s, buyer, n).await;
            let id = if n == 0 {
                // A buyer with no orders yet (made by another order, then no orders of theirs).
                upsert_order(&db, s, &order("tmp", buyer, T0), NOW)
                    .await
                    .expect("tmp");
                let id = buyer_id(&db, s, buyer).await;
                purchase_order::Entity::delete_many()
                    .filter(purchase_order::Column::OrderNo.eq("tmp"))
                    .exec(&db)
                    .await
                    .expect("delete");
                id
            } else {
                buyer_id(&db, s, buyer).await
            };
            let (numbers, loaded_pages) = all_pages(&db, s, id).await;
            assert_eq!(loaded_pages, pages, "{buyer}: pages until 没有更多了");
            let expected: Vec<String> = (0..n).rev().map(|i| format!("{buyer}-{i:03}")).collect();
            assert_eq!(numbers, expected, "{buyer}: newest first, each once");
        }

        // Exactly 5: one full page and nothing more.
        let b5 = buyer_id(&db, s, "B5").await;
        let first = list_for_buyer(&db, s, b5, 0).await.expect("page 0");
        assert_eq!(first.orders.len(), 5);
        assert!(!first.has_more);
        // Exactly 10: page 0 says more, page 1 is full and says no more, page 2 is empty.
        let b10 = buyer_id(&db, s, "B10").await;
        assert!(list_for_buyer(&db, s, b10, 0).await.expect("p0").has_more);
        let second = list_for_buyer(&db, s, b10, 1).await.expect("p1");
        assert_eq!(second.orders.len(), 5);
        assert!(!second.has_more);
        let third = list_for_buyer(&db, s, b10, 2).await.expect("p2");
        assert!(third.orders.is_empty() && !third.has_more);

        // Same 下单时间: the id breaks the tie, so pages neither repeat nor skip.
        for i in 0..7 {
            upsert_order(&db, s, &order(&format!("SAME-{i}"), "BSAME", T0), NOW)
                .await
                .expect("same time");
        }
        let same = buyer_id(&db, s, "BSAME").await;
        let (numbers, _) = all_pages(&db, s, same).await;
        let expected: Vec<String> = (0..7).rev().map(|i| format!("SAME-{i}")).collect();
        assert_eq!(numbers, expected);

        // The card: total in fen, 件数 = sum of quantities, first line's picture.
        let card = &list_for_buyer(&db, s, b5, 0).await.expect("p").orders[0];
        assert_eq!(card.total_fen, 5_990 * 2 + 8_800 + 1_000);
        assert_eq!(card.item_count, 3);
        assert_eq!(
            card.picture_url.as_deref(),
            Some("https://img.example.com/a.png")
        );
        assert_eq!(card.status, "已发货");
        assert_eq!(card.created_at, T0 + 4 * 60_000);

        assert!(matches!(
            list_for_buyer(&db, s, b5, 1_000_000).await,
            Err(DomainError::Validation { .. })
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoped_by_supplier_and_buyer_with_the_phone_masked() {
    each_db(|db| async move {
        let (a, b) = suppliers_a_and_b(&db).await;
        let mine = upsert_order(&db, a, &order("A-1", "CG1", T0), NOW)
            .await
            .expect("a1");
        let other_buyer = upsert_order(&db, a, &order("A-2", "CG2", T0), NOW)
            .await
            .expect("a2");
        // The same 客户编号 and order number at another supplier are another buyer and order.
        let theirs = upsert_order(&db, b, &order("A-1", "CG1", T0), NOW)
            .await
            .expect("b1");
        assert_ne!(mine.order_id, theirs.order_id);

        let cg1_a = buyer_id(&db, a, "CG1").await;
        let cg1_b = buyer_id(&db, b, "CG1").await;
        assert_ne!(cg1_a, cg1_b);

        let listed = list_for_buyer(&db, a, cg1_a, 0).await.expect("list");
        assert_eq!(
            listed.orders.iter().map(|o| o.order_id).collect::<Vec<_>>(),
            vec![mine.order_id]
        );
        // Supplier A asking with supplier B's buyer id sees nothing.
        assert!(
            list_for_buyer(&db, a, cg1_b, 0)
                .await
                .expect("list")
                .orders
                .is_empty()
        );

        let shown = detail(&db, a, cg1_a, mine.order_id).await.expect("detail");
        assert_eq!(shown.consignee_phone_masked, "138****5678");
        let json = format!("{shown:?}");
        assert!(
            !json.contains("13812345678"),
            "the full phone never leaves the domain"
        );
        assert_eq!(shown.items.len(), 2);
        assert_eq!(shown.items[0].subtotal_fen, 11_980);
        assert_eq!(shown.goods_fen, 20_780);
        assert_eq!(shown.total_fen, 21_780);
        assert_eq!(shown.logistics_company.as_deref(), Some("顺丰速运"));

        for (supplier_id, buyer, order_id) in [
            (a, cg1_a, other_buyer.order_id), // another buyer's order
            (a, cg1_a, theirs.order_id),      // another supplier's order
            (b, cg1_b, mine.order_id),        // another supplier asking for ours
            (a, cg1_a, 999_999),              // no such order
        ] {
            assert!(
                matches!(
                    detail(&db, supplier_id, buyer, order_id).await,
                    Err(DomainError::NotFound)
                ),
                "{supplier_id}/{buyer}/{order_id}"
            );
        }

        let cards = summaries_by_ids(
            &db,
            a,
            cg1_a,
            &[
                mine.order_id,
                other_buyer.order_id,
                theirs.order_id,
                424_242,
            ],
        )
        .await
        .expect("cards");
        assert_eq!(cards.len(), 1);
        assert_eq!(cards[&mine.order_id].order_no, "A-1");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_is_idempotent_and_replaces_items() {
    each_db(|db| async move {
        let s = supplier(&db, "供应商甲", "admin_a").await;
        let input = order("832001", "CG1", T0);
        let first = upsert_order(&db, s, &input, NOW).await.expect("first");
        assert!(first.created);
        let again = upsert_order(&db, s, &input, NOW + 1).await.expect("again");
        assert_eq!(again.order_id, first.order_id);
        assert!(!again.created);
        assert_eq!(order_count(&db).await, 1);
        assert_eq!(
            order_item::Entity::find().count(&db).await.expect("items"),
            2
        );

        let mut changed = input.clone();
        changed.status = "已完成".to_owned();
        changed.items = vec![item("茶叶", 12_345, 3)];
        changed.freight_fen = 0;
        upsert_order(&db, s, &changed, NOW + 2)
            .await
            .expect("update");
        let b = buyer_id(&db, s, "CG1").await;
        let shown = detail(&db, s, b, first.order_id).await.expect("detail");
        assert_eq!(shown.status, "已完成");
        assert_eq!(shown.items.len(), 1);
        assert_eq!(shown.items[0].name, "茶叶");
        assert_eq!(shown.total_fen, 37_035);
        assert_eq!(shown.updated_at, NOW + 2);
        assert_eq!(
            order_item::Entity::find().count(&db).await.expect("items"),
            1
        );
        assert_eq!(buyer::Entity::find().count(&db).await.expect("buyers"), 1);

        // An unknown supplier is refused; nothing written.
        assert!(matches!(
            upsert_order(&db, 9_999, &order("X", "CG9", T0), NOW).await,
            Err(DomainError::NotFound)
        ));
        assert_eq!(order_count(&db).await, 1);
    })
    .await;
}

#[test]
fn validation_names_the_field_in_chinese() {
    let base = order("832001", "CG1", T0);
    assert!(validate_order(&base).is_ok());
    type Change = Box<dyn Fn(&mut OrderInput)>;
    let cases: Vec<(Change, &str, &str)> = vec![
        (
            Box::new(|o| o.order_no = String::new()),
            "order_no",
            "订单编号",
        ),
        (Box::new(|o| o.order_no = "x".repeat(65)), "order_no", "64"),
        (
            Box::new(|o| o.status = "已付款".into()),
            "status",
            "订单状态",
        ),
        (Box::new(|o| o.freight_fen = -1), "freight_fen", "负数"),
        (Box::new(|o| o.items.clear()), "items", "至少"),
        (
            Box::new(|o| o.items = vec![item("a", 1, 1); 101]),
            "items",
            "100",
        ),
        (
            Box::new(|o| o.items[1].quantity = 0),
            "items[1].quantity",
            "数量",
        ),
        (
            Box::new(|o| o.items[1].quantity = 1_000_001),
            "items[1].quantity",
            "1000000",
        ),
        (
            Box::new(|o| o.items[0].unit_price_fen = -5),
            "items[0].unit_price_fen",
            "单价",
        ),
        (
            Box::new(|o| o.items[0].unit_price_fen = 10_000_000_001),
            "items[0].unit_price_fen",
            "上限",
        ),
        (
            Box::new(|o| o.items[0].name = " ".into()),
            "items[0].name",
            "商品名称",
        ),
        (
            Box::new(|o| o.items[0].spec = "规".repeat(201)),
            "items[0].spec",
            "规格",
        ),
        (
            Box::new(|o| o.items[1].picture_url = Some("javascript:alert(1)".into())),
            "items[1].picture_url",
            "图片",
        ),
        (
            Box::new(|o| o.items[1].picture_url = Some("data:image/png;base64,AA".into())),
            "items[1].picture_url",
            "图片",
        ),
        (
            Box::new(|o| o.consignee_phone = "1".repeat(33)),
            "consignee_phone",
            "收货电话",
        ),
        (
            Box::new(|o| o.consignee_phone = "138abc".into()),
            "consignee_phone",
            "收货电话",
        ),
        (
            Box::new(|o| o.consignee_address = "址".repeat(256)),
            "consignee_address",
            "收货地址",
        ),
        (
            Box::new(|o| o.buyer_id = String::new()),
            "buyer_id",
            "客户编号",
        ),
        (Box::new(|o| o.created_at = 0), "created_at", "下单时间"),
        (
            Box::new(|o| o.tracking_no = Some("1".repeat(65))),
            "tracking_no",
            "物流单号",
        ),
    ];
    for (change, field, words) in cases {
        let mut input = base.clone();
        change(&mut input);
        let err = validate_order(&input).expect_err(field);
        assert_eq!(err.field, field);
        assert!(err.reason.contains(words), "{field}: {}", err.reason);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_order_writes_nothing() {
    each_db(|db| async move {
        let s = supplier(&db, "供应商甲", "admin_a").await;
        let mut bad = order("832001", "CG1", T0);
        bad.items[1].quantity = 0;
        match upsert_order(&db, s, &bad, NOW).await {
            Err(DomainError::FieldInvalid { field, .. }) => assert_eq!(field, "items[1].quantity"),
            other => panic!("expected a field error, got {other:?}"),
        }
        assert_eq!(order_count(&db).await, 0);
        assert_eq!(buyer::Entity::find().count(&db).await.expect("buyers"), 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_is_shown_once_and_rotates() {
    each_db(|db| async move {
        let (a, b) = suppliers_a_and_b(&db).await;
        let admin = admin_of(&db, a).await;
        assert!(!api_key_status(&db, a).await.expect("status").issued);
        assert!(matches!(
            supplier_for_api_key(&db, "kf_nothing").await,
            Err(DomainError::BadCredentials)
        ));

        let key = rotate_api_key(&db, a, admin).await.expect("rotate");
        assert!(key.starts_with("kf_") && key.len() >= 40, "{key}");
        let status = api_key_status(&db, a).await.expect("status");
        assert!(status.issued && status.issued_at.is_some());
        assert_eq!(supplier_for_api_key(&db, &key).await.expect("lookup"), a);
        // Only the hash is stored.
        let row = domain::entity::supplier::Entity::find_by_id(a)
            .one(&db)
            .await
            .expect("row")
            .expect("supplier");
        assert_ne!(row.api_key_hash.as_deref(), Some(key.as_str()));
        assert_eq!(row.api_key_hash.as_deref().map(str::len), Some(64));

        let key_b = rotate_api_key(&db, b, admin_of(&db, b).await)
            .await
            .expect("b");
        assert_eq!(supplier_for_api_key(&db, &key_b).await.expect("b"), b);

        let new_key = rotate_api_key(&db, a, admin).await.expect("rotate again");
        assert_ne!(new_key, key);
        assert!(matches!(
            supplier_for_api_key(&db, &key).await,
            Err(DomainError::BadCredentials)
        ));
        assert_eq!(supplier_for_api_key(&db, &new_key).await.expect("new"), a);
        for junk in ["", "Bearer x", "kf_", &"k".repeat(500)] {
            assert!(supplier_for_api_key(&db, junk).await.is_err(), "{junk}");
        }

        // The first key is booked as 生成 (there was no old key to end), the next as 重置.
        let audit: Vec<(String, String)> = audit_log::Entity::find()
            .filter(audit_log::Column::SupplierId.eq(a))
            .filter(audit_log::Column::Action.is_in([
                audit_log::ACTION_API_KEY_ISSUED,
                audit_log::ACTION_API_KEY_ROTATED,
            ]))
            .order_by_asc(audit_log::Column::Id)
            .all(&db)
            .await
            .expect("audit")
            .into_iter()
            .map(|e| (domain::audit::action_label(&e.action).to_owned(), e.detail))
            .collect();
        assert_eq!(audit.len(), 2, "{audit:?}");
        assert_eq!(audit[0].0, "生成接口密钥", "{audit:?}");
        assert!(!audit[0].1.contains("旧密钥"), "{audit:?}");
        assert_eq!(audit[1].0, "重置接口密钥", "{audit:?}");
        assert!(audit[1].1.contains("旧密钥已失效"), "{audit:?}");
        // Supplier b's first key is a 生成 too.
        let mut b_actions = audit_actions(&db, b).await;
        b_actions.retain(|action| action.starts_with("api_key"));
        assert_eq!(b_actions, vec![audit_log::ACTION_API_KEY_ISSUED.to_owned()]);
    })
    .await;
}

/// A cell of a test sheet.
#[derive(Clone)]
enum Cell {
    S(&'static str),
    N(f64),
    Date(u16, u8, u8, u16, u8),
    Blank,
}
use Cell::{Blank, Date, N, S};

fn sheet(rows: &[Vec<Cell>]) -> Vec<u8> {
    orders_workbook(|sheet| {
        let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        for (r, row) in rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    S(s) => {
                        sheet.write_string(r, c, *s).expect("s");
                    }
                    N(n) => {
                        sheet.write_number(r, c, *n).expect("n");
                    }
                    Date(y, mo, d, h, mi) => {
                        let dt = ExcelDateTime::from_ymd(*y, *mo, *d)
                            .expect("ymd")
                            .and_hms(*h, *mi, 0)
                            .expect("hms");
                        sheet
                            .write_datetime_with_format(r, c, &dt, &date)
                            .expect("dt");
                    }
                    Blank => {}
                }
            }
        }
    })
}

/// A full first row of an order.
fn first_row(no: &'static str, buyer: &'static str, price: Cell, qty: Cell) -> Vec<Cell> {
    vec![
        S(no),
        S(buyer),
        S("王采购"),
        S("某县第一中学"),
        S("待发货"),
        Date(2026, 11, 20, 10, 30),
        S("2026-11-20 10:42:00"),
        N(10.0),
        S("王采购"),
        S("13812345678"),
        S("某省某县学府路 1 号"),
        Blank,
        Blank,
        S("苹果"),
        S("5kg/箱"),
        S("https://img.example.com/a.png"),
        price,
        qty,
    ]
}

/// A further line of the same order (order columns left blank).
fn line(no: &'static str, name: &'static str, price: Cell, qty: Cell) -> Vec<Cell> {
    let mut row = vec![Blank; 18];
    row[0] = S(no);
    row[13] = S(name);
    row[16] = price;
    row[17] = qty;
    row
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xlsx_import_good_file() {
    each_db(|db| async move {
        let s = supplier(&db, "供应商甲", "admin_a").await;
        let admin = admin_of(&db, s).await;
        // An existing order is updated by the import (its items replaced).
        upsert_order(&db, s, &order("IMP-2", "CG7", T0), NOW)
            .await
            .expect("existing");
        let file = sheet(&[
            first_row("IMP-1", "CG1", N(0.1 + 0.2), N(2.0)),
            line("IMP-1", "大米", S("1,234.50"), S("3")),
            first_row("IMP-2", "CG7", N(19.99), N(1.0)),
            vec![Blank; 18],                        // blank rows are skipped
            line("IMP-1", "茶叶", N(88.0), N(1.0)), // same order, not contiguous
        ]);
        let report = ImportGate::new()
            .import_orders_xlsx(&db, s, admin, &file, NOW)
            .await
            .expect("import");
        assert_eq!(
            (report.orders_created, report.orders_updated, report.items),
            (1, 1, 4)
        );

        let cg1 = buyer_id(&db, s, "CG1").await;
        let page = list_for_buyer(&db, s, cg1, 0).await.expect("list");
        assert_eq!(page.orders.len(), 1);
        let shown = detail(&db, s, cg1, page.orders[0].order_id)
            .await
            .expect("detail");
        let prices: Vec<i64> = shown.items.iter().map(|i| i.unit_price_fen).collect();
        assert_eq!(
            prices,
            vec![30, 123_450, 8_800],
            "yuan to fen exactly, no float error"
        );
        assert_eq!(shown.freight_fen, 1_000);
        assert_eq!(shown.total_fen, 60 + 370_350 + 8_800 + 1_000);
        assert_eq!(shown.created_at, T0, "the date cell is Beijing time");
        assert_eq!(
            shown.paid_at,
            Some(T0 + 12 * 60_000),
            "the text time is Beijing time"
        );
        assert_eq!(shown.status, "待发货");
        assert_eq!(shown.consignee_phone_masked, "138****5678");

        let cg7 = buyer_id(&db, s, "CG7").await;
        let updated = &list_for_buyer(&db, s, cg7, 0).await.expect("cg7").orders[0];
        assert_eq!(updated.order_no, "IMP-2");
        assert_eq!(updated.total_fen, 1_999 + 1_000);
        assert_eq!(order_count(&db).await, 2);

        let audit = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq(audit_log::ACTION_ORDERS_IMPORTED))
            .order_by_desc(audit_log::Column::Id)
            .one(&db)
            .await
            .expect("audit")
            .expect("entry");
        assert!(
            audit.detail.contains("新增 1 个") && audit.detail.contains("更新 1 个"),
            "{}",
            audit.detail
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xlsx_import_bad_rows_import_nothing() {
    each_db(|db| async move {
        let s = supplier(&db, "供应商甲", "admin_a").await;
        let admin = admin_of(&db, s).await;
        let mut bad_status = first_row("BAD-2", "CG2", N(5.0), N(1.0));
        bad_status[4] = S("已付款");
        let mut bad_picture = first_row("BAD-3", "CG3", N(5.0), N(1.0));
        bad_picture[15] = S("javascript:alert(1)");
        let mut other_buyer = line("OK-1", "梨", N(1.0), N(1.0));
        other_buyer[1] = S("CG9");
        let file = sheet(&[
            first_row("OK-1", "CG1", N(12.5), N(1.0)),  // row 2: fine
            line("OK-1", "大米", N(12.345), N(1.0)),    // row 3: 3 decimals
            bad_status,                                 // row 4
            line("OK-1", "茶叶", N(1.0), S("两箱")),    // row 5: quantity text
            bad_picture,                                // row 6
            first_row("BAD-4", "CG4", S("-1"), N(1.0)), // row 7: negative
            other_buyer,                                // row 8: 客户编号 differs
            first_row("BAD-5", "CG5", N(1.0), N(0.0)),  // row 9: quantity 0
        ]);
        let Err(ImportError::BadRows(errors)) = ImportGate::new()
            .import_orders_xlsx(&db, s, admin, &file, NOW)
            .await
        else {
            panic!("bad rows expected");
        };
        let rows: Vec<u32> = errors.iter().map(|e| e.row).collect();
        assert_eq!(rows, vec![3, 4, 5, 6, 7, 8, 9], "{errors:?}");
        let reason = |row: u32| {
            errors
                .iter()
                .find(|e| e.row == row)
                .map(|e| format!("{}:{}", e.column.clone().unwrap_or_default(), e.reason))
                .unwrap_or_default()
        };
        assert!(
            reason(3).contains("单价") && reason(3).contains("两位小数"),
            "{}",
            reason(3)
        );
        assert!(reason(4).contains("订单状态"), "{}", reason(4));
        assert!(reason(5).contains("数量"), "{}", reason(5));
        assert!(reason(6).contains("图片"), "{}", reason(6));
        assert!(reason(7).contains("负数"), "{}", reason(7));
        assert!(
            reason(8).contains("客户编号") && reason(8).contains("不一致"),
            "{}",
            reason(8)
        );
        assert!(reason(9).contains("数量"), "{}", reason(9));
        assert_eq!(order_count(&db).await, 0, "nothing imported");
        assert_eq!(buyer::Entity::find().count(&db).await.expect("buyers"), 0);
        let message = ImportError::BadRows(errors).user_message();
        assert!(message.contains("未导入"), "{message}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xlsx_import_refuses_wrong_empty_and_huge_files() {
    each_db(|db| async move {
        let s = supplier(&db, "供应商甲", "admin_a").await;
        let admin = admin_of(&db, s).await;
        let import = |bytes: Vec<u8>| {
            let db = db.clone();
            async move {
                ImportGate::new()
                    .import_orders_xlsx(&db, s, admin, &bytes, NOW)
                    .await
            }
        };
        assert!(matches!(
            import(Vec::new()).await,
            Err(ImportError::EmptyFile)
        ));
        let csv = "订单编号,客户编号\n1,2\n".as_bytes().to_vec();
        assert!(matches!(import(csv).await, Err(ImportError::NotXlsx)));
        // A zip that is not a workbook, and a PNG renamed .xlsx.
        let mut zip = b"PK\x03\x04".to_vec();
        zip.extend_from_slice(&[0u8; 64]);
        assert!(matches!(import(zip).await, Err(ImportError::NotXlsx)));
        assert!(matches!(
            import(b"\x89PNG\r\n\x1a\n0000".to_vec()).await,
            Err(ImportError::NotXlsx)
        ));
        // Header only, and a workbook with nothing at all.
        assert!(matches!(import(sheet(&[])).await, Err(ImportError::NoRows)));
        let mut empty = Workbook::new();
        empty.add_worksheet();
        assert!(matches!(
            import(empty.save_to_buffer().expect("xlsx")).await,
            Err(ImportError::NoRows)
        ));
        // Missing required columns are named.
        let mut partial = Workbook::new();
        let ws = partial.add_worksheet();
        ws.write_string(0, 0, "订单编号").expect("h");
        ws.write_string(1, 0, "X").expect("v");
        match import(partial.save_to_buffer().expect("xlsx")).await {
            Err(ImportError::MissingColumns(cols)) => {
                assert!(
                    cols.contains(&"商品名称".to_owned()) && !cols.contains(&"订单编号".to_owned())
                )
            }
            other => panic!("{other:?}"),
        }
        // Over the cap: refused by size before parsing (these bytes are not even a workbook).
        let mut huge = b"PK\x03\x04".to_vec();
        huge.resize(MAX_IMPORT_BYTES + 1, 0);
        match import(huge).await {
            Err(err @ ImportError::TooLarge { .. }) => assert!(err.user_message().contains("5 MB")),
            other => panic!("{other:?}"),
        }
        assert_eq!(order_count(&db).await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_round_trips_through_the_importer() {
    each_db(|db| async move {
        let s = supplier(&db, "供应商甲", "admin_a").await;
        let admin = admin_of(&db, s).await;
        let template = orders_template_xlsx().expect("template");
        let mut workbook =
            calamine::Xlsx::new(std::io::Cursor::new(template.clone())).expect("opens");
        use calamine::Reader;
        assert_eq!(
            workbook.sheet_names(),
            vec!["订单".to_owned(), "说明".to_owned()]
        );
        let range = workbook.worksheet_range("订单").expect("sheet");
        let header: Vec<String> = range
            .rows()
            .next()
            .expect("header")
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(header, HEADERS);

        let report = ImportGate::new()
            .import_orders_xlsx(&db, s, admin, &template, NOW)
            .await
            .expect("import");
        assert_eq!((report.orders_created, report.items), (1, 2));
        let b = buyer_id(&db, s, "CG1001").await;
        let card = &list_for_buyer(&db, s, b, 0).await.expect("list").orders[0];
        assert_eq!(card.order_no, "832202611200001");
        assert_eq!(card.total_fen, 5_990 * 2 + 8_800 + 1_000);
        assert_eq!(card.item_count, 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_buyers_page_through_all_their_orders() {
    each_db(|db| async move {
        domain::demo::seed(&db, &common::hasher())
            .await
            .expect("seed");
        let buyers = buyer::Entity::find().all(&db).await.expect("buyers");
        let mut seen = 0u64;
        for b in buyers {
            let (numbers, pages) = all_pages(&db, b.supplier_id, b.id).await;
            let stored = purchase_order::Entity::find()
                .filter(purchase_order::Column::BuyerId.eq(b.id))
                .count(&db)
                .await
                .expect("count");
            assert_eq!(
                numbers.len() as u64,
                stored,
                "{}: every order once",
                b.external_id
            );
            assert_eq!(
                pages as u64,
                stored.div_ceil(ORDERS_PAGE_SIZE).max(1),
                "{}",
                b.external_id
            );
            let first = list_for_buyer(&db, b.supplier_id, b.id, 0)
                .await
                .expect("page");
            for card in &first.orders {
                let picture = card.picture_url.as_deref().expect("demo pictures pass");
                assert!(picture.starts_with("/demo/product-"), "{picture}");
                assert!(card.item_count >= 1 && card.total_fen > 0);
            }
            for pair in first.orders.windows(2) {
                assert!(pair[0].created_at >= pair[1].created_at, "newest first");
            }
            seen += stored;
        }
        assert_eq!(seen, order_count(&db).await);
        assert!(seen >= 30, "the demo has a few dozen orders");
    })
    .await;
}
