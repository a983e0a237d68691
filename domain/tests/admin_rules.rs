//! The admin backend's rules, now in the domain: no kicking one's own login, the search length
//! limit, 账号新增 lists agents only, 操作日志 names its actors, 示忙 after every agent login, and
//! every operation that ends a login returns the event its open pages are told.

mod common;

use common::{
    ADMIN_PASSWORD, auth, each_db, hasher, login, login_rows, supplier, supplier_a,
    supplier_a_and_auth, supplier_with_agent, suppliers_a_and_b,
};
use domain::DomainError;
use domain::accounts::{create_agent, edit_agent, switch_agent_disabled};
use domain::audit::{AuditFilter, OPERATOR_NAME};
use domain::bus::{AccountEvent, LoginEndReason};
use domain::entity::audit_log;
use domain::logins::{EndedLogin, MAX_SEARCH_LEN, SELF_KICK_MESSAGE};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

async fn kicks_logged(db: &DatabaseConnection) -> u64 {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(audit_log::ACTION_LOGIN_KICKED))
        .count(db)
        .await
        .expect("count kicks")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admin_cannot_kick_their_own_login_and_a_kick_returns_the_event() {
    each_db(|db| async move {
        let (s, agent, pw) = supplier_with_agent(&db).await;
        let auth = auth(&db);
        let (admin_token, admin) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("admin");
        login(&auth, &agent.login, &pw).await.expect("agent");

        for refused in [
            auth.kick(&admin, admin.account_id).await,
            auth.kick_login(s, admin.account_id, admin.account_id)
                .await
                .map(|_| None),
        ] {
            match refused {
                Err(DomainError::Conflict(message)) => assert_eq!(message, SELF_KICK_MESSAGE),
                other => panic!("expected the self-kick refusal, got {other:?}"),
            }
        }
        assert_eq!(SELF_KICK_MESSAGE, "不能剔除自己的登录，请使用「退出系统」");
        assert!(auth.session(&admin_token).await.expect("session").is_some());
        assert_eq!(kicks_logged(&db).await, 0);

        let ended = auth.kick(&admin, agent.id).await.expect("kick");
        assert_eq!(
            ended,
            Some(EndedLogin {
                account_id: agent.id,
                reason: LoginEndReason::Kicked
            })
        );
        assert_eq!(
            ended.map(|e| e.event()),
            Some(AccountEvent::LoginEnded(LoginEndReason::Kicked))
        );
        assert_eq!(login_rows(&db, agent.id).await, 0);
        assert_eq!(auth.kick(&admin, agent.id).await.expect("again"), None);
        assert_eq!(kicks_logged(&db).await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_search_longer_than_the_limit_is_refused_not_cut_short() {
    each_db(|db| async move {
        let (s, auth) = supplier_a_and_auth(&db).await;
        // Its first 32 characters would find admin_a: cut short, it used to match.
        let long = format!(
            "admin_a{}",
            "x".repeat(MAX_SEARCH_LEN - "admin_a".len() + 1)
        );
        assert_eq!(long.chars().count(), MAX_SEARCH_LEN + 1);
        match auth.search_logins(s, &long).await {
            Err(DomainError::Validation { field, reason }) => {
                assert_eq!(field, "query");
                assert_eq!(reason, "搜索内容不能超过 32 个字符");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Counted in characters, as sent: 33 Chinese characters are refused, 32 are searched.
        assert!(auth.search_logins(s, &"管".repeat(33)).await.is_err());
        assert!(
            auth.search_logins(s, &"管".repeat(32))
                .await
                .expect("32 characters")
                .is_empty()
        );
        let padded = format!(" {} ", "admin_a");
        let found = auth.search_logins(s, &padded).await.expect("trimmed");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].role_label(), "客服管理员");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_agent_list_holds_the_suppliers_agents_only_with_their_logins() {
    each_db(|db| async move {
        let (s1, s2) = suppliers_a_and_b(&db).await;
        let h = hasher();
        let (first, pw) = create_agent(&db, &h, s1, "小王", None)
            .await
            .expect("first");
        let (second, _) = create_agent(&db, &h, s1, "小李", None)
            .await
            .expect("second");
        create_agent(&db, &h, s2, "茶社客服", None)
            .await
            .expect("other supplier");
        let auth = auth(&db);
        login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("admin");
        login(&auth, &first.login, &pw).await.expect("agent");

        let agents = auth.agents_with_logins(s1).await.expect("agents");
        let listed: Vec<(i64, bool)> = agents
            .iter()
            .map(|a| (a.account.id, a.login.is_some()))
            .collect();
        assert_eq!(listed, vec![(first.id, true), (second.id, false)]);
        assert!(agents.iter().all(|a| a.role_label() == "在线客服"));
        // The admin is in 剔除登录's search, not in 账号新增's list.
        assert_eq!(auth.search_logins(s1, "").await.expect("all").len(), 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_audit_page_names_each_actor_and_counts_every_match() {
    each_db(|db| async move {
        let (s1, s2) = suppliers_a_and_b(&db).await;
        let auth = auth(&db);
        let (_, admin) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("admin");
        let (agent, pw) = create_agent(&db, &hasher(), s1, "小王", Some(admin.account_id))
            .await
            .expect("agent");
        login(&auth, &agent.login, &pw).await.expect("agent");
        // The operator's CLI kick has no actor.
        assert!(
            auth.kick_login_by_login(&agent.login)
                .await
                .expect("operator")
        );
        login(&auth, "admin_b", ADMIN_PASSWORD)
            .await
            .expect("other supplier's admin");

        let all = AuditFilter::default();
        let first = domain::audit::page(&db, s1, &all, 1, 2)
            .await
            .expect("page 1");
        assert_eq!(first.total, 4, "{first:?}");
        let newest: Vec<(&str, &str)> = first
            .entries
            .iter()
            .map(|e| (e.action.as_str(), e.actor.as_str()))
            .collect();
        assert_eq!(
            newest,
            vec![
                (audit_log::ACTION_LOGIN_KICKED, OPERATOR_NAME),
                (audit_log::ACTION_LOGIN, "小王 (kf101)"),
            ]
        );
        let second = domain::audit::page(&db, s1, &all, 2, 2)
            .await
            .expect("page 2");
        let older: Vec<&str> = second.entries.iter().map(|e| e.actor.as_str()).collect();
        assert_eq!(older, vec!["客服管理员 (admin_a)"; 2]);
        assert_eq!(OPERATOR_NAME, "平台运维");
        let mut actions = first.actions.clone();
        actions.sort();
        assert_eq!(
            actions,
            vec![
                ("account_added".to_owned(), "新增账号".to_owned()),
                ("login".to_owned(), "登录".to_owned()),
                ("login_kicked".to_owned(), "剔除登录".to_owned()),
            ]
        );
        let kicks = AuditFilter {
            action: Some(audit_log::ACTION_LOGIN_KICKED.to_owned()),
            ..AuditFilter::default()
        };
        let kicked = domain::audit::page(&db, s1, &kicks, 1, 20)
            .await
            .expect("kicks");
        assert_eq!((kicked.total, kicked.entries.len()), (1, 1));
        // The other supplier's page holds its own login only.
        let other = domain::audit::page(&db, s2, &all, 1, 20)
            .await
            .expect("other");
        assert_eq!(other.total, 1);
        assert_eq!(other.entries[0].actor, "客服管理员 (admin_b)");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_agent_is_busy_after_every_login() {
    each_db(|db| async move {
        let (s, agent, pw) = supplier_with_agent(&db).await;
        let auth = auth(&db);
        let serving = |db: DatabaseConnection| async move {
            domain::chat::agent_status::status_of(&db, s, agent.id)
                .await
                .expect("status")
                .map(|row| row.serving)
        };
        let (token, _) = login(&auth, &agent.login, &pw).await.expect("login");
        assert_eq!(serving(db.clone()).await, Some(false));
        domain::chat::set_serving(&db, s, agent.id, true, domain::db::now_ms())
            .await
            .expect("服务中");
        assert_eq!(serving(db.clone()).await, Some(true));
        auth.logout(&token).await.expect("logout");
        login(&auth, &agent.login, &pw).await.expect("login again");
        assert_eq!(serving(db.clone()).await, Some(false), "示忙 after login");
        // An admin has no status.
        let (_, admin) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("admin");
        assert!(
            domain::chat::agent_status::status_of(&db, s, admin.account_id)
                .await
                .expect("status")
                .is_none()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operations_that_end_a_login_return_its_event() {
    each_db(|db| async move {
        let s = supplier_a(&db).await;
        let h = hasher();
        let (agent, pw) = create_agent(&db, &h, s, "小王", None).await.expect("agent");
        let auth = auth(&db);
        let (admin_token, admin) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("admin");
        let ended = |reason| {
            Some(EndedLogin {
                account_id: agent.id,
                reason,
            })
        };

        // 退出系统: the live login's event; an unknown or ended token ends nothing.
        let (token, _) = login(&auth, &agent.login, &pw).await.expect("login");
        assert_eq!(
            auth.logout(&token).await.expect("logout"),
            ended(LoginEndReason::LoggedOut)
        );
        assert_eq!(auth.logout(&token).await.expect("again"), None);
        assert_eq!(auth.logout("no-such-token").await.expect("unknown"), None);

        // 编辑: a rename alone ends nothing; a new password ends the login.
        login(&auth, &agent.login, &pw).await.expect("login");
        assert_eq!(
            edit_agent(&db, &h, &admin, agent.id, "王小明", "")
                .await
                .expect("rename"),
            None
        );
        assert_eq!(login_rows(&db, agent.id).await, 1);
        let new_pw = "Reset#2026pw";
        assert_eq!(
            edit_agent(&db, &h, &admin, agent.id, "王小明", new_pw)
                .await
                .expect("new password"),
            ended(LoginEndReason::PasswordReset)
        );
        assert_eq!(login_rows(&db, agent.id).await, 0);

        // 停用 ends a live login (and only then says so); 启用 ends nothing.
        assert_eq!(
            switch_agent_disabled(&db, &admin, agent.id, true)
                .await
                .expect("disable while logged out"),
            None
        );
        switch_agent_disabled(&db, &admin, agent.id, false)
            .await
            .expect("enable");
        login(&auth, &agent.login, new_pw).await.expect("login");
        assert_eq!(
            switch_agent_disabled(&db, &admin, agent.id, true)
                .await
                .expect("disable"),
            ended(LoginEndReason::Disabled)
        );
        assert_eq!(
            switch_agent_disabled(&db, &admin, agent.id, false)
                .await
                .expect("enable"),
            None
        );
        // Another supplier's admin reaches nothing.
        let s2 = supplier(&db, "乙供应商", "admin_b").await;
        let (_, admin_b) = login(&auth, "admin_b", ADMIN_PASSWORD)
            .await
            .expect("admin b");
        assert_eq!(admin_b.supplier_id, s2);
        assert!(matches!(
            switch_agent_disabled(&db, &admin_b, agent.id, true).await,
            Err(DomainError::NotFound)
        ));
        assert!(matches!(
            auth.kick(&admin_b, agent.id).await,
            Err(DomainError::NotFound)
        ));
        assert!(auth.session(&admin_token).await.expect("session").is_some());
    })
    .await;
}
