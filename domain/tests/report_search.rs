//! 在线会话清单 keeps the agent who served a conversation after that agent's login ends, and its
//! 客户编号 search is a case-blind prefix with `%`, `_` and `\` taken literally; 操作日志 filters by
//! action and date. Every test runs on SQLite and, when configured, on PostgreSQL.

mod common;

use calamine::{Reader, Xlsx, open_workbook};
use common::chat::new_buyer;
use common::{each_db, hasher, supplier, suppliers_a_and_b};
use domain::accounts::create_agent;
use domain::audit::{self, AuditFilter};
use domain::chat::{
    BuyerClaims, NewMessage, Sender, assign_waiting_buyers, mark_agent_joined, open_conversation,
    release_agent_conversations, set_serving, store_message, upsert_buyer,
};
use domain::entity::audit_log;
use domain::reports::export::{DATA_SHEET, write_report_xlsx};
use domain::reports::{ReportFilter, ReportRow, report_page};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};

/// 2026-06-01 00:00 UTC.
const T0: i64 = 1_780_272_000_000;
const DAY: i64 = 24 * 3600 * 1000;

fn week() -> ReportFilter {
    ReportFilter {
        from_ms: T0 - DAY,
        to_ms: T0 + 6 * DAY,
        ..Default::default()
    }
}

async fn buyer_of(db: &DatabaseConnection, supplier_id: i64, external_id: &str) -> i64 {
    upsert_buyer(
        db,
        &BuyerClaims {
            v: 1,
            supplier_id,
            buyer_id: external_id.to_owned(),
            name: format!("采购人{external_id}"),
            unit: "某市财政局".to_owned(),
            exp: 2_000_000_000,
        },
    )
    .await
    .expect("buyer")
    .id
}

async fn rows(db: &DatabaseConnection, supplier_id: i64, filter: &ReportFilter) -> Vec<ReportRow> {
    let (rows, total, _) = report_page(db, supplier_id, filter, 1, 100, T0 + DAY)
        .await
        .expect("report");
    assert_eq!(rows.len() as u64, total);
    rows
}

