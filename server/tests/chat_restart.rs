//! Delivery across a server restart and across a socket dropped before its `Ack`: the real
//! `server` binary as a child process on a free port and a real SQLite file, real WebSockets.
//! The server is killed with SIGKILL (no graceful shutdown), so whatever was acknowledged must
//! already be committed.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use app::chat::protocol::{
    AgentFrame, AgentServerFrame, BuyerFrame, BuyerServerFrame, ChatMessage, Sender,
};
use common::chat::{
    Next, SECRET, Ws, agent_recv, agent_said, agent_says, agent_sees, bodies, buyer_recv,
    buyer_said, buyer_says, buyer_sees, buyer_token, next_within, open, send_json,
};
use tokio::net::TcpStream;

/// A database file with the demo data and kf101 logged in (its session cookie).
struct Fixture {
    dir: tempfile::TempDir,
    agent_token: String,
    supplier_id: i64,
}

impl Fixture {
    async fn new() -> Fixture {
        let common::DemoDb { auth, dir } = common::demo_db().await;
        let (agent_token, session) = auth
            .login("kf101", domain::demo::AGENT_PASSWORD, "127.0.0.1", "test")
            .await
            .expect("agent logs in");
        // The server must be the only one holding the file while it runs.
        auth.db.clone().close().await.expect("close");
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
            .env(
                "KEFU_BUYER_TOKEN_SECRET",
                std::str::from_utf8(SECRET).expect("utf-8"),
            )
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
        common::chat::agent_socket(self.addr, token).await
    }

