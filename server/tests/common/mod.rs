//! Setup shared by the server's integration tests: a demo database in a temporary folder, a
//! router served on a real port, logins, and one raw HTTP/1.1 exchange.

// Each test file is its own crate and uses only part of this.
#![allow(dead_code)]

pub mod chat;

use std::net::SocketAddr;

use domain::logins::{Auth, AuthConfig};
use domain::password::PasswordHasher;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A migrated SQLite file with the demo data, in a temporary folder that lives as long as this.
pub struct DemoDb {
    pub auth: Auth,
    pub dir: tempfile::TempDir,
}

/// A fresh demo database and an [`Auth`] over it with the default settings.
pub async fn demo_db() -> DemoDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kefu.db").display());
    let db = domain::db::connect(&url).await.expect("connect");
    let auth = demo_on(db).await;
    DemoDb { auth, dir }
}

/// Migrates `db`, seeds the demo data, and gives an [`Auth`] over it with the default settings.
pub async fn demo_on(db: sea_orm::DatabaseConnection) -> Auth {
    domain::db::migrate(&db).await.expect("migrate");
    let hasher = PasswordHasher::new(2);
    domain::demo::seed(&db, &hasher).await.expect("seed");
    Auth::new(db, hasher, AuthConfig::default())
}

/// Serves `router` on a free port of 127.0.0.1 in the background; its address.
pub async fn serve(router: axum::Router) -> SocketAddr {
    let (listener, addr) = listen().await;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// [`serve`] with the peer's address for the routes, as `server serve` does.
pub async fn serve_with_peer(router: axum::Router) -> SocketAddr {
    let (listener, addr) = listen().await;
    tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let _ = axum::serve(listener, service).await;
    });
    addr
}

async fn listen() -> (tokio::net::TcpListener, SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    (listener, addr)
}

/// Logs `login` in from 127.0.0.1; the session token (the cookie's value).
pub async fn log_in(auth: &Auth, login: &str, password: &str) -> String {
    let (token, _) = auth
        .login(login, password, "127.0.0.1", "test")
        .await
        .unwrap_or_else(|err| panic!("{login} logs in: {err:?}"));
    token
}

/// An answer as it came over the wire: the status, the head as sent, the raw body.
pub struct RawReply {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

/// One request on a fresh connection (`Connection: close`), with `Host` and `Content-Length`
/// set and `headers` after them. The body may be cut short: a server can answer (413, 401)
/// before reading a large body and close.
pub async fn send(
    addr: SocketAddr,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawReply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head[9..12].parse().expect("status");
    RawReply {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}