fn row(rows: &[ReportRow], conversation_id: i64) -> &ReportRow {
    rows.iter()
        .find(|r| r.conversation_id == conversation_id)
        .expect("the conversation is listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_agent_who_served_stays_on_the_report_after_their_login_ends() {
    each_db(|db| async move {
        let s = supplier(&db, "供应商甲", "admin_a").await;
        let (a, _) = create_agent(&db, &hasher(), s, "客服小童", None)
            .await
            .expect("agent a");
        let (b, _) = create_agent(&db, &hasher(), s, "客服小李", None)
            .await
            .expect("agent b");
        set_serving(&db, s, a.id, true, T0)
            .await
            .expect("a serving");

        // c1: a opened it (t1 by opening); c2: a answered it (t1 by a message).
        let c1 = open_conversation(&db, s, buyer_of(&db, s, "CG1001").await, T0)
            .await
            .expect("c1");
        let c2 = open_conversation(&db, s, buyer_of(&db, s, "CG1002").await, T0 + 1)
            .await
            .expect("c2");
        assert_eq!((c1.agent_id, c2.agent_id), (Some(a.id), Some(a.id)));
        mark_agent_joined(&db, s, c1.id, a.id, T0 + 1000)
            .await
            .expect("join");
        store_message(
            &db,
            c2.id,
            &NewMessage::text(Sender::Agent(a.id), "m1", "您好"),
            T0 + 2000,
        )
        .await
        .expect("answer");

        // a's login is kicked: both go back to the queue, nobody else serving.
        let released = release_agent_conversations(&db, s, a.id, T0 + 3000)
            .await
            .expect("kick");
        assert_eq!(released.len(), 2);
        let listed = rows(&db, s, &week()).await;
        for c in [c1.id, c2.id] {
            let r = row(&listed, c);
            assert!(r.agent_joined_at.is_some(), "客服进入时间 kept");
            assert_eq!(r.agent_name.as_deref(), Some("客服小童"), "客服姓名");
            assert_eq!(r.agent_login.as_deref(), Some(a.login.as_str()), "客服工号");
        }
        let r2 = row(&listed, c2.id);
        assert_eq!(r2.agent_msgs, 1);

        // b takes them over and opens c1: t1 and the served agent stay a's.
        set_serving(&db, s, b.id, true, T0 + 4000)
            .await
            .expect("b on");
        assign_waiting_buyers(&db, s, T0 + 4000)
            .await
            .expect("assign");
        mark_agent_joined(&db, s, c1.id, b.id, T0 + 5000)
            .await
            .expect("b joins");
        // c3: assigned to b, not opened yet: the line names the agent it is assigned to.
        let c3 = open_conversation(&db, s, buyer_of(&db, s, "CG1003").await, T0 + 6000)
            .await
            .expect("c3");
        assert_eq!(c3.agent_id, Some(b.id));
        let listed = rows(&db, s, &week()).await;
        assert_eq!(row(&listed, c1.id).agent_name.as_deref(), Some("客服小童"));
        assert_eq!(row(&listed, c3.id).agent_name.as_deref(), Some("客服小李"));

        // The agent filter follows the same agent as the line.
        let mut of_a = week();
        of_a.agent_id = Some(a.id);
        let mut ids: Vec<i64> = rows(&db, s, &of_a)
            .await
            .iter()
            .map(|r| r.conversation_id)
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, [c1.id, c2.id]);
        let mut of_b = week();
        of_b.agent_id = Some(b.id);
        let ids: Vec<i64> = rows(&db, s, &of_b)
            .await
            .iter()
            .map(|r| r.conversation_id)
            .collect();
        assert_eq!(ids, [c3.id]);

        // The export names the same agents.
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("report.xlsx");
        write_report_xlsx(&db, s, &week(), T0 + DAY, &path)
            .await
            .expect("export");
        let mut book: Xlsx<_> = open_workbook(&path).expect("open xlsx");
        let sheet = book.worksheet_range(DATA_SHEET).expect("data sheet");
        let mut exported: Vec<(String, String)> = sheet
            .rows()
            .skip(1)
            .map(|cells| (cells[0].to_string(), cells[3].to_string()))
            .collect();
        exported.sort();
        assert_eq!(
            exported,
            [
                ("CG1001".to_owned(), "客服小童".to_owned()),
                ("CG1002".to_owned(), "客服小童".to_owned()),
                ("CG1003".to_owned(), "客服小李".to_owned()),
            ]
        );
    })
    .await;
}

async fn conversation_of(db: &DatabaseConnection, supplier_id: i64, external_id: &str, at: i64) {
    let buyer = new_buyer(db, supplier_id, external_id, "王采购", "某县第一中学").await;
    domain::chat::routing::queued_conversation(supplier_id, buyer.id, at)
        .insert(db)
        .await
        .expect("conversation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn buyer_search_is_a_case_blind_literal_prefix_of_the_suppliers_own_buyers() {
    each_db(|db| async move {
        let (a, b) = suppliers_a_and_b(&db).await;
        let ids = [
            "CG1001", "cg1002", "CG_1", "CGX1", "C%5", "CA5", "C\\9", "CB9", "XCG10",
        ];
        for (i, id) in ids.iter().enumerate() {
            conversation_of(&db, a, id, T0 + i as i64).await;
        }
        conversation_of(&db, b, "CG1003", T0).await;

        let search = |supplier_id: i64, text: &'static str| {
            let db = db.clone();
            async move {
                let mut filter = week();
                filter.buyer_external_id = Some(text.to_owned());
                let mut found: Vec<String> = rows(&db, supplier_id, &filter)
                    .await
                    .into_iter()
                    .map(|r| r.buyer_external_id)
                    .collect();
                found.sort();
                found
            }
        };
        assert_eq!(
            search(a, "cg10").await,
            ["CG1001", "cg1002"],
            "prefix, any case"
        );
        assert_eq!(search(a, " CG100 ").await, ["CG1001", "cg1002"], "trimmed");
        assert_eq!(search(a, "CG_").await, ["CG_1"], "_ is not a wildcard");
        assert_eq!(search(a, "C%").await, ["C%5"], "% is not a wildcard");
        assert_eq!(search(a, "C\\").await, ["C\\9"], "\\ is not an escape");
        assert!(
            search(a, "G10").await.is_empty(),
            "a prefix, not a substring"
        );
        assert_eq!(
            search(b, "cg").await,
            ["CG1003"],
            "supplier B sees only its own"
        );
        assert!(search(b, "CG1001").await.is_empty());

        // The export lists exactly the table's rows.
        let mut filter = week();
        filter.buyer_external_id = Some("cg10".to_owned());
        let dir = tempfile::tempdir().expect("dir");
        let summary = write_report_xlsx(&db, a, &filter, T0 + DAY, &dir.path().join("x.xlsx"))
            .await
            .expect("export");
        assert_eq!(summary.rows, 2);
    })
    .await;
}