    async fn buyer(&self, supplier_id: i64, buyer_id: &str) -> Ws {
        common::chat::buyer_socket(self.addr, &buyer_token(supplier_id, buyer_id)).await
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

/// The next text frame, or `None` when the socket closed or stayed silent for `wait`.
async fn next_text(ws: &mut Ws, wait: Duration) -> Option<String> {
    match next_within(ws, wait).await {
        Next::Text(text) => Some(text),
        Next::Closed(_) | Next::Silent => None,
    }
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

/// The messages from `from` that arrive in `Messages` frames until the socket is quiet for
/// 500 ms (other frames such as `Assigned` are skipped): what one side "saw" of the other.
async fn messages_until_quiet<F: serde::de::DeserializeOwned>(
    ws: &mut Ws,
    from: Sender,
    messages_of: fn(F) -> Option<Vec<ChatMessage>>,
) -> Vec<ChatMessage> {
    let mut seen = Vec::new();
    while let Some(text) = next_text(ws, Duration::from_millis(500)).await {
        let frame = serde_json::from_str(&text).expect("a frame");
        if let Some(messages) = messages_of(frame) {
            seen.extend(messages.into_iter().filter(|m| m.sender == from));
        }
    }
    seen
}

/// What the agent "saw" of the buyer.
async fn agent_messages_until_quiet(ws: &mut Ws) -> Vec<ChatMessage> {
    messages_until_quiet(ws, Sender::Buyer, |frame| match frame {
        AgentServerFrame::Messages { messages, .. } => Some(messages),
        _ => None,
    })
    .await
}

/// What the buyer "saw" of the agent.
async fn buyer_messages_until_quiet(ws: &mut Ws) -> Vec<ChatMessage> {
    messages_until_quiet(ws, Sender::Agent, |frame| match frame {
        BuyerServerFrame::Messages { messages, .. } => Some(messages),
        _ => None,
    })
    .await
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

/// A fresh database, the server started on it, and kf101 connected and 服务中.
async fn first_life() -> (Fixture, ServerProcess, Ws, Vec<(i64, i32)>) {
    let fixture = Fixture::new().await;
    let server = ServerProcess::start(fixture.dir.path()).await;
    let (agent, conversations) = agent_connects(&server, &fixture.agent_token, true).await;
    (fixture, server, agent, conversations)
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
    // First life of the server.
    let (fixture, server, mut agent, conversations) = first_life().await;
    let supplier_id = fixture.supplier_id;
    assert!(conversations.is_empty());
    let (mut buyer, cid) = buyer_connects(&server, supplier_id, "RS-1").await;
    let AgentServerFrame::Assigned { conversation } = agent_recv(&mut agent).await else {
        panic!("Assigned")
    };
    assert_eq!(conversation.conversation_id, cid);

    buyer_said(&mut buyer, "b-1", "重启前一", 1).await;
    agent_sees(&mut agent, &[(1, "buyer", "重启前一")]).await;
    agent_said(&mut agent, cid, "a-1", "您好", 2).await;
    buyer_sees(&mut buyer, &[(2, "agent", "您好")]).await;

    // The agent's page goes away (last seen: 2); the buyer keeps writing.
    drop(agent);
    buyer_said(&mut buyer, "b-2", "重启前二", 3).await;
    buyer_said(&mut buyer, "b-3", "重启前三", 4).await;
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
    send_json(&mut agent, &open(cid, 2)).await;
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
    agent_said(&mut agent, cid, "a-2", "重启后一", 5).await;
    agent_said(&mut agent, cid, "a-3", "重启后二", 6).await;

    let (mut buyer, again) = buyer_connects(&server, supplier_id, "RS-1").await;
    assert_eq!(again, cid, "the open conversation continues");
    send_json(&mut buyer, &BuyerFrame::Resume { after_seq: 4 }).await;
    buyer_sees(
        &mut buyer,
        &[(5, "agent", "重启后一"), (6, "agent", "重启后二")],
    )
    .await;
    assert!(
        buyer_messages_until_quiet(&mut buyer).await.is_empty(),
        "each missed message once"
    );

    // A resend of a message acknowledged before the restart: same seq, nothing new stored or
    // shown to the agent.
    buyer_said(&mut buyer, "b-3", "重启前三", 4).await;
    assert!(
        agent_messages_until_quiet(&mut agent).await.is_empty(),
        "the resend reaches nobody"
    );
    assert_eq!(fixture.stored_seqs(cid).await, vec![1, 2, 3, 4, 5, 6]);

    // The whole history after the restart, in order, every message once.
    send_json(&mut buyer, &BuyerFrame::Resume { after_seq: 0 }).await;
    buyer_sees(
        &mut buyer,
        &[
            (1, "buyer", "重启前一"),
            (2, "agent", "您好"),
            (3, "buyer", "重启前二"),
            (4, "buyer", "重启前三"),
            (5, "agent", "重启后一"),
            (6, "agent", "重启后二"),
        ],
    )
    .await;

    // Live delivery works again both ways.
    buyer_said(&mut buyer, "b-4", "重启后三", 7).await;
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
    let (fixture, server, mut agent, _) = first_life().await;
    let supplier_id = fixture.supplier_id;
    let (mut buyer, cid) = buyer_connects(&server, supplier_id, "DR-1").await;
    assert!(matches!(
        agent_recv(&mut agent).await,
        AgentServerFrame::Assigned { .. }
    ));

    // The buyer sends and its socket drops before the Ack is read; the server stored it (the
    // agent sees it), but the buyer cannot know, so it resends on its new socket.
    send_json(&mut buyer, &buyer_says("b-1", "掉线前发出")).await;
    drop(buyer);
    agent_sees(&mut agent, &[(1, "buyer", "掉线前发出")]).await;
    let (mut buyer, again) = buyer_connects(&server, supplier_id, "DR-1").await;
    assert_eq!(again, cid);
    buyer_said(&mut buyer, "b-1", "掉线前发出", 1).await;
    assert!(
        agent_messages_until_quiet(&mut agent).await.is_empty(),
        "the agent saw it exactly once"
    );

    // The same from the agent's side.
    send_json(&mut agent, &agent_says(cid, "a-1", "掉线前回复")).await;
    drop(agent);
    buyer_sees(&mut buyer, &[(2, "agent", "掉线前回复")]).await;
    let (mut agent, conversations) = agent_connects(&server, &fixture.agent_token, false).await;
    assert_eq!(conversations, vec![(cid, 2)]);
    agent_said(&mut agent, cid, "a-1", "掉线前回复", 2).await;
    assert!(
        buyer_messages_until_quiet(&mut buyer).await.is_empty(),
        "the buyer saw it exactly once"
    );

    assert!(agent_messages_until_quiet(&mut agent).await.is_empty());
    assert_eq!(fixture.stored_seqs(cid).await, vec![1, 2]);
    server.kill();
}

/// Buyers writing at once while the server is SIGKILLed: every message that was acknowledged is
/// stored with the seq its `Ack` gave, each conversation's seqs run 1, 2, 3… without a gap or a
/// double, and a message in flight at the kill, resent with its client id after the restart, is
/// stored exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_during_group_writes_under_load_keeps_every_acked_message_once() {
    use std::sync::atomic::Ordering;

    const BUYERS: usize = 24;
    let fixture = Fixture::new().await;
    let supplier_id = fixture.supplier_id;
    let server = ServerProcess::start(fixture.dir.path()).await;
    let acked = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for b in 0..BUYERS {
        let ws = server.buyer(supplier_id, &format!("KL-{b}")).await;
        writers.push(tokio::spawn(write_until_killed(ws, b, acked.clone())));
    }
    // Kill while every buyer has a message in flight, well into the run.
    while acked.load(Ordering::SeqCst) < 120 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    let mut lives = Vec::new();
    for writer in writers {
        lives.push(writer.await.expect("writer"));
    }
    let total_acked: usize = lives.iter().map(|l| l.acked.len()).sum();
    assert!(total_acked >= 120, "{total_acked} acknowledged");

    for life in &lives {
        let stored = stored_messages(&fixture, life.conversation_id).await;
        let seqs: Vec<i32> = stored.iter().map(|(seq, _)| *seq).collect();
        let expected: Vec<i32> = (1..=seqs.len() as i32).collect();
        assert_eq!(seqs, expected, "seqs without gap or double");
        for (client_msg_id, seq) in &life.acked {
            assert!(
                stored.contains(&(*seq, client_msg_id.clone())),
                "acknowledged {client_msg_id} as {seq} is stored as such: {stored:?}"
            );
        }
        // At most the message in flight is stored beyond what was acknowledged.
        assert!(stored.len() <= life.acked.len() + 1, "{stored:?}");
    }

    // After the restart each buyer resends its last message (in flight at the kill, or just
    // acknowledged): stored once, whether or not the first attempt had committed.
    let server = ServerProcess::start(fixture.dir.path()).await;
    for life in &lives {
        let before = stored_messages(&fixture, life.conversation_id).await;
        let mut ws = server
            .buyer(supplier_id, &format!("KL-{}", life.buyer))
            .await;
        let in_flight = life.last_sent.clone().expect("a message was sent");
        send_json(&mut ws, &buyer_says(&in_flight, "写到一半")).await;
        let seq = ack_of(&mut ws, &in_flight)
            .await
            .expect("the resend is acknowledged");
        let after = stored_messages(&fixture, life.conversation_id).await;
        let copies = after.iter().filter(|(_, id)| *id == in_flight).count();
        assert_eq!(copies, 1, "{in_flight} stored once: {after:?}");
        assert!(after.contains(&(seq, in_flight.clone())));
        let was_stored = before.iter().any(|(_, id)| *id == in_flight);
        assert_eq!(after.len(), before.len() + usize::from(!was_stored));
    }
    server.kill();
}

/// What one buyer saw before the kill.
struct Life {
    buyer: usize,
    conversation_id: i64,
    /// (client id, seq) of every `Ack`.
    acked: Vec<(String, i32)>,
    /// The last message sent: in flight when the socket went, unless it went between messages.
    last_sent: Option<String>,
}

/// Sends one message after another (each after the previous `Ack`, at most 8 a second: the
/// socket's rate limit is 10) until the socket goes.
async fn write_until_killed(mut ws: Ws, buyer: usize, acked: Arc<AtomicUsize>) -> Life {
    use futures::SinkExt;
    use std::sync::atomic::Ordering;
    let BuyerServerFrame::Hello {
        conversation_id, ..
    } = buyer_recv(&mut ws).await
    else {
        panic!("Hello first")
    };
    let mut life = Life {
        buyer,
        conversation_id,
        acked: Vec::new(),
        last_sent: None,
    };
    for n in 0.. {
        let id = format!("kl-{buyer}-{n}");
        let text = serde_json::to_string(&buyer_says(&id, &format!("第{n}条"))).expect("json");
        life.last_sent = Some(id.clone());
        if ws.send(tungstenite_text(text)).await.is_err() {
            return life;
        }
        let Some(seq) = ack_of(&mut ws, &id).await else {
            return life;
        };
        life.acked.push((id, seq));
        acked.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(125)).await;
    }
    life
}

fn tungstenite_text(text: String) -> tokio_tungstenite::tungstenite::Message {
    tokio_tungstenite::tungstenite::Message::Text(text.into())
}

/// The seq of the `Ack` for `client_msg_id`, skipping other frames; `None` when the socket
/// went first.
async fn ack_of(ws: &mut Ws, client_msg_id: &str) -> Option<i32> {
    loop {
        let text = next_text(ws, Duration::from_secs(20)).await?;
        match serde_json::from_str(&text).expect("a frame") {
            BuyerServerFrame::Ack(ack) if ack.client_msg_id == client_msg_id => {
                return Some(ack.seq);
            }
            BuyerServerFrame::Error { message, .. } => panic!("refused: {message}"),
            _ => {}
        }
    }
}

/// (seq, client id) of every stored message of the conversation, in seq order.
async fn stored_messages(fixture: &Fixture, conversation_id: i64) -> Vec<(i32, String)> {
    let db = domain::db::connect(&db_url(fixture.dir.path()))
        .await
        .expect("connect");
    let stored = domain::chat::messages_since(&db, conversation_id, 0, 500)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| (m.seq, m.client_msg_id))
        .collect();
    db.close().await.expect("close");
    stored
}
