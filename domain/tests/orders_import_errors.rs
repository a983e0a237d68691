//! 订单导入's error report: every bad row of a file is listed in one pass with its row number,
//! column and Chinese reason (all errors of a row, every row of an order, not only the first
//! rule an order breaks), capped at [`MAX_LISTED_BAD_ROWS`] rows with a note counting the rest;
//! and a file with any bad row imports nothing. On SQLite and PostgreSQL.

mod common;

use common::orders::admin_of;
use common::sheet::{HEADERS, good_row, orders_workbook};
use common::{each_db, supplier};
use domain::entity::{buyer, purchase_order};
use domain::orders::import::{MAX_IMPORT_ROWS, MAX_LISTED_BAD_ROWS, RowError};
use domain::orders::{ImportError, ImportGate};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

/// 2026-11-21 Beijing time.
const NOW: i64 = 1_795_228_200_000;

/// The column index of a header.
fn col(header: &str) -> usize {
    HEADERS
        .iter()
        .position(|h| *h == header)
        .unwrap_or_else(|| panic!("no column {header}"))
}

/// A good first row of an order.
fn first_row(order_no: &str) -> Vec<String> {
    good_row(order_no).to_vec()
}

/// A further line of an order: the order columns left blank.
fn line(order_no: &str, name: &str) -> Vec<String> {
    let mut row = vec![String::new(); 18];
    row[col("订单编号")] = order_no.to_owned();
    row[col("商品名称")] = name.to_owned();
    row[col("单价(元)")] = "1".to_owned();
    row[col("数量")] = "1".to_owned();
    row
}

fn with(mut row: Vec<String>, header: &str, value: &str) -> Vec<String> {
    row[col(header)] = value.to_owned();
    row
}

/// An .xlsx of the header and these rows (row 2 on), every cell as text.
fn sheet(rows: &[Vec<String>]) -> Vec<u8> {
    orders_workbook(|sheet| {
        for (r, row) in rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                if !value.is_empty() {
                    sheet
                        .write_string(r as u32 + 1, c as u16, value)
                        .expect("cell");
                }
            }
        }
    })
}

/// Imports the file, which must be refused for bad rows; checks that nothing was stored.
async fn refused_rows(db: &DatabaseConnection, file: &[u8]) -> Vec<RowError> {
    let s = supplier(db, "供应商甲", "admin_a").await;
    let admin = admin_of(db, s).await;
    let errors = match ImportGate::new()
        .import_orders_xlsx(db, s, admin, file, NOW)
        .await
    {
        Err(ImportError::BadRows(errors)) => errors,
        other => panic!("bad rows expected, got {other:?}"),
    };
    let orders = purchase_order::Entity::find()
        .count(db)
        .await
        .expect("orders");
    let buyers = buyer::Entity::find().count(db).await.expect("buyers");
    assert_eq!(
        (orders, buyers),
        (0, 0),
        "a file with a bad row imports nothing"
    );
    errors
}

/// `(row, column)` of each error, notes left out.
fn places(errors: &[RowError]) -> Vec<(u32, String)> {
    errors
        .iter()
        .filter(|e| !e.is_note())
        .map(|e| (e.row, e.column.clone().unwrap_or_default()))
        .collect()
}

