//! Delivery across a server restart and across a socket dropped before its `Ack`: the real
//! `server` binary as a child process on a free port and a real SQLite file, real WebSockets.
//! The server is killed with SIGKILL (no graceful shutdown), so whatever was acknowledged must
//! already be committed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use app::chat::protocol::{
    AgentFrame, AgentServerFrame, BuyerFrame, BuyerServerFrame, ChatMessage, Sender,
};
use domain::chat::{BuyerClaims, sign};
use domain::logins::{Auth, AuthConfig};
use domain::password::PasswordHasher;
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const SECRET: &str = "restart-test-secret-shared-with-the-mall";

/// A database file with the demo data and kf101 logged in (its session cookie).
struct Fixture {
    dir: tempfile::TempDir,
    agent_token: String,
    supplier_id: i64,
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = domain::db::connect(&db_url(dir.path()))
            .await
            .expect("connect");
        domain::db::migrate(&db).await.expect("migrate");
        let hasher = PasswordHasher::new(2);
        domain::demo::seed(&db, &hasher).await.expect("seed");
        let auth = Auth::new(db.clone(), hasher, AuthConfig::default());
        let (agent_token, session) = auth
            .login("kf101", domain::demo::AGENT_PASSWORD, "127.0.0.1", "test")
            .await
            .expect("agent logs in");
        // The server must be the only one holding the file while it runs.
        db.close().await.expect("close");
        Fixture {
            dir,
            agent_token,
            supplier_id: session.supplier_id,
        }
    }

    /// The seqs stored for the conversation, read with a fresh pool.
    async fn stored_seqs(&self, conversation_id: i64) -> Vec<i32> {
        let db = domain::db::connect(&db_url(self.dir.path()))
            .await
            .expect("connect");
        let seqs = domain::chat::messages_since(&db, conversation_id, 0, 500)
            .await
            .expect("messages")
            .into_iter()
            .map(|m| m.seq)
            .collect();
        db.close().await.expect("close");
        seqs
    }
}

fn db_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("kefu.db").display())
}

