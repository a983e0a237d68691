//! What one buyer, agent or address can cost the chat, against the real routes on a real port,
//! real sockets and a real SQLite file with the demo data: sockets per buyer and per address,
//! new conversations per minute, silent (half-open) sockets, picture uploads (rate, decode
//! slots, re-encoded size, unsent ones swept), and one answer for "not yours" and "not there".

mod common;

use std::io::Cursor;
use std::net::SocketAddr;
use std::time::Duration;

use app::chat::protocol::{
    AgentFrame, AgentServerFrame, BuyerFrame, BuyerServerFrame, UploadedPicture,
};
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use common::chat::{
    ChatServer, FRAME_WAIT, Next, Reply, Who, Ws, buyer_said, buyer_token as token, chat_state,
    next_within, older, open, png, recv, send_json, send_picture,
};
use domain::entity::{buyer, conversation, upload};
use futures::StreamExt;
use image::{ImageFormat, RgbImage};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use server::chat::ChatState;
use server::chat::limits::{
    ChatLimits, PICTURE_UPLOAD_TIMEOUT, PICTURES_BUSY, PICTURES_TOO_FAST, TOO_MANY_ADDR_SOCKETS,
    TOO_MANY_AGENT_SOCKETS, TOO_MANY_BUYER_SOCKETS,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tower::ServiceExt;

/// The chat server, and the admin connection and schema of a PostgreSQL run (dropped by
/// [`Server::finish`]).
struct Server {
    chat_server: ChatServer,
    pg: Option<(sea_orm::DatabaseConnection, String)>,
}

impl std::ops::Deref for Server {
    type Target = ChatServer;
    fn deref(&self) -> &ChatServer {
        &self.chat_server
    }
}

/// The chat routes with these limits, served with the peer address (as `server serve` does),
/// on a fresh SQLite file.
async fn start(limits: ChatLimits) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kefu.db").display());
    let db = domain::db::connect(&url).await.expect("connect");
    serve(db, dir, limits, None).await
}

/// The same on PostgreSQL, in a fresh schema, when `TEST_DATABASE_URL` is set.
async fn start_postgres(limits: ChatLimits) -> Option<Server> {
    use sea_orm::{ConnectOptions, ConnectionTrait, Database};
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    let url = url.trim().to_owned();
    let admin = Database::connect(&url)
        .await
        .expect("connect TEST_DATABASE_URL");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let secs = nanos / 1_000_000_000;
    let schema = format!("t_{secs}_{:08x}", (nanos as u32) ^ std::process::id());
    admin
        .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .expect("create schema");
    let mut options = ConnectOptions::new(url);
    domain::db::configure(&mut options).expect("configure");
    options
        .set_schema_search_path(schema.clone())
        .max_connections(12);
    let db = Database::connect(options)
        .await
        .expect("connect test schema");
    Some(
        serve(
            db,
            tempfile::tempdir().expect("temp dir"),
            limits,
            Some((admin, schema)),
        )
        .await,
    )
}

/// Runs `check` against a server on SQLite, then on PostgreSQL when `TEST_DATABASE_URL` is set.
async fn on_sqlite_and_postgres(check: impl AsyncFn(&Server)) {
    check(&start(ChatLimits::default()).await).await;
    match start_postgres(ChatLimits::default()).await {
        Some(pg) => {
            check(&pg).await;
            pg.finish().await;
        }
        None => eprintln!("TEST_DATABASE_URL not set: SQLite only"),
    }
}

async fn serve(
    db: sea_orm::DatabaseConnection,
    dir: tempfile::TempDir,
    limits: ChatLimits,
    pg: Option<(sea_orm::DatabaseConnection, String)>,
) -> Server {
    let auth = common::demo_on(db).await;
    let chat = chat_state(&auth)
        .with_upload_dir(common::chat::upload_dir(&dir))
        .with_limits(limits);
    let chat_server = ChatServer::start(auth, dir, chat, true).await;
    Server { chat_server, pg }
}

