//! Schema, suppliers and agent accounts (the cap of 2 under concurrency), and the demo data.

mod common;

use std::collections::HashSet;

use common::{
    audit_actions, auth, each_db, hasher, invalid_field, login, row_count, supplier, supplier_a,
    suppliers_a_and_b,
};
use domain::DomainError;
use domain::accounts::{
    MAX_AGENTS_PER_SUPPLIER, agent_login, create_agent, create_supplier, list_agents,
    set_agent_disabled, update_agent,
};
use domain::entity::{
    account, audit_log, buyer, conversation, login_session, message, order_item, purchase_order,
    supplier as supplier_entity, upload,
};
use domain::logins::Role;
use migrations::{Migrator, MigratorTrait};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, Set, Statement,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn migrations_create_the_schema_with_its_constraints() {
    each_db(|db| async move {
        assert!(
            Migrator::get_pending_migrations(&db)
                .await
                .expect("pending")
                .is_empty()
        );
        domain::db::migrate(&db)
            .await
            .expect("second run is a no-op");

        // Every table is there and empty.
        let counts = [
            ("supplier", supplier_entity::Entity::find().count(&db).await),
            ("account", account::Entity::find().count(&db).await),
            ("login", login_session::Entity::find().count(&db).await),
            ("buyer", buyer::Entity::find().count(&db).await),
            ("conv", conversation::Entity::find().count(&db).await),
            ("message", message::Entity::find().count(&db).await),
            ("upload", upload::Entity::find().count(&db).await),
            ("order", purchase_order::Entity::find().count(&db).await),
            ("item", order_item::Entity::find().count(&db).await),
            ("audit", audit_log::Entity::find().count(&db).await),
        ];
        for (table, count) in counts {
            assert_eq!(count.expect(table), 0, "{table}");
        }

        if db.get_database_backend() == DbBackend::Sqlite {
            for (pragma, expected) in [
                ("journal_mode", "wal"),
                ("busy_timeout", "5000"),
                ("synchronous", "2"),
            ] {
                let row = db
                    .query_one_raw(Statement::from_string(
                        DbBackend::Sqlite,
                        format!("PRAGMA {pragma}"),
                    ))
                    .await
                    .expect("pragma")
                    .expect("row");
                let value = row
                    .try_get_by_index::<String>(0)
                    .or_else(|_| row.try_get_by_index::<i64>(0).map(|v| v.to_string()))
                    .expect("value");
                assert_eq!(value, expected, "PRAGMA {pragma}");
            }
        }

        // Foreign keys are enforced (on SQLite too).
        let orphan = buyer::ActiveModel {
            supplier_id: Set(999),
            external_id: Set("X".into()),
            name: Set("x".into()),
            unit: Set("x".into()),
            created_at: Set(0),
            ..Default::default()
        }
        .insert(&db)
        .await;
        assert!(orphan.is_err(), "foreign key must be enforced");

        // Unique constraints decide duplicates.
        let s = supplier_a(&db).await;
        let new_buyer = || buyer::ActiveModel {
            supplier_id: Set(s),
            external_id: Set("CG1".into()),
            name: Set("王".into()),
            unit: Set("某单位".into()),
            created_at: Set(0),
            ..Default::default()
        };
        let b = new_buyer().insert(&db).await.expect("buyer");
        let dup = new_buyer().insert(&db).await.expect_err("duplicate buyer");
        assert!(domain::error::is_unique_violation(&dup), "{dup:?}");

        let conv = domain::chat::routing::queued_conversation(s, b.id, 1)
            .insert(&db)
            .await
            .expect("conversation");
        let msg = |seq: i32, client: &str| message::ActiveModel {
            conversation_id: Set(conv.id),
            seq: Set(seq),
            sender: Set(message::SENDER_BUYER.into()),
            sender_account_id: Set(None),
            client_msg_id: Set(client.into()),
            kind: Set(message::KIND_TEXT.into()),
            body: Set("你好 😀".into()),
            font_size: Set(14),
            upload_id: Set(None),
            order_id: Set(None),
            created_at: Set(2),
            ..Default::default()
        };
        let stored = msg(1, "c1").insert(&db).await.expect("message");
        assert_eq!((stored.body.as_str(), stored.font_size), ("你好 😀", 14));
        let dup_seq = msg(1, "c2").insert(&db).await.expect_err("same seq");
        assert!(domain::error::is_unique_violation(&dup_seq));
        let dup_client = msg(2, "c1").insert(&db).await.expect_err("same client id");
        assert!(domain::error::is_unique_violation(&dup_client));

        // The schema can be rolled back and re-created.
        Migrator::down(&db, None).await.expect("down");
        assert!(supplier_entity::Entity::find().count(&db).await.is_err());
        domain::db::migrate(&db).await.expect("up again");
        assert_eq!(row_count::<supplier_entity::Entity>(&db).await, 0);
    })
    .await;
}