/// The real server binary; killed (SIGKILL) when dropped.
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    async fn start(dir: &Path) -> ServerProcess {
        let addr = free_port();
        let log: PathBuf = dir.join(format!("server-{}.log", addr.port()));
        let log = std::fs::File::create(log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_server"))
            .arg("serve")
            .env("DATABASE_URL", db_url(dir))
            .env("KEFU_BUYER_TOKEN_SECRET", SECRET)
            .env("KEFU_DEMO_DATA", "false")
            .env("KEFU_DEV_MODE", "true")
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .env("LEPTOS_SITE_ROOT", dir.join("site"))
            .env("RUST_LOG", "warn")
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("server starts");
        let mut server = ServerProcess { child, addr };
        for _ in 0..200 {
            if TcpStream::connect(addr).await.is_ok() {
                return server;
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("server exited early: {status}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not listen on {addr} within 10 s");
    }

    /// SIGKILL: no graceful shutdown, nothing flushed on the way out.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn agent(&self, token: &str) -> Ws {
        let mut req = format!("ws://{}/ws/agent", self.addr)
            .into_client_request()
            .expect("request");
        req.headers_mut().insert(
            "cookie",
            format!("kefu_session={token}").parse().expect("header"),
        );
        let (ws, _) = tokio_tungstenite::connect_async(req)
            .await
            .expect("agent connects");
        ws
    }

    async fn buyer(&self, supplier_id: i64, buyer_id: &str) -> Ws {
        let claims = BuyerClaims {
            v: 1,
            supplier_id,
            buyer_id: buyer_id.into(),
            name: format!("采购人{buyer_id}"),
            unit: "某县第一中学".into(),
            exp: domain::db::now_ms() / 1000 + 3600,
        };
        let token = sign(SECRET.as_bytes(), &claims);
        let (ws, _) =
            tokio_tungstenite::connect_async(format!("ws://{}/ws/buyer?token={token}", self.addr))
                .await
                .expect("buyer connects");
        ws
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

/// The next text frame, or `None` when the socket closed.
async fn next_text(ws: &mut Ws, wait: Duration) -> Option<String> {
    loop {
        let msg = tokio::time::timeout(wait, ws.next()).await.ok()?;
        match msg {
            Some(Ok(Message::Text(t))) => return Some(t.to_string()),
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
            Some(Ok(_)) => {}
        }
    }
}

async fn agent_recv(ws: &mut Ws) -> AgentServerFrame {
    let text = next_text(ws, Duration::from_secs(10))
        .await
        .expect("an agent frame within 10 s");
    serde_json::from_str(&text).expect("an agent frame")
}

async fn buyer_recv(ws: &mut Ws) -> BuyerServerFrame {
    let text = next_text(ws, Duration::from_secs(10))
        .await
        .expect("a buyer frame within 10 s");
    serde_json::from_str(&text).expect("a buyer frame")
}

/// The agent's next frame that is not a re-announcement of a buyer (a buyer that reconnects
/// is announced to its agent again with `Assigned`).
async fn agent_recv_skipping_assigned(ws: &mut Ws) -> AgentServerFrame {
    loop {
        match agent_recv(ws).await {
            AgentServerFrame::Assigned { .. } => continue,
            frame => return frame,
        }
    }
}

/// The other side's messages that arrive in `Messages` frames until the socket is quiet for
/// 500 ms (other frames such as `Assigned` are skipped): what the agent "saw" of the buyer.
async fn agent_messages_until_quiet(ws: &mut Ws) -> Vec<ChatMessage> {
    let mut seen = Vec::new();
    while let Some(text) = next_text(ws, Duration::from_millis(500)).await {
        if let AgentServerFrame::Messages { messages, .. } =
            serde_json::from_str(&text).expect("an agent frame")
        {
            seen.extend(messages.into_iter().filter(|m| m.sender == Sender::Buyer));
        }
    }
    seen
}

/// What the buyer "saw" of the agent, like [`agent_messages_until_quiet`].
async fn buyer_messages_until_quiet(ws: &mut Ws) -> Vec<ChatMessage> {
    let mut seen = Vec::new();
    while let Some(text) = next_text(ws, Duration::from_millis(500)).await {
        if let BuyerServerFrame::Messages { messages, .. } =
            serde_json::from_str(&text).expect("a buyer frame")
        {
            seen.extend(messages.into_iter().filter(|m| m.sender == Sender::Agent));
        }
    }
    seen
}

async fn send_json<T: serde::Serialize>(ws: &mut Ws, frame: &T) {
    let text = serde_json::to_string(frame).expect("json");
    ws.send(Message::Text(text.into())).await.expect("send");
}

fn bodies(messages: &[ChatMessage]) -> Vec<(i32, &str, &str)> {
    messages
        .iter()
        .map(|m| (m.seq, m.sender.as_str(), m.body.as_str()))
        .collect()
}

fn buyer_says(id: &str, body: &str) -> BuyerFrame {
    BuyerFrame::Send {
        client_msg_id: id.into(),
        body: body.into(),
        font_size: 14,
    }
}

fn agent_says(conversation_id: i64, id: &str, body: &str) -> AgentFrame {
    AgentFrame::Send {
        conversation_id,
        client_msg_id: id.into(),
        body: body.into(),
        font_size: 14,
    }
}

/// The agent connects and (if not yet) goes 服务中; returns the `Hello`'s conversations.
async fn agent_connects(server: &ServerProcess, token: &str, serve: bool) -> (Ws, Vec<(i64, i32)>) {
    let mut agent = server.agent(token).await;
    let AgentServerFrame::Hello {
        conversations,
        serving,
        ..
    } = agent_recv(&mut agent).await
    else {
        panic!("Hello first");
    };
    if serve {
        assert!(!serving);
        send_json(&mut agent, &AgentFrame::SetServing { serving: true }).await;
        assert_eq!(
            agent_recv(&mut agent).await,
            AgentServerFrame::Status { serving: true }
        );
    } else {
        assert!(serving, "服务中 survives the restart");
    }
    (
        agent,
        conversations
            .iter()
            .map(|c| (c.conversation_id, c.last_seq))
            .collect(),
    )
}

/// The buyer connects to its open conversation, already assigned to 客服小童.
async fn buyer_connects(server: &ServerProcess, supplier_id: i64, buyer_id: &str) -> (Ws, i64) {
    let mut buyer = server.buyer(supplier_id, buyer_id).await;
    let BuyerServerFrame::Hello {
        conversation_id, ..
    } = buyer_recv(&mut buyer).await
    else {
        panic!("Hello first")
    };
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Assigned {
            agent_name: "客服小童".into()
        }
    );
    (buyer, conversation_id)
}

#[tokio::test]
async fn a_server_restart_loses_nothing_and_both_sides_get_exactly_what_they_missed() {
    let fixture = Fixture::new().await;
    let supplier_id = fixture.supplier_id;

    // First life of the server.
    let server = ServerProcess::start(fixture.dir.path()).await;
    let (mut agent, conversations) = agent_connects(&server, &fixture.agent_token, true).await;
    assert!(conversations.is_empty());
    let (mut buyer, cid) = buyer_connects(&server, supplier_id, "RS-1").await;
    let AgentServerFrame::Assigned { conversation } = agent_recv(&mut agent).await else {
        panic!("Assigned")
    };
    assert_eq!(conversation.conversation_id, cid);

    send_json(&mut buyer, &buyer_says("b-1", "重启前一")).await;
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Ack {
            client_msg_id: "b-1".into(),
            seq: 1
        }
    );
    let AgentServerFrame::Messages { messages, .. } = agent_recv(&mut agent).await else {
        panic!("Messages")
    };
    assert_eq!(bodies(&messages), vec![(1, "buyer", "重启前一")]);
    send_json(&mut agent, &agent_says(cid, "a-1", "您好")).await;
    assert_eq!(
        agent_recv(&mut agent).await,
        AgentServerFrame::Ack {
            client_msg_id: "a-1".into(),
            seq: 2
        }
    );
    let BuyerServerFrame::Messages { messages, .. } = buyer_recv(&mut buyer).await else {
        panic!("Messages")
    };
    assert_eq!(bodies(&messages), vec![(2, "agent", "您好")]);

    // The agent's page goes away (last seen: 2); the buyer keeps writing.
    drop(agent);
    send_json(&mut buyer, &buyer_says("b-2", "重启前二")).await;
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Ack {
            client_msg_id: "b-2".into(),
            seq: 3
        }
    );
    send_json(&mut buyer, &buyer_says("b-3", "重启前三")).await;
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Ack {
            client_msg_id: "b-3".into(),
            seq: 4
        }
    );
    // Killed right after the last Ack: acknowledged means committed.
    server.kill();
    assert_eq!(
        next_text(&mut buyer, Duration::from_secs(5)).await,
        None,
        "the buyer's socket is gone"
    );
    drop(buyer);

    // Second life, same database file.
    let server = ServerProcess::start(fixture.dir.path()).await;
    let (mut agent, conversations) = agent_connects(&server, &fixture.agent_token, false).await;
    assert_eq!(
        conversations,
        vec![(cid, 4)],
        "the conversation is still the agent's, with all 4 messages"
    );
    send_json(
        &mut agent,
        &AgentFrame::Open {
            conversation_id: cid,
            after_seq: 2,
        },
    )
    .await;
    let AgentServerFrame::Messages {
        conversation_id,
        messages,
    } = agent_recv(&mut agent).await
    else {
        panic!("Messages")
    };
    assert_eq!(conversation_id, cid);
    assert_eq!(
        bodies(&messages),
        vec![(3, "buyer", "重启前二"), (4, "buyer", "重启前三")]
    );
    assert!(
        agent_messages_until_quiet(&mut agent).await.is_empty(),
        "each missed message once"
    );

    // The agent answers while the buyer is still away (buyer last seen: 4).
    send_json(&mut agent, &agent_says(cid, "a-2", "重启后一")).await;
    assert_eq!(
        agent_recv(&mut agent).await,
        AgentServerFrame::Ack {
            client_msg_id: "a-2".into(),
            seq: 5
        }
    );
    send_json(&mut agent, &agent_says(cid, "a-3", "重启后二")).await;
    assert_eq!(
        agent_recv(&mut agent).await,
        AgentServerFrame::Ack {
            client_msg_id: "a-3".into(),
            seq: 6
        }
    );

    let (mut buyer, again) = buyer_connects(&server, supplier_id, "RS-1").await;
    assert_eq!(again, cid, "the open conversation continues");
    send_json(&mut buyer, &BuyerFrame::Resume { after_seq: 4 }).await;
    let BuyerServerFrame::Messages { messages, .. } = buyer_recv(&mut buyer).await else {
        panic!("Messages")
    };
    assert_eq!(
        bodies(&messages),
        vec![(5, "agent", "重启后一"), (6, "agent", "重启后二")]
    );
    assert!(
        buyer_messages_until_quiet(&mut buyer).await.is_empty(),
        "each missed message once"
    );

    // A resend of a message acknowledged before the restart: same seq, nothing new stored or
    // shown to the agent.
    send_json(&mut buyer, &buyer_says("b-3", "重启前三")).await;
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Ack {
            client_msg_id: "b-3".into(),
            seq: 4
        }
    );
    assert!(
        agent_messages_until_quiet(&mut agent).await.is_empty(),
        "the resend reaches nobody"
    );
    assert_eq!(fixture.stored_seqs(cid).await, vec![1, 2, 3, 4, 5, 6]);

    // The whole history after the restart, in order, every message once.
    send_json(&mut buyer, &BuyerFrame::Resume { after_seq: 0 }).await;
    let BuyerServerFrame::Messages { messages, .. } = buyer_recv(&mut buyer).await else {
        panic!("Messages")
    };
    assert_eq!(
        bodies(&messages),
        vec![
            (1, "buyer", "重启前一"),
            (2, "agent", "您好"),
            (3, "buyer", "重启前二"),
            (4, "buyer", "重启前三"),
            (5, "agent", "重启后一"),
            (6, "agent", "重启后二"),
        ]
    );

    // Live delivery works again both ways.
    send_json(&mut buyer, &buyer_says("b-4", "重启后三")).await;
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Ack {
            client_msg_id: "b-4".into(),
            seq: 7
        }
    );
    let AgentServerFrame::Messages { messages, .. } =
        agent_recv_skipping_assigned(&mut agent).await
    else {
        panic!("Messages")
    };
    assert_eq!(bodies(&messages), vec![(7, "buyer", "重启后三")]);
    server.kill();
}

