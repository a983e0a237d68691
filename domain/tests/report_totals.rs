//! The 在线会话清单's totals line, computed by the database in one aggregate query, against the
//! same maths done in Rust ([`reports::totals`], the accumulator the export uses) over exactly
//! the rows the report lists: a few hundred varied conversations of two suppliers, several
//! filters, times with odd milliseconds that the rounding to shown seconds must respect.

mod common;

use common::chat::new_buyer;
use common::{each_db, hasher, supplier};
use domain::accounts::create_agent;
use domain::entity::{account, buyer, conversation};
use domain::reports::{self, ReportFilter, ReportRow, ReportTotals, report_page};
use sea_orm::{DatabaseConnection, EntityTrait, Set};

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const DAY: i64 = 24 * 60 * MINUTE;

/// 2026-11-01 00:00:00 in Shanghai.
const BASE: i64 = 1_761_926_400_000;
/// The report's clock: ten days later, at an odd millisecond, after every seeded entry.
const NOW: i64 = BASE + 10 * DAY + 555;

/// A tiny deterministic generator, so the rows vary without a dependency and every run sees the
/// same ones.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: i64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as i64
    }
}

struct Tenant {
    id: i64,
    agents: [account::Model; 2],
    buyers: Vec<buyer::Model>,
}

async fn tenant(db: &DatabaseConnection, name: &str, admin: &str, prefix: &str) -> Tenant {
    let id = supplier(db, name, admin).await;
    let mut agents = Vec::new();
    for agent_name in ["客服小童", "客服小李"] {
        let (agent, _) = create_agent(db, &hasher(), id, agent_name, None)
            .await
            .expect("agent");
        agents.push(agent);
    }
    let mut buyers = Vec::new();
    for i in 0..6 {
        let external_id = format!("{prefix}{}", 1001 + i);
        buyers.push(new_buyer(db, id, &external_id, "采购人", "某县第一中学").await);
    }
    Tenant {
        id,
        agents: agents.try_into().expect("two agents"),
        buyers,
    }
}

/// A conversation of `t` entering at `t0`, its other times and counts drawn from `rng`: served
/// or not, open or ended, with or without a first reply, now and then a clock that stepped back
/// (a time before the one it follows) or a negative stored count, all at odd milliseconds.
fn varied(rng: &mut Lcg, t: &Tenant, t0: i64) -> conversation::ActiveModel {
    let odd_ms = |rng: &mut Lcg| rng.below(1000);
    let served = rng.below(5) != 0;
    let ended = rng.below(4) != 0;
    let stepped_back = rng.below(25) == 0;
    let t1 = served.then(|| {
        let later = t0 + rng.below(300) * SECOND + odd_ms(rng);
        if stepped_back { t0 - 700 } else { later }
    });
    let r1 = t1.filter(|_| rng.below(3) != 0).map(|t1| {
        t1 + rng.below(120) * SECOND + odd_ms(rng) - if stepped_back { 2_500 } else { 0 }
    });
    let t2 = ended.then(|| {
        let from = t1.unwrap_or(t0);
        from + rng.below(3_600) * SECOND + odd_ms(rng) - if stepped_back { 9_999 } else { 0 }
    });
    let agent = &t.agents[rng.below(2) as usize];
    // Kicked back to routing after serving: the assignment cleared, the served agent kept; or
    // assigned and not joined yet.
    let (agent_id, served_agent_id) = match (served, rng.below(6)) {
        (true, 0) => (None, Some(agent.id)),
        (true, _) => (Some(agent.id), Some(agent.id)),
        (false, 0 | 1) => (Some(agent.id), None),
        (false, _) => (None, None),
    };
    let status = match (t1, t2) {
        (_, Some(_)) => conversation::STATUS_ENDED,
        (Some(_), None) => conversation::STATUS_OPEN,
        (None, None) => conversation::STATUS_QUEUED,
    };
    let agent_msgs = if served { rng.below(20) as i32 } else { 0 };
    let buyer_msgs = if rng.below(40) == 0 {
        -3
    } else {
        rng.below(30) as i32
    };
    conversation::ActiveModel {
        supplier_id: Set(t.id),
        buyer_id: Set(t.buyers[rng.below(t.buyers.len() as i64) as usize].id),
        agent_id: Set(agent_id),
        served_agent_id: Set(served_agent_id),
        status: Set(status.to_owned()),
        entered_at: Set(t0),
        agent_joined_at: Set(t1),
        first_agent_reply_at: Set(r1),
        ended_at: Set(t2),
        end_reason: Set(t2.map(|_| conversation::END_AGENT.to_owned())),
        agent_msg_count: Set(agent_msgs),
        buyer_msg_count: Set(buyer_msgs),
        last_seq: Set(0),
        last_message_at: Set(t2.unwrap_or(t0)),
        ..Default::default()
    }
}

