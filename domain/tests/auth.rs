//! Login, single login, idle release, rate limits, sessions, password change, kick.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{ADMIN_PASSWORD, auth, auth_with, each_db, login, supplier};
use domain::DomainError;
use domain::accounts::create_agent;
use domain::auth::{AuthConfig, Role, token_hash};
use domain::entity::{account, audit_log, login_session};
use domain::password::check_strength;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

async fn login_rows(db: &DatabaseConnection, account_id: i64) -> u64 {
    login_session::Entity::find()
        .filter(login_session::Column::AccountId.eq(account_id))
        .count(db)
        .await
        .expect("count logins")
}

async fn password_hash(db: &DatabaseConnection, account_id: i64) -> String {
    account::Entity::find_by_id(account_id)
        .one(db)
        .await
        .expect("query")
        .expect("account")
        .password_hash
}

/// Moves an account's live login `by` into the past, as if its browser went silent.
async fn age_login(db: &DatabaseConnection, account_id: i64, by: Duration) {
    let back = i64::try_from(by.as_millis()).expect("ms");
    login_session::Entity::update_many()
        .col_expr(
            login_session::Column::LastSeenAt,
            Expr::value(domain::db::now_ms() - back),
        )
        .filter(login_session::Column::AccountId.eq(account_id))
        .exec(db)
        .await
        .expect("age login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_returns_session_with_role_and_supplier() {
    each_db(|db| async move {
        let s1 = supplier(&db, "甲供应商", "admin_a").await;
        let (agent, agent_pw) = create_agent(&db, &common::hasher(), s1, "小王", None)
            .await
            .expect("agent");
        let auth = auth(&db);

        let (token, session) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("admin login");
        assert_eq!(session.role, Role::Admin);
        assert_eq!(session.supplier_id, s1);
        assert_eq!(session.supplier_name, "甲供应商");
        assert_eq!(session.login, "admin_a");
        assert_eq!(session.display_name, "客服管理员");
        assert_eq!(token.len(), 43, "32 bytes base64url without padding");

        // Only the hash of the token is stored.
        let row = login_session::Entity::find_by_id(session.login_id)
            .one(&db)
            .await
            .expect("query")
            .expect("row");
        assert_ne!(row.token_hash, token);
        assert_eq!(row.token_hash, token_hash(&token));
        assert_eq!(row.client_addr, "127.0.0.1");

        let again = auth.session(&token).await.expect("session").expect("live");
        assert_eq!(again.account_id, session.account_id);
        assert_eq!(again.login_id, session.login_id);

        // Login names are case-insensitive and trimmed.
        let (_, agent_session) = login(
            &auth,
            &format!(" {} ", agent.login.to_uppercase()),
            &agent_pw,
        )
        .await
        .expect("agent login");
        assert_eq!(agent_session.role, Role::Agent);
        assert_eq!(agent_session.account_id, agent.id);
        assert_eq!(agent_session.display_name, "小王");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wrong_password_and_unknown_account_get_the_same_answer() {
    each_db(|db| async move {
        supplier(&db, "甲供应商", "admin_a").await;
        let auth = auth(&db);
        let wrong = login(&auth, "admin_a", "Wrong#2026pw")
            .await
            .expect_err("wrong pw");
        let unknown = login(&auth, "nobody_here", ADMIN_PASSWORD)
            .await
            .expect_err("unknown");
        assert!(matches!(wrong, DomainError::BadCredentials), "{wrong:?}");
        assert!(
            matches!(unknown, DomainError::BadCredentials),
            "{unknown:?}"
        );
        assert_eq!(wrong.user_message(), unknown.user_message());
        assert_eq!(wrong.user_message(), "账号或密码错误");

        let empty = login(&auth, "  ", "x").await.expect_err("empty login");
        assert!(matches!(
            empty,
            DomainError::Validation { field: "login", .. }
        ));
        let empty = login(&auth, "admin_a", "")
            .await
            .expect_err("empty password");
        assert!(matches!(
            empty,
            DomainError::Validation {
                field: "password",
                ..
            }
        ));
        let long = login(&auth, &"a".repeat(33), "x")
            .await
            .expect_err("long login");
        assert!(matches!(
            long,
            DomainError::Validation { field: "login", .. }
        ));
        let long = login(&auth, "admin_a", &"a".repeat(65))
            .await
            .expect_err("long pw");
        assert!(matches!(
            long,
            DomainError::Validation {
                field: "password",
                ..
            }
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn second_login_is_refused_and_logout_frees_the_account() {
    each_db(|db| async move {
        supplier(&db, "甲供应商", "admin_a").await;
        let auth = auth(&db);
        let (first, session) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("first");

        let second = auth
            .login("admin_a", ADMIN_PASSWORD, "10.1.1.1", "other-browser")
            .await
            .expect_err("second login");
        assert!(matches!(second, DomainError::AlreadyLoggedIn), "{second:?}");
        assert!(second.user_message().contains("剔除登录"));
        // The first login is untouched.
        assert!(auth.session(&first).await.expect("session").is_some());
        assert_eq!(login_rows(&db, session.account_id).await, 1);

        auth.logout(&first).await.expect("logout");
        assert!(auth.session(&first).await.expect("session").is_none());
        assert_eq!(login_rows(&db, session.account_id).await, 0);

        let (again, _) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("login again");
        assert!(auth.session(&again).await.expect("session").is_some());
        assert!(auth.session(&first).await.expect("session").is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn idle_login_is_released() {
    each_db(|db| async move {
        supplier(&db, "甲供应商", "admin_a").await;
        let auth = auth(&db);
        let idle = auth.config.login_idle_timeout;

        // A login silent for a little less than the timeout still blocks.
        let (_, session) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("login");
        age_login(&db, session.account_id, idle - Duration::from_secs(5)).await;
        assert!(matches!(
            login(&auth, "admin_a", ADMIN_PASSWORD).await,
            Err(DomainError::AlreadyLoggedIn)
        ));
        assert_eq!(auth.release_idle_logins().await.expect("release"), 0);

        // Past the timeout, a new login replaces it directly.
        age_login(&db, session.account_id, idle + Duration::from_secs(1)).await;
        let (token2, session2) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("login after idle");
        assert_ne!(session2.login_id, session.login_id);
        assert_eq!(login_rows(&db, session.account_id).await, 1);

        // The periodic sweep releases idle logins.
        age_login(&db, session.account_id, idle + Duration::from_secs(1)).await;
        assert_eq!(auth.release_idle_logins().await.expect("release"), 1);
        assert_eq!(login_rows(&db, session.account_id).await, 0);

        // An idle token is not a session any more, and its row goes.
        let (token3, _) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("login");
        assert!(auth.session(&token2).await.expect("session").is_none());
        age_login(&db, session.account_id, idle + Duration::from_secs(1)).await;
        assert!(auth.session(&token3).await.expect("session").is_none());
        assert_eq!(login_rows(&db, session.account_id).await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heartbeat_refreshes_last_seen() {
    each_db(|db| async move {
        supplier(&db, "甲供应商", "admin_a").await;
        let auth = auth(&db);
        let (token, session) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("login");
        let login_id = session.login_id;
        let seen = |db: DatabaseConnection| async move {
            login_session::Entity::find_by_id(login_id)
                .one(&db)
                .await
                .expect("query")
                .expect("row")
                .last_seen_at
        };
        // Recent: no write.
        let before = seen(db.clone()).await;
        auth.session(&token).await.expect("session").expect("live");
        assert_eq!(seen(db.clone()).await, before);
        // A minute old: the heartbeat brings it back to now.
        age_login(&db, session.account_id, Duration::from_secs(60)).await;
        let aged = seen(db.clone()).await;
        auth.session(&token).await.expect("session").expect("live");
        assert!(seen(db.clone()).await >= aged + 59_000);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_logins_exactly_one_wins() {
    each_db(|db| async move {
        supplier(&db, "甲供应商", "admin_a").await;
        let auth = auth(&db);
        let mut tasks = Vec::new();
        for i in 0..8 {
            let auth = auth.clone();
            tasks.push(tokio::spawn(async move {
                auth.login("admin_a", ADMIN_PASSWORD, &format!("10.0.0.{i}"), "racer")
                    .await
            }));
        }
        let mut won = 0;
        let mut refused = 0;
        for task in tasks {
            match task.await.expect("join") {
                Ok(_) => won += 1,
                Err(DomainError::AlreadyLoggedIn) => refused += 1,
                Err(other) => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((won, refused), (1, 7));
        assert_eq!(
            login_session::Entity::find()
                .count(&db)
                .await
                .expect("count"),
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_logins_are_rate_limited_per_account() {
    each_db(|db| async move {
        supplier(&db, "甲供应商", "admin_a").await;
        let auth = auth_with(
            &db,
            AuthConfig {
                max_failures_per_account: 3,
                max_failures_per_addr: 100,
                ..AuthConfig::default()
            },
        );
        // Two failures, then a success clears the account's count.
        for _ in 0..2 {
            assert!(matches!(
                login(&auth, "admin_a", "Wrong#2026pw").await,
                Err(DomainError::BadCredentials)
            ));
        }
        let (token, admin) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("login");
        auth.logout(&token).await.expect("logout");
        for _ in 0..2 {
            assert!(matches!(
                login(&auth, "admin_a", "Wrong#2026pw").await,
                Err(DomainError::BadCredentials)
            ));
        }
        // 2 failures since the success: still allowed (4 in total would be refused).
        let (token, _) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("cleared");
        auth.logout(&token).await.expect("logout");

        for _ in 0..3 {
            let _ = login(&auth, "ADMIN_A", "Wrong#2026pw").await;
        }
        // Now even the right password is refused, from any address.
        let refused = auth
            .login("admin_a", ADMIN_PASSWORD, "192.0.2.99", "other")
            .await
            .expect_err("limited");
        match &refused {
            DomainError::RateLimited { retry_after_secs } => {
                assert!(
                    (1..=15 * 60).contains(retry_after_secs),
                    "{retry_after_secs}"
                );
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
        assert_eq!(refused.user_message(), "登录失败次数过多，请 15 分钟后再试");
        assert_eq!(login_rows(&db, admin.account_id).await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_logins_are_rate_limited_per_address() {
    each_db(|db| async move {
        supplier(&db, "甲供应商", "admin_a").await;
        supplier(&db, "乙供应商", "admin_b").await;
        let auth = auth_with(
            &db,
            AuthConfig {
                max_failures_per_account: 100,
                max_failures_per_addr: 3,
                ..AuthConfig::default()
            },
        );
        for name in ["guess1", "guess2", "admin_a"] {
            let err = auth
                .login(name, "Wrong#2026pw", "203.0.113.7", "bot")
                .await
                .expect_err("bad");
            assert!(matches!(err, DomainError::BadCredentials), "{err:?}");
        }
        // That address is blocked for every account, even with the right password…
        let err = auth
            .login("admin_b", ADMIN_PASSWORD, "203.0.113.7", "bot")
            .await
            .expect_err("limited");
        assert!(matches!(err, DomainError::RateLimited { .. }), "{err:?}");
        // …while other addresses are not.
        auth.login("admin_b", ADMIN_PASSWORD, "198.51.100.1", "ok")
            .await
            .expect("other address");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tampered_or_unknown_tokens_have_no_session() {
    each_db(|db| async move {
        supplier(&db, "甲供应商", "admin_a").await;
        let auth = auth(&db);
        let (token, _) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("login");

        let mut tampered: Vec<char> = token.chars().collect();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == 'A' { 'B' } else { 'A' };
        let tampered: String = tampered.into_iter().collect();
        assert!(auth.session(&tampered).await.expect("session").is_none());
        assert!(auth.session("").await.expect("session").is_none());
        assert!(
            auth.session("not-a-token")
                .await
                .expect("session")
                .is_none()
        );
        assert!(
            auth.session(&"x".repeat(10_000))
                .await
                .expect("session")
                .is_none()
        );
        // The stored hash itself is not a token either.
        assert!(
            auth.session(&token_hash(&token))
                .await
                .expect("session")
                .is_none()
        );
        assert!(auth.session(&token).await.expect("session").is_some());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn change_password_errors_change_nothing_and_success_switches_passwords() {
    each_db(|db| async move {
        supplier(&db, "甲供应商", "admin_a").await;
        let auth = auth(&db);
        let (token, session) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("login");
        let original = password_hash(&db, session.account_id).await;
        let new = "Fresh#2026pass";

        let cases: [(&str, &str, &str, &str, &str); 8] = [
            ("", new, new, "old_password", "请输入原密码"),
            (ADMIN_PASSWORD, "", new, "new_password", "请输入新密码"),
            (
                ADMIN_PASSWORD,
                new,
                "",
                "confirm_password",
                "请再次输入新密码",
            ),
            ("Wrong#2026pw", new, new, "old_password", "原密码不正确"),
            (
                ADMIN_PASSWORD,
                new,
                "Fresh#2026pasz",
                "confirm_password",
                "两次输入的新密码不一致",
            ),
            (
                ADMIN_PASSWORD,
                ADMIN_PASSWORD,
                ADMIN_PASSWORD,
                "new_password",
                "新密码不能与原密码相同",
            ),
            (
                ADMIN_PASSWORD,
                "short1A",
                "short1A",
                "new_password",
                "密码长度至少 8 位",
            ),
            (
                ADMIN_PASSWORD,
                "xadmin_a#2026X",
                "xadmin_a#2026X",
                "new_password",
                "密码不能包含登录账号",
            ),
        ];
        for (old, new_pw, confirm, field, reason) in cases {
            let err = auth
                .change_password(&session, old, new_pw, confirm)
                .await
                .expect_err("must fail");
            match &err {
                DomainError::Validation {
                    field: f,
                    reason: r,
                } => {
                    assert_eq!(
                        (*f, r.as_str()),
                        (field, reason),
                        "case old={old:?} new={new_pw:?}"
                    );
                }
                other => panic!("expected Validation, got {other:?}"),
            }
            assert_eq!(password_hash(&db, session.account_id).await, original);
        }

        auth.change_password(&session, ADMIN_PASSWORD, new, new)
            .await
            .expect("change");
        assert_ne!(password_hash(&db, session.account_id).await, original);
        // The current login stays.
        assert!(auth.session(&token).await.expect("session").is_some());

        auth.logout(&token).await.expect("logout");
        assert!(matches!(
            login(&auth, "admin_a", ADMIN_PASSWORD).await,
            Err(DomainError::BadCredentials)
        ));
        login(&auth, "admin_a", new)
            .await
            .expect("new password works");
    })
    .await;
}

#[test]
fn password_strength_rules() {
    let reason = |pw: &str, login: &str| match check_strength(pw, login) {
        Ok(()) => None,
        Err(DomainError::Validation { field, reason }) => {
            assert_eq!(field, "new_password");
            Some(reason)
        }
        Err(other) => panic!("unexpected {other:?}"),
    };
    assert_eq!(reason("Ab1#xyzw", "kf101"), None);
    assert_eq!(
        reason("abcdef12#", "kf101"),
        None,
        "three classes are enough"
    );
    assert_eq!(reason("ABCDEF12a", "kf101"), None);
    assert_eq!(reason("", "kf101").as_deref(), Some("请输入新密码"));
    assert_eq!(
        reason("Ab1#xyz", "kf101").as_deref(),
        Some("密码长度至少 8 位")
    );
    let long = format!("Ab1#{}", "x".repeat(61));
    assert_eq!(
        reason(&long, "kf101").as_deref(),
        Some("密码长度不能超过 64 位")
    );
    assert_eq!(
        reason(&format!("Ab1#{}", "x".repeat(60)), "kf101"),
        None,
        "64 is fine"
    );
    assert_eq!(
        reason("abcdefgh12", "kf101").as_deref(),
        Some("密码须包含大写字母、小写字母、数字、符号中的至少三种")
    );
    assert_eq!(
        reason("ABCDEFGH#$", "kf101").as_deref(),
        Some("密码须包含大写字母、小写字母、数字、符号中的至少三种")
    );
    assert_eq!(
        reason("Xkf101#abc", "kf101").as_deref(),
        Some("密码不能包含登录账号")
    );
    assert_eq!(
        reason("XKF101#abc", "kf101").as_deref(),
        Some("密码不能包含登录账号")
    );
    assert_eq!(
        reason("Ab1# xyzw", "kf101").as_deref(),
        Some("密码不能包含空格")
    );
    assert_eq!(
        reason("Ab1＃xyzw", "kf101").as_deref(),
        Some("密码只能包含英文字母、数字和英文符号")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kick_login_is_scoped_by_supplier() {
    each_db(|db| async move {
        let s1 = supplier(&db, "甲供应商", "admin_a").await;
        let s2 = supplier(&db, "乙供应商", "admin_b").await;
        let (agent, pw) = create_agent(&db, &common::hasher(), s1, "小王", None)
            .await
            .expect("agent");
        let auth = auth(&db);
        let (agent_token, _) = login(&auth, &agent.login, &pw).await.expect("agent login");
        let (_, admin_b) = login(&auth, "admin_b", ADMIN_PASSWORD)
            .await
            .expect("admin b");
        let (_, admin_a) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("admin a");

        // Another supplier's admin cannot even see the account.
        let err = auth
            .kick_login(s2, agent.id, admin_b.account_id)
            .await
            .expect_err("foreign");
        assert!(matches!(err, DomainError::NotFound), "{err:?}");
        assert_eq!(login_rows(&db, agent.id).await, 1);
        assert!(auth.session(&agent_token).await.expect("session").is_some());

        // The own admin can see it logged in, and kick it.
        let found = auth.search_logins(s1, "小王").await.expect("search");
        assert_eq!(found.len(), 1);
        assert!(found[0].login.is_some());
        assert!(
            auth.search_logins(s2, "小王")
                .await
                .expect("search")
                .is_empty()
        );

        assert!(
            auth.kick_login(s1, agent.id, admin_a.account_id)
                .await
                .expect("kick")
        );
        assert_eq!(login_rows(&db, agent.id).await, 0);
        assert!(auth.session(&agent_token).await.expect("session").is_none());
        assert!(
            !auth
                .kick_login(s1, agent.id, admin_a.account_id)
                .await
                .expect("again")
        );

        let audit = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq(audit_log::ACTION_LOGIN_KICKED))
            .all(&db)
            .await
            .expect("audit");
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].supplier_id, s1);
        assert_eq!(audit[0].actor_account_id, Some(admin_a.account_id));
        assert!(audit[0].detail.contains(&agent.login));

        // The account can log in again.
        login(&auth, &agent.login, &pw)
            .await
            .expect("login after kick");
        let logged_in: HashSet<i64> = auth
            .search_logins(s1, "")
            .await
            .expect("search")
            .into_iter()
            .filter(|s| s.login.is_some())
            .map(|s| s.account.id)
            .collect();
        assert_eq!(logged_in, HashSet::from([admin_a.account_id, agent.id]));

        // The operator's CLI kick works by login name, across suppliers.
        assert!(
            auth.kick_login_by_login(&agent.login.to_uppercase())
                .await
                .expect("operator kick")
        );
        assert_eq!(login_rows(&db, agent.id).await, 0);
        assert!(!auth.kick_login_by_login(&agent.login).await.expect("again"));
        assert!(matches!(
            auth.kick_login_by_login("nobody_here").await,
            Err(DomainError::NotFound)
        ));
    })
    .await;
}
