//! 在线会话清单 and its Excel export: the column maths, the filters and paging, tenant scoping,
//! the workbook read back cell by cell, and the demo conversations.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};
use chrono::{NaiveDate, TimeZone, Timelike};
use common::chat::new_buyer;
use common::{each_db, hasher, supplier};
use domain::DomainError;
use domain::accounts::create_agent;
use domain::entity::{account, buyer, conversation, message};
use domain::reports::export::{self, export_file_name, write_report_xlsx};
use domain::reports::{
    self, EndReason, ReportFilter, ReportRow, ReportTotals, columns, compute_row, format_shanghai,
    report_page, shanghai, shanghai_day_start_ms,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

fn day(y: i32, m: u32, d: u32) -> i64 {
    shanghai_day_start_ms(NaiveDate::from_ymd_opt(y, m, d).expect("valid date"))
}

/// 2026-11-20 10:00:00 in Shanghai (02:00 UTC).
fn t() -> i64 {
    day(2026, 11, 20) + 10 * HOUR
}

/// The clock of these tests: 2026-11-20 15:00:00 in Shanghai.
fn now() -> i64 {
    t() + 5 * HOUR
}

fn range(from_ms: i64, to_ms: i64) -> ReportFilter {
    ReportFilter {
        from_ms,
        to_ms,
        ..Default::default()
    }
}

/// A supplier with two agents and three buyers.
struct Tenant {
    id: i64,
    agents: [account::Model; 2],
    buyers: [buyer::Model; 3],
}

async fn tenant(db: &DatabaseConnection, name: &str, admin: &str) -> Tenant {
    let id = supplier(db, name, admin).await;
    let mut agents = Vec::new();
    for agent_name in ["客服小童", "客服小李"] {
        let (agent, _) = create_agent(db, &hasher(), id, agent_name, None)
            .await
            .expect("agent");
        agents.push(agent);
    }
    let mut buyers = Vec::new();
    for (external_id, buyer_name, unit) in [
        ("CG1001", "王采购", "某县第一中学"),
        ("CG1002", "李老师", "某市人民医院"),
        ("CG1003", "赵科长", "某区农业农村局"),
    ] {
        buyers.push(new_buyer(db, id, external_id, buyer_name, unit).await);
    }
    Tenant {
        id,
        agents: agents.try_into().expect("two agents"),
        buyers: buyers.try_into().expect("three buyers"),
    }
}

/// 示例农产品供应商 (admin `admin_a`) and the other tenant 山区茶叶合作社 (admin `admin_b`), each with
/// its two agents and three buyers.
async fn two_tenants(db: &DatabaseConnection) -> (Tenant, Tenant) {
    let a = tenant(db, "示例农产品供应商", "admin_a").await;
    (a, tenant(db, "山区茶叶合作社", "admin_b").await)
}

/// A hand-built conversation.
#[derive(Clone, Default)]
struct Conv {
    buyer: Option<buyer::Model>,
    agent: Option<account::Model>,
    t0: i64,
    t1: Option<i64>,
    r1: Option<i64>,
    t2: Option<i64>,
    reason: Option<&'static str>,
    agent_msgs: i32,
    buyer_msgs: i32,
}

impl Conv {
    fn model(&self, supplier_id: i64) -> conversation::ActiveModel {
        let buyer = self.buyer.as_ref().expect("buyer set");
        let status = match (self.t1, self.t2) {
            (_, Some(_)) => conversation::STATUS_ENDED,
            (Some(_), None) => conversation::STATUS_OPEN,
            (None, None) => conversation::STATUS_QUEUED,
        };
        conversation::ActiveModel {
            supplier_id: Set(supplier_id),
            buyer_id: Set(buyer.id),
            agent_id: Set(self.agent.as_ref().map(|a| a.id)),
            status: Set(status.to_owned()),
            entered_at: Set(self.t0),
            agent_joined_at: Set(self.t1),
            first_agent_reply_at: Set(self.r1),
            ended_at: Set(self.t2),
            end_reason: Set(self.reason.map(str::to_owned)),
            agent_msg_count: Set(self.agent_msgs),
            buyer_msg_count: Set(self.buyer_msgs),
            last_seq: Set(self.agent_msgs + self.buyer_msgs),
            last_message_at: Set(self.t2.unwrap_or(self.t0)),
            ..Default::default()
        }
    }

    async fn insert(&self, db: &DatabaseConnection, supplier_id: i64) -> conversation::Model {
        self.model(supplier_id)
            .insert(db)
            .await
            .expect("conversation")
    }
}

/// The expected report line of `c` (inserted as `id`), spelled out column by column.
#[allow(clippy::too_many_arguments)]
fn expect_row(
    id: i64,
    c: &Conv,
    wait: i64,
    session: Option<i64>,
    handling: Option<i64>,
    first: Option<i64>,
    reason: Option<EndReason>,
) -> ReportRow {
    let buyer = c.buyer.as_ref().expect("buyer");
    ReportRow {
        conversation_id: id,
        buyer_external_id: buyer.external_id.clone(),
        buyer_name: buyer.name.clone(),
        buyer_unit: buyer.unit.clone(),
        agent_name: c.agent.as_ref().map(|a| a.display_name.clone()),
        agent_login: c.agent.as_ref().map(|a| a.login.clone()),
        entered_at: c.t0,
        agent_joined_at: c.t1,
        ended_at: c.t2,
        wait_secs: wait,
        session_secs: session,
        handling_secs: handling,
        first_response_secs: first,
        agent_msgs: i64::from(c.agent_msgs),
        buyer_msgs: i64::from(c.buyer_msgs),
        end_reason: reason,
    }
}

/// Nine conversations of `s` on 2026-11-20 covering every case of the column maths, with
/// their expected rows, newest entry first (the report's order).
async fn known_conversations(db: &DatabaseConnection, s: &Tenant) -> Vec<ReportRow> {
    use conversation::{END_AGENT, END_BUYER, END_KICKED, END_TIMEOUT};
    let [b1, b2, b3] = s.buyers.clone();
    let [a1, a2] = s.agents.clone();
    let t = t();
    let mut expected = Vec::new();
    let mut add = async |c: Conv,
                         wait: i64,
                         session: Option<i64>,
                         handling: Option<i64>,
                         first: Option<i64>,
                         reason: Option<EndReason>| {
        let id = c.insert(db, s.id).await.id;
        expected.push(expect_row(id, &c, wait, session, handling, first, reason));
    };

    // A: served and ended by the agent. Times carry milliseconds: 10:00:00.900 → 10:00:46.100
    // is shown as 10:00:00 → 10:00:46, so the wait is 46 s (the shown times' difference).
    add(
        Conv {
            buyer: Some(b1.clone()),
            agent: Some(a1.clone()),
            t0: t + 900,
            t1: Some(t + 46_100),
            r1: Some(t + 53_999),
            t2: Some(t + 600_500),
            reason: Some(conversation::END_AGENT),
            agent_msgs: 5,
            buyer_msgs: 4,
        },
        46,
        Some(600),
        Some(554),
        Some(7),
        Some(EndReason::Agent),
    )
    .await;
    // B: never served; timed out in the queue after 15 minutes.
    add(
        Conv {
            buyer: Some(b2.clone()),
            t0: t + HOUR,
            t2: Some(t + HOUR + 900 * SECOND),
            reason: Some(conversation::END_TIMEOUT),
            buyer_msgs: 2,
            ..Default::default()
        },
        900,
        Some(900),
        None,
        None,
        Some(EndReason::Timeout),
    )
    .await;
    // D: served, still open.
    add(
        Conv {
            buyer: Some(b1.clone()),
            agent: Some(a2.clone()),
            t0: t + 2 * HOUR,
            t1: Some(t + 2 * HOUR + 30 * SECOND),
            r1: Some(t + 2 * HOUR + 42 * SECOND),
            agent_msgs: 1,
            buyer_msgs: 1,
            ..Default::default()
        },
        30,
        None,
        None,
        Some(12),
        None,
    )
    .await;
    // E to I, served by an agent: entered at, [joined, first answer, ended] in seconds after
    // entering, buyer, agent, how it ended, [agent, buyer] messages.
    #[rustfmt::skip]
    let served = [
        // E: ended by the buyer.
        (t + 3 * HOUR,               [Some(5), Some(9), Some(1200)],     &b2, &a1, END_BUYER,   [3, 3]),
        // F: served, then timed out.
        (t + 3 * HOUR + 30 * MINUTE, [Some(120), Some(128), Some(1800)], &b3, &a2, END_TIMEOUT, [2, 1]),
        // G: the agent's login was kicked.
        (t + 4 * HOUR,               [Some(10), Some(15), Some(300)],    &b1, &a1, END_KICKED,  [1, 2]),
        // H: the agent joined but never wrote: no first response.
        (t + 4 * HOUR + 10 * MINUTE, [Some(20), None, Some(90)],         &b2, &a2, END_BUYER,   [0, 2]),
        // I: a clock that stepped back (t1 before t0): the wait is 0, never negative.
        (t + 4 * HOUR + 20 * MINUTE, [Some(-3), Some(2), Some(60)],      &b3, &a1, END_AGENT,   [1, 1]),
    ];
    // Their columns: wait, session, handling, first response, end reason.
    #[rustfmt::skip]
    let columns = [
        (5,   Some(1200), Some(1195), Some(4), Some(EndReason::Buyer)),
        (120, Some(1800), Some(1680), Some(8), Some(EndReason::Timeout)),
        (10,  Some(300),  Some(290),  Some(5), Some(EndReason::Kicked)),
        (20,  Some(90),   Some(70),   None,    Some(EndReason::Buyer)),
        (0,   Some(60),   Some(63),   Some(5), Some(EndReason::Agent)),
    ];
    for ((t0, [t1, r1, t2], buyer, agent, reason, [agent_msgs, buyer_msgs]), want) in
        served.into_iter().zip(columns)
    {
        let after = |secs: Option<i64>| secs.map(|secs| t0 + secs * SECOND);
        let c = Conv {
            buyer: Some(buyer.clone()),
            agent: Some(agent.clone()),
            t0,
            t1: after(t1),
            r1: after(r1),
            t2: after(t2),
            reason: Some(reason),
            agent_msgs,
            buyer_msgs,
        };
        let (wait, session, handling, first, end) = want;
        add(c, wait, session, handling, first, end).await;
    }
    // C: still waiting, 95 s before "now".
    add(
        Conv {
            buyer: Some(b3.clone()),
            t0: now() - 95 * SECOND,
            buyer_msgs: 1,
            ..Default::default()
        },
        95,
        None,
        None,
        None,
        None,
    )
    .await;
    expected.reverse();
    expected
}

/// The totals of [`known_conversations`], worked out by hand.
fn known_totals() -> ReportTotals {
    ReportTotals {
        count: 9,
        served: 7,
        // I waited 0 s.
        avg_wait_secs: Some((46 + 900 + 30 + 5 + 120 + 10 + 20 + 95) as f64 / 9.0),
        avg_session_secs: Some((600 + 900 + 1200 + 1800 + 300 + 90 + 60) as f64 / 7.0),
        avg_handling_secs: Some((554 + 1195 + 1680 + 290 + 70 + 63) as f64 / 6.0),
        avg_first_response_secs: Some((7 + 12 + 4 + 8 + 5 + 5) as f64 / 6.0),
        agent_msgs: 5 + 1 + 3 + 2 + 1 + 1,
        buyer_msgs: 4 + 2 + 1 + 3 + 1 + 2 + 2 + 1 + 1,
    }
}

fn the_day() -> ReportFilter {
    range(day(2026, 11, 20), day(2026, 11, 21))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn columns_are_computed_exactly() {
    each_db(|db| async move {
        let s = tenant(&db, "示例农产品供应商", "admin_a").await;
        let expected = known_conversations(&db, &s).await;

        let (rows, total, totals) = report_page(&db, s.id, &the_day(), 1, 100, now())
            .await
            .expect("report");
        assert_eq!(total, 9);
        for (row, want) in rows.iter().zip(&expected) {
            assert_eq!(row, want);
        }
        assert_eq!(rows, expected);
        assert_eq!(totals, known_totals());
        assert_eq!(reports::totals(&rows), known_totals());

        // The wait of a buyer still waiting grows with the clock; nothing else changes.
        let (later, _, _) = report_page(&db, s.id, &the_day(), 1, 1, now() + 30 * SECOND)
            .await
            .expect("report");
        assert_eq!(later[0].wait_secs, 125);
        assert_eq!(later[0].agent_name, None);
        assert_eq!(later[0].end_reason, None);

        // compute_row on the stored models gives the same line.
        let stored = conversation::Entity::find_by_id(expected[8].conversation_id)
            .one(&db)
            .await
            .expect("q")
            .expect("A");
        let row = compute_row(&stored, &s.buyers[0], Some(&s.agents[0]), now());
        assert_eq!(row, expected[8]);
        assert_eq!(
            row.end_reason.map(EndReason::label),
            Some("客服结束"),
            "Chinese label"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn filters_by_entry_time_buyer_and_agent() {
    each_db(|db| async move {
        let (a, b) = two_tenants(&db).await;
        let from = day(2026, 11, 1);
        let to = day(2026, 11, 26);
        let mut ids = HashMap::new();
        // (label, buyer, agent, entered)
        let cases: [(&str, usize, Option<usize>, i64); 6] = [
            ("before", 0, Some(0), from - 1),
            ("at from", 0, Some(0), from),
            ("mid", 1, Some(1), from + 10 * DAY),
            ("unserved", 1, None, from + 11 * DAY),
            ("last ms", 2, Some(1), to - 1),
            ("at to", 2, Some(0), to),
        ];
        for (label, buyer, agent, t0) in cases {
            let c = Conv {
                buyer: Some(a.buyers[buyer].clone()),
                agent: agent.map(|i| a.agents[i].clone()),
                t0,
                t1: agent.map(|_| t0 + 10 * SECOND),
                t2: Some(t0 + 5 * MINUTE),
                reason: Some(conversation::END_AGENT),
                ..Default::default()
            };
            ids.insert(label, c.insert(&db, a.id).await.id);
        }
        // The other supplier has a buyer with the same 客户编号 CG1001, in range.
        let other = Conv {
            buyer: Some(b.buyers[0].clone()),
            agent: Some(b.agents[0].clone()),
            t0: from + DAY,
            t1: Some(from + DAY + SECOND),
            ..Default::default()
        }
        .insert(&db, b.id)
        .await;

        let labels = |rows: &[ReportRow]| -> Vec<&str> {
            rows.iter()
                .map(|r| {
                    ids.iter()
                        .find(|(_, id)| **id == r.conversation_id)
                        .map(|(label, _)| *label)
                        .unwrap_or("foreign")
                })
                .collect()
        };
        let run = async |filter: ReportFilter| {
            report_page(&db, a.id, &filter, 1, 100, now())
                .await
                .expect("report")
        };

        // From inclusive, to exclusive.
        let (rows, total, _) = run(range(from, to)).await;
        assert_eq!(labels(&rows), ["last ms", "unserved", "mid", "at from"]);
        assert_eq!(total, 4);

        // 客户编号, trimmed; blank means everyone.
        let mut f = range(from, to);
        f.buyer_external_id = Some(" CG1002 ".into());
        assert_eq!(labels(&run(f.clone()).await.0), ["unserved", "mid"]);
        f.buyer_external_id = Some("CG1001".into());
        assert_eq!(
            labels(&run(f.clone()).await.0),
            ["at from"],
            "not supplier B's CG1001"
        );
        f.buyer_external_id = Some("CG9999".into());
        assert_eq!(run(f.clone()).await.1, 0);
        f.buyer_external_id = Some("   ".into());
        assert_eq!(run(f.clone()).await.1, 4);

        // Agent; combined with 客户编号.
        let mut f = range(from, to);
        f.agent_id = Some(a.agents[1].id);
        assert_eq!(labels(&run(f.clone()).await.0), ["last ms", "mid"]);
        f.buyer_external_id = Some("CG1003".into());
        assert_eq!(labels(&run(f.clone()).await.0), ["last ms"]);

        // Supplier B sees its own row only.
        let (rows, total, _) = report_page(&db, b.id, &range(from, to), 1, 100, now())
            .await
            .expect("report b");
        assert_eq!(total, 1);
        assert_eq!(rows[0].conversation_id, other.id);

        // Refusals.
        let field = |err: DomainError| match err {
            DomainError::Validation { field, .. } => field,
            other => panic!("expected a validation error, got {other:?}"),
        };
        let err = report_page(&db, a.id, &range(from, from + 366 * DAY + 1), 1, 10, now())
            .await
            .expect_err("367 days");
        assert_eq!(err.user_message(), "查询时间范围不能超过 366 天");
        run(range(from, from + 366 * DAY)).await;
        let err = report_page(&db, a.id, &range(to, from), 1, 10, now())
            .await
            .expect_err("reversed");
        assert_eq!(field(err), "to_ms");
        let mut f = range(from, to);
        f.buyer_external_id = Some("X".repeat(65));
        let err = report_page(&db, a.id, &f, 1, 10, now())
            .await
            .expect_err("long id");
        assert_eq!(field(err), "buyer_external_id");
        for foreign in [b.agents[0].id, 999_999] {
            let mut f = range(from, to);
            f.agent_id = Some(foreign);
            let err = report_page(&db, a.id, &f, 1, 10, now())
                .await
                .expect_err("foreign agent");
            assert_eq!(field(err), "agent_id");
            let dir = tempfile::tempdir().expect("dir");
            let err = write_report_xlsx(&db, a.id, &f, now(), &dir.path().join("x.xlsx"))
                .await
                .expect_err("foreign agent export");
            assert_eq!(field(err), "agent_id");
            assert!(!dir.path().join("x.xlsx").exists());
        }
        for (page, size, what) in [(0, 10, "page"), (1, 0, "page_size"), (1, 101, "page_size")] {
            let err = report_page(&db, a.id, &range(from, to), page, size, now())
                .await
                .expect_err("paging");
            assert_eq!(field(err), what);
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_split_the_rows_and_totals_cover_all_pages() {
    each_db(|db| async move {
        let (a, b) = two_tenants(&db).await;
        let base = day(2026, 11, 10);
        let mut all = Vec::new();
        for i in 0..25_i64 {
            // Pairs share an entry time, so the order falls back to the id.
            let t0 = base + (i / 2) * MINUTE;
            let c = Conv {
                buyer: Some(a.buyers[(i % 3) as usize].clone()),
                agent: Some(a.agents[(i % 2) as usize].clone()),
                t0,
                t1: Some(t0 + (i + 1) * SECOND),
                r1: Some(t0 + (i + 3) * SECOND),
                t2: Some(t0 + 10 * MINUTE),
                reason: Some(conversation::END_AGENT),
                agent_msgs: 2,
                buyer_msgs: 3,
            };
            all.push(c.insert(&db, a.id).await);
        }
        for i in 0..7 {
            Conv {
                buyer: Some(b.buyers[0].clone()),
                t0: base + i * MINUTE,
                ..Default::default()
            }
            .insert(&db, b.id)
            .await;
        }
        all.sort_by_key(|c| std::cmp::Reverse((c.entered_at, c.id)));
        let want: Vec<i64> = all.iter().map(|c| c.id).collect();

        let filter = range(day(2026, 11, 1), day(2026, 12, 1));
        let mut seen = Vec::new();
        let mut first_totals = None;
        for (page, len) in [(1, 10), (2, 10), (3, 5), (4, 0), (99, 0)] {
            let (rows, total, totals) = report_page(&db, a.id, &filter, page, 10, now())
                .await
                .expect("page");
            assert_eq!(rows.len(), len, "page {page}");
            assert_eq!(total, 25, "page {page}");
            let first = first_totals.get_or_insert_with(|| totals.clone());
            assert_eq!(&totals, first, "totals do not depend on the page");
            seen.extend(rows.iter().map(|r| r.conversation_id));
        }
        assert_eq!(seen, want);
        let totals = first_totals.expect("totals");
        assert_eq!((totals.count, totals.served), (25, 25));
        assert_eq!((totals.agent_msgs, totals.buyer_msgs), (50, 75));
        // Waits are 1..=25 s: mean 13; first responses are all 2 s.
        assert_eq!(totals.avg_wait_secs, Some(13.0));
        assert_eq!(totals.avg_first_response_secs, Some(2.0));

        let (rows, total, totals) = report_page(&db, b.id, &filter, 1, 100, now())
            .await
            .expect("b");
        assert_eq!((total, totals.count, totals.served), (7, 7, 0));
        assert!(rows.iter().all(|r| !want.contains(&r.conversation_id)));
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Export

/// The Shanghai wall time of `ms` (to the second), as calamine reports a date-time cell.
fn wall(ms: i64) -> (u16, u8, u8, u8, u8, u8, u16) {
    let t = shanghai().timestamp_millis_opt(ms).single().expect("time");
    use chrono::Datelike;
    (
        t.year() as u16,
        t.month() as u8,
        t.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        0,
    )
}

fn assert_text(cell: &Data, want: Option<&str>, what: &str) {
    match want {
        Some(want) => assert_eq!(cell, &Data::String(want.to_owned()), "{what}"),
        None => assert_eq!(cell, &Data::Empty, "{what}"),
    }
}

fn assert_time(cell: &Data, want: Option<i64>, what: &str) {
    match (cell, want) {
        (Data::DateTime(dt), Some(ms)) => {
            assert!(dt.is_datetime(), "{what}: a date-time cell");
            assert_eq!(dt.to_ymd_hms_milli(), wall(ms), "{what}");
        }
        (Data::Empty, None) => {}
        other => panic!("{what}: unexpected {other:?}"),
    }
}

fn assert_number(cell: &Data, want: Option<i64>, what: &str) {
    match (cell, want) {
        (Data::Float(v), Some(want)) => assert_eq!(*v, want as f64, "{what}"),
        (Data::Int(v), Some(want)) => assert_eq!(*v, want, "{what}"),
        (Data::Empty, None) => {}
        other => panic!("{what}: unexpected {other:?}"),
    }
}

/// Checks one data row of the workbook against the report line, cell by cell and type by type.
fn assert_cells(cells: &[Data], row: &ReportRow) {
    assert_eq!(cells.len(), columns().len());
    assert_text(&cells[0], Some(&row.buyer_external_id), "客户编号");
    assert_text(&cells[1], Some(&row.buyer_name), "客户名称");
    assert_text(&cells[2], Some(&row.buyer_unit), "单位");
    assert_text(&cells[3], row.agent_name.as_deref(), "客服姓名");
    assert_text(&cells[4], row.agent_login.as_deref(), "客服工号");
    assert_time(&cells[5], Some(row.entered_at), "客户进入时间");
    assert_time(&cells[6], row.agent_joined_at, "客服进入时间");
    assert_time(&cells[7], row.ended_at, "会话结束时间");
    assert_number(&cells[8], Some(row.wait_secs), "客户等待时长");
    assert_number(&cells[9], row.session_secs, "会话时长");
    assert_number(&cells[10], row.handling_secs, "处理时长");
    assert_number(&cells[11], row.first_response_secs, "首次响应时长");
    assert_number(&cells[12], Some(row.agent_msgs), "人工介入数");
    assert_number(&cells[13], Some(row.buyer_msgs), "客户消息数");
    assert_text(&cells[14], row.end_reason.map(EndReason::label), "结束方式");
}

struct ReadBack {
    sheets: Vec<String>,
    header: Vec<Data>,
    rows: Vec<Vec<Data>>,
    notes: Vec<Vec<Data>>,
}

fn read_back(path: &Path) -> ReadBack {
    let mut workbook: Xlsx<_> = open_workbook(path).expect("open xlsx");
    let sheets = workbook.sheet_names();
    let data = workbook
        .worksheet_range(export::DATA_SHEET)
        .expect("data sheet");
    assert_eq!(data.start(), Some((0, 0)));
    let mut all: Vec<Vec<Data>> = data.rows().map(<[Data]>::to_vec).collect();
    let header = all.remove(0);
    let notes = workbook
        .worksheet_range(export::NOTES_SHEET)
        .expect("notes sheet")
        .rows()
        .map(<[Data]>::to_vec)
        .collect();
    ReadBack {
        sheets,
        header,
        rows: all,
        notes,
    }
}

/// The 说明 sheet's value for a label in column A, in the section that starts with `section`
/// (the column definitions come first, then 筛选条件, then 合计).
fn note<'a>(notes: &'a [Vec<Data>], section: &str, label: &str) -> &'a Data {
    let is = |r: &Vec<Data>, text: &str| r.first() == Some(&Data::String(text.to_owned()));
    &notes
        .iter()
        .skip_while(|r| !is(r, section))
        .find(|r| is(r, label))
        .unwrap_or_else(|| panic!("说明 has no line {label} under {section}"))[1]
}

fn assert_send<T: Send>(_: &T) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn export_writes_exactly_the_filtered_rows_as_typed_cells() {
    each_db(|db| async move {
        let (a, b) = two_tenants(&db).await;
        let expected = known_conversations(&db, &a).await;
        // Noise the export must leave out: the other supplier, and the day before.
        known_conversations(&db, &b).await;
        Conv {
            buyer: Some(a.buyers[0].clone()),
            t0: day(2026, 11, 20) - 1,
            ..Default::default()
        }
        .insert(&db, a.id)
        .await;
        // 2026-11-21 07:30 in Shanghai is still 2026-11-20 in UTC: the cell must show the 21st.
        let late = Conv {
            buyer: Some(a.buyers[1].clone()),
            agent: Some(a.agents[1].clone()),
            t0: day(2026, 11, 21) + 7 * HOUR + 30 * MINUTE,
            t1: Some(day(2026, 11, 21) + 7 * HOUR + 30 * MINUTE + 12_345),
            r1: Some(day(2026, 11, 21) + 7 * HOUR + 31 * MINUTE),
            t2: Some(day(2026, 11, 21) + 7 * HOUR + 45 * MINUTE),
            reason: Some(conversation::END_AGENT),
            agent_msgs: 2,
            buyer_msgs: 2,
        }
        .insert(&db, a.id)
        .await;

        let dir = tempfile::tempdir().expect("dir");
        let filter = range(day(2026, 11, 20), day(2026, 11, 22));
        let (table, total, totals) = report_page(&db, a.id, &filter, 1, 100, now())
            .await
            .expect("report");
        assert_eq!(total, 10);
        assert_eq!(table[0].conversation_id, late.id);
        assert_eq!(&table[1..], &expected[..]);

        let path = dir.path().join("export.xlsx");
        let export = write_report_xlsx(&db, a.id, &filter, now(), &path);
        assert_send(&export);
        let summary = export.await.expect("export");
        assert_eq!(summary.rows, 10);
        assert_eq!(summary.totals, totals);

        let book = read_back(&path);
        assert_eq!(book.sheets, ["在线会话清单", "说明"]);
        let headers: Vec<Data> = columns()
            .iter()
            .map(|(h, _)| Data::String((*h).to_owned()))
            .collect();
        assert_eq!(book.header, headers);
        assert_eq!(
            book.header,
            [
                "客户编号",
                "客户名称",
                "单位",
                "客服姓名",
                "客服工号",
                "客户进入时间",
                "客服进入时间",
                "会话结束时间",
                "客户等待时长(秒)",
                "会话时长(秒)",
                "处理时长(秒)",
                "首次响应时长(秒)",
                "人工介入数",
                "客户消息数",
                "结束方式",
            ]
            .map(|h| Data::String(h.to_owned()))
        );
        assert_eq!(book.rows.len(), table.len(), "exactly the filtered rows");
        for (cells, row) in book.rows.iter().zip(&table) {
            assert_cells(cells, row);
        }
        // Spelled out once: the late row's times are Shanghai wall times.
        assert_eq!(
            book.rows[0][5],
            Data::DateTime(calamine::ExcelDateTime::new(
                46_347.0 + 7.5 / 24.0,
                calamine::ExcelDateTimeType::DateTime,
                false
            ))
        );
        assert_time(
            &book.rows[0][6],
            Some(day(2026, 11, 21) + 7 * HOUR + 30 * MINUTE + 12 * SECOND),
            "07:30:12",
        );
        assert_eq!(book.rows[0][8], Data::Float(12.0));
        // A never-served row: agent and 客服进入时间 blank, 首次响应 blank, wait a number.
        let unserved = book
            .rows
            .iter()
            .zip(&table)
            .find(|(_, r)| r.end_reason == Some(EndReason::Timeout) && r.agent_name.is_none())
            .map(|(cells, _)| cells)
            .expect("never served row");
        assert_eq!(unserved[3], Data::Empty);
        assert_eq!(unserved[6], Data::Empty);
        assert_eq!(unserved[8], Data::Float(900.0));
        assert_eq!(unserved[14], Data::String("超时结束".to_owned()));

        // 说明: every column defined, the filter and the generation time.
        assert_eq!(
            book.notes[2][..2],
            ["列名", "说明"].map(|h| Data::String(h.to_owned()))
        );
        for (header, definition) in columns() {
            assert_eq!(
                note(&book.notes, "列名", header),
                &Data::String((*definition).to_owned())
            );
        }
        let line = |label: &str| note(&book.notes, "筛选条件", label).clone();
        assert_eq!(line("供应商"), Data::String("示例农产品供应商".to_owned()));
        assert_eq!(
            line("客户进入时间"),
            Data::String(
                "2026-11-20 00:00:00 至 2026-11-22 00:00:00（含开始时间，不含结束时间）".to_owned()
            )
        );
        assert_eq!(line("客户编号"), Data::String("全部".to_owned()));
        assert_eq!(line("客服"), Data::String("全部".to_owned()));
        assert_eq!(line("导出时间"), Data::String(format_shanghai(now())));
        assert_eq!(
            line("导出时间"),
            Data::String("2026-11-20 15:00:00".to_owned())
        );
        assert_eq!(note(&book.notes, "合计", "会话数"), &Data::Float(10.0));
        assert_eq!(note(&book.notes, "合计", "已接待会话数"), &Data::Float(8.0));
        assert_eq!(
            note(&book.notes, "合计", "人工介入数合计"),
            &Data::Float((known_totals().agent_msgs + 2) as f64)
        );
        // Averages sit under their own 平均值 heading, not under 合计.
        let section_of = |label: &str| {
            book.notes
                .iter()
                .take_while(|r| r.first() != Some(&Data::String(label.to_owned())))
                .filter(
                    |r| matches!(r.first(), Some(Data::String(t)) if t == "合计" || t == "平均值"),
                )
                .last()
                .and_then(|r| r.first().cloned())
        };
        assert_eq!(section_of("会话数"), Some(Data::String("合计".into())));
        assert_eq!(
            section_of("平均会话时长(秒)"),
            Some(Data::String("平均值".into()))
        );

        // With 客户编号 and agent: the same rows as the table, 说明 names them.
        let mut f = filter.clone();
        f.buyer_external_id = Some("CG1001".into());
        f.agent_id = Some(a.agents[0].id);
        let (table, total, _) = report_page(&db, a.id, &f, 1, 100, now())
            .await
            .expect("report");
        assert_eq!(total, 2, "A and G");
        let path = dir.path().join("filtered.xlsx");
        let summary = write_report_xlsx(&db, a.id, &f, now(), &path)
            .await
            .expect("export");
        assert_eq!(summary.rows, 2);
        let book = read_back(&path);
        assert_eq!(book.rows.len(), 2);
        for (cells, row) in book.rows.iter().zip(&table) {
            assert_cells(cells, row);
        }
        assert_eq!(
            note(&book.notes, "筛选条件", "客户编号"),
            &Data::String("以 CG1001 开头（不区分大小写）".into())
        );
        assert_eq!(
            note(&book.notes, "筛选条件", "客服"),
            &Data::String(format!("客服小童（{}）", a.agents[0].login))
        );

        // Supplier B's export holds B's rows only.
        let path = dir.path().join("b.xlsx");
        let summary = write_report_xlsx(&db, b.id, &filter, now(), &path)
            .await
            .expect("export b");
        assert_eq!(summary.rows, 9);
        let (b_table, _, _) = report_page(&db, b.id, &filter, 1, 100, now())
            .await
            .expect("b");
        let book = read_back(&path);
        for (cells, row) in book.rows.iter().zip(&b_table) {
            assert_cells(cells, row);
            assert!(
                b.agents
                    .iter()
                    .any(|ag| Some(&ag.login) == row.agent_login.as_ref())
                    || row.agent_login.is_none()
            );
        }
        assert_eq!(book.rows.len(), 9);

        // An empty result still makes a valid workbook with the header.
        let path = dir.path().join("empty.xlsx");
        let summary = write_report_xlsx(&db, a.id, &range(0, DAY), now(), &path)
            .await
            .expect("empty export");
        assert_eq!(summary.rows, 0);
        let book = read_back(&path);
        assert_eq!(book.header, headers);
        assert!(book.rows.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn export_walks_every_batch_in_report_order() {
    each_db(|db| async move {
        let a = tenant(&db, "示例农产品供应商", "admin_a").await;
        let base = day(2026, 10, 1);
        // More than one batch of the export (1000) and of the totals pass (5000).
        const N: i64 = 5_200;
        // One buyer per conversation, so a row's 客户编号 says which conversation it is.
        let buyers: Vec<buyer::ActiveModel> = (0..N)
            .map(|i| buyer::ActiveModel {
                supplier_id: Set(a.id),
                external_id: Set(format!("B{i:05}")),
                name: Set(format!("采购人{i}")),
                unit: Set("某县第一中学".to_owned()),
                created_at: Set(0),
                ..Default::default()
            })
            .collect();
        for chunk in buyers.chunks(1000) {
            buyer::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&db)
                .await
                .expect("buyers");
        }
        let ids: HashMap<String, i64> = buyer::Entity::find()
            .filter(buyer::Column::SupplierId.eq(a.id))
            .all(&db)
            .await
            .expect("buyers")
            .into_iter()
            .map(|b| (b.external_id, b.id))
            .collect();
        // Three conversations per entry time, so ties straddle the batch boundaries.
        let convs: Vec<conversation::ActiveModel> = (0..N)
            .map(|i| {
                let t0 = base + (i / 3) * MINUTE;
                let mut m = Conv {
                    buyer: Some(buyer::Model {
                        id: ids[&format!("B{i:05}")],
                        supplier_id: a.id,
                        external_id: String::new(),
                        name: String::new(),
                        unit: String::new(),
                        created_at: 0,
                    }),
                    agent: Some(a.agents[(i % 2) as usize].clone()),
                    t0,
                    t1: Some(t0 + (1 + i % 7) * SECOND),
                    t2: Some(t0 + 3 * MINUTE),
                    reason: Some(conversation::END_AGENT),
                    ..Default::default()
                }
                .model(a.id);
                m.last_message_at = Set(t0);
                m
            })
            .collect();
        for chunk in convs.chunks(1000) {
            conversation::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&db)
                .await
                .expect("conversations");
        }
        let want: Vec<String> = conversation::Entity::find()
            .filter(conversation::Column::SupplierId.eq(a.id))
            .order_by_desc(conversation::Column::EnteredAt)
            .order_by_desc(conversation::Column::Id)
            .find_also_related(buyer::Entity)
            .all(&db)
            .await
            .expect("order")
            .into_iter()
            .map(|(_, b)| b.expect("buyer").external_id)
            .collect();
        assert_eq!(want.len(), N as usize);

        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("big.xlsx");
        let filter = range(day(2026, 9, 1), day(2026, 11, 1));
        let summary = write_report_xlsx(&db, a.id, &filter, now(), &path)
            .await
            .expect("export");
        assert_eq!(summary.rows, N as u64);
        assert_eq!(summary.totals.count, N as u64);
        let waits: i64 = (0..N).map(|i| 1 + i % 7).sum();
        assert_eq!(summary.totals.avg_wait_secs, Some(waits as f64 / N as f64));
        let book = read_back(&path);
        let got: Vec<String> = book
            .rows
            .iter()
            .map(|r| match &r[0] {
                Data::String(s) => s.clone(),
                other => panic!("客户编号 {other:?}"),
            })
            .collect();
        assert_eq!(
            got.iter().collect::<HashSet<_>>().len(),
            N as usize,
            "no repeats"
        );
        assert_eq!(got, want);
        // The table's last page ends where the export does.
        let (rows, total, totals) = report_page(&db, a.id, &filter, 52, 100, now())
            .await
            .expect("last page");
        assert_eq!((total, rows.len()), (N as u64, 100));
        assert_eq!(totals, summary.totals);
        assert_eq!(
            rows.last().map(|r| r.buyer_external_id.clone()),
            want.last().cloned()
        );
        // Temporary files went beside the target and are gone.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers, [std::ffi::OsString::from("big.xlsx")]);
    })
    .await;
}

#[test]
fn export_file_names() {
    let cases = [
        (
            "示例农产品供应商",
            [day(2026, 11, 1), day(2026, 11, 26)],
            "在线会话清单_示例农产品供应商_20261101-20261125.xlsx",
        ),
        (
            "茶叶/合作社:2026?",
            [day(2026, 11, 25), day(2026, 11, 25) + HOUR],
            "在线会话清单_茶叶合作社2026_20261125-20261125.xlsx",
        ),
    ];
    for (supplier, [from, to], expected) in cases {
        assert_eq!(export_file_name(supplier, from, to), expected);
    }
}

// ---------------------------------------------------------------------------------------------
// Demo data

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn demo_seed_has_a_month_of_conversations() {
    each_db(|db| async move {
        domain::demo::seed(&db, &hasher()).await.expect("seed");
        let count = conversation::Entity::find()
            .count(&db)
            .await
            .expect("count");
        domain::demo::seed(&db, &hasher())
            .await
            .expect("seed again");
        assert_eq!(
            conversation::Entity::find()
                .count(&db)
                .await
                .expect("count"),
            count,
            "idempotent"
        );

        let now = domain::db::now_ms();
        let last_month = range(now - 30 * DAY, now);
        let supplier_id = |name: &str| {
            let db = db.clone();
            let name = name.to_owned();
            async move {
                domain::entity::supplier::Entity::find()
                    .filter(domain::entity::supplier::Column::Name.eq(name))
                    .one(&db)
                    .await
                    .expect("q")
                    .expect("supplier")
                    .id
            }
        };
        let farm = supplier_id(domain::demo::SUPPLIER_NAME).await;
        let tea = supplier_id(domain::demo::SUPPLIER2_NAME).await;
        let (rows, total, totals) = report_page(&db, farm, &last_month, 1, 100, now)
            .await
            .expect("farm report");
        assert!((28..=35).contains(&total), "{total} conversations");
        assert_eq!(rows.len() as u64, total);
        assert_eq!(totals.served, total - 1, "one buyer was never served");

        let reasons: HashSet<EndReason> = rows.iter().filter_map(|r| r.end_reason).collect();
        assert_eq!(reasons, HashSet::from(EndReason::ALL));
        let agents: HashSet<&str> = rows
            .iter()
            .filter_map(|r| r.agent_name.as_deref())
            .collect();
        assert_eq!(agents, HashSet::from(["客服小童", "客服小李"]));
        let buyers: HashSet<&str> = rows.iter().map(|r| r.buyer_external_id.as_str()).collect();
        assert_eq!(buyers, HashSet::from(["CG1001", "CG1002", "CG1003"]));
        let unserved: Vec<&ReportRow> = rows.iter().filter(|r| r.agent_name.is_none()).collect();
        assert_eq!(unserved.len(), 1);
        assert_eq!(unserved[0].end_reason, Some(EndReason::Timeout));
        assert_eq!(unserved[0].agent_joined_at, None);
        assert!(
            rows.iter()
                .any(|r| r.agent_joined_at.is_some() && r.first_response_secs.is_none())
        );
        for row in &rows {
            assert!(row.ended_at.is_some_and(|t2| t2 < now), "ended in the past");
            if row.agent_joined_at.is_some() {
                assert!((2..=120).contains(&row.wait_secs), "wait {}", row.wait_secs);
            }
            let session = row.session_secs.expect("ended");
            assert!((30..=40 * 60).contains(&session), "session {session}");
            if let Some(first) = row.first_response_secs {
                assert!((1..=15).contains(&first), "first reply {first}");
            }
        }
        // Office hours in Shanghai.
        for row in &rows {
            let hour = shanghai()
                .timestamp_millis_opt(row.entered_at)
                .single()
                .expect("t")
                .hour();
            assert!((9..18).contains(&hour), "entered at {hour}h");
        }

        // Counters match the stored messages.
        for c in conversation::Entity::find().all(&db).await.expect("all") {
            let msgs = message::Entity::find()
                .filter(message::Column::ConversationId.eq(c.id))
                .order_by_asc(message::Column::Seq)
                .all(&db)
                .await
                .expect("messages");
            assert!(!msgs.is_empty());
            let by = |sender: &str| msgs.iter().filter(|m| m.sender == sender).count() as i32;
            assert_eq!(c.agent_msg_count, by(message::SENDER_AGENT));
            assert_eq!(c.buyer_msg_count, by(message::SENDER_BUYER));
            assert_eq!(c.last_seq, msgs.len() as i32);
            let seqs: Vec<i32> = msgs.iter().map(|m| m.seq).collect();
            assert_eq!(seqs, (1..=msgs.len() as i32).collect::<Vec<_>>());
            assert_eq!(c.last_message_at, msgs.last().expect("last").created_at);
            assert_eq!(
                c.first_agent_reply_at,
                msgs.iter()
                    .find(|m| m.sender == message::SENDER_AGENT)
                    .map(|m| m.created_at)
            );
            for m in &msgs {
                assert!(m.created_at >= c.entered_at && Some(m.created_at) <= c.ended_at);
                assert_eq!(
                    m.sender_account_id,
                    (m.sender == message::SENDER_AGENT)
                        .then_some(c.agent_id)
                        .flatten()
                );
            }
            assert!(msgs.windows(2).all(|w| w[0].created_at <= w[1].created_at));
        }
        assert!(
            message::Entity::find()
                .filter(message::Column::Body.eq("请问这款高山小米什么时候发货？"))
                .count(&db)
                .await
                .expect("q")
                > 0
        );

        let (_, tea_total, _) = report_page(&db, tea, &last_month, 1, 100, now)
            .await
            .expect("tea report");
        assert_eq!(tea_total, 2);
    })
    .await;
}

/// Formula injection: whatever a buyer is called, the export writes it as text. A name such as
/// `=HYPERLINK(…)` or `=cmd|…` must never become a formula Excel would run when the admin opens
/// the file.
#[tokio::test]
async fn export_writes_formula_like_text_as_text() {
    each_db(|db| async move {
        let a = tenant(&db, "示例农产品供应商", "admin_a").await;
        let id = "=cmd|'/C calc'!A0";
        let name = "=HYPERLINK(\"http://evil.example\",\"点我\")";
        let unit = "+1+1";
        let buyer = new_buyer(&db, a.id, id, name, unit).await;
        Conv {
            buyer: Some(buyer),
            t0: day(2026, 11, 20) + HOUR,
            ..Default::default()
        }
        .insert(&db, a.id)
        .await;
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("export.xlsx");
        let filter = range(day(2026, 11, 20), day(2026, 11, 21));
        let summary = write_report_xlsx(&db, a.id, &filter, now(), &path)
            .await
            .expect("export");
        assert_eq!(summary.rows, 1);

        let book = read_back(&path);
        assert_eq!(book.rows[0][0], Data::String(id.to_owned()));
        assert_eq!(book.rows[0][1], Data::String(name.to_owned()));
        assert_eq!(book.rows[0][2], Data::String(unit.to_owned()));
        let mut workbook: Xlsx<_> = open_workbook(&path).expect("open xlsx");
        let formulas = workbook
            .worksheet_formula(export::DATA_SHEET)
            .expect("formulas of the data sheet");
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "no cell of the export is a formula"
        );
    })
    .await;
}
