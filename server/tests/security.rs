//! The production defaults and the browser-facing defences, against the real server binary on
//! a real port and a real SQLite file: a start without safe settings is refused naming the
//! setting; cross-site requests, foreign WebSocket origins and framing are refused; the demo
//! entry exists only with the demo data on; slow clients and floods are cut off.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const SECRET: &str = "security-test-secret-shared-with-the-mall-0123456789";
const PUBLIC: &str = "https://kefu.test";
const MALL: &str = "https://mall.test";
const EVIL: &str = "https://evil.test";

fn db_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("kefu.db").display())
}

fn free_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

/// `server <args>` with only the given environment (plus the database); its output.
fn run_cli(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url(dir))
        .env("LEPTOS_SITE_ADDR", free_port().to_string())
        .env("LEPTOS_SITE_ROOT", dir.join("site"))
        .env("RUST_LOG", "error")
        .current_dir(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("server runs")
}

struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
    admin_password: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A production-configured server (no development mode) with one supplier and its admin
/// `sec_admin`, plus the demo data loaded by the operator command (but not switched on).
async fn start(extra: &[(&str, &str)]) -> ServerProcess {
    let dir = tempfile::tempdir().expect("temp dir");
    let created = run_cli(
        dir.path(),
        &[
            "create-supplier",
            "--name",
            "安全测试供应商",
            "--admin-login",
            "sec_admin",
        ],
        &[],
    );
    assert!(
        created.status.success(),
        "create-supplier: {}",
        String::from_utf8_lossy(&created.stderr)
    );
    let out = String::from_utf8_lossy(&created.stdout).into_owned();
    let admin_password = out
        .lines()
        .find_map(|l| l.strip_prefix("初始密码："))
        .and_then(|l| l.split('（').next())
        .expect("password printed")
        .trim()
        .to_owned();
    // demo_admin exists from now on; /demo must still be shut without KEFU_DEMO_DATA.
    let seeded = run_cli(dir.path(), &["seed-demo"], &[]);
    assert!(
        seeded.status.success(),
        "seed-demo: {}",
        String::from_utf8_lossy(&seeded.stderr)
    );

    // A site root with one static file, next to the database file it must never serve.
    std::fs::create_dir_all(dir.path().join("site/pkg")).expect("site root");
    std::fs::write(dir.path().join("site/pkg/kefu.js"), "// the app's script")
        .expect("static file");
    let addr = free_port();
    let log = std::fs::File::create(dir.path().join("server.log")).expect("log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db_url(dir.path()))
        .env("KEFU_BUYER_TOKEN_SECRET", SECRET)
        .env("KEFU_PUBLIC_URL", PUBLIC)
        .env("KEFU_MALL_ORIGINS", MALL)
        .env("LEPTOS_SITE_ADDR", addr.to_string())
        .env("LEPTOS_SITE_ROOT", dir.path().join("site"))
        .env("LEPTOS_OUTPUT_NAME", "kefu")
        .env("RUST_LOG", "warn")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(log);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("server starts");
    for _ in 0..200 {
        if TcpStream::connect(addr).await.is_ok() {
            return ServerProcess {
                child,
                addr,
                _dir: dir,
                admin_password,
            };
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
            panic!("server exited early: {status}\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not listen on {addr} within 10 s");
}

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }
}

/// A form body's content type.
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

/// The session token in a `Set-Cookie`.
fn session_token(cookie: &str) -> String {
    cookie
        .split(';')
        .next()
        .and_then(|c| c.strip_prefix("kefu_session="))
        .expect("kefu_session")
        .to_owned()
}

impl ServerProcess {
    async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let raw = common::send(
            self.addr,
            "kefu.test",
            method,
            path,
            headers,
            body.as_bytes(),
        )
        .await;
        let body = String::from_utf8_lossy(&raw.body).into_owned();
        Reply {
            status: raw.status,
            head: raw.head,
            body,
        }
    }

    /// A plain GET.
    async fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], "").await
    }

    /// A plain GET that must be answered with `status`.
    async fn get_answered(&self, path: &str, status: u16) -> Reply {
        let reply = self.get(path).await;
        assert_eq!(reply.status, status, "GET {path}: {}", reply.body);
        reply
    }

    /// Logs `login` in through the login form from the app's own origin; the `Set-Cookie`.
    async fn form_login(&self, login: &str, password: &str) -> String {
        let body = format!("login={login}&password={}", urlencode(password));
        let reply = self
            .request("POST", "/api/login", &[("Origin", PUBLIC), FORM], &body)
            .await;
        assert_eq!(reply.status, 200, "login: {}", reply.body);
        reply.header("set-cookie").expect("session cookie")
    }

    /// Logs in as `sec_admin` from the app's own origin; the session token.
    async fn login(&self) -> String {
        let cookie = self.form_login("sec_admin", &self.admin_password).await;
        assert!(
            cookie.contains("Secure"),
            "https public URL → Secure cookie: {cookie}"
        );
        assert!(cookie.contains("HttpOnly"), "{cookie}");
        session_token(&cookie)
    }

    /// Whether the session is alive: `/admin` renders instead of redirecting to the login page.
    async fn session_alive(&self, token: &str) -> bool {
        let cookie = format!("kefu_session={token}");
        let reply = self
            .request("GET", "/admin", &[("Cookie", &cookie)], "")
            .await;
        reply.status == 200
    }

    async fn ws_status(&self, path: &str, origin: Option<&str>, cookie: Option<&str>) -> u16 {
        let mut req = format!("ws://{}{path}", self.addr)
            .into_client_request()
            .expect("request");
        if let Some(origin) = origin {
            req.headers_mut()
                .insert("origin", origin.parse().expect("origin"));
        }
        if let Some(token) = cookie {
            req.headers_mut().insert(
                "cookie",
                format!("kefu_session={token}").parse().expect("cookie"),
            );
        }
        match tokio_tungstenite::connect_async(req).await {
            Ok((_, response)) => response.status().as_u16(),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                response.status().as_u16()
            }
            Err(err) => panic!("handshake failed oddly: {err}"),
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn a_production_start_without_safe_settings_is_refused_naming_the_setting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let refused = |env: &[(&str, &str)], expect: &str| {
        let out = run_cli(dir.path(), &["serve"], env);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "must not start with {env:?}");
        assert!(
            stderr.contains(expect),
            "with {env:?} the error names {expect}: {stderr}"
        );
    };
    let public = ("KEFU_PUBLIC_URL", PUBLIC);
    refused(&[public], "缺少 KEFU_BUYER_TOKEN_SECRET");
    refused(
        &[public, ("KEFU_BUYER_TOKEN_SECRET", "")],
        "缺少 KEFU_BUYER_TOKEN_SECRET",
    );
    refused(
        &[public, ("KEFU_BUYER_TOKEN_SECRET", "dev-only-change-me")],
        "开发用的默认值",
    );
    refused(
        &[public, ("KEFU_BUYER_TOKEN_SECRET", "short-secret")],
        "太短",
    );
    refused(
        &[("KEFU_BUYER_TOKEN_SECRET", SECRET)],
        "缺少 KEFU_PUBLIC_URL",
    );
    refused(
        &[
            ("KEFU_BUYER_TOKEN_SECRET", SECRET),
            ("KEFU_PUBLIC_URL", "javascript:alert(1)"),
        ],
        "KEFU_PUBLIC_URL",
    );
    refused(
        &[
            ("KEFU_BUYER_TOKEN_SECRET", SECRET),
            public,
            ("KEFU_MALL_ORIGINS", "mall.test"),
        ],
        "KEFU_MALL_ORIGINS",
    );
}

