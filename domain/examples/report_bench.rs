//! Benchmark (not a test) of the 在线会话清单 over a million sessions: the page with its totals
//! line, and the 导出 of every row. Prints medians, the export's time and its peak RSS growth.
//!
//! ```sh
//! cargo run -p domain --release --example report_bench                 # SQLite, 1,000,000 rows
//! cargo run -p domain --release --example report_bench -- 200000       # fewer rows
//! REPORT_BENCH_DATABASE_URL=postgres://kefu:kefu@127.0.0.1:5432/kefu_test \
//!   cargo run -p domain --release --example report_bench               # PostgreSQL
//! ```
//!
//! The SQLite file is `target/report_bench/sessions-<rows>.db`; it is seeded once (a year of
//! conversations of one supplier, plus a tenth as many of a second supplier interleaved with
//! them, so scoping has rows to skip) and reused by later runs, so code before and after a
//! change is measured on the same data. On PostgreSQL the rows go to the schema
//! `report_bench_<rows>`. Delete the file (or drop the schema) to seed again. The clock of every
//! report is fixed ([`NOW`]), so runs agree on which buyers are still waiting.
//!
//! Each `report_page` line is the median of several runs: wall time, and the CPU time this
//! process used (on SQLite that is the query work itself; on PostgreSQL the server's share is
//! not in it). A page far past the end (`totals only`) runs the totals query alone.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use domain::accounts::create_agent;
use domain::entity::{buyer, conversation};
use domain::password::PasswordHasher;
use domain::reports::export::write_report_xlsx;
use domain::reports::{ReportFilter, ReportTotals, report_page};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

const DEFAULT_CONVERSATIONS: i64 = 1_000_000;
/// The benchmark's clock: 2026-12-01 00:00:00 in Shanghai.
const NOW: i64 = 1_764_518_400_000;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// The seeded conversations cover this many days up to [`NOW`].
const SPAN_DAYS: i64 = 360;
const BUYERS_A: i64 = 5_000;
const BUYERS_B: i64 = 500;
/// Rows per INSERT statement and per transaction.
const ROWS_PER_INSERT: usize = 1_000;
const ROWS_PER_TRANSACTION: usize = 100_000;
/// Runs per measured call; fewer when one run takes longer than [`SLOW_RUN`].
const RUNS: usize = 7;
const SLOW_RUN: Duration = Duration::from_secs(1);

/// A page far past the end: `report_page` then runs the totals alone and reads no rows.
const PAST_THE_END: u64 = 1_000_000;

const SUPPLIER_A: &str = "报表基准供应商";
const SUPPLIER_B: &str = "报表基准第二供应商";

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time used so far by every thread of this process (SQLite runs the queries on its own
/// threads), from `/proc/self/task/*/schedstat`, in nanoseconds. On a shared machine the wall
/// time of a run also holds the time it waited for a core; this does not.
fn cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|task| {
            let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
            stat.split_whitespace().next()?.parse::<u64>().ok()
        })
        .sum()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Resets VmHWM to the current RSS (Linux ≥ 4.0), so the peak of the seeding does not hide the
/// export's.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// A seeded supplier and its two agents.
struct Tenant {
    id: i64,
    agents: [i64; 2],
}