#[test]
fn agent_login_rule() {
    assert_eq!(agent_login(1, 1), "kf101");
    assert_eq!(agent_login(1, 2), "kf102");
    assert_eq!(agent_login(12, 1), "kf1201");
    assert_eq!(agent_login(3, 10), "kf310");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn create_supplier_validates_and_refuses_duplicates() {
    each_db(|db| async move {
        let h = hasher();
        let (id, generated) = create_supplier(&db, &h, "甲供应商", "Admin_A", "管理员", None)
            .await
            .expect("create");
        domain::password::check_strength(&generated, "admin_a").expect("generated is strong");
        let admin = account::Entity::find()
            .filter(account::Column::SupplierId.eq(id))
            .one(&db)
            .await
            .expect("query")
            .expect("admin");
        assert_eq!(
            (admin.login.as_str(), admin.role.as_str()),
            ("admin_a", "admin")
        );
        login(&auth(&db), "admin_a", &generated)
            .await
            .expect("generated password logs in");

        let dup = create_supplier(&db, &h, "甲供应商", "other", "管理员", None)
            .await
            .expect_err("same name");
        assert!(matches!(dup, DomainError::Conflict(_)), "{dup:?}");
        let dup = create_supplier(&db, &h, "乙供应商", "ADMIN_A", "管理员", None)
            .await
            .expect_err("same login");
        assert!(matches!(dup, DomainError::Conflict(_)), "{dup:?}");
        // Nothing half-created by the failed attempt.
        assert_eq!(row_count::<supplier_entity::Entity>(&db).await, 1);

        for (login, field) in [
            ("kf101", "login"),
            ("ab", "login"),
            ("a b", "login"),
            ("1abc", "login"),
        ] {
            let err = create_supplier(&db, &h, "丙供应商", login, "管理员", None)
                .await
                .expect_err("bad login");
            assert!(
                matches!(&err, DomainError::Validation { field: f, .. } if *f == field),
                "{login}: {err:?}"
            );
        }
        let weak = create_supplier(&db, &h, "丙供应商", "admin_c", "管理员", Some("password"))
            .await
            .expect_err("weak");
        assert!(matches!(weak, DomainError::Validation { .. }));
    })
    .await;
}

async fn agent_rows(db: &DatabaseConnection, supplier_id: i64) -> Vec<account::Model> {
    list_agents(db, supplier_id).await.expect("list agents")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_supplier_has_at_most_two_agents() {
    each_db(|db| async move {
        let (s1, s2) = suppliers_a_and_b(&db).await;
        let h = hasher();

        let (a1, pw1) = create_agent(&db, &h, s1, "  小王  ", Some(1))
            .await
            .expect("first");
        let (a2, _) = create_agent(&db, &h, s1, "小李", Some(1))
            .await
            .expect("second");
        assert_eq!(a1.login, agent_login(s1, 1));
        assert_eq!(a2.login, agent_login(s1, 2));
        assert_eq!(a1.display_name, "小王");
        assert_eq!(a1.role, "agent");
        domain::password::check_strength(&pw1, &a1.login).expect("initial password is strong");
        let (_, session) = login(&auth(&db), &a1.login, &pw1)
            .await
            .expect("agent login");
        assert_eq!(session.role, Role::Agent);

        let third = create_agent(&db, &h, s1, "小张", Some(1))
            .await
            .expect_err("third");
        match &third {
            DomainError::Conflict(msg) => {
                assert_eq!(msg, "每个供应商最多只能新增 2 个在线客服账号")
            }
            other => panic!("expected Conflict, got {other:?}"),
        }
        assert_eq!(agent_rows(&db, s1).await.len(), 2);
        // The refused attempt did not use up a number.
        let s1_row = supplier_entity::Entity::find_by_id(s1)
            .one(&db)
            .await
            .expect("q")
            .expect("row");
        assert_eq!(s1_row.next_agent_no, 3);

        // Another supplier has its own cap and its own numbers.
        let (b1, _) = create_agent(&db, &h, s2, "茶社客服", None)
            .await
            .expect("other supplier");
        assert_eq!(b1.login, agent_login(s2, 1));
        assert_eq!(agent_rows(&db, s2).await.len(), 1);

        let added = audit_log::Entity::find()
            .filter(audit_log::Column::SupplierId.eq(s1))
            .filter(audit_log::Column::Action.eq(audit_log::ACTION_ACCOUNT_ADDED))
            .count(&db)
            .await
            .expect("audit");
        assert_eq!(added, 2);

        // Names are checked.
        let empty = create_agent(&db, &h, s2, "   ", None)
            .await
            .expect_err("empty");
        assert_eq!(invalid_field(&empty), Some("display_name"), "{empty:?}");
        let long = create_agent(&db, &h, s2, &"名".repeat(33), None)
            .await
            .expect_err("long");
        assert_eq!(invalid_field(&long), Some("display_name"), "{long:?}");
        let missing = create_agent(&db, &h, 9_999, "某人", None)
            .await
            .expect_err("no supplier");
        assert!(matches!(missing, DomainError::NotFound), "{missing:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_agent_creation_never_exceeds_the_cap() {
    each_db(|db| async move {
        // Several suppliers, 10 simultaneous 新增 each, with enough hash permits that the
        // transactions really overlap.
        let h = domain::password::PasswordHasher::new(16);
        let mut suppliers = Vec::new();
        for k in 0..4 {
            suppliers.push(supplier(&db, &format!("供应商{k}"), &format!("admin_{k}")).await);
        }
        let mut tasks = Vec::new();
        for i in 0..10 {
            for &s in &suppliers {
                let db = db.clone();
                let h = h.clone();
                tasks.push(tokio::spawn(async move {
                    create_agent(&db, &h, s, &format!("客服{i}"), None).await
                }));
            }
        }
        let mut created = 0;
        let mut refused = 0;
        for task in tasks {
            match task.await.expect("join") {
                Ok(_) => created += 1,
                Err(DomainError::Conflict(_)) => refused += 1,
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        for &s in &suppliers {
            let agents = agent_rows(&db, s).await;
            assert_eq!(agents.len() as u64, MAX_AGENTS_PER_SUPPLIER, "supplier {s}");
            let logins: HashSet<String> = agents.into_iter().map(|a| a.login).collect();
            assert_eq!(
                logins,
                HashSet::from([agent_login(s, 1), agent_login(s, 2)])
            );
        }
        assert_eq!((created, refused), (8, 32));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_creation_waits_for_one_in_flight_and_then_counts_it() {
    // Deterministic version of the race: a creation is in flight (supplier row bumped, second
    // agent inserted, not yet committed) when another 新增 arrives. The newcomer must wait and
    // then see the committed agent. (A single `UPDATE … WHERE (SELECT count(*) …) < 2` would
    // let it through on PostgreSQL: the re-check after the row lock ignores the sub-select.)
    each_db(|db| async move {
        let s = supplier_a(&db).await;
        let h = hasher();
        create_agent(&db, &h, s, "小王", None).await.expect("first");

        let in_flight = domain::db::begin_write(&db).await.expect("begin");
        supplier_entity::Entity::update_many()
            .col_expr(
                supplier_entity::Column::NextAgentNo,
                sea_orm::sea_query::Expr::col(supplier_entity::Column::NextAgentNo).add(1),
            )
            .filter(supplier_entity::Column::Id.eq(s))
            .exec(&in_flight)
            .await
            .expect("bump");
        account::ActiveModel {
            supplier_id: Set(s),
            role: Set(account::ROLE_AGENT.into()),
            login: Set(agent_login(s, 2)),
            display_name: Set("小李".into()),
            password_hash: Set("x".into()),
            created_at: Set(0),
            updated_at: Set(0),
            ..Default::default()
        }
        .insert(&in_flight)
        .await
        .expect("second agent, uncommitted");

        let newcomer = {
            let db = db.clone();
            let h = h.clone();
            tokio::spawn(async move { create_agent(&db, &h, s, "小张", None).await })
        };
        // Long enough for the newcomer to hash its password and reach the lock.
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert!(
            !newcomer.is_finished(),
            "the newcomer must wait for the in-flight creation"
        );
        in_flight.commit().await.expect("commit");

        let result = newcomer.await.expect("join");
        assert!(
            matches!(result, Err(DomainError::Conflict(_))),
            "{result:?}"
        );
        assert_eq!(agent_rows(&db, s).await.len(), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn editing_an_agent_is_scoped_and_a_new_password_ends_its_login() {
    each_db(|db| async move {
        let (s1, s2) = suppliers_a_and_b(&db).await;
        let h = hasher();
        let auth = auth(&db);
        let (agent, pw) = create_agent(&db, &h, s1, "小王", None)
            .await
            .expect("agent");
        let (token, _) = login(&auth, &agent.login, &pw).await.expect("login");

        let foreign = update_agent(&db, &h, s2, agent.id, Some("黑客"), None, None)
            .await
            .expect_err("other supplier");
        assert!(matches!(foreign, DomainError::NotFound));

        let renamed = update_agent(&db, &h, s1, agent.id, Some("王小明"), None, Some(1))
            .await
            .expect("rename");
        assert_eq!(renamed.display_name, "王小明");
        assert!(
            auth.session(&token).await.expect("session").is_some(),
            "rename keeps the login"
        );

        let weak = update_agent(&db, &h, s1, agent.id, None, Some("weak"), Some(1))
            .await
            .expect_err("weak");
        assert!(matches!(weak, DomainError::Validation { .. }));

        update_agent(&db, &h, s1, agent.id, None, Some("Reset#2026pw"), Some(1))
            .await
            .expect("reset");
        assert!(
            auth.session(&token).await.expect("session").is_none(),
            "login ended"
        );
        assert!(matches!(
            login(&auth, &agent.login, &pw).await,
            Err(DomainError::BadCredentials)
        ));
        login(&auth, &agent.login, "Reset#2026pw")
            .await
            .expect("new password");

        let actions = audit_actions(&db, s1).await;
        assert!(
            actions
                .iter()
                .any(|a| a == audit_log::ACTION_ACCOUNT_EDITED)
        );
        assert!(
            actions
                .iter()
                .any(|a| a == audit_log::ACTION_PASSWORD_RESET)
        );
        assert_eq!(
            domain::audit::list(&db, s2, 0, 50)
                .await
                .expect("list")
                .len(),
            0,
            "nothing logged for the other supplier"
        );
    })
    .await;
}

async fn counts(db: &DatabaseConnection) -> [u64; 5] {
    [
        supplier_entity::Entity::find()
            .count(db)
            .await
            .expect("suppliers"),
        account::Entity::find().count(db).await.expect("accounts"),
        buyer::Entity::find().count(db).await.expect("buyers"),
        purchase_order::Entity::find()
            .count(db)
            .await
            .expect("orders"),
        order_item::Entity::find().count(db).await.expect("items"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn demo_seed_is_idempotent_and_its_logins_work() {
    each_db(|db| async move {
        let h = hasher();
        domain::demo::seed(&db, &h).await.expect("seed");
        let first = counts(&db).await;
        domain::demo::seed(&db, &h).await.expect("seed again");
        assert_eq!(counts(&db).await, first);
        let [suppliers, accounts, buyers, orders, items] = first;
        assert_eq!((suppliers, accounts, buyers), (2, 5, 4));
        assert!((30..=40).contains(&orders), "{orders} orders");
        assert!(items >= orders && items <= orders * 3);

        let auth = auth(&db);
        let (t, admin) = login(&auth, "demo_admin", "Demo@832admin")
            .await
            .expect("demo_admin");
        assert_eq!(admin.role, Role::Admin);
        assert_eq!(admin.supplier_name, "示例农产品供应商");
        auth.logout(&t).await.expect("logout");

        let agents = list_agents(&db, admin.supplier_id).await.expect("agents");
        let names: Vec<&str> = agents.iter().map(|a| a.display_name.as_str()).collect();
        assert_eq!(names, ["客服小童", "客服小李"]);
        for (n, agent) in agents.iter().enumerate() {
            assert_eq!(agent.login, agent_login(admin.supplier_id, n as i64 + 1));
            let (_, s) = login(&auth, &agent.login, "Demo@832agent")
                .await
                .expect("demo agent");
            assert_eq!((s.role, s.supplier_id), (Role::Agent, admin.supplier_id));
        }

        let (_, admin2) = login(&auth, "demo_admin2", "Demo@832admin")
            .await
            .expect("demo_admin2");
        assert_eq!(admin2.supplier_name, "山区茶叶合作社");
        let tea_agents = list_agents(&db, admin2.supplier_id).await.expect("agents");
        assert_eq!(tea_agents.len(), 1);
        assert_eq!(tea_agents[0].display_name, "茶社客服");
        login(&auth, &tea_agents[0].login, "Demo@832agent")
            .await
            .expect("tea agent");

        // Orders: every status, amounts add up, pictures from the demo set, within 60 days.
        let orders = purchase_order::Entity::find()
            .all(&db)
            .await
            .expect("orders");
        let statuses: HashSet<&str> = orders.iter().map(|o| o.status.as_str()).collect();
        assert_eq!(statuses, HashSet::from(purchase_order::STATUSES));
        let now = domain::db::now_ms();
        for order in &orders {
            assert!(order.created_at > now - 61 * 86_400_000 && order.created_at <= now);
            let lines = order_item::Entity::find()
                .filter(order_item::Column::OrderId.eq(order.id))
                .all(&db)
                .await
                .expect("items");
            assert!((1..=3).contains(&lines.len()));
            let goods: i64 = lines
                .iter()
                .map(|l| l.unit_price_fen * i64::from(l.quantity))
                .sum();
            assert_eq!(order.total_fen, goods + order.freight_fen);
            for line in &lines {
                assert!(line.picture_url.starts_with("/demo/product-"));
            }
            let buyer = buyer::Entity::find_by_id(order.buyer_id)
                .one(&db)
                .await
                .expect("q")
                .expect("buyer");
            assert_eq!(
                buyer.supplier_id, order.supplier_id,
                "order and buyer of one tenant"
            );
        }
        let cg1001 = buyer::Entity::find()
            .filter(buyer::Column::ExternalId.eq("CG1001"))
            .one(&db)
            .await
            .expect("q")
            .expect("CG1001");
        assert_eq!(cg1001.supplier_id, admin.supplier_id);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn disabling_an_agent_ends_its_login_and_refuses_it_until_enabled() {
    each_db(|db| async move {
        let (s1, s2) = suppliers_a_and_b(&db).await;
        let auth = auth(&db);
        let (agent, pw) = create_agent(&db, &hasher(), s1, "小王", None)
            .await
            .expect("agent");
        let (_, admin_a) = login(&auth, "admin_a", common::ADMIN_PASSWORD)
            .await
            .expect("admin a");
        let (_, admin_b) = login(&auth, "admin_b", common::ADMIN_PASSWORD)
            .await
            .expect("admin b");
        let (token, _) = login(&auth, &agent.login, &pw).await.expect("agent login");

        // Another supplier's admin can neither disable nor enable it: NotFound, nothing changes.
        for disabled in [true, false] {
            let err = set_agent_disabled(&db, s2, agent.id, disabled, Some(admin_b.account_id))
                .await
                .expect_err("foreign");
            assert!(matches!(err, DomainError::NotFound), "{err:?}");
        }
        assert!(auth.session(&token).await.expect("session").is_some());
        // Admin accounts are not disabled this way (an admin cannot lock itself out).
        let err = set_agent_disabled(&db, s1, admin_a.account_id, true, Some(admin_a.account_id))
            .await
            .expect_err("admin");
        assert!(matches!(err, DomainError::NotFound), "{err:?}");

        // 停用: the login ends at once, the right password is refused with the reason.
        assert!(
            set_agent_disabled(&db, s1, agent.id, true, Some(admin_a.account_id))
                .await
                .expect("disable"),
            "a live login was ended"
        );
        assert!(auth.session(&token).await.expect("session").is_none());
        let row = login_session::Entity::find()
            .filter(login_session::Column::AccountId.eq(agent.id))
            .count(&db)
            .await
            .expect("count");
        assert_eq!(row, 0);
        let err = login(&auth, &agent.login, &pw).await.expect_err("disabled");
        assert_eq!(err.user_message(), "账号已停用，请联系客服管理员");
        let listed = list_agents(&db, s1).await.expect("list");
        assert!(listed[0].disabled_at.is_some());
        // Disabling again changes nothing and logs nothing.
        assert!(
            !set_agent_disabled(&db, s1, agent.id, true, Some(admin_a.account_id))
                .await
                .expect("again")
        );

        // 启用: it logs in again.
        assert!(
            !set_agent_disabled(&db, s1, agent.id, false, Some(admin_a.account_id))
                .await
                .expect("enable")
        );
        assert!(
            list_agents(&db, s1).await.expect("list")[0]
                .disabled_at
                .is_none()
        );
        let (token, session) = login(&auth, &agent.login, &pw).await.expect("enabled");
        assert_eq!(session.account_id, agent.id);
        assert!(auth.session(&token).await.expect("session").is_some());

        let entries: Vec<(String, Option<i64>, String)> = audit_log::Entity::find()
            .filter(audit_log::Column::SupplierId.eq(s1))
            .filter(audit_log::Column::Action.is_in([
                audit_log::ACTION_ACCOUNT_DISABLED,
                audit_log::ACTION_ACCOUNT_ENABLED,
            ]))
            .all(&db)
            .await
            .expect("audit")
            .into_iter()
            .map(|a| (a.action, a.actor_account_id, a.detail))
            .collect();
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_eq!(entries[0].0, audit_log::ACTION_ACCOUNT_DISABLED);
        assert_eq!(entries[1].0, audit_log::ACTION_ACCOUNT_ENABLED);
        assert!(entries.iter().all(|e| e.1 == Some(admin_a.account_id)));
        assert!(entries.iter().all(|e| e.2.contains(&agent.login)));
        assert_eq!(domain::audit::action_label(&entries[0].0), "停用账号");
        assert_eq!(domain::audit::action_label(&entries[1].0), "启用账号");
        assert!(
            domain::audit::list(&db, s2, 0, 50)
                .await
                .expect("list")
                .iter()
                .all(|e| !e.detail.contains(&agent.login)),
            "nothing about it in the other supplier's log"
        );
    })
    .await;
}
