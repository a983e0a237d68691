//! Nothing is lost on a store error: a buyer and an agent talk over real WebSockets to the real
//! chat routes on a real SQLite file while the database fails under them, the way it does in
//! production (another connection holds the write lock past the busy timeout), and the way it
//! should never do (the writer panics, a commit's answer is lost). Every message must arrive
//! once on the other side, in order, and be stored once. The clients do exactly what the
//! browser does: a message answered with an `Error` stays pending and is sent again (重发) with
//! the same client message id, and a conversation's next message goes once the one before is
//! acknowledged (`app::chat::take_next`).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use app::chat::protocol::{AgentServerFrame, BuyerFrame, BuyerServerFrame, ChatMessage};
use common::chat::{
    ChatServer, Ws, ack, agent_said, agent_says, buyer_said, buyer_says, buyer_token, chat_state,
    open, recv_within, send_json,
};
use domain::DomainError;
use domain::entity::message;
use sea_orm::{ColumnTrait, ConnectOptions, Database, EntityTrait, QueryFilter, QueryOrder};
use server::chat::writer::{FaultHook, FaultPoint, MessageWriter};
use tokio::sync::mpsc;

/// The server's SQLite busy timeout here: a held lock shows in a fraction of a second.
const BUSY_TIMEOUT: Duration = Duration::from_millis(150);
/// What a person sees when a message could not be stored.
const SERVER_ERROR: &str = "服务器内部错误，请稍后再试";
/// A frame must come within this; only a safety net against a hang, never a synchronisation.
const FRAME_WAIT: Duration = Duration::from_secs(60);

type Server = ChatServer;

/// The chat routes on a free port over a fresh SQLite file with the demo data; `hook` goes
/// into the message writer.
async fn start(hook: Option<FaultHook>) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = ConnectOptions::new(db_url(&dir));
    domain::db::configure_with_busy_timeout(&mut options, BUSY_TIMEOUT).expect("configure");
    let db = Database::connect(options).await.expect("connect");
    let auth = common::demo_on(db.clone()).await;
    let mut chat = chat_state(&auth);
    if let Some(hook) = hook {
        chat.writer = MessageWriter::spawn_with_fault_hook(db, hook);
    }
    ChatServer::start(auth, dir, chat, false).await
}

fn db_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}?mode=rwc", dir.path().join("kefu.db").display())
}

/// kf101, 服务中, and a buyer of its supplier assigned to it: (agent, buyer, conversation).
async fn talk(server: &Server, buyer_id: &str) -> (Ws, Ws, i64) {
    let (mut agent, session) = server.serving_agent("kf101").await;
    let (buyer, conversation_id) = server
        .buyer_enters(&mut agent, session.supplier_id, buyer_id)
        .await;
    (agent, buyer, conversation_id)
}

/// The stored messages of a conversation, by seq, read on a separate connection.
async fn stored(server: &Server, conversation_id: i64) -> Vec<message::Model> {
    let db = domain::db::connect(&db_url(&server.dir))
        .await
        .expect("connect");
    let rows = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .order_by_asc(message::Column::Seq)
        .all(&db)
        .await
        .expect("messages");
    db.close().await.expect("close");
    rows
}

/// Another connection takes SQLite's write lock and keeps it until the transaction ends.
async fn hold_write_lock(
    server: &Server,
) -> (sea_orm::DatabaseConnection, sea_orm::DatabaseTransaction) {
    let locker = domain::db::connect(&db_url(&server.dir))
        .await
        .expect("second connection");
    let lock = domain::db::begin_write(&locker)
        .await
        .expect("BEGIN IMMEDIATE");
    (locker, lock)
}

async fn agent_recv(ws: &mut Ws) -> AgentServerFrame {
    recv_within(ws, FRAME_WAIT).await
}

async fn buyer_recv(ws: &mut Ws) -> BuyerServerFrame {
    recv_within(ws, FRAME_WAIT).await
}