impl Server {
    /// Drops the PostgreSQL test schema, if any.
    async fn finish(self) {
        use sea_orm::ConnectionTrait;
        if let Some((admin, schema)) = &self.pg {
            admin
                .execute_unprepared(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
                .await
                .expect("drop test schema");
        }
    }

    fn upload_request(&self, conversation_id: i64, who: &Who, body: Body) -> Request<Body> {
        common::chat::picture_request(conversation_id, who, "application/octet-stream", body)
    }

    async fn upload(&self, conversation_id: i64, who: &Who, bytes: Vec<u8>) -> Reply {
        self.call(self.upload_request(conversation_id, who, Body::from(bytes)))
            .await
    }

    async fn conversations_of(&self, supplier_id: i64, external_id: &str) -> u64 {
        let db = &self.auth.db;
        let Some(b) = buyer::Entity::find()
            .filter(buyer::Column::SupplierId.eq(supplier_id))
            .filter(buyer::Column::ExternalId.eq(external_id))
            .one(db)
            .await
            .expect("buyer")
        else {
            return 0;
        };
        conversation::Entity::find()
            .filter(conversation::Column::BuyerId.eq(b.id))
            .count(db)
            .await
            .expect("count")
    }

    async fn uploads(&self) -> u64 {
        upload::Entity::find()
            .count(&self.auth.db)
            .await
            .expect("count")
    }

    /// Waits until `ready` holds for the socket counts (re-checked whenever a slot is taken or
    /// freed).
    async fn until_sockets(&self, ready: impl Fn(&ChatState) -> bool) {
        let mut changed = self.chat.sockets_changed();
        let chat = self.chat.clone();
        tokio::time::timeout(Duration::from_secs(10), changed.wait_for(|_| ready(&chat)))
            .await
            .expect("the socket count is reached within 10 s")
            .expect("watch open");
    }

    async fn upload_exists(&self, id: i64) -> bool {
        upload::Entity::find_by_id(id)
            .one(&self.auth.db)
            .await
            .expect("row")
            .is_some()
    }
}

/// The socket closes with a policy close frame giving `reason`.
async fn assert_closed_for(ws: &mut Ws, reason: &str) {
    assert_eq!(
        next_within(ws, FRAME_WAIT).await,
        Next::Closed(Some((CloseCode::Policy, reason.to_owned())))
    );
}

/// A buyer socket that must be refused with `reason`: an Error frame, then a Close (policy)
/// with the same reason.
async fn assert_refused(ws: &mut Ws, reason: &str) {
    let frame: BuyerServerFrame = recv(ws).await;
    assert_eq!(
        frame,
        BuyerServerFrame::Error {
            message: reason.into(),
            client_msg_id: None
        }
    );
    assert_closed_for(ws, reason).await;
}

/// The next buyer frame that is not a queue position (those may come at any moment while
/// the buyer waits in the queue).
async fn recv_unqueued(ws: &mut Ws) -> BuyerServerFrame {
    loop {
        match recv(ws).await {
            BuyerServerFrame::Queued { .. } => continue,
            frame => return frame,
        }
    }
}

async fn entered(ws: &mut Ws) -> i64 {
    let BuyerServerFrame::Hello {
        conversation_id, ..
    } = recv(ws).await
    else {
        panic!("Hello first")
    };
    conversation_id
}

/// A photo-like JPEG (re-encodes to a few tens of KiB).
fn photo(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 13 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg).expect("encode");
    out.into_inner()
}

#[tokio::test]
async fn a_fourth_window_of_one_buyer_is_refused_and_closing_one_frees_its_slot() {
    let server = start(ChatLimits::default()).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut ws = server.buyer(1, "W-1").await;
        entered(&mut ws).await;
        open.push(ws);
    }
    assert_eq!(server.chat.buyer_sockets(1, "W-1"), 3);
    let mut fourth = server.buyer(1, "W-1").await;
    assert_refused(&mut fourth, TOO_MANY_BUYER_SOCKETS).await;
    assert_eq!(
        server.chat.buyer_sockets(1, "W-1"),
        3,
        "the refused socket took no slot"
    );
    // Another buyer, and the same 客户编号 at another supplier, are not affected.
    entered(&mut server.buyer(1, "W-2").await).await;
    entered(&mut server.buyer(2, "W-1").await).await;

    // An abrupt disconnect (no close handshake) frees its slot.
    drop(open.pop());
    server
        .until_sockets(|chat| chat.buyer_sockets(1, "W-1") == 2)
        .await;
    let mut again = server.buyer(1, "W-1").await;
    entered(&mut again).await;
    // A clean close frees it too.
    open[0].close(None).await.expect("close");
    server
        .until_sockets(|chat| chat.buyer_sockets(1, "W-1") == 2)
        .await;
    entered(&mut server.buyer(1, "W-1").await).await;
}

