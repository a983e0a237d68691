//! Benchmark (not a test) of the 在线会话清单 export: a SQLite file with 200,000 conversations
//! of one supplier, exported in one go. Prints rows, seconds and peak RSS.
//!
//! `cargo run -p domain --release --example export_bench [conversations]`

use std::time::Instant;

use domain::accounts::create_agent;
use domain::entity::{buyer, conversation};
use domain::password::PasswordHasher;
use domain::reports::{ReportFilter, report_page};
use sea_orm::{EntityTrait, Set};

const DEFAULT_CONVERSATIONS: i64 = 200_000;
const BUYERS: i64 = 500;
/// Rows per INSERT: 14 columns × 2000 stays under SQLite's 32,766 bound parameters.
const INSERT_BATCH: usize = 2_000;

/// Peak resident set size of this process (VmHWM), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn mib(kib: Option<u64>) -> String {
    kib.map(|k| format!("{:.1} MiB", k as f64 / 1024.0))
        .unwrap_or_else(|| "n/a".to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: i64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CONVERSATIONS);
    // BENCH_KEEP=1 keeps the database and the workbook (the path is printed) for a closer look.
    let dir = tempfile::tempdir()?;
    let dir_path = if std::env::var("BENCH_KEEP").is_ok_and(|v| v == "1") {
        let kept = dir.keep();
        println!("keeping {}", kept.display());
        kept
    } else {
        dir.path().to_path_buf()
    };
    let url = format!("sqlite://{}", dir_path.join("bench.db").display());
    let db = domain::db::connect(&url).await?;
    domain::db::migrate(&db).await?;

    let hasher = PasswordHasher::new(4);
    let (supplier_id, _) = domain::accounts::create_supplier(
        &db,
        &hasher,
        "示例农产品供应商",
        "bench_admin",
        "客服管理员",
        None,
    )
    .await?;
    let mut agents = Vec::new();
    for name in ["客服小童", "客服小李"] {
        agents.push(
            create_agent(&db, &hasher, supplier_id, name, None)
                .await?
                .0
                .id,
        );
    }

    // Argon2 hashing of these accounts' passwords sets most of the baseline.
    println!(
        "peak RSS after migrations and accounts: {}",
        mib(peak_rss_kib())
    );

    let started = Instant::now();
    let buyers: Vec<buyer::ActiveModel> = (0..BUYERS)
        .map(|i| buyer::ActiveModel {
            supplier_id: Set(supplier_id),
            external_id: Set(format!("CG{:06}", 100_000 + i)),
            name: Set(format!("采购人{i}")),
            unit: Set(format!("某县第{}中学后勤服务中心", i % 40 + 1)),
            created_at: Set(0),
            ..Default::default()
        })
        .collect();
    let inserted = buyer::Entity::insert_many(buyers)
        .exec_with_returning(&db)
        .await?;
    let buyer_ids: Vec<i64> = inserted.iter().map(|b| b.id).collect();

    // A year of conversations ending now, newest last; a few never served.
    let now = domain::db::now_ms();
    let span = 360 * 24 * 3600 * 1000_i64;
    let start = now - span;
    let step = span / total;
    let mut batch = Vec::with_capacity(INSERT_BATCH);
    for i in 0..total {
        let t0 = start + i * step + (i * 7919) % 1000;
        let served = i % 50 != 0;
        let t1 = served.then_some(t0 + (2 + i % 119) * 1000 + (i * 31) % 1000);
        let t2 = t0 + (30 + (i * 337) % 2370) * 1000 + 130_000;
        batch.push(conversation::ActiveModel {
            supplier_id: Set(supplier_id),
            buyer_id: Set(buyer_ids[(i % BUYERS) as usize]),
            agent_id: Set(served.then_some(agents[(i % 2) as usize])),
            status: Set(conversation::STATUS_ENDED.to_owned()),
            entered_at: Set(t0),
            agent_joined_at: Set(t1),
            first_agent_reply_at: Set(t1.map(|t1| t1 + (3 + i % 10) * 1000)),
            ended_at: Set(Some(t2)),
            end_reason: Set(Some(
                [
                    conversation::END_AGENT,
                    conversation::END_BUYER,
                    conversation::END_TIMEOUT,
                    conversation::END_KICKED,
                ][(i % 4) as usize]
                    .to_owned(),
            )),
            agent_msg_count: Set(if served { (i % 9) as i32 + 1 } else { 0 }),
            buyer_msg_count: Set((i % 7) as i32 + 1),
            last_seq: Set(0),
            last_message_at: Set(t2),
            ..Default::default()
        });
        if batch.len() == INSERT_BATCH {
            conversation::Entity::insert_many(std::mem::take(&mut batch))
                .exec_without_returning(&db)
                .await?;
        }
    }
    if !batch.is_empty() {
        conversation::Entity::insert_many(batch)
            .exec_without_returning(&db)
            .await?;
    }
    println!(
        "seeded {total} conversations in {:.1} s (peak RSS so far {})",
        started.elapsed().as_secs_f64(),
        mib(peak_rss_kib())
    );

    let filter = ReportFilter {
        from_ms: now + 1 - 366 * 24 * 3600 * 1000,
        to_ms: now + 1,
        ..Default::default()
    };

    let started = Instant::now();
    let (rows, total_rows, _) = report_page(&db, supplier_id, &filter, 1, 20, now).await?;
    println!(
        "report_page (first page of 20, totals over {total_rows} rows): {:.2} s, {} rows",
        started.elapsed().as_secs_f64(),
        rows.len()
    );

    let path = dir_path.join("在线会话清单.xlsx");
    let before = peak_rss_kib();
    let started = Instant::now();
    let summary =
        domain::reports::export::write_report_xlsx(&db, supplier_id, &filter, now, &path).await?;
    let seconds = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path)?.len();
    println!(
        "export: {} rows in {seconds:.2} s ({:.0} rows/s), file {:.1} MiB",
        summary.rows,
        summary.rows as f64 / seconds,
        size as f64 / (1024.0 * 1024.0)
    );
    println!(
        "peak RSS (VmHWM): {} before the export, {} after",
        mib(before),
        mib(peak_rss_kib())
    );
    Ok(())
}
