//! The .xlsx order import against hostile files: a sheet with one cell at A1 and one at
//! XFD1048576, a declared dimension of the whole sheet, zip bombs, an entry that lies about its
//! size, a made-up shared string count, a long shared string in every cell, too many entries,
//! more than 5000 rows, and two imports of one supplier at once. Each is refused with a clear
//! Chinese reason (or, for the dimension, ignored), nothing is stored, and the next normal
//! import still works. On SQLite and PostgreSQL.
//!
//! The tests run one at a time (`SERIAL`) so the peak memory measured in one is its own.

mod common;

use std::io::{Cursor, Write};
use std::time::{Duration, Instant};

use common::orders::{admin_of, order_count};
use common::sheet::{HEADERS, good_row, rebuild_zip};
use common::{each_db, supplier, suppliers_a_and_b};
use domain::entity::audit_log;
use domain::orders::import::{
    ImportGate, MAX_ENTRY_BYTES, MAX_IMPORT_BYTES, MAX_ZIP_ENTRIES, parse_orders_xlsx,
};
use domain::orders::{ImportError, orders_template_xlsx};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

/// 2026-11-21 Beijing time.
const NOW: i64 = 1_795_228_200_000;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const SHEET_PATH: &str = "xl/worksheets/sheet1.xml";

/// The Excel name of a 0-based column: 0 → A, 16383 → XFD.
fn column_name(mut c: u32) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).expect("ascii")
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An inline-string cell at a 0-based position.
fn cell(row: u32, column: u32, text: &str) -> String {
    format!(
        r#"<c r="{}{}" t="inlineStr"><is><t>{}</t></is></c>"#,
        column_name(column),
        row + 1,
        xml_escape(text)
    )
}

/// A worksheet XML: an optional `<dimension>`, then the rows (0-based row, its cells' XML).
fn sheet_xml(dimension: Option<&str>, rows: &[(u32, String)]) -> Vec<u8> {
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#,
    );
    if let Some(d) = dimension {
        xml.push_str(&format!(r#"<dimension ref="{d}"/>"#));
    }
    xml.push_str("<sheetData>");
    for (r, cells) in rows {
        xml.push_str(&format!(r#"<row r="{}">{cells}</row>"#, r + 1));
    }
    xml.push_str("</sheetData></worksheet>");
    xml.into_bytes()
}

/// The header row and good lines of orders `H-1`, `H-2`, … as sheet rows.
fn header_and_rows(lines: usize) -> Vec<(u32, String)> {
    let mut rows = vec![(
        0,
        HEADERS
            .iter()
            .enumerate()
            .map(|(c, h)| cell(0, c as u32, h))
            .collect::<String>(),
    )];
    for i in 0..lines {
        let r = i as u32 + 1;
        let cells = good_row(&format!("H-{}", i + 1))
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_empty())
            .map(|(c, v)| cell(r, c as u32, v))
            .collect::<String>();
        rows.push((r, cells));
    }
    rows
}

/// A real workbook (one sheet named 订单) made by rust_xlsxwriter, its sheet XML replaced.
fn workbook_with_sheet(xml: &[u8]) -> Vec<u8> {
    let mut base = rust_xlsxwriter::Workbook::new();
    base.add_worksheet()
        .set_name("订单")
        .expect("name")
        .write_string(0, 0, "placeholder")
        .expect("cell");
    let base = base.save_to_buffer().expect("base");
    rebuild_zip(&base, |name, data| {
        if name == SHEET_PATH {
            xml.to_vec()
        } else {
            data
        }
    })
}

/// Adds an entry whose content is `size` bytes: `head`, then `fill` repeated, then `tail`,
/// deflated as it is written (never held whole in memory), at deflate level 1 (fast, about
/// 100:1 on repeated bytes) or, with `dense`, level 9 (about 1000:1).
fn with_entry(
    zip: &[u8],
    name: &str,
    (head, fill, size, tail): (&[u8], u8, usize, &[u8]),
    dense: bool,
) -> Vec<u8> {
    let mut archive = ZipArchive::new(Cursor::new(zip)).expect("zip");
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).expect("entry");
        if entry.name().expect("name") == name {
            continue;
        }
        out.raw_copy_file(entry).expect("copy");
    }
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(if dense { 9 } else { 1 }));
    out.start_file(name, options).expect("start");
    out.write_all(head).expect("head");
    let chunk = vec![fill; 1 << 20];
    let mut left = size - head.len() - tail.len();
    while left > 0 {
        let n = left.min(chunk.len());
        out.write_all(&chunk[..n]).expect("fill");
        left -= n;
    }
    out.write_all(tail).expect("tail");
    out.finish().expect("finish").into_inner()
}