/// What one side of the conversation went through.
#[derive(Default, Debug)]
struct Side {
    /// The other side's messages as they arrived.
    received: Vec<ChatMessage>,
    /// `Error` frames for this side's own messages (each followed by a 重发).
    errors: u32,
}

/// Resends allowed per message before the test gives up (a safety net, never reached).
const MAX_RESENDS: u32 = 200;

/// A server frame as a sending side sees it.
#[derive(Debug)]
enum Incoming {
    Ack(String),
    Failed {
        client_msg_id: String,
        message: String,
    },
    Messages(Vec<ChatMessage>),
    Typing,
    Other(String),
}

/// The server frames of one side.
trait SideFrame: serde::de::DeserializeOwned {
    fn incoming(self) -> Incoming;
}

/// Both sides' server frames name their variants alike; only `Typing` differs.
macro_rules! side_frame {
    ($frame:ident, $typing:pat) => {
        impl SideFrame for $frame {
            fn incoming(self) -> Incoming {
                match self {
                    $frame::Ack(acked) => Incoming::Ack(acked.client_msg_id),
                    $frame::Error {
                        client_msg_id: Some(client_msg_id),
                        message,
                    } => Incoming::Failed {
                        client_msg_id,
                        message,
                    },
                    $frame::Messages { messages, .. } => Incoming::Messages(messages),
                    $typing => Incoming::Typing,
                    other => Incoming::Other(format!("{other:?}")),
                }
            }
        }
    };
}

side_frame!(BuyerServerFrame, BuyerServerFrame::Typing);
side_frame!(AgentServerFrame, AgentServerFrame::Typing { .. });

/// `who` sends `frames` (client id, frame) one after another as the browser does, each waiting
/// for its `Ack`; an `Error` for it is answered by sending the very same frame again (重发, same
/// client id). `errored` hears of every such error.
async fn sends<F: SideFrame, T: serde::Serialize>(
    ws: &mut Ws,
    who: &'static str,
    frames: Vec<(String, T)>,
    errored: mpsc::UnboundedSender<&'static str>,
) -> Side {
    let mut side = Side::default();
    for (id, frame) in frames {
        send_json(ws, &frame).await;
        let mut resends = 0;
        loop {
            match recv_within::<F>(ws, FRAME_WAIT).await.incoming() {
                Incoming::Ack(client_msg_id) if client_msg_id == id => break,
                Incoming::Failed {
                    client_msg_id,
                    message,
                } if client_msg_id == id => {
                    assert_eq!(
                        message, SERVER_ERROR,
                        "a store error reads as a server error, nothing internal"
                    );
                    side.errors += 1;
                    let _ = errored.send(who);
                    resends += 1;
                    assert!(resends <= MAX_RESENDS, "{id} never stored");
                    send_json(ws, &frame).await;
                }
                Incoming::Messages(messages) => side.received.extend(messages),
                Incoming::Typing => {}
                Incoming::Other(frame) => panic!("{who}: unexpected {frame}"),
                other => panic!("{who}: unexpected {other:?}"),
            }
        }
    }
    side
}

/// `who` sends `bodies` as b-0, b-1, … (a-0, … for the agent), see [`sends`].
async fn sends_bodies<F: SideFrame, T: serde::Serialize>(
    ws: &mut Ws,
    who: &'static str,
    bodies: &[String],
    frame_of: impl Fn(&str, &str) -> T,
    errored: mpsc::UnboundedSender<&'static str>,
) -> Side {
    let frames = (bodies.iter().enumerate())
        .map(|(i, body)| {
            let id = format!("{}-{i}", &who[..1]);
            let frame = frame_of(&id, body);
            (id, frame)
        })
        .collect();
    sends::<F, T>(ws, who, frames, errored).await
}