#[tokio::test]
async fn a_message_whose_socket_dropped_before_the_ack_is_resent_and_stored_once() {
    let fixture = Fixture::new().await;
    let supplier_id = fixture.supplier_id;
    let server = ServerProcess::start(fixture.dir.path()).await;
    let (mut agent, _) = agent_connects(&server, &fixture.agent_token, true).await;
    let (mut buyer, cid) = buyer_connects(&server, supplier_id, "DR-1").await;
    assert!(matches!(
        agent_recv(&mut agent).await,
        AgentServerFrame::Assigned { .. }
    ));

    // The buyer sends and its socket drops before the Ack is read; the server stored it (the
    // agent sees it), but the buyer cannot know, so it resends on its new socket.
    send_json(&mut buyer, &buyer_says("b-1", "掉线前发出")).await;
    drop(buyer);
    let AgentServerFrame::Messages { messages, .. } = agent_recv(&mut agent).await else {
        panic!("Messages")
    };
    assert_eq!(bodies(&messages), vec![(1, "buyer", "掉线前发出")]);
    let (mut buyer, again) = buyer_connects(&server, supplier_id, "DR-1").await;
    assert_eq!(again, cid);
    send_json(&mut buyer, &buyer_says("b-1", "掉线前发出")).await;
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Ack {
            client_msg_id: "b-1".into(),
            seq: 1
        }
    );
    assert!(
        agent_messages_until_quiet(&mut agent).await.is_empty(),
        "the agent saw it exactly once"
    );

    // The same from the agent's side.
    send_json(&mut agent, &agent_says(cid, "a-1", "掉线前回复")).await;
    drop(agent);
    let BuyerServerFrame::Messages { messages, .. } = buyer_recv(&mut buyer).await else {
        panic!("Messages")
    };
    assert_eq!(bodies(&messages), vec![(2, "agent", "掉线前回复")]);
    let (mut agent, conversations) = agent_connects(&server, &fixture.agent_token, false).await;
    assert_eq!(conversations, vec![(cid, 2)]);
    send_json(&mut agent, &agent_says(cid, "a-1", "掉线前回复")).await;
    assert_eq!(
        agent_recv(&mut agent).await,
        AgentServerFrame::Ack {
            client_msg_id: "a-1".into(),
            seq: 2
        }
    );
    assert!(
        buyer_messages_until_quiet(&mut buyer).await.is_empty(),
        "the buyer saw it exactly once"
    );

    assert!(agent_messages_until_quiet(&mut agent).await.is_empty());
    assert_eq!(fixture.stored_seqs(cid).await, vec![1, 2]);
    server.kill();
}