#[tokio::test]
async fn one_address_has_a_generous_cap_and_an_agent_a_few_workbenches() {
    let limits = ChatLimits {
        sockets_per_addr: 4,
        sockets_per_agent: 1,
        ..ChatLimits::default()
    };
    let server = start(limits).await;
    let mut open = Vec::new();
    for buyer in ["A-1", "A-2", "A-3", "A-4"] {
        let mut ws = server.buyer(1, buyer).await;
        entered(&mut ws).await;
        open.push(ws);
    }
    assert_eq!(server.chat.address_sockets("127.0.0.1"), 4);
    let mut fifth = server.buyer(1, "A-5").await;
    assert_refused(&mut fifth, TOO_MANY_ADDR_SOCKETS).await;
    drop(open.pop());
    server
        .until_sockets(|chat| chat.address_sockets("127.0.0.1") == 3)
        .await;
    let mut fifth = server.buyer(1, "A-5").await;
    entered(&mut fifth).await;

    // One workbench per agent here: the second is refused, in Chinese.
    drop(open.pop());
    server
        .until_sockets(|chat| chat.address_sockets("127.0.0.1") == 3)
        .await;
    let cookie = server.log_in("kf101").await;
    let mut first = server.agent_socket(&cookie).await;
    assert!(matches!(
        recv(&mut first).await,
        AgentServerFrame::Hello { .. }
    ));
    drop(open.pop());
    server
        .until_sockets(|chat| chat.address_sockets("127.0.0.1") == 3)
        .await;
    let mut second = server.agent_socket(&cookie).await;
    assert_eq!(
        recv::<AgentServerFrame>(&mut second).await,
        AgentServerFrame::Error {
            message: TOO_MANY_AGENT_SOCKETS.into(),
            client_msg_id: None
        }
    );
    assert_closed_for(&mut second, TOO_MANY_AGENT_SOCKETS).await;
    send_json(&mut first, &AgentFrame::SetServing { serving: true }).await;
    assert_eq!(
        recv::<AgentServerFrame>(&mut first).await,
        AgentServerFrame::Status { serving: true }
    );
}

#[tokio::test]
async fn a_buyer_cannot_start_more_than_five_conversations_a_minute() {
    on_sqlite_and_postgres(churn_is_refused).await;
}

async fn churn_is_refused(server: &Server) {
    let mut ws = server.buyer(1, "C-1").await;
    let mut cid = entered(&mut ws).await;
    for _ in 0..4 {
        send_json(&mut ws, &BuyerFrame::End).await;
        assert!(matches!(
            recv_unqueued(&mut ws).await,
            BuyerServerFrame::Ended { .. }
        ));
        send_json(&mut ws, &BuyerFrame::Restart).await;
        let BuyerServerFrame::Hello {
            conversation_id: next,
            ..
        } = recv_unqueued(&mut ws).await
        else {
            panic!("a new conversation")
        };
        assert_ne!(next, cid);
        cid = next;
    }
    assert_eq!(server.conversations_of(1, "C-1").await, 5);

    send_json(&mut ws, &BuyerFrame::End).await;
    assert!(matches!(
        recv_unqueued(&mut ws).await,
        BuyerServerFrame::Ended { .. }
    ));
    send_json(&mut ws, &BuyerFrame::Restart).await;
    assert_eq!(
        recv_unqueued(&mut ws).await,
        BuyerServerFrame::Error {
            message: domain::chat::routing::TOO_MANY_NEW_CONVERSATIONS.into(),
            client_msg_id: None
        }
    );
    // A new socket cannot start one either.
    let mut other = server.buyer(1, "C-1").await;
    assert_eq!(
        recv::<BuyerServerFrame>(&mut other).await,
        BuyerServerFrame::Error {
            message: domain::chat::routing::TOO_MANY_NEW_CONVERSATIONS.into(),
            client_msg_id: None
        }
    );
    assert_eq!(
        server.conversations_of(1, "C-1").await,
        5,
        "nothing created"
    );

    // (This socket has used its 10 frames of this second.) Other buyers still enter.
    let mut fresh = server.buyer(1, "C-2").await;
    entered(&mut fresh).await;
}