async fn audit_entry(db: &DatabaseConnection, supplier_id: i64, action: &str, at: i64) {
    audit_log::ActiveModel {
        supplier_id: Set(supplier_id),
        actor_account_id: Set(None),
        action: Set(action.to_owned()),
        detail: Set(format!("{action} at {at}")),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("audit entry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_log_filters_by_action_and_date_within_the_supplier() {
    each_db(|db| async move {
        let (a, b) = suppliers_a_and_b(&db).await;
        for (action, at) in [
            (audit_log::ACTION_LOGIN_KICKED, T0),
            (audit_log::ACTION_LOGIN_KICKED, T0 + 2 * DAY),
            (audit_log::ACTION_ACCOUNT_ADDED, T0 + DAY),
        ] {
            audit_entry(&db, a, action, at).await;
        }
        audit_entry(&db, b, audit_log::ACTION_LOGIN_KICKED, T0).await;

        let find = |supplier_id: i64, filter: AuditFilter| {
            let db = db.clone();
            async move {
                let entries = audit::search(&db, supplier_id, &filter, 0, 100)
                    .await
                    .expect("search");
                let total = audit::count_matching(&db, supplier_id, &filter)
                    .await
                    .expect("count");
                assert_eq!(entries.len() as u64, total);
                entries
                    .into_iter()
                    .filter(|e| e.created_at >= T0)
                    .map(|e| (e.action, e.created_at))
                    .collect::<Vec<_>>()
            }
        };
        let kicked = AuditFilter {
            action: Some(audit_log::ACTION_LOGIN_KICKED.to_owned()),
            ..Default::default()
        };
        assert_eq!(
            find(a, kicked.clone()).await,
            [
                (audit_log::ACTION_LOGIN_KICKED.to_owned(), T0 + 2 * DAY),
                (audit_log::ACTION_LOGIN_KICKED.to_owned(), T0),
            ]
        );
        let one_day = AuditFilter {
            from_ms: Some(T0 + DAY),
            to_ms: Some(T0 + 2 * DAY),
            ..Default::default()
        };
        assert_eq!(
            find(a, one_day).await,
            [(audit_log::ACTION_ACCOUNT_ADDED.to_owned(), T0 + DAY)],
            "from inclusive, to exclusive"
        );
        let both = AuditFilter {
            from_ms: Some(T0 + DAY),
            ..kicked.clone()
        };
        assert_eq!(
            find(a, both).await,
            [(audit_log::ACTION_LOGIN_KICKED.to_owned(), T0 + 2 * DAY)]
        );
        assert_eq!(find(b, kicked).await.len(), 1, "supplier B: its own entry");

        let actions = audit::actions_in_use(&db, b).await.expect("actions");
        assert!(!actions.contains(&audit_log::ACTION_ACCOUNT_ADDED.to_owned()));
        assert!(
            audit::search(
                &db,
                a,
                &AuditFilter {
                    from_ms: Some(T0),
                    to_ms: Some(T0),
                    ..Default::default()
                },
                0,
                10
            )
            .await
            .is_err(),
            "an empty range is refused"
        );
    })
    .await;
}