fn reason(errors: &[RowError], row: u32, column: &str) -> String {
    errors
        .iter()
        .find(|e| e.row == row && e.column.as_deref() == Some(column))
        .map(|e| e.reason.clone())
        .unwrap_or_else(|| panic!("no error at row {row} {column}: {errors:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_of_every_bad_row_is_listed_in_one_pass() {
    let file = sheet(&[
        // Order A: two bad cells in its first row, bad lines further down.
        with(
            with(first_row("A-1"), "订单状态", "已付款"),
            "收货电话",
            "电话号码",
        ), // row 2
        with(line("A-1", "大米"), "数量", "0"), // row 3
        first_row("B-1"),                       // row 4: a good order, not imported either
        with(line("A-1", "茶叶"), "商品图片URL", "javascript:alert(1)"), // row 5
        // Order C: no 下单时间, and its status and 商品名称 are wrong too.
        with(
            with(with(first_row("C-1"), "下单时间", ""), "订单状态", "不存在"),
            "商品名称",
            &"长".repeat(201),
        ), // row 6
    ]);
    each_db(|db| {
        let file = file.clone();
        async move {
            let errors = refused_rows(&db, &file).await;
            assert_eq!(
                places(&errors),
                vec![
                    (2, "订单状态".to_owned()),
                    (2, "收货电话".to_owned()),
                    (3, "数量".to_owned()),
                    (5, "商品图片URL".to_owned()),
                    (6, "订单状态".to_owned()),
                    (6, "下单时间".to_owned()),
                    (6, "商品名称".to_owned()),
                ],
                "{errors:?}"
            );
            assert!(!errors.iter().any(RowError::is_note), "{errors:?}");
            assert!(reason(&errors, 2, "订单状态").contains("待发货"));
            assert!(reason(&errors, 2, "收货电话").contains("只能包含数字"));
            // The line's own reason, without "第 1 个商品的": the row number says which.
            assert_eq!(reason(&errors, 3, "数量"), "数量须为 1–1000000 的整数");
            assert!(reason(&errors, 5, "商品图片URL").starts_with("图片地址"));
            assert_eq!(reason(&errors, 6, "下单时间"), "请填写下单时间");
            assert_eq!(
                reason(&errors, 6, "商品名称"),
                "商品名称不能超过 200 个字符"
            );
            let message = ImportError::BadRows(errors).user_message();
            assert_eq!(message, "有 4 行有错误，未导入任何订单，请修改后重新上传");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_bad_rows_than_the_cap_lists_the_first_and_counts_the_rest() {
    // Order A's first row is good and its last line (row 453) is bad: its error is found before
    // those of rows 3–452 and must make way for them.
    let mut rows = vec![first_row("A-1")];
    for i in 0..450 {
        rows.push(with(first_row(&format!("B-{i}")), "订单状态", "已付款"));
    }
    rows.push(with(line("A-1", "茶叶"), "数量", "0"));
    let file = sheet(&rows);
    each_db(|db| {
        let file = file.clone();
        async move {
            let errors = refused_rows(&db, &file).await;
            let listed: Vec<u32> = errors
                .iter()
                .filter(|e| !e.is_note())
                .map(|e| e.row)
                .collect();
            let expected: Vec<u32> = (3..3 + MAX_LISTED_BAD_ROWS as u32).collect();
            assert_eq!(listed, expected, "the lowest bad rows, in order");
            let note = errors.last().expect("note");
            assert!(note.is_note());
            assert_eq!(note.reason, "另有 251 行错误未列出");
            let message = ImportError::BadRows(errors).user_message();
            assert!(
                message.contains("超过 200 行") && message.contains("未导入"),
                "{message}"
            );
        }
    })
    .await;
}

/// Every cell of every row wrong, as many rows as a file may have: the answer holds every error
/// of the first 200 rows and a count, not 90 000 errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_where_every_cell_is_wrong_gets_a_bounded_answer() {
    let long = |n: usize| "长".repeat(n);
    let bad_row = |i: usize| -> Vec<String> {
        vec![
            format!("坏 单号 {i}"),
            long(65),
            long(33),
            long(65),
            "已付款".to_owned(),
            "昨天".to_owned(),
            "前天".to_owned(),
            "-1".to_owned(),
            long(65),
            "电话号码".to_owned(),
            long(256),
            long(65),
            long(65),
            long(201),
            long(201),
            "javascript:alert(1)".to_owned(),
            "很贵".to_owned(),
            "两箱".to_owned(),
        ]
    };
    let rows: Vec<Vec<String>> = (0..MAX_IMPORT_ROWS).map(bad_row).collect();
    let file = sheet(&rows);
    each_db(|db| {
        let file = file.clone();
        async move {
            let errors = refused_rows(&db, &file).await;
            assert_eq!(errors.len(), MAX_LISTED_BAD_ROWS * HEADERS.len() + 1);
            for row in [2u32, 201] {
                let columns: Vec<String> = errors
                    .iter()
                    .filter(|e| e.row == row)
                    .filter_map(|e| e.column.clone())
                    .collect();
                assert_eq!(columns, HEADERS.map(str::to_owned), "row {row}");
            }
            let note = errors.last().expect("note");
            assert_eq!(
                note.reason,
                format!(
                    "另有 {} 行错误未列出",
                    MAX_IMPORT_ROWS - MAX_LISTED_BAD_ROWS
                )
            );
        }
    })
    .await;
}

/// 100 000 bad rows are refused for their number, without reading them all or listing any.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_bad_rows_are_refused_for_their_number() {
    let rows: Vec<Vec<String>> = (0..100_000)
        .map(|i| {
            let mut row = vec![String::new(); 18];
            row[0] = format!("坏 {i}");
            row
        })
        .collect();
    let file = sheet(&rows);
    each_db(|db| {
        let file = file.clone();
        async move {
            let s = supplier(&db, "供应商甲", "admin_a").await;
            let admin = admin_of(&db, s).await;
            match ImportGate::new()
                .import_orders_xlsx(&db, s, admin, &file, NOW)
                .await
            {
                Err(err @ ImportError::TooManyRows { .. }) => {
                    assert!(err.user_message().contains("5000"))
                }
                other => panic!("too many rows expected, got {other:?}"),
            }
            let orders = purchase_order::Entity::find()
                .count(&db)
                .await
                .expect("orders");
            assert_eq!(orders, 0);
        }
    })
    .await;
}