/// Opens a WebSocket by hand and then never reads, writes or answers a Ping: a half-open
/// connection as the server sees it.
async fn silent_socket(addr: SocketAddr, path_and_query: &str, cookie: Option<&str>) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).await.expect("tcp");
    let cookie = cookie
        .map(|c| format!("Cookie: kefu_session={c}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{cookie}\r\n"
    );
    tcp.write_all(request.as_bytes()).await.expect("handshake");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            tcp.read(&mut byte).await.expect("read"),
            1,
            "handshake answered"
        );
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

/// Reads (without ever answering) until the server closes the connection.
async fn closed_by_server(tcp: &mut TcpStream) {
    let mut sink = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut sink)).await;
    assert!(read.is_ok(), "the server closes a silent connection");
}

#[tokio::test]
async fn a_silent_connection_is_closed_and_frees_its_slot_while_an_answering_one_stays() {
    let limits = ChatLimits {
        ping_every: Duration::from_millis(250),
        silent_after: Duration::from_millis(1500),
        sockets_per_buyer: 1,
        sockets_per_agent: 1,
        ..ChatLimits::default()
    };
    let server = start(limits).await;
    let mut silent = silent_socket(
        server.addr,
        &format!("/ws/buyer?token={}", token(1, "S-1")),
        None,
    )
    .await;
    server
        .until_sockets(|chat| chat.buyer_sockets(1, "S-1") == 1)
        .await;
    closed_by_server(&mut silent).await;
    server
        .until_sockets(|chat| chat.buyer_sockets(1, "S-1") == 0)
        .await;

    // A client that answers the Pings (tungstenite does, while it reads) stays open well past
    // the silent limit, and its one slot is taken.
    let mut alive = server.buyer(1, "S-1").await;
    entered(&mut alive).await;
    let mut pings = 0;
    while pings < 10 {
        match tokio::time::timeout(Duration::from_secs(5), alive.next())
            .await
            .expect("a ping within 5 s")
        {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                panic!("an answering client was closed")
            }
            Some(Ok(_)) => {}
        }
    }
    assert_refused(&mut server.buyer(1, "S-1").await, TOO_MANY_BUYER_SOCKETS).await;
    buyer_said(&mut alive, "s-1", "在", 1).await;

    // The agent workbench too.
    let cookie = server.log_in("kf101").await;
    let mut silent = silent_socket(server.addr, "/ws/agent", Some(&cookie)).await;
    closed_by_server(&mut silent).await;
    let mut workbench = server.agent_socket(&cookie).await;
    assert!(
        matches!(recv(&mut workbench).await, AgentServerFrame::Hello { .. }),
        "the agent's one slot is free again"
    );
}