#[tokio::test]
async fn pages_carry_csp_and_framing_rules() {
    let server = start(&[]).await;
    let login = server.get_answered("/login", 200).await;
    let csp = login
        .header("content-security-policy")
        .expect("CSP on pages");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("object-src 'none'") && csp.contains("base-uri 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("'unsafe-eval'"), "{csp}");
    assert!(
        !csp.split(';')
            .any(|d| d.trim().starts_with("script-src") && d.contains("'unsafe-inline'")),
        "{csp}"
    );
    assert_eq!(login.header("x-frame-options").as_deref(), Some("DENY"));
    assert!(
        login.header("strict-transport-security").is_some(),
        "https public URL → HSTS"
    );
    assert!(
        login.header("x-kefu-csp-nonce").is_none(),
        "the hand-off header never leaves"
    );
    // The inline hydration script carries exactly the nonce the policy allows.
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|r| r.split('\'').next())
        .expect("a script nonce in the CSP");
    assert!(
        login.body.contains(&format!("nonce=\"{nonce}\"")),
        "the inline script has the CSP's nonce"
    );

    let chat = server.get("/chat?token=x").await;
    let csp = chat
        .header("content-security-policy")
        .expect("CSP on /chat");
    assert!(
        csp.contains(&format!("frame-ancestors 'self' {MALL}")),
        "{csp}"
    );
    assert!(
        chat.header("x-frame-options").is_none(),
        "the mall may frame /chat"
    );

    // Each page gets its own nonce.
    let again = server.get("/login").await;
    assert_ne!(
        again.header("content-security-policy"),
        login.header("content-security-policy")
    );
}