/// Every row the report lists for `filter`, page by page, and the totals line of each page.
async fn all_pages(
    db: &DatabaseConnection,
    supplier_id: i64,
    filter: &ReportFilter,
) -> (Vec<ReportRow>, u64, Vec<ReportTotals>) {
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    let mut count = None;
    for page in 1.. {
        let (page_rows, total, totals) = report_page(db, supplier_id, filter, page, 100, NOW)
            .await
            .expect("report page");
        count = Some(total);
        lines.push(totals);
        if page_rows.is_empty() {
            break;
        }
        rows.extend(page_rows);
    }
    (rows, count.unwrap_or_default(), lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn totals_line_equals_the_rows_it_sums() {
    each_db(|db| async move {
        let a = tenant(&db, "示例农产品供应商", "admin_a", "CG").await;
        let b = tenant(&db, "山区茶叶合作社", "admin_b", "CG").await;
        let mut rng = Lcg(832);
        let mut models = Vec::new();
        for i in 0..400_i64 {
            // Ten days of entries, some sharing an instant; every fifth row the other tenant's.
            let t0 = BASE + rng.below(10 * DAY / SECOND) * SECOND + rng.below(1000);
            let t = if i % 5 == 4 { &b } else { &a };
            models.push(varied(
                &mut rng,
                t,
                if i % 50 == 7 { BASE + DAY } else { t0 },
            ));
        }
        // The last minutes before the clock: buyers still waiting (measured to NOW) or talking.
        for _ in 0..20 {
            let t0 = NOW - rng.below(5 * MINUTE);
            models.push(varied(&mut rng, &a, t0));
        }
        // Around 1970, where truncating towards zero and the shown (floored) second differ.
        for t0 in [-1_500, -1_000, -999, -1, 0, 999] {
            models.push(conversation::ActiveModel {
                agent_joined_at: Set(Some(t0 + 1_234)),
                first_agent_reply_at: Set(Some(t0 + 1_735)),
                ended_at: Set(Some(t0 + 2_001)),
                ..varied(&mut rng, &a, t0)
            });
        }
        conversation::Entity::insert_many(models)
            .exec_without_returning(&db)
            .await
            .expect("seed conversations");

        let range = |from_ms, to_ms| ReportFilter {
            from_ms,
            to_ms,
            ..Default::default()
        };
        let ten_days = range(BASE, NOW + 1);
        let filters = [
            ("ten days", ten_days.clone()),
            ("one day", range(BASE + DAY, BASE + 2 * DAY)),
            (
                "agent 1",
                ReportFilter {
                    agent_id: Some(a.agents[0].id),
                    ..ten_days.clone()
                },
            ),
            (
                "agent 2, five days",
                ReportFilter {
                    agent_id: Some(a.agents[1].id),
                    ..range(BASE + 5 * DAY, NOW + 1)
                },
            ),
            (
                "客户编号 cg1003",
                ReportFilter {
                    buyer_external_id: Some("cg1003".into()),
                    ..ten_days.clone()
                },
            ),
            (
                "客户编号 CG100 and agent 1",
                ReportFilter {
                    buyer_external_id: Some("CG100".into()),
                    agent_id: Some(a.agents[0].id),
                    ..ten_days.clone()
                },
            ),
            ("the last minutes", range(NOW - 5 * MINUTE, NOW + 1)),
            ("around 1970", range(-DAY, DAY)),
            ("nothing", range(BASE - 2 * DAY, BASE - DAY)),
        ];
        let mut checked_rows = 0;
        for (label, filter) in &filters {
            let (rows, count, lines) = all_pages(&db, a.id, filter).await;
            let want = reports::totals(&rows);
            for line in &lines {
                assert_eq!(line, &want, "{label}: the totals line sums the listed rows");
            }
            assert_eq!(count, rows.len() as u64, "{label}: count");
            checked_rows += rows.len();
        }
        // The filters did select varied rows (else the comparison above proves little).
        let (rows, _, _) = all_pages(&db, a.id, &ten_days).await;
        assert!(rows.len() > 300, "{} rows", rows.len());
        assert!(
            rows.iter()
                .any(|r| r.agent_joined_at.is_none() && r.ended_at.is_none())
        );
        assert!(
            rows.iter()
                .any(|r| r.agent_joined_at.is_some() && r.ended_at.is_none())
        );
        assert!(
            rows.iter()
                .any(|r| r.first_response_secs.is_none() && r.handling_secs.is_some())
        );
        assert!(rows.iter().any(|r| r.entered_at % 1000 > 500));
        assert!(checked_rows > 700, "{checked_rows} rows checked");
        let (rows, _, _) = all_pages(&db, a.id, &range(-DAY, DAY)).await;
        assert_eq!(rows.len(), 6, "the rows around 1970");
        // Hand-checked there: -0.999 s is shown as second -1 and 0.235 s as second 0, a wait of
        // 1 s; truncating both towards zero would give 0.
        let row = rows.iter().find(|r| r.entered_at == -999).expect("row");
        assert_eq!(row.wait_secs, 1);

        // The other tenant's totals are its own.
        let (rows, count, lines) = all_pages(&db, b.id, &ten_days).await;
        assert_eq!(count, 80);
        assert_eq!(lines[0], reports::totals(&rows));
    })
    .await;
}