#[tokio::test]
async fn picture_uploads_are_rate_limited_per_uploader() {
    let limits = ChatLimits {
        pictures_per_window: 3,
        ..ChatLimits::default()
    };
    let server = start(limits).await;
    let (_agent, cookie, _buyer, buyer_token, cid) = server.conversation("U-1").await;
    let buyer = Who::Buyer(buyer_token);
    for _ in 0..3 {
        assert_eq!(
            server.upload(cid, &buyer, png(4, 4)).await.status,
            StatusCode::OK
        );
    }
    let refused = server.upload(cid, &buyer, png(4, 4)).await;
    assert_eq!(
        (refused.status, refused.error()),
        (StatusCode::TOO_MANY_REQUESTS, PICTURES_TOO_FAST.to_owned())
    );
    assert_eq!(
        server.uploads().await,
        3,
        "nothing stored for the refused one"
    );
    // The agent has their own allowance.
    assert_eq!(
        server
            .upload(cid, &Who::Cookie(cookie), png(4, 4))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(server.uploads().await, 4);
}

/// A picture body the test sends when it chooses.
fn held_body() -> (
    futures::channel::mpsc::UnboundedSender<Result<Bytes, std::io::Error>>,
    Body,
) {
    let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Bytes, std::io::Error>>();
    (tx, Body::from_stream(rx))
}

#[tokio::test]
async fn picture_bodies_wait_for_a_decode_slot_before_they_are_read() {
    let limits = ChatLimits {
        decode_slots: 2,
        decode_queue: 3,
        pictures_per_window: 100,
        ..ChatLimits::default()
    };
    let server = start(limits).await;
    let (_agent, _cookie, _buyer, buyer_token, cid) = server.conversation("D-1").await;
    let who = Who::Buyer(buyer_token);
    let mut load = server.chat.picture_load();
    let mut bodies = Vec::new();
    let mut uploads = Vec::new();
    for expected in [(0, 1), (0, 2), (1, 2), (2, 2), (3, 2)] {
        let (tx, body) = held_body();
        let req = server.upload_request(cid, &who, body);
        let router = server.router.clone();
        uploads.push(tokio::spawn(async move {
            router.oneshot(req).await.map(|r| r.status())
        }));
        bodies.push(tx);
        let reached = load.wait_for(|l| (l.waiting, l.holding) == expected);
        tokio::time::timeout(Duration::from_secs(10), reached)
            .await
            .unwrap_or_else(|_| panic!("(waiting, holding) never became {expected:?}"))
            .expect("load");
    }
    // Two bodies being read, three waiting unread, and the queue is full: refused at once.
    let refused = server.upload(cid, &who, png(4, 4)).await;
    assert_eq!(
        (refused.status, refused.error()),
        (StatusCode::SERVICE_UNAVAILABLE, PICTURES_BUSY.to_owned())
    );

    for tx in bodies {
        tx.unbounded_send(Ok(Bytes::from(png(6, 6)))).expect("body");
    }
    for upload in uploads {
        assert_eq!(
            upload.await.expect("no panic").expect("answer"),
            StatusCode::OK
        );
    }
    let done = *load.borrow_and_update();
    assert_eq!(
        (done.waiting, done.holding, done.max_holding),
        (0, 0, 2),
        "never more than two bodies at once"
    );
    assert_eq!(server.uploads().await, 5);
    assert_eq!(
        server.upload(cid, &who, png(4, 4)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_slow_body_gives_its_slot_back_and_a_big_re_encoding_is_refused() {
    let limits = ChatLimits {
        upload_body_timeout: Duration::from_millis(300),
        max_encoded_bytes: 4 * 1024,
        ..ChatLimits::default()
    };
    let server = start(limits).await;
    let (_agent, _cookie, _buyer, buyer_token, cid) = server.conversation("E-1").await;
    let who = Who::Buyer(buyer_token);

    let (_never, body) = held_body();
    let slow = server.call(server.upload_request(cid, &who, body)).await;
    assert_eq!(
        (slow.status, slow.error()),
        (
            StatusCode::REQUEST_TIMEOUT,
            PICTURE_UPLOAD_TIMEOUT.to_owned()
        )
    );
    assert_eq!(server.chat.picture_load().borrow().holding, 0);

    let big = server.upload(cid, &who, photo(400, 300)).await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(big.error().contains("图片处理后超过"), "{}", big.error());
    assert_eq!(server.uploads().await, 0);
    assert!(server.no_pictures_on_disk());

    assert_eq!(
        server.upload(cid, &who, png(4, 4)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unsent_uploads_are_deleted_after_a_day_but_sent_and_fresh_ones_stay() {
    on_sqlite_and_postgres(sweep_keeps_sent_and_fresh).await;
}

async fn sweep_keeps_sent_and_fresh(server: &Server) {
    let (_agent, _cookie, mut buyer, buyer_token, cid) = server.conversation("G-1").await;
    let who = Who::Buyer(buyer_token);
    let mut uploaded = Vec::new();
    for _ in 0..3 {
        uploaded.push(server.upload(cid, &who, png(5, 5)).await.picture());
    }
    let (unsent_old, sent_old, unsent_fresh) = (&uploaded[0], &uploaded[1], &uploaded[2]);
    send_json(&mut buyer, &send_picture("g-1", sent_old.upload_id)).await;
    assert!(matches!(
        recv(&mut buyer).await,
        BuyerServerFrame::Ack { .. }
    ));
    let two_days_ago = domain::db::now_ms() - 2 * 24 * 60 * 60 * 1000;
    upload::Entity::update_many()
        .col_expr(
            upload::Column::CreatedAt,
            sea_orm::sea_query::Expr::value(two_days_ago),
        )
        .filter(upload::Column::Id.is_in([unsent_old.upload_id, sent_old.upload_id]))
        .exec(&server.auth.db)
        .await
        .expect("backdate");

    assert_eq!(
        server::chat::sweep_unreferenced_uploads(&server.chat)
            .await
            .expect("sweep"),
        1
    );
    let file = |u: &UploadedPicture| {
        server
            .upload_dir()
            .join(u.image.url.trim_start_matches("/media/"))
    };
    assert!(
        !server.upload_exists(unsent_old.upload_id).await && !file(unsent_old).exists(),
        "the old unsent one is gone"
    );
    assert!(
        server.upload_exists(sent_old.upload_id).await && file(sent_old).exists(),
        "a sent one stays"
    );
    assert!(
        server.upload_exists(unsent_fresh.upload_id).await && file(unsent_fresh).exists(),
        "a fresh one stays"
    );
    assert_eq!(
        server::chat::sweep_unreferenced_uploads(&server.chat)
            .await
            .expect("sweep"),
        0
    );
    // The sent picture is still served.
    assert_eq!(
        server.fetch(&sent_old.image.url, &who).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn someone_elses_conversation_and_a_missing_one_get_the_same_answer() {
    let server = start(ChatLimits::default()).await;
    let (_agent, _cookie, mut buyer, buyer_token, cid) = server.conversation("N-1").await;
    let missing = cid + 10_000;
    let picture = server
        .upload(cid, &Who::Buyer(buyer_token.clone()), png(5, 5))
        .await
        .picture();
    send_json(&mut buyer, &send_picture("n-1", picture.upload_id)).await;
    assert!(matches!(
        recv(&mut buyer).await,
        BuyerServerFrame::Ack { .. }
    ));

    // Picture upload: another buyer, the other agent of the supplier, another supplier's agent
    // and admin; each gets for the real conversation what it gets for one that does not exist.
    let stranger = Who::Buyer(token(1, "N-2"));
    let colleague_cookie = server.log_in("kf102").await;
    let colleague = Who::Cookie(colleague_cookie.clone());
    let other_supplier_agent = server.log_in("kf201").await;
    let foreign = Who::Cookie(other_supplier_agent.clone());
    let admin = Who::Cookie(server.log_in(domain::demo::ADMIN_LOGIN).await);
    for who in [&stranger, &colleague, &foreign, &admin] {
        let theirs = server.upload(cid, who, png(4, 4)).await;
        let nothing = server.upload(missing, who, png(4, 4)).await;
        assert_eq!(
            (theirs.status, &theirs.body),
            (nothing.status, &nothing.body)
        );
        assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    }
    // /media: a picture of another conversation and a name nobody has.
    let absent = format!("/media/{}.png", "0".repeat(32));
    for who in [&stranger, &colleague, &foreign] {
        let theirs = server.fetch(&picture.image.url, who).await;
        let nothing = server.fetch(&absent, who).await;
        assert_eq!(
            (theirs.status, &theirs.body),
            (nothing.status, &nothing.body)
        );
        assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    }

    // Frames: another supplier's agent and a colleague, Open / Send / End.
    for cookie in [other_supplier_agent, colleague_cookie] {
        let mut ws = server.agent_socket(&cookie).await;
        assert!(matches!(
            recv(&mut ws).await,
            AgentServerFrame::Hello { .. }
        ));
        for conversation_id in [cid, missing] {
            let frames = [
                open(conversation_id, 0),
                older(conversation_id, 10),
                AgentFrame::Send {
                    conversation_id,
                    client_msg_id: "x".into(),
                    body: "hi".into(),
                    font_size: 14,
                },
                AgentFrame::End { conversation_id },
                AgentFrame::Typing { conversation_id },
            ];
            let mut answers = Vec::new();
            for frame in &frames {
                send_json(&mut ws, frame).await;
                answers.push(recv::<AgentServerFrame>(&mut ws).await);
            }
            let expected = |id: Option<&str>| AgentServerFrame::Error {
                message: domain::DomainError::NotFound.user_message(),
                client_msg_id: id.map(str::to_owned),
            };
            assert_eq!(
                answers,
                vec![
                    expected(None),
                    expected(None),
                    expected(Some("x")),
                    expected(None),
                    expected(None)
                ]
            );
        }
    }
    assert_eq!(
        domain::chat::messages_since(&server.auth.db, cid, 0, 10)
            .await
            .expect("messages")
            .len(),
        1,
        "nothing stored by the others"
    );
}