/// Reads until the side has `n` messages of the other.
async fn drain<F: SideFrame>(ws: &mut Ws, who: &str, side: &mut Side, n: usize) {
    while side.received.len() < n {
        match recv_within::<F>(ws, FRAME_WAIT).await.incoming() {
            Incoming::Messages(messages) => side.received.extend(messages),
            Incoming::Typing => {}
            Incoming::Other(frame) => panic!("{who}: unexpected {frame}"),
            other => panic!("{who}: unexpected {other:?}"),
        }
    }
}

fn texts(messages: &[ChatMessage]) -> Vec<&str> {
    messages.iter().map(|m| m.body.as_str()).collect()
}

/// Every message stored once, numbered 1..=n without a gap, each client id once.
fn assert_stored_once(rows: &[message::Model], client_ids: &[String]) {
    assert_eq!(
        rows.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=rows.len() as i32).collect::<Vec<_>>()
    );
    assert_eq!(
        rows.len(),
        client_ids.len(),
        "stored rows: {:?}",
        rows.iter().map(|m| &m.client_msg_id).collect::<Vec<_>>()
    );
    for id in client_ids {
        assert_eq!(
            rows.iter().filter(|m| &m.client_msg_id == id).count(),
            1,
            "{id} stored once"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_lock_held_past_the_busy_timeout_loses_nothing() {
    let server = start(None).await;
    let (mut agent, mut buyer, cid) = talk(&server, "LOCK-1").await;

    let (locker, lock) = hold_write_lock(&server).await;

    const N: usize = 5;
    let buyer_bodies: Vec<String> = (0..N).map(|i| format!("采购人第{i}条")).collect();
    let agent_bodies: Vec<String> = (0..N).map(|i| format!("客服第{i}条")).collect();
    let (errored, mut errors) = mpsc::unbounded_channel();
    let buyer_side = sends_bodies::<BuyerServerFrame, _>(
        &mut buyer,
        "buyer",
        &buyer_bodies,
        buyer_says,
        errored.clone(),
    );
    let agent_side = sends_bodies::<AgentServerFrame, _>(
        &mut agent,
        "agent",
        &agent_bodies,
        |id, body| agent_says(cid, id, body),
        errored,
    );
    // The lock goes once the first attempts of both sides have failed: the store error was
    // real and reached both clients (after the server's own retries).
    let release = async {
        let (mut buyer_failed, mut agent_failed) = (false, false);
        while !(buyer_failed && agent_failed) {
            match errors.recv().await.expect("both sides are still sending") {
                "buyer" => buyer_failed = true,
                _ => agent_failed = true,
            }
        }
        lock.rollback().await.expect("release the lock");
    };
    let (mut buyer_side, mut agent_side, ()) = tokio::join!(buyer_side, agent_side, release);
    assert!(
        buyer_side.errors >= 1 && agent_side.errors >= 1,
        "{buyer_side:?} {agent_side:?}"
    );
    drain::<BuyerServerFrame>(&mut buyer, "buyer", &mut buyer_side, N).await;
    drain::<AgentServerFrame>(&mut agent, "agent", &mut agent_side, N).await;

    // Every message arrived once on the other side, in the order it was written.
    assert_eq!(
        texts(&agent_side.received),
        buyer_bodies.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(
        texts(&buyer_side.received),
        agent_bodies.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let seqs = |side: &Side| side.received.iter().map(|m| m.seq).collect::<Vec<_>>();
    assert!(seqs(&agent_side).is_sorted() && seqs(&buyer_side).is_sorted());

    // Stored once each, including the ones whose first attempts failed.
    let ids: Vec<String> = (0..N)
        .flat_map(|i| [format!("b-{i}"), format!("a-{i}")])
        .collect();
    assert_stored_once(&stored(&server, cid).await, &ids);

    // And the next message is stored at once, without an error.
    buyer_said(&mut buyer, "b-next", "还在吗", 2 * N as i32 + 1).await;
    let AgentServerFrame::Messages { messages, .. } = agent_recv(&mut agent).await else {
        panic!("delivered")
    };
    assert_eq!(texts(&messages), ["还在吗"]);
    locker.close().await.expect("close");
}

/// A transient error as the pool reports it.
fn transient() -> DomainError {
    DomainError::Db(sea_orm::DbErr::ConnectionAcquire(
        sea_orm::ConnAcquireErr::Timeout,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panicking_writer_fails_its_callers_and_keeps_writing() {
    let fired = Arc::new(AtomicBool::new(false));
    let hook_fired = fired.clone();
    let hook: FaultHook = Arc::new(move |point, _, ids: &[&str]| {
        if point == FaultPoint::BeforeAttempt
            && ids.contains(&"boom")
            && !hook_fired.swap(true, Ordering::SeqCst)
        {
            panic!("forced panic in the message writer");
        }
        Ok(())
    });
    let server = start(Some(hook)).await;
    let (mut agent, mut buyer, cid) = talk(&server, "PANIC-1").await;

    let boom = BuyerFrame::Send {
        client_msg_id: "boom".into(),
        body: "第一条".into(),
        font_size: 14,
    };
    send_json(&mut buyer, &boom).await;
    // An error for that message, not a hang.
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Error {
            message: SERVER_ERROR.into(),
            client_msg_id: Some("boom".into())
        }
    );
    assert!(fired.load(Ordering::SeqCst));
    assert!(
        stored(&server, cid).await.is_empty(),
        "nothing of the failed group is stored"
    );

    // The writer is back: the next message is stored and delivered.
    buyer_said(&mut buyer, "next", "第二条", 1).await;
    // 重发 of the failed one, same client id: stored once, delivered once.
    send_json(&mut buyer, &boom).await;
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Ack(ack("boom", 2))
    );
    let mut agent_side = Side::default();
    drain::<AgentServerFrame>(&mut agent, "agent", &mut agent_side, 2).await;
    assert_eq!(texts(&agent_side.received), ["第二条", "第一条"]);
    // The agent writes through the same writer too.
    agent_said(&mut agent, cid, "a", "收到", 3).await;
    assert_stored_once(
        &stored(&server, cid).await,
        &["next".into(), "boom".into(), "a".into()],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transient_errors_are_retried_before_answering_and_a_lost_commit_answer_still_acks() {
    let before_calls = Arc::new(AtomicU32::new(0));
    let calls = before_calls.clone();
    let hook: FaultHook = Arc::new(move |point, attempt, ids: &[&str]| match point {
        FaultPoint::BeforeAttempt => {
            if ids.contains(&"doomed") {
                calls.fetch_add(1, Ordering::SeqCst);
                return Err(transient());
            }
            // Busy twice, then fine: the server's own retries absorb it.
            if ids.iter().any(|id| id.starts_with("flaky")) && attempt < 2 {
                return Err(transient());
            }
            Ok(())
        }
        // Committed, then the connection "dies" before the answer: the retry finds the message
        // stored and must still answer with its Ack and tell the agent once.
        FaultPoint::AfterCommit if ids.contains(&"lost-answer") && attempt == 0 => Err(transient()),
        FaultPoint::AfterCommit => Ok(()),
    });
    let server = start(Some(hook)).await;
    let (mut agent, mut buyer, cid) = talk(&server, "FLAKY-1").await;

    buyer_said(&mut buyer, "flaky", "一", 1).await;

    buyer_said(&mut buyer, "lost-answer", "二", 2).await;

    // Transient every time: a bounded number of attempts, then an error naming the message.
    send_json(&mut buyer, &buyer_says("doomed", "三")).await;
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Error {
            message: SERVER_ERROR.into(),
            client_msg_id: Some("doomed".into())
        }
    );
    assert_eq!(
        before_calls.load(Ordering::SeqCst),
        domain::db::TRANSIENT_ATTEMPTS
    );

    let mut agent_side = Side::default();
    drain::<AgentServerFrame>(&mut agent, "agent", &mut agent_side, 2).await;
    assert_eq!(texts(&agent_side.received), ["一", "二"]);
    assert_stored_once(
        &stored(&server, cid).await,
        &["flaky".into(), "lost-answer".into()],
    );

    // The agent's messages go through the same retries.
    agent_said(&mut agent, cid, "flaky-agent", "好的", 3).await;
    let BuyerServerFrame::Messages { messages, .. } = buyer_recv(&mut buyer).await else {
        panic!("delivered")
    };
    assert_eq!(texts(&messages), ["好的"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_history_is_replayed_in_order_a_page_at_a_time() {
    const TOTAL: i32 = 1_234;
    let server = start(None).await;
    let (mut agent, mut buyer, cid) = talk(&server, "LONG-1").await;
    let ids: Vec<String> = (1..=TOTAL).map(|i| format!("m{i}")).collect();
    let bodies: Vec<String> = (1..=TOTAL).map(|i| format!("第{i}条")).collect();
    for chunk in (0..TOTAL as usize).collect::<Vec<_>>().chunks(250) {
        let msgs: Vec<domain::chat::NewMessage<'_>> = chunk
            .iter()
            .map(|&i| {
                domain::chat::NewMessage::text(domain::chat::Sender::Buyer, &ids[i], &bodies[i])
            })
            .collect();
        domain::chat::store_messages_batch(&server.auth.db, cid, &msgs, 1)
            .await
            .expect("batch");
    }

    // The buyer resumes from the start: frames of at most 50, all messages, in order, once.
    send_json(&mut buyer, &BuyerFrame::Resume { after_seq: 0 }).await;
    let mut seqs = Vec::new();
    while seqs.len() < TOTAL as usize {
        let BuyerServerFrame::Messages { messages, .. } = buyer_recv(&mut buyer).await else {
            panic!("history")
        };
        assert!(
            !messages.is_empty() && messages.len() <= 50,
            "{}",
            messages.len()
        );
        seqs.extend(messages.iter().map(|m| m.seq));
    }
    assert_eq!(seqs, (1..=TOTAL).collect::<Vec<_>>());

    // The agent reopens after seq 34: the rest, in order, once.
    send_json(&mut agent, &open(cid, 34)).await;
    let mut seqs = Vec::new();
    while seqs.len() < (TOTAL - 34) as usize {
        let AgentServerFrame::Messages { messages, .. } = agent_recv(&mut agent).await else {
            panic!("history")
        };
        assert!(!messages.is_empty() && messages.len() <= 50);
        seqs.extend(messages.iter().map(|m| m.seq));
    }
    assert_eq!(seqs, (35..=TOTAL).collect::<Vec<_>>());

    // Caught up: one empty frame says so, and the socket goes on.
    send_json(&mut buyer, &BuyerFrame::Resume { after_seq: TOTAL }).await;
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Messages {
            conversation_id: cid,
            messages: Vec::new()
        }
    );
    buyer_said(&mut buyer, "after", "好", TOTAL + 1).await;
}

/// A buyer who arrives while another connection holds the write lock longer than the busy
/// timeout is not turned away: recording the buyer and opening the conversation are retried,
/// and the Hello comes once the lock is gone. The lock is the fault (held for two busy
/// timeouts); the test waits for the buyer's own frame, never for time.
#[tokio::test]
async fn a_buyer_arriving_while_the_database_is_locked_gets_in_once_it_frees() {
    let server = start(None).await;
    let (_locker, lock) = hold_write_lock(&server).await;
    let (addr, token) = (server.addr, buyer_token(1, "LOCKED-ENTRY"));
    let entering = tokio::spawn(async move {
        let mut buyer = common::chat::buyer_socket(addr, &token).await;
        buyer_recv(&mut buyer).await
    });
    tokio::time::sleep(BUSY_TIMEOUT * 2).await;
    lock.rollback().await.expect("release the lock");
    let first = tokio::time::timeout(FRAME_WAIT, entering)
        .await
        .expect("an answer")
        .expect("the buyer task");
    assert!(
        matches!(first, BuyerServerFrame::Hello { .. }),
        "the buyer got in: {first:?}"
    );
}
