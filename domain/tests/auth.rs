//! Login, single login, idle release, rate limits, sessions, password change, kick.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{
    ADMIN_PASSWORD, admin_a_login, auth, auth_limited, each_db, invalid_field, login, login_rows,
    row_count, supplier, supplier_a, supplier_a_and_auth, suppliers_a_and_b,
};
use domain::DomainError;
use domain::accounts::create_agent;
use domain::entity::{account, audit_log, login_session};
use domain::logins::{ACCOUNT_DISABLED_MESSAGE, Auth, AuthConfig, Role, token_hash};
use domain::password::{BUSY_MESSAGE, PasswordHasher, check_strength};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::task::JoinSet;

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
    move_login_back(db, account_id, login_session::Column::LastSeenAt, by).await;
}

/// Moves `column` (a time) of an account's live login `by` into the past.
async fn move_login_back(
    db: &DatabaseConnection,
    account_id: i64,
    column: login_session::Column,
    by: Duration,
) {
    let back = i64::try_from(by.as_millis()).expect("ms");
    login_session::Entity::update_many()
        .col_expr(column, Expr::value(domain::db::now_ms() - back))
        .filter(login_session::Column::AccountId.eq(account_id))
        .exec(db)
        .await
        .expect("move the login back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_returns_session_with_role_and_supplier() {
    each_db(|db| async move {
        let s1 = supplier_a(&db).await;
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
        let (_, auth) = supplier_a_and_auth(&db).await;
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
        assert_eq!(invalid_field(&empty), Some("password"), "{empty:?}");
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
        assert_eq!(invalid_field(&long), Some("password"), "{long:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn second_login_is_refused_and_logout_frees_the_account() {
    each_db(|db| async move {
        let (_, auth) = supplier_a_and_auth(&db).await;
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
        let (_, auth) = supplier_a_and_auth(&db).await;
        let idle = auth.config.login_idle_timeout;

        // A login silent for a little less than the timeout still blocks.
        let (_, session) = admin_a_login(&auth).await;
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
        let (token3, _) = admin_a_login(&auth).await;
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
        let (_, auth) = supplier_a_and_auth(&db).await;
        let (token, session) = admin_a_login(&auth).await;
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
        supplier_a(&db).await;
        // Attempts in flight count against the failure limit until they succeed; allow all 8
        // so that the database alone decides between them.
        let auth = auth_limited(&db, 100, None);
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
        assert_eq!(row_count::<login_session::Entity>(&db).await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_logins_are_rate_limited_per_account() {
    each_db(|db| async move {
        supplier_a(&db).await;
        let auth = auth_limited(&db, 3, Some(100));
        // Two failures, then a success clears the account's count.
        for _ in 0..2 {
            assert!(matches!(
                login(&auth, "admin_a", "Wrong#2026pw").await,
                Err(DomainError::BadCredentials)
            ));
        }
        let (token, admin) = admin_a_login(&auth).await;
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
        supplier_a(&db).await;
        supplier(&db, "乙供应商", "admin_b").await;
        let auth = auth_limited(&db, 100, Some(3));
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
        let (_, auth) = supplier_a_and_auth(&db).await;
        let (token, _) = admin_a_login(&auth).await;

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
        let (_, auth) = supplier_a_and_auth(&db).await;
        let (token, session) = admin_a_login(&auth).await;
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

        let rotated = auth
            .change_password(&session, ADMIN_PASSWORD, new, new)
            .await
            .expect("change");
        assert_ne!(password_hash(&db, session.account_id).await, original);
        // The login goes on under the new token only: a copy of the old cookie is dead.
        assert_ne!(rotated, token);
        assert!(auth.session(&token).await.expect("session").is_none());
        let same = auth
            .session(&rotated)
            .await
            .expect("session")
            .expect("live under the new token");
        assert_eq!(same.login_id, session.login_id);
        assert_eq!(login_rows(&db, session.account_id).await, 1);

        auth.logout(&rotated).await.expect("logout");
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
    let too_long = format!("Ab1#{}", "x".repeat(61));
    let longest = format!("Ab1#{}", "x".repeat(60));
    const THREE_CLASSES: &str = "密码须包含大写字母、小写字母、数字、符号中的至少三种";
    let cases: [(&str, Option<&str>); 13] = [
        ("Ab1#xyzw", None),
        // Three classes are enough.
        ("abcdef12#", None),
        ("ABCDEF12a", None),
        ("", Some("请输入新密码")),
        ("Ab1#xyz", Some("密码长度至少 8 位")),
        (&too_long, Some("密码长度不能超过 64 位")),
        // 64 is fine.
        (&longest, None),
        ("abcdefgh12", Some(THREE_CLASSES)),
        ("ABCDEFGH#$", Some(THREE_CLASSES)),
        ("Xkf101#abc", Some("密码不能包含登录账号")),
        ("XKF101#abc", Some("密码不能包含登录账号")),
        ("Ab1# xyzw", Some("密码不能包含空格")),
        ("Ab1＃xyzw", Some("密码只能包含英文字母、数字和英文符号")),
    ];
    for (password, expected) in cases {
        assert_eq!(
            reason(password, "kf101").as_deref(),
            expected,
            "{password:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kick_login_is_scoped_by_supplier() {
    each_db(|db| async move {
        let (s1, s2) = suppliers_a_and_b(&db).await;
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
        // LIKE's wildcards are searched for literally, never as patterns.
        for wildcard in ["%", "kf_", "%小%", "\\"] {
            assert!(
                auth.search_logins(s1, wildcard)
                    .await
                    .expect("search")
                    .is_empty(),
                "{wildcard} matched as a pattern"
            );
        }
        // … and found where they really are (admin_a has an underscore).
        let underscored = auth.search_logins(s1, "n_a").await.expect("search");
        assert_eq!(underscored.len(), 1, "{underscored:?}");
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

/// The audit entries of a supplier with this action, oldest first.
async fn audit_entries(
    db: &DatabaseConnection,
    supplier_id: i64,
    action: &str,
) -> Vec<audit_log::Model> {
    let mut rows = audit_log::Entity::find()
        .filter(audit_log::Column::SupplierId.eq(supplier_id))
        .filter(audit_log::Column::Action.eq(action))
        .all(db)
        .await
        .expect("audit");
    rows.sort_by_key(|r| r.id);
    rows
}

fn is_busy(err: &DomainError) -> bool {
    matches!(err, DomainError::Conflict(message) if message == BUSY_MESSAGE)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_wrong_passwords_reach_the_hash_at_most_the_limit() {
    each_db(|db| async move {
        supplier_a(&db).await;
        let auth = auth_limited(&db, 5, Some(1_000));
        let before = auth.hasher.verifications();
        let mut attempts = JoinSet::new();
        for i in 0..40 {
            let auth = auth.clone();
            attempts.spawn(async move {
                auth.login("admin_a", "Wrong#2026pw", &format!("10.9.0.{i}"), "bot")
                    .await
            });
        }
        let (mut wrong, mut limited) = (0, 0);
        while let Some(outcome) = attempts.join_next().await {
            match outcome.expect("join") {
                Err(DomainError::BadCredentials) => wrong += 1,
                Err(err @ DomainError::RateLimited { .. }) => {
                    assert_eq!(err.user_message(), "登录失败次数过多，请 15 分钟后再试");
                    limited += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        // Exactly the limit were checked; the other 35 were refused before hashing.
        assert_eq!((wrong, limited), (5, 35));
        assert_eq!(auth.hasher.verifications() - before, 5);

        // Locked: even the right password is refused, and not hashed.
        let err = auth
            .login("admin_a", ADMIN_PASSWORD, "192.0.2.1", "owner")
            .await
            .expect_err("locked");
        assert!(matches!(err, DomainError::RateLimited { .. }), "{err:?}");
        assert_eq!(auth.hasher.verifications() - before, 5);
        assert_eq!(row_count::<login_session::Entity>(&db).await, 0);

        // Other accounts are untouched.
        supplier(&db, "乙供应商", "admin_b").await;
        auth.login("admin_b", ADMIN_PASSWORD, "10.9.0.1", "ok")
            .await
            .expect("another account logs in");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn change_password_old_password_checks_are_limited_per_account() {
    each_db(|db| async move {
        supplier_a(&db).await;
        let auth = auth_limited(&db, 3, None);
        let (token, session) = admin_a_login(&auth).await;
        let original = password_hash(&db, session.account_id).await;
        let new = "Fresh#2026pass";
        let before = auth.hasher.verifications();

        // 20 guesses at once from a stolen session: 3 are checked, the rest refused unhashed.
        let mut guesses = JoinSet::new();
        for i in 0..20 {
            let auth = auth.clone();
            let session = session.clone();
            guesses.spawn(async move {
                auth.change_password(&session, &format!("Guess#2026pw{i}"), new, new)
                    .await
            });
        }
        let (mut wrong, mut limited) = (0, 0);
        while let Some(outcome) = guesses.join_next().await {
            match outcome.expect("join") {
                Err(DomainError::Validation {
                    field: "old_password",
                    reason,
                }) if reason == "原密码不正确" => wrong += 1,
                Err(DomainError::Validation {
                    field: "old_password",
                    reason,
                }) if reason == "原密码错误次数过多，请 15 分钟后再试" => {
                    limited += 1
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!((wrong, limited), (3, 17));
        assert_eq!(auth.hasher.verifications() - before, 3);

        // Now the right old password is refused too, without hashing, and nothing changed.
        let err = auth
            .change_password(&session, ADMIN_PASSWORD, new, new)
            .await
            .expect_err("limited");
        assert_eq!(err.user_message(), "原密码错误次数过多，请 15 分钟后再试");
        assert_eq!(auth.hasher.verifications() - before, 3);
        assert_eq!(password_hash(&db, session.account_id).await, original);
        // The same counter guards the login.
        auth.logout(&token).await.expect("logout");
        assert!(matches!(
            login(&auth, "admin_a", ADMIN_PASSWORD).await,
            Err(DomainError::RateLimited { .. })
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_hasher_answers_busy_at_once_and_books_no_failure() {
    each_db(|db| async move {
        supplier_a(&db).await;
        // One hashing slot, two places in the queue.
        let hasher = PasswordHasher::with_queue(1, 2);
        let auth = Auth::new(
            db.clone(),
            hasher.clone(),
            AuthConfig {
                max_failures_per_account: 1,
                max_failures_per_addr: 1_000,
                ..AuthConfig::default()
            },
        );
        let pause = hasher.pause().await.expect("pause");

        let mut attempts = JoinSet::new();
        for i in 0..10 {
            let auth = auth.clone();
            attempts.spawn(async move {
                let name = format!("nobody{i}");
                (
                    name.clone(),
                    auth.login(&name, "Wrong#2026pw", "10.8.0.1", "flood").await,
                )
            });
        }
        // With every slot held, 2 wait and the other 8 are answered at once.
        let mut busy = Vec::new();
        for _ in 0..8 {
            let (name, outcome) = attempts
                .join_next()
                .await
                .expect("an answer")
                .expect("join");
            let err = outcome.expect_err("busy");
            assert!(is_busy(&err), "{err:?}");
            assert_eq!(err.user_message(), BUSY_MESSAGE);
            busy.push(name);
        }
        assert_eq!(hasher.waiting(), 2);
        assert_eq!(hasher.verifications(), 0);

        drop(pause);
        let mut checked = Vec::new();
        while let Some(outcome) = attempts.join_next().await {
            let (name, outcome) = outcome.expect("join");
            assert!(
                matches!(outcome, Err(DomainError::BadCredentials)),
                "{outcome:?}"
            );
            checked.push(name);
        }
        assert_eq!(checked.len(), 2);
        assert_eq!(hasher.verifications(), 2);
        assert_eq!(hasher.waiting(), 0);

        // A busy answer books no failure (limit 1 per account): those names may try again;
        // the two that were checked are at their limit.
        let now = domain::db::now_ms();
        for name in &busy {
            auth.limiter
                .check(name, "10.8.0.2", now)
                .expect("busy booked nothing");
        }
        for name in &checked {
            assert!(auth.limiter.check(name, "10.8.0.2", now).is_err());
        }
        // And the next normal login goes through.
        auth.login("admin_a", ADMIN_PASSWORD, "10.8.0.1", "ok")
            .await
            .expect("login after the flood");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_address_over_its_limit_stops_guessing_but_lets_colleagues_in() {
    each_db(|db| async move {
        let s1 = supplier_a(&db).await;
        supplier(&db, "乙供应商", "admin_b").await;
        let (colleague, colleague_pw) = create_agent(&db, &common::hasher(), s1, "小王", None)
            .await
            .expect("agent");
        let (other, other_pw) = create_agent(&db, &common::hasher(), s1, "小李", None)
            .await
            .expect("agent");
        let auth = auth_limited(&db, 3, Some(3));
        let office = "203.0.113.7";
        // The colleague works from the office every day.
        let (token, _) = auth
            .login(&colleague.login, &colleague_pw, office, "office-pc")
            .await
            .expect("colleague");
        auth.logout(&token).await.expect("logout");

        // Someone in the office guesses across accounts until the address is over its limit.
        for name in ["guess1", "guess2", other.login.as_str()] {
            let err = auth
                .login(name, "Wrong#2026pw", office, "bot")
                .await
                .expect_err("wrong");
            assert!(matches!(err, DomainError::BadCredentials), "{err:?}");
        }
        let hashed = auth.hasher.verifications();

        // (a) No more guesses from there at accounts that do not log in there: refused before
        // hashing, even when the guess happens to be right.
        for (name, password) in [
            ("guess3", "Wrong#2026pw"),
            (other.login.as_str(), other_pw.as_str()),
            ("admin_b", ADMIN_PASSWORD),
        ] {
            let err = auth
                .login(name, password, office, "bot")
                .await
                .expect_err("address limited");
            assert!(
                matches!(err, DomainError::RateLimited { .. }),
                "{name}: {err:?}"
            );
        }
        assert_eq!(auth.hasher.verifications(), hashed);

        // (b) The colleague at the same address still logs in with the right password.
        let (token, session) = auth
            .login(&colleague.login, &colleague_pw, office, "office-pc")
            .await
            .expect("colleague at the limited address");
        assert_eq!(session.account_id, colleague.id);
        auth.logout(&token).await.expect("logout");
        // Guessing at the colleague's account is still bounded by its own limit.
        for _ in 0..3 {
            assert!(matches!(
                auth.login(&colleague.login, "Wrong#2026pw", office, "bot")
                    .await,
                Err(DomainError::BadCredentials)
            ));
        }
        assert!(matches!(
            auth.login(&colleague.login, &colleague_pw, office, "office-pc")
                .await,
            Err(DomainError::RateLimited { .. })
        ));

        // Elsewhere the other account is fine.
        auth.login(&other.login, &other_pw, "198.51.100.1", "home")
            .await
            .expect("other address");
    })
    .await;
}

/// Moves an account's live login's start `by` into the past.
async fn age_login_start(db: &DatabaseConnection, account_id: i64, by: Duration) {
    move_login_back(db, account_id, login_session::Column::CreatedAt, by).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_ends_after_its_lifetime_however_active() {
    each_db(|db| async move {
        supplier_a(&db).await;
        assert_eq!(
            AuthConfig::default().login_max_age,
            Duration::from_secs(12 * 60 * 60)
        );
        let auth = auth(&db);
        let lifetime = auth.config.login_max_age;
        let (token, session) = admin_a_login(&auth).await;

        // Active (seen just now) and a little younger than the lifetime: still live.
        age_login_start(&db, session.account_id, lifetime - Duration::from_secs(60)).await;
        assert!(auth.session(&token).await.expect("session").is_some());
        assert!(matches!(
            login(&auth, "admin_a", ADMIN_PASSWORD).await,
            Err(DomainError::AlreadyLoggedIn)
        ));
        assert!(
            auth.search_logins(session.supplier_id, "admin_a")
                .await
                .expect("search")[0]
                .login
                .is_some()
        );

        // Past the lifetime: refused although its heartbeat is fresh, and released.
        age_login_start(&db, session.account_id, lifetime + Duration::from_secs(1)).await;
        assert!(auth.session(&token).await.expect("session").is_none());
        assert_eq!(login_rows(&db, session.account_id).await, 0);

        // A new login is a new lifetime; an over-age login never blocks the next one.
        let (token2, _) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("login again");
        age_login_start(&db, session.account_id, lifetime + Duration::from_secs(1)).await;
        assert!(
            auth.search_logins(session.supplier_id, "admin_a")
                .await
                .expect("search")[0]
                .login
                .is_none()
        );
        let (token3, _) = login(&auth, "admin_a", ADMIN_PASSWORD)
            .await
            .expect("over-age login replaced");
        assert!(auth.session(&token2).await.expect("session").is_none());
        assert!(auth.session(&token3).await.expect("session").is_some());
        // The periodic sweep also ends over-age logins.
        age_login_start(&db, session.account_id, lifetime + Duration::from_secs(1)).await;
        assert_eq!(auth.release_idle_logins().await.expect("release"), 1);
        assert_eq!(login_rows(&db, session.account_id).await, 0);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_failed_logins_and_own_password_changes_are_audited() {
    each_db(|db| async move {
        let (s1, auth) = supplier_a_and_auth(&db).await;
        assert!(matches!(
            auth.login("admin_a", "Wrong#2026pw", "192.0.2.5", "b")
                .await,
            Err(DomainError::BadCredentials)
        ));
        // An unknown account belongs to no supplier: nothing to record, nothing recorded.
        assert!(matches!(
            login(&auth, "nobody_here", ADMIN_PASSWORD).await,
            Err(DomainError::BadCredentials)
        ));
        let (token, session) = auth
            .login("admin_a", ADMIN_PASSWORD, "192.0.2.5", "b")
            .await
            .expect("login");
        let new = "Fresh#2026pass";
        auth.change_password(&session, ADMIN_PASSWORD, new, new)
            .await
            .expect("change");

        let failed = audit_entries(&db, s1, audit_log::ACTION_LOGIN_FAILED).await;
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].actor_account_id, Some(session.account_id));
        assert!(failed[0].detail.contains("admin_a"), "{}", failed[0].detail);
        assert!(
            failed[0].detail.contains("192.0.2.5"),
            "{}",
            failed[0].detail
        );
        let logins = audit_entries(&db, s1, audit_log::ACTION_LOGIN).await;
        assert_eq!(logins.len(), 1);
        assert!(
            logins[0].detail.contains("192.0.2.5"),
            "{}",
            logins[0].detail
        );
        let changed = audit_entries(&db, s1, audit_log::ACTION_PASSWORD_CHANGED).await;
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].actor_account_id, Some(session.account_id));
        assert_eq!(domain::audit::action_label(&changed[0].action), "修改密码");
        assert_eq!(domain::audit::action_label(&logins[0].action), "登录");
        assert_eq!(domain::audit::action_label(&failed[0].action), "登录失败");
        assert!(
            !failed[0].detail.contains("Wrong") && !changed[0].detail.contains(new),
            "no password in the log"
        );
        assert_eq!(
            audit_log::Entity::find().count(&db).await.expect("count"),
            3,
            "nothing for the unknown account"
        );
        drop(token);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_disabled_account_is_told_only_once_its_password_is_right() {
    each_db(|db| async move {
        let s1 = supplier_a(&db).await;
        let (agent, pw) = create_agent(&db, &common::hasher(), s1, "小王", None)
            .await
            .expect("agent");
        domain::accounts::set_agent_disabled(&db, s1, agent.id, true, None)
            .await
            .expect("disable");
        let auth = auth(&db);
        // A wrong password gets the usual answer: the state is not told to guessers.
        assert!(matches!(
            login(&auth, &agent.login, "Wrong#2026pw").await,
            Err(DomainError::BadCredentials)
        ));
        let err = login(&auth, &agent.login, &pw).await.expect_err("disabled");
        assert_eq!(err.user_message(), ACCOUNT_DISABLED_MESSAGE);
        assert_eq!(err.user_message(), "账号已停用，请联系客服管理员");
        assert_eq!(login_rows(&db, agent.id).await, 0);
    })
    .await;
}