#[tokio::test]
async fn the_demo_entry_exists_only_with_demo_data_on() {
    let server = start(&[]).await;
    // demo_admin and the demo buyers exist (seed-demo ran), but KEFU_DEMO_DATA is off.
    server.get_answered("/demo", 404).await;
    let sign = server
        .request("POST", "/api/demo_buyers", &[("Origin", PUBLIC)], "")
        .await;
    assert!(
        sign.status >= 400,
        "demo tokens refused: {} {}",
        sign.status,
        sign.body
    );
    assert!(sign.body.contains("演示数据未启用"), "{}", sign.body);
    assert!(
        !sign.body.contains("token"),
        "no token signed: {}",
        sign.body
    );
}

#[tokio::test]
async fn cross_site_requests_are_refused_and_change_nothing() {
    let server = start(&[]).await;
    let token = server.login().await;
    let cookie = format!("kefu_session={token}");
    let form = FORM;

    // A page of another site posting with the admin's cookie: logout, password change.
    for (origin_header, value) in [
        ("Origin", EVIL),
        ("Origin", "null"),
        ("Referer", "https://evil.test/kefu.test/x"),
    ] {
        let reply = server
            .request(
                "POST",
                "/api/logout",
                &[(origin_header, value), ("Cookie", &cookie), form],
                "",
            )
            .await;
        assert_eq!(reply.status, 403, "{origin_header}: {value}");
        assert!(
            reply.body.contains("已拒绝来自其他网站的请求"),
            "{}",
            reply.body
        );
    }
    let body = format!(
        "old_password={}&new_password=Hacked%40832pass",
        urlencode(&server.admin_password)
    );
    let reply = server
        .request(
            "POST",
            "/api/change_password",
            &[("Origin", MALL), ("Cookie", &cookie), form],
            &body,
        )
        .await;
    assert_eq!(reply.status, 403, "the mall is not the app");
    // The cookie without any Origin or Referer (not a browser form) is refused too.
    let reply = server
        .request("POST", "/api/logout", &[("Cookie", &cookie), form], "")
        .await;
    assert_eq!(reply.status, 403);
    // The upload and the import refuse a foreign origin before reading anything.
    for path in [
        "/api/chat/pictures?conversation_id=1",
        "/admin/orders/import",
    ] {
        let reply = server
            .request("POST", path, &[("Origin", EVIL), ("Cookie", &cookie)], "x")
            .await;
        assert_eq!(reply.status, 403);
    }
    // A cross-site navigation to the export is refused.
    let reply = server
        .request(
            "GET",
            "/admin/sessions/export",
            &[("Sec-Fetch-Site", "cross-site"), ("Cookie", &cookie)],
            "",
        )
        .await;
    assert_eq!(reply.status, 403);

    // Nothing changed: the login lives, and the old password still works.
    assert!(
        server.session_alive(&token).await,
        "the login survived every forged request"
    );
    // The app's own page can log out.
    let reply = server
        .request(
            "POST",
            "/api/logout",
            &[("Origin", PUBLIC), ("Cookie", &cookie), form],
            "",
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(!server.session_alive(&token).await);
    server.login().await; // the password was never changed
}

#[tokio::test]
async fn websockets_refuse_foreign_origins() {
    let server = start(&[]).await;
    let token = server.login().await;
    let cookie = Some(token.as_str());
    // (path, origin, cookie, the status that must come, or the one that must not)
    for (path, origin, cookie, status, must) in [
        ("/ws/account", EVIL, cookie, 403, true),
        ("/ws/account", MALL, cookie, 403, true),
        ("/ws/account", PUBLIC, cookie, 101, true),
        ("/ws/agent", EVIL, cookie, 403, true),
        // The buyer's socket: the mall and the app itself, nobody else.
        ("/ws/buyer?token=x", EVIL, None, 403, true),
        ("/ws/buyer?token=x", MALL, None, 403, false),
        ("/ws/buyer?token=x", PUBLIC, None, 403, false),
    ] {
        let got = server.ws_status(path, Some(origin), cookie).await;
        if must {
            assert_eq!(got, status, "{path} from {origin}");
        } else {
            assert_ne!(got, status, "{path} from {origin}");
        }
    }

    // Behind a proxy the Host the server sees (127.0.0.1:port here) is not the public one: an
    // agent's workbench from the public origin still opens, and gets its Hello.
    let cookie = server
        .form_login("kf201", domain::demo::AGENT_PASSWORD)
        .await;
    let agent_token = session_token(&cookie);
    let mut req = format!("ws://{}/ws/agent", server.addr)
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("origin", PUBLIC.parse().expect("origin"));
    req.headers_mut().insert(
        "cookie",
        format!("kefu_session={agent_token}")
            .parse()
            .expect("cookie"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("the workbench socket opens");
    let first: app::chat::protocol::AgentServerFrame = common::chat::recv(&mut ws).await;
    assert!(
        matches!(first, app::chat::protocol::AgentServerFrame::Hello { .. }),
        "{first:?}"
    );
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_a_flood_gets_busy_at_once() {
    let server = start(&[
        // Long enough that a loaded 2-core machine still gets a request in while the
        // trickling body holds the slot (with 1 s it failed in CI); short enough to wait out.
        ("KEFU_REQUEST_READ_TIMEOUT_SECS", "3"),
        ("KEFU_MAX_CONCURRENT_REQUESTS", "1"),
    ])
    .await;

    // Headers a byte at a time, never finished: the server closes the connection.
    let mut slow = TcpStream::connect(server.addr).await.expect("connect");
    slow.write_all(b"GET /login HTTP/1.1\r\nHost: kefu.test\r\nX-Slow: ")
        .await
        .expect("write");
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut buf)).await;
    assert!(
        closed.is_ok(),
        "a client that never finishes its headers is disconnected"
    );

    // A body that never arrives holds the only request slot; the next request is told "busy"
    // at once, and once the body timeout fires the slot is free again. One of our own probes
    // may take the slot first (then the trickling request is the one refused): try again with
    // a new trickling request.
    let mut held = None;
    for _ in 0..5 {
        let mut trickle = TcpStream::connect(server.addr).await.expect("connect");
        trickle
            .write_all(
                format!(
                    "POST /api/login HTTP/1.1\r\nHost: kefu.test\r\nOrigin: {PUBLIC}\r\n\
                     Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nlogin=sec"
                )
                .as_bytes(),
            )
            .await
            .expect("write");
        for _ in 0..50 {
            let reply = server.get("/login").await;
            if reply.status == 503 {
                held = Some((trickle, reply));
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if held.is_some() {
            break;
        }
    }
    let (mut trickle, busy) = held.expect("a request while the slot is held gets 503");
    assert!(busy.body.contains("服务器繁忙"), "{}", busy.body);
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(Duration::from_secs(10), trickle.read_to_end(&mut rest)).await;
    assert!(ended.is_ok(), "a body that never arrives is cut off");
    let answer = String::from_utf8_lossy(&rest);
    assert!(
        !answer.starts_with("HTTP/1.1 200"),
        "the trickling login did not succeed: {answer}"
    );
    let mut ok = false;
    for _ in 0..100 {
        if server.get("/login").await.status == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "the server serves again once the slow client is gone");
}

#[tokio::test]
async fn sql_metacharacters_and_extra_fields_change_nothing() {
    let server = start(&[]).await;
    let form = FORM;

    // Classic injections as the login and the password: the ordinary refusal, no session.
    for (login, password) in [
        ("' OR '1'='1", "' OR '1'='1"),
        ("sec_admin'--", "x"),
        ("sec_admin", "' OR 1=1 --"),
    ] {
        let body = format!(
            "login={}&password={}",
            urlencode(login),
            urlencode(password)
        );
        let reply = server
            .request("POST", "/api/login", &[("Origin", PUBLIC), form], &body)
            .await;
        assert!(
            reply.header("set-cookie").is_none(),
            "{login} / {password} logged in"
        );
        assert!(
            reply.body.contains("账号或密码错误"),
            "{login}: {}",
            reply.body
        );
    }

    let token = server.login().await;
    let cookie = format!("kefu_session={token}");
    let headers = [("Origin", PUBLIC), ("Cookie", cookie.as_str()), form];

    // Mass assignment: a supplier id, role and account id slipped into 新增 are ignored. The
    // demo supplier (id 2) is already at its two agents, so honouring supplier_id would fail;
    // the agent is this supplier's (supplier 1 → 工号 kf101).
    let reply = server
        .request(
            "POST",
            "/api/admin/add_agent",
            &headers,
            "display_name=%E5%AE%A2%E6%9C%8D%E7%94%B2&supplier_id=2&role=admin&account_id=1",
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        reply.body.contains("\"kf101\""),
        "created for the caller's supplier: {}",
        reply.body
    );

    // Search terms are data, never SQL, and never reach another supplier's accounts.
    for (query, want) in [
        ("%' OR '1'='1", "[]"),
        ("' OR 1=1 --", "[]"),
        ("kf2", "[]"),
        ("demo_admin", "[]"),
    ] {
        let body = format!("query={}", urlencode(query));
        let reply = server
            .request("POST", "/api/admin/search_logins", &headers, &body)
            .await;
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        assert_eq!(reply.body.trim(), want, "{query}");
    }
    let reply = server
        .request("POST", "/api/admin/search_logins", &headers, "query=kf")
        .await;
    assert!(
        reply.body.contains("kf101") && !reply.body.contains("kf201"),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn someone_elses_conversation_and_a_missing_one_look_the_same_to_the_orders_panel() {
    let server = start(&[]).await;
    // A demo buyer of supplier 2 (the demo supplier here) opens a conversation: it waits in the
    // queue, held by no agent.
    let claims = domain::chat::BuyerClaims {
        v: 1,
        supplier_id: 2,
        buyer_id: "CG1001".into(),
        name: "王采购".into(),
        unit: "某县第一中学".into(),
        exp: domain::db::now_ms() / 1000 + 3600,
    };
    let token = domain::chat::sign(SECRET.as_bytes(), &claims);
    let mut buyer = common::chat::buyer_socket(server.addr, &token).await;
    let hello = common::chat::buyer_recv(&mut buyer).await;
    let app::chat::protocol::BuyerServerFrame::Hello {
        conversation_id, ..
    } = hello
    else {
        panic!("Hello first, got {hello:?}");
    };

    // Agent kf201 of that supplier does not hold it.
    let cookie = server
        .form_login("kf201", domain::demo::AGENT_PASSWORD)
        .await;
    let cookie = cookie.split(';').next().expect("pair").to_owned();
    let form = FORM;
    let ask = |id: i64| {
        let cookie = cookie.clone();
        let server = &server;
        async move {
            server
                .request(
                    "POST",
                    "/api/orders/agent_buyer_orders",
                    &[("Origin", PUBLIC), ("Cookie", &cookie), form],
                    &format!("conversation_id={id}&page=0"),
                )
                .await
        }
    };
    let theirs = ask(conversation_id).await;
    let missing = ask(999_999).await;
    assert_ne!(theirs.status, 200, "{}", theirs.body);
    assert_eq!(
        (theirs.status, theirs.body.clone()),
        (missing.status, missing.body.clone())
    );
}

#[tokio::test]
async fn static_files_never_leave_the_site_root() {
    let server = start(&[]).await;
    let ok = server.get("/pkg/kefu.js").await;
    assert_eq!(ok.status, 200, "the static file itself is served");
    assert!(ok.body.contains("the app's script"));
    // The database sits one level above the site root.
    for path in [
        "/../kefu.db",
        "/pkg/../../kefu.db",
        "/%2e%2e/kefu.db",
        "/pkg/..%2f..%2fkefu.db",
        "/pkg/%2e%2e/%2e%2e/kefu.db",
        "/..%5ckefu.db",
        "/pkg/..%5c..%5ckefu.db",
        "//etc/passwd",
        "/pkg/%00kefu.js",
    ] {
        let reply = server.get(path).await;
        assert!(
            !reply.body.contains("SQLite format 3"),
            "{path} served the database"
        );
        assert!(!reply.body.contains("root:"), "{path} served /etc/passwd");
        assert_ne!(reply.status, 500, "{path}: {}", reply.body);
    }
}
