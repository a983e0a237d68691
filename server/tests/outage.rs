//! A database outage is the server's fault: every cookie route answers a logged 500
//! 服务器内部错误, never a 401 that would send a working user back to the login page. The real
//! chat and order routes on a real port, a real SQLite file whose pool is closed under them.

mod common;

use std::sync::Arc;

async fn request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    cookie: &str,
) -> (u16, String) {
    let cookie = format!("kefu_session={cookie}");
    let host = addr.to_string();
    let raw = common::send(addr, &host, method, path, &[("Cookie", &cookie)], b"x").await;
    let text = format!("{}\r\n\r\n{}", raw.head, String::from_utf8_lossy(&raw.body));
    (raw.status, text)
}

#[tokio::test]
async fn a_database_outage_is_a_500_never_a_silent_401() {
    let common::DemoDb { auth, dir } = common::demo_db().await;
    let db = auth.db.clone();
    let admin = common::log_in(
        &auth,
        domain::demo::ADMIN_LOGIN,
        domain::demo::ADMIN_PASSWORD,
    )
    .await;
    let agent = common::log_in(&auth, "kf101", domain::demo::AGENT_PASSWORD).await;
    let chat = server::chat::ChatState::new(
        auth.clone(),
        Arc::new(domain::bus::InProcessBus::default()),
        b"outage-test-secret".as_slice().into(),
    )
    .with_upload_dir(dir.path().join("uploads"));
    let router: axum::Router = server::chat::routes(chat).merge(server::orders_api::routes(
        server::orders_api::OrdersState::new(auth.clone()),
    ));
    let addr = common::serve(router).await;

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
    let req = common::chat::agent_request(addr, &agent);
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 500)
        }
        Ok(_) => panic!("the agent socket must not open without a session check"),
        Err(err) => panic!("unexpected handshake failure: {err}"),
    }
}
