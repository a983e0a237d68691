//! A database outage is the server's fault: every cookie route answers a logged 500
//! 服务器内部错误, never a 401 that would send a working user back to the login page. The real
//! chat and order routes on a real port, a real SQLite file whose pool is closed under them.

use std::sync::Arc;

use domain::logins::{Auth, AuthConfig};
use domain::password::PasswordHasher;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

async fn request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    cookie: &str,
) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: kefu_session={cookie}\r\nContent-Length: 1\r\n\r\nx"
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, text)
}

#[tokio::test]
async fn a_database_outage_is_a_500_never_a_silent_401() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kefu.db").display());
    let db = domain::db::connect(&url).await.expect("connect");
    domain::db::migrate(&db).await.expect("migrate");
    let hasher = PasswordHasher::new(2);
    domain::demo::seed(&db, &hasher).await.expect("seed");
    let auth = Auth::new(db.clone(), hasher, AuthConfig::default());
    let (admin, _) = auth
        .login(
            domain::demo::ADMIN_LOGIN,
            domain::demo::ADMIN_PASSWORD,
            "127.0.0.1",
            "test",
        )
        .await
        .expect("admin logs in");
    let (agent, _) = auth
        .login("kf101", domain::demo::AGENT_PASSWORD, "127.0.0.1", "test")
        .await
        .expect("agent logs in");
    let chat = server::chat::ChatState::new(
        auth.clone(),
        Arc::new(domain::bus::InProcessBus::default()),
        b"outage-test-secret".as_slice().into(),
    )
    .with_upload_dir(dir.path().join("uploads"));
    let router: axum::Router = server::chat::routes(chat).merge(server::orders_api::routes(
        server::orders_api::OrdersState::new(auth.clone()),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });

    // While the database is up, the admin's cookie opens the template.
    let (status, _) = request(addr, "GET", "/admin/orders/template.xlsx", &admin).await;
    assert_eq!(status, 200);

    db.close().await.expect("close the pool");

    for (method, path, cookie) in [
        ("GET", "/admin/orders/template.xlsx", &admin),
        ("POST", "/admin/orders/import", &admin),
        ("POST", "/api/chat/pictures?conversation_id=1", &agent),
    ] {
        let (status, text) = request(addr, method, path, cookie).await;
        assert_eq!(status, 500, "{method} {path}: {text}");
        assert!(text.contains("服务器内部错误"), "{method} {path}: {text}");
    }
    let mut req = format!("ws://{addr}/ws/agent")
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "cookie",
        format!("kefu_session={agent}").parse().expect("cookie"),
    );
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 500)
        }
        Ok(_) => panic!("the agent socket must not open without a session check"),
        Err(err) => panic!("unexpected handshake failure: {err}"),
    }
}