async fn open(
    url: Option<&str>,
    total: i64,
) -> Result<DatabaseConnection, Box<dyn std::error::Error>> {
    match url {
        Some(url) if url.starts_with("postgres") => {
            let schema = format!("report_bench_{total}");
            let admin = Database::connect(url).await?;
            admin
                .execute_unprepared(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .await?;
            admin.close().await?;
            let mut options = ConnectOptions::new(url.to_owned());
            domain::db::configure(&mut options)?;
            options.set_schema_search_path(schema.clone());
            println!("database: PostgreSQL, schema {schema}");
            Ok(Database::connect(options).await?)
        }
        Some(url) => {
            println!("database: {url}");
            Ok(domain::db::connect(url).await?)
        }
        None => {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/report_bench")
                .join(format!("sessions-{total}.db"));
            println!("database: SQLite file {}", path.display());
            Ok(domain::db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await?)
        }
    }
}

async fn tenant(
    db: &DatabaseConnection,
    hasher: &PasswordHasher,
    name: &str,
    admin: &str,
) -> Result<Tenant, Box<dyn std::error::Error>> {
    let (id, _) =
        domain::accounts::create_supplier(db, hasher, name, admin, "客服管理员", None).await?;
    let mut agents = [0; 2];
    for (slot, agent_name) in agents.iter_mut().zip(["客服小童", "客服小李"]) {
        *slot = create_agent(db, hasher, id, agent_name, None).await?.0.id;
    }
    Ok(Tenant { id, agents })
}

async fn buyers(
    db: &DatabaseConnection,
    supplier_id: i64,
    prefix: &str,
    count: i64,
) -> Result<Vec<i64>, Box<dyn std::error::Error>> {
    let mut ids = Vec::new();
    for chunk in (0..count).collect::<Vec<_>>().chunks(1000) {
        let models = chunk.iter().map(|i| buyer::ActiveModel {
            supplier_id: Set(supplier_id),
            external_id: Set(format!("{prefix}{:06}", 100_000 + i)),
            name: Set(format!("采购人{i}")),
            unit: Set(format!("某县第{}中学后勤服务中心", i % 40 + 1)),
            created_at: Set(0),
            ..Default::default()
        });
        let inserted = buyer::Entity::insert_many(models)
            .exec_with_returning(db)
            .await?;
        ids.extend(inserted.iter().map(|b| b.id));
    }
    Ok(ids)
}

/// One seeded conversation as a VALUES tuple (numbers and fixed ASCII words only).
fn conversation_values(i: i64, t0: i64, supplier: &Tenant, buyer_id: i64) -> String {
    let agent = supplier.agents[(i % 2) as usize];
    // A few never served; the newest are still open or waiting; some were kicked back to
    // routing after being served (assignment cleared, served agent kept).
    let age = NOW - t0;
    let served = i % 50 != 0 && age > 90_000;
    let ended = age > 3_600_000 || i % 3 == 0;
    let t1 = served.then_some(t0 + (2 + i % 119) * 1000 + (i * 31) % 1000);
    let r1 = t1
        .filter(|_| i % 11 != 0)
        .map(|t1| t1 + (3 + i % 10) * 1000 + (i * 13) % 1000);
    let t2 = ended.then_some(t0 + (30 + (i * 337) % 2370) * 1000 + 130_000 + (i * 7) % 1000);
    let kicked = served && ended && i % 97 == 0;
    let reason = match (ended, kicked) {
        (false, _) => "NULL",
        (true, true) => "'kicked'",
        (true, false) => ["'agent'", "'buyer'", "'timeout'"][(i % 3) as usize],
    };
    let status = match (t1, t2) {
        (_, Some(_)) => conversation::STATUS_ENDED,
        (Some(_), None) => conversation::STATUS_OPEN,
        (None, None) => conversation::STATUS_QUEUED,
    };
    let opt = |v: Option<i64>| v.map_or_else(|| "NULL".to_owned(), |v| v.to_string());
    let assigned = (served && !kicked).then_some(agent);
    let agent_msgs = if served { i % 9 + 1 } else { 0 };
    let buyer_msgs = i % 7 + 1;
    format!(
        "({},{buyer_id},{},{},'{status}',{t0},{},{},{},{reason},{agent_msgs},{buyer_msgs},{},{})",
        supplier.id,
        opt(assigned),
        opt(served.then_some(agent)),
        opt(t1),
        opt(r1),
        opt(t2),
        agent_msgs + buyer_msgs,
        t2.unwrap_or(t0),
    )
}

async fn seed(db: &DatabaseConnection, total: i64) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let hasher = PasswordHasher::new(4);
    let a = tenant(db, &hasher, SUPPLIER_A, "bench_admin_a").await?;
    let b = tenant(db, &hasher, SUPPLIER_B, "bench_admin_b").await?;
    let buyers_a = buyers(db, a.id, "CG", BUYERS_A).await?;
    let buyers_b = buyers(db, b.id, "QT", BUYERS_B).await?;

    // `total` rows of A and a tenth as many of B (every eleventh row), evenly over the span,
    // oldest first.
    let others = total / 10;
    let all = total + others;
    let start = NOW - SPAN_DAYS * DAY_MS;
    let step = SPAN_DAYS * DAY_MS / all;
    let head = "INSERT INTO conversation (supplier_id, buyer_id, agent_id, served_agent_id, \
                status, entered_at, agent_joined_at, first_agent_reply_at, ended_at, end_reason, \
                agent_msg_count, buyer_msg_count, last_seq, last_message_at) VALUES ";
    let mut sql = String::new();
    let mut in_statement = 0;
    let mut txn = db.begin().await?;
    for i in 0..all {
        let t0 = start + i * step + (i * 7919) % 1000;
        let (supplier, buyer_id) = if i % 11 == 10 && i / 11 < others {
            (&b, buyers_b[(i % BUYERS_B) as usize])
        } else {
            (&a, buyers_a[((i * 7) % BUYERS_A) as usize])
        };
        sql.push_str(if in_statement == 0 { head } else { "," });
        sql.push_str(&conversation_values(i, t0, supplier, buyer_id));
        in_statement += 1;
        if in_statement == ROWS_PER_INSERT || i == all - 1 {
            txn.execute_unprepared(&sql).await?;
            sql.clear();
            in_statement = 0;
        }
        if ((i + 1) as usize).is_multiple_of(ROWS_PER_TRANSACTION) {
            txn.commit().await?;
            txn = db.begin().await?;
        }
    }
    txn.commit().await?;
    println!(
        "seeded {total} + {} conversations in {:.1} s",
        others,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The seeded supplier A (seeding first when the database has none).
async fn supplier_a(
    db: &DatabaseConnection,
    total: i64,
) -> Result<Tenant, Box<dyn std::error::Error>> {
    use domain::entity::{account, supplier};
    let find = || supplier::Entity::find().filter(supplier::Column::Name.eq(SUPPLIER_A));
    if find().one(db).await?.is_none() {
        seed(db, total).await?;
    }
    let a = find()
        .one(db)
        .await?
        .ok_or("supplier A missing after seeding")?;
    let rows = conversation::Entity::find()
        .filter(conversation::Column::SupplierId.eq(a.id))
        .count(db)
        .await?;
    if rows != total as u64 {
        return Err(format!(
            "the database holds {rows} conversations of {SUPPLIER_A}, not {total}: delete it to seed again"
        )
        .into());
    }
    let agents: Vec<i64> = account::Entity::find()
        .filter(account::Column::SupplierId.eq(a.id))
        .filter(account::Column::Role.eq(account::ROLE_AGENT))
        .order_by_asc(account::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|agent| agent.id)
        .collect();
    Ok(Tenant {
        id: a.id,
        agents: agents
            .try_into()
            .map_err(|_| "supplier A needs two agents")?,
    })
}

/// What the runs of one `report_page` call took: median wall and CPU time, with what the last
/// run returned.
struct Timed {
    wall: Duration,
    cpu: Duration,
    rows: usize,
    count: u64,
    totals: ReportTotals,
}

async fn time_page(
    db: &DatabaseConnection,
    supplier_id: i64,
    filter: &ReportFilter,
    page: u64,
) -> Result<Timed, Box<dyn std::error::Error>> {
    let mut walls = Vec::new();
    let mut cpus = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        let cpu_before = cpu_ns();
        let started = Instant::now();
        let result = report_page(db, supplier_id, filter, page, 20, NOW).await?;
        let took = started.elapsed();
        cpus.push(Duration::from_nanos(cpu_ns().saturating_sub(cpu_before)));
        walls.push(took);
        last = Some(result);
        if took > SLOW_RUN && walls.len() >= 3 {
            break;
        }
    }
    walls.sort();
    cpus.sort();
    let (rows, count, totals) = last.ok_or("no run")?;
    Ok(Timed {
        wall: walls[walls.len() / 2],
        cpu: cpus[cpus.len() / 2],
        rows: rows.len(),
        count,
        totals,
    })
}

fn secs(avg: Option<f64>) -> String {
    avg.map_or_else(|| "—".to_owned(), |s| format!("{s:.2}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let total: i64 = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CONVERSATIONS);
    let url = std::env::var("REPORT_BENCH_DATABASE_URL").ok();
    let db = open(url.as_deref(), total).await?;
    domain::db::migrate(&db).await?;
    let a = supplier_a(&db, total).await?;

    let year = ReportFilter {
        from_ms: NOW + 1 - 366 * DAY_MS,
        to_ms: NOW + 1,
        ..Default::default()
    };
    let month = ReportFilter {
        from_ms: NOW - 30 * DAY_MS,
        ..year.clone()
    };
    let week = ReportFilter {
        from_ms: NOW - 7 * DAY_MS,
        ..year.clone()
    };
    let agent = |filter: &ReportFilter| ReportFilter {
        agent_id: Some(a.agents[0]),
        ..filter.clone()
    };
    let buyer = |filter: &ReportFilter| ReportFilter {
        buyer_external_id: Some("cg1049".to_owned()),
        ..filter.clone()
    };
    let cases: [(&str, ReportFilter, u64); 9] = [
        ("a year, page 1", year.clone(), 1),
        ("a year, totals only", year.clone(), PAST_THE_END),
        ("a year, page 1000", year.clone(), 1000),
        ("one agent + 30 days, page 1", agent(&month), 1),
        (
            "one agent + 30 days, totals only",
            agent(&month),
            PAST_THE_END,
        ),
        ("one agent + 7 days, page 1", agent(&week), 1),
        ("one agent + a year, page 1", agent(&year), 1),
        ("buyer id cg1049* + 30 days, page 1", buyer(&month), 1),
        ("buyer id cg1049* + a year, page 1", buyer(&year), 1),
    ];
    println!(
        "load average: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    println!(
        "{:<36} {:>9} {:>8} {:>5} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "report_page (20 rows a page)",
        "wall ms",
        "cpu ms",
        "rows",
        "count",
        "served",
        "avg wait",
        "avg sess",
        "avg hand",
        "avg 1st"
    );
    for (label, filter, page) in cases {
        let run = time_page(&db, a.id, &filter, page).await?;
        println!(
            "{label:<36} {:>9.1} {:>8.1} {:>5} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9}",
            run.wall.as_secs_f64() * 1000.0,
            run.cpu.as_secs_f64() * 1000.0,
            run.rows,
            run.count,
            run.totals.served,
            secs(run.totals.avg_wait_secs),
            secs(run.totals.avg_session_secs),
            secs(run.totals.avg_handling_secs),
            secs(run.totals.avg_first_response_secs),
        );
    }

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("在线会话清单.xlsx");
    let reset = reset_peak_rss();
    let rss_before = status_kib("VmRSS:").unwrap_or_default();
    let started = Instant::now();
    let summary = write_report_xlsx(&db, a.id, &year, NOW, &path).await?;
    let took = started.elapsed().as_secs_f64();
    let peak = status_kib("VmHWM:").unwrap_or_default();
    println!(
        "export: {} rows in {took:.1} s ({:.0} rows/s), file {:.1} MiB",
        summary.rows,
        summary.rows as f64 / took,
        std::fs::metadata(&path)?.len() as f64 / (1024.0 * 1024.0)
    );
    println!(
        "export memory: RSS {:.1} MiB before, peak {:.1} MiB during: growth {:.1} MiB{}",
        mib(rss_before),
        mib(peak),
        mib(peak.saturating_sub(rss_before)),
        if reset {
            ""
        } else {
            " (VmHWM could not be reset: the peak may be the seeding's)"
        }
    );
    Ok(())
}