/// Sets the declared unpacked size of an entry, in its local header and in the central
/// directory, leaving its content as it is.
fn declare_size(zip: &mut [u8], name: &str, size: u32) {
    let name = name.as_bytes();
    let mut patched = 0;
    for at in 0..zip.len().saturating_sub(46) {
        let local = zip[at..].starts_with(b"PK\x03\x04")
            && zip[at + 30..].starts_with(name)
            && u16::from_le_bytes([zip[at + 26], zip[at + 27]]) as usize == name.len();
        let central = zip[at..].starts_with(b"PK\x01\x02")
            && zip[at + 46..].starts_with(name)
            && u16::from_le_bytes([zip[at + 28], zip[at + 29]]) as usize == name.len();
        if local {
            zip[at + 22..at + 26].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
        if central {
            zip[at + 24..at + 28].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "local header and central directory entry found");
}

/// The process's peak resident memory in KiB (`VmHWM`).
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("status")
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// Resets the peak to the current resident size (Linux `clear_refs` 5); false where refused.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

async fn imports_recorded(db: &DatabaseConnection, supplier_id: i64) -> u64 {
    audit_log::Entity::find()
        .filter(audit_log::Column::SupplierId.eq(supplier_id))
        .filter(audit_log::Column::Action.eq(audit_log::ACTION_ORDERS_IMPORTED))
        .count(db)
        .await
        .expect("audit")
}

/// The hostile file is refused (as `check` expects) within a sanity bound, nothing is stored,
/// and the template still imports afterwards.
async fn refused_then_template_imports(
    db: &DatabaseConnection,
    supplier_id: i64,
    file: &[u8],
    check: impl Fn(&ImportError) -> bool,
) -> ImportError {
    let admin = admin_of(db, supplier_id).await;
    let orders_before = order_count(db).await;
    let started = Instant::now();
    let result = ImportGate::new()
        .import_orders_xlsx(db, supplier_id, admin, file, NOW)
        .await;
    let took = started.elapsed();
    println!("hostile file refused in {took:?}: {result:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let err = match result {
        Err(err) if check(&err) => err,
        other => panic!("unexpected outcome: {other:?}"),
    };
    let message = err.user_message();
    assert!(
        message
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{message}"
    );
    assert_eq!(order_count(db).await, orders_before, "nothing stored");
    let report = ImportGate::new()
        .import_orders_xlsx(
            db,
            supplier_id,
            admin,
            &orders_template_xlsx().expect("template"),
            NOW,
        )
        .await
        .expect("the template still imports");
    assert_eq!(report.items, 2);
    err
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sparse_cells_at_a1_and_xfd1048576_are_refused_with_memory_bounded() {
    let _serial = SERIAL.lock().await;
    // The header, two good lines, and one cell at the sheet's last cell XFD1048576: a range
    // built over these would be 1,048,576 × 16,384 cells.
    let mut rows = header_and_rows(2);
    rows.push((1_048_575, cell(1_048_575, 16_383, "x")));
    let far = workbook_with_sheet(&sheet_xml(Some("A1:XFD1048576"), &rows));
    // Just A1 and XFD1048576.
    let corners = workbook_with_sheet(&sheet_xml(
        None,
        &[
            (0, cell(0, 0, "订单编号")),
            (1_048_575, cell(1_048_575, 16_383, "x")),
        ],
    ));

    let reset = reset_peak();
    let before = peak_kib();
    let started = Instant::now();
    let far_result = parse_orders_xlsx(&far);
    let corners_result = parse_orders_xlsx(&corners);
    let took = started.elapsed();
    let grown_mib = peak_kib().saturating_sub(before) / 1024;
    println!(
        "sparse sheets read in {took:?}; peak memory grew {grown_mib} MiB (peak reset: {reset})"
    );
    assert!(grown_mib < 200, "peak grew {grown_mib} MiB");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    match &far_result {
        Err(err @ ImportError::RowOutOfRange { row: 1_048_576, .. }) => {
            let message = err.user_message();
            assert!(message.contains("第 1048576 行"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(corners_result, Err(ImportError::MissingColumns(_))),
        "{corners_result:?}"
    );

    each_db(|db| {
        let far = far.clone();
        let corners = corners.clone();
        async move {
            let s = supplier(&db, "供应商甲", "admin_a").await;
            refused_then_template_imports(&db, s, &far, |e| {
                matches!(e, ImportError::RowOutOfRange { .. })
            })
            .await;
            refused_then_template_imports(&db, s, &corners, |e| {
                matches!(e, ImportError::MissingColumns(_))
            })
            .await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_dimension_of_the_whole_sheet_is_ignored() {
    let _serial = SERIAL.lock().await;
    let file = workbook_with_sheet(&sheet_xml(Some("A1:XFD1048576"), &header_and_rows(3)));
    let started = Instant::now();
    assert_eq!(parse_orders_xlsx(&file).expect("imports"), 3);
    println!("read in {:?}", started.elapsed());
    each_db(|db| {
        let file = file.clone();
        async move {
            let s = supplier(&db, "供应商甲", "admin_a").await;
            let admin = admin_of(&db, s).await;
            let report = ImportGate::new()
                .import_orders_xlsx(&db, s, admin, &file, NOW)
                .await
                .expect("imports");
            assert_eq!((report.orders_created, report.items), (3, 3));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zip_bombs_are_refused_from_the_central_directory() {
    let _serial = SERIAL.lock().await;
    let base = workbook_with_sheet(&sheet_xml(None, &header_and_rows(1)));
    // 200 MB of one byte as the sheet: over the per-entry cap, a few hundred KB packed.
    let big = with_entry(&base, SHEET_PATH, (b"", b' ', 200_000_000, b""), false);
    assert!(big.len() < MAX_IMPORT_BYTES, "{} bytes", big.len());
    // Just under the per-entry cap, but packed about 1000:1.
    let dense = with_entry(
        &base,
        SHEET_PATH,
        (b"", b' ', MAX_ENTRY_BYTES as usize - 1024, b""),
        true,
    );
    // Many entries of a few MB each, each under the cap, adding up past the total cap.
    let mut many = base.clone();
    for i in 0..3 {
        many = with_entry(
            &many,
            &format!("xl/media/extra{i}.bin"),
            (b"", b'a', 30 * 1024 * 1024, b""),
            false,
        );
    }
    println!(
        "bomb sizes: {} / {} / {} bytes",
        big.len(),
        dense.len(),
        many.len()
    );
    each_db(|db| {
        let (big, dense, many) = (big.clone(), dense.clone(), many.clone());
        async move {
            let s = supplier(&db, "供应商甲", "admin_a").await;
            let err = refused_then_template_imports(&db, s, &big, |e| {
                matches!(e, ImportError::UnpackedTooLarge { .. })
            })
            .await;
            assert!(err.user_message().contains("解压后过大"));
            let err = refused_then_template_imports(&db, s, &dense, |e| {
                matches!(e, ImportError::SuspiciousCompression)
            })
            .await;
            assert!(err.user_message().contains("压缩比异常"));
            refused_then_template_imports(&db, s, &many, |e| {
                matches!(e, ImportError::UnpackedTooLarge { .. })
            })
            .await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_that_lies_about_its_size_is_refused() {
    let _serial = SERIAL.lock().await;
    let base = workbook_with_sheet(&sheet_xml(None, &header_and_rows(1)));
    // A sheet whose second row holds a 40 MB text, declared as 100 KB: the central directory
    // looks harmless, the unpacking is what must stop.
    let head = {
        let mut xml = String::from_utf8(sheet_xml(None, &header_and_rows(0))).expect("utf8");
        xml.truncate(xml.len() - "</sheetData></worksheet>".len());
        xml.push_str(r#"<row r="2"><c r="A2" t="inlineStr"><is><t>"#);
        xml.into_bytes()
    };
    let tail = b"</t></is></c></row></sheetData></worksheet>";
    let mut lying = with_entry(&base, SHEET_PATH, (&head, b'a', 40_000_000, tail), false);
    declare_size(&mut lying, SHEET_PATH, 100_000);
    let started = Instant::now();
    let result = parse_orders_xlsx(&lying);
    println!("lying entry: {result:?} in {:?}", started.elapsed());
    assert!(matches!(result, Err(ImportError::Damaged)), "{result:?}");
    each_db(|db| {
        let lying = lying.clone();
        async move {
            let s = supplier(&db, "供应商甲", "admin_a").await;
            let err = refused_then_template_imports(&db, s, &lying, |e| {
                matches!(e, ImportError::Damaged)
            })
            .await;
            assert!(err.user_message().contains("损坏"));
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_made_up_shared_string_count_is_refused() {
    let _serial = SERIAL.lock().await;
    // calamine reserves room for `uniqueCount` strings up front: 10^11 of them is terabytes.
    let template = orders_template_xlsx().expect("template");
    let mut found = false;
    let lying = rebuild_zip(&template, |name, data| {
        if name != "xl/sharedStrings.xml" {
            return data;
        }
        let xml = String::from_utf8(data).expect("utf8");
        let at = xml.find("uniqueCount=\"").expect("uniqueCount") + "uniqueCount=\"".len();
        let end = at + xml[at..].find('"').expect("quote");
        found = true;
        format!("{}100000000000{}", &xml[..at], &xml[end..]).into_bytes()
    });
    assert!(found, "the template has a shared strings table");
    let result = parse_orders_xlsx(&lying);
    assert!(matches!(result, Err(ImportError::Damaged)), "{result:?}");
    each_db(|db| {
        let lying = lying.clone();
        async move {
            let s = supplier(&db, "供应商甲", "admin_a").await;
            refused_then_template_imports(&db, s, &lying, |e| matches!(e, ImportError::Damaged))
                .await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_shared_string_in_every_cell_is_bounded() {
    let _serial = SERIAL.lock().await;
    // One shared string of a million characters, referenced by every cell of 5000 rows × 18
    // columns: copied whole into each cell that would be 90 GB.
    let mut rows = header_and_rows(0);
    for r in 1..=5_000u32 {
        let cells: String = (0..18u32)
            .map(|c| format!(r#"<c r="{}{}" t="s"><v>0</v></c>"#, column_name(c), r + 1))
            .collect();
        rows.push((r, cells));
    }
    let sheet = sheet_xml(None, &rows);
    let base = workbook_with_sheet(&sheet);
    let long = rebuild_zip(&base, |name, data| {
        if name != "xl/sharedStrings.xml" {
            return data;
        }
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>{}</t></si></sst>"#,
            "长".repeat(300_000)
        )
        .into_bytes()
    });
    let started = Instant::now();
    let result = parse_orders_xlsx(&long);
    println!("long shared string: {result:?} in {:?}", started.elapsed());
    match &result {
        Err(err @ ImportError::TooMuchText { .. }) => {
            assert!(err.user_message().contains("文字内容过多"))
        }
        other => panic!("{other:?}"),
    }
    each_db(|db| {
        let long = long.clone();
        async move {
            let s = supplier(&db, "供应商甲", "admin_a").await;
            refused_then_template_imports(&db, s, &long, |e| {
                matches!(e, ImportError::TooMuchText { .. })
            })
            .await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_entries_are_refused() {
    let _serial = SERIAL.lock().await;
    let base = workbook_with_sheet(&sheet_xml(None, &header_and_rows(1)));
    let mut archive = ZipArchive::new(Cursor::new(base.as_slice())).expect("zip");
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        out.raw_copy_file(archive.by_index_raw(i).expect("entry"))
            .expect("copy");
    }
    for i in 0..MAX_ZIP_ENTRIES {
        out.start_file(format!("xl/extra/{i}.xml"), SimpleFileOptions::default())
            .expect("start");
        out.write_all(b"<x/>").expect("write");
    }
    let many = out.finish().expect("finish").into_inner();
    each_db(|db| {
        let many = many.clone();
        async move {
            let s = supplier(&db, "供应商甲", "admin_a").await;
            let err = refused_then_template_imports(&db, s, &many, |e| {
                matches!(e, ImportError::TooManyEntries { .. })
            })
            .await;
            assert!(err.user_message().contains("64"), "{}", err.user_message());
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_5000_rows_are_refused_and_5000_import() {
    let _serial = SERIAL.lock().await;
    let over = workbook_with_sheet(&sheet_xml(None, &header_and_rows(5_001)));
    let full = workbook_with_sheet(&sheet_xml(None, &header_and_rows(5_000)));
    println!("5000 rows: {} bytes packed", full.len());
    match parse_orders_xlsx(&over) {
        Err(err @ ImportError::TooManyRows { .. }) => {
            assert!(err.user_message().contains("5000"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(parse_orders_xlsx(&full).expect("5000 rows"), 5_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_import_per_supplier_at_a_time() {
    let _serial = SERIAL.lock().await;
    each_db(|db| async move {
        let (s1, s2) = suppliers_a_and_b(&db).await;
        let (a1, a2) = (admin_of(&db, s1).await, admin_of(&db, s2).await);
        let template = orders_template_xlsx().expect("template");
        let gate = ImportGate::new();

        // Supplier 1 has an import running: a second one of theirs is refused, nothing stored.
        let running = gate.try_begin(s1).expect("first import's turn");
        match gate.import_orders_xlsx(&db, s1, a1, &template, NOW).await {
            Err(err @ ImportError::Busy) => assert_eq!(
                err.user_message(),
                "已有一个订单导入正在进行，请等它完成后再试"
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(order_count(&db).await, 0);
        // Another supplier is not held up.
        let report = gate
            .import_orders_xlsx(&db, s2, a2, &template, NOW)
            .await
            .expect("another supplier imports");
        assert_eq!(report.orders_created, 1);
        // When the first ends, supplier 1 may import again.
        drop(running);
        gate.import_orders_xlsx(&db, s1, a1, &template, NOW)
            .await
            .expect("imports after the first ended");
        assert_eq!(imports_recorded(&db, s1).await, 1);

        // Two at once for one supplier: the first polled takes the turn (it is then waiting
        // on its reading thread), the second is refused; exactly one import is recorded.
        let (first, second) = tokio::join!(
            gate.import_orders_xlsx(&db, s1, a1, &template, NOW),
            gate.import_orders_xlsx(&db, s1, a1, &template, NOW),
        );
        assert!(first.is_ok(), "{first:?}");
        assert!(matches!(second, Err(ImportError::Busy)), "{second:?}");
        assert_eq!(
            imports_recorded(&db, s1).await,
            2,
            "imported once, not twice"
        );
        // Two suppliers at once: both import.
        let (one, two) = tokio::join!(
            gate.import_orders_xlsx(&db, s1, a1, &template, NOW),
            gate.import_orders_xlsx(&db, s2, a2, &template, NOW),
        );
        assert!(one.is_ok() && two.is_ok(), "{one:?} {two:?}");
        assert_eq!(imports_recorded(&db, s1).await, 3);
        assert_eq!(imports_recorded(&db, s2).await, 2);
        // A turn that ends with an error is given back too.
        assert!(matches!(
            gate.import_orders_xlsx(&db, s1, a1, b"not a workbook", NOW)
                .await,
            Err(ImportError::NotXlsx)
        ));
        gate.try_begin(s1).expect("the turn was given back");
    })
    .await;
}
