//! The real-time chat: `/ws/agent` (the agent workbench, session cookie) and
//! `/ws/buyer?token=…` (the buyer widget, the mall's signed token), speaking
//! [`app::chat::protocol`]. The socket loops are written against a generic Sink/Stream; the
//! chat rules are in `domain::chat`; who hears about what is decided in [`notify`].

pub mod agent;
pub mod buyer;
pub mod hub;
pub mod notify;
pub mod pictures;
pub mod presence;
pub mod writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use app::chat::protocol::{AGENT_CHAT_PATH, BUYER_CHAT_PATH, MEDIA_PATH, PICTURE_UPLOAD_PATH};
use axum::Router;
use axum::extract::ws::{Message, WebSocketUpgrade};
use domain::auth::Auth;
use domain::bus::{AccountEvent, Bus};
use futures_util::{Sink, SinkExt};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use tokio::sync::broadcast;

use self::hub::{ChatHub, InProcessHub, SocketId};
use self::notify::ChatNotifier;
use self::writer::MessageWriter;

/// Largest WebSocket message or frame accepted; a bigger one closes the socket.
pub const MAX_FRAME: usize = 16 * 1024;
/// Largest text frame parsed; a bigger one (up to [`MAX_FRAME`]) is refused with an `Error` and
/// the socket stays open. A message of 2000 characters fits well below it.
pub const MAX_PARSED_FRAME: usize = 12 * 1024;
/// Allocated for every socket up front; chat frames are a few hundred bytes, and a bigger
/// one is read in several chunks.
const READ_BUFFER: usize = 2 * 1024;
/// Frames accepted per socket per second.
pub const MAX_FRAMES_PER_SEC: u32 = 10;
/// Messages per `Messages` frame when sending history (keeps each frame small).
const HISTORY_CHUNK: u64 = 50;
/// How often an agent socket re-checks its login.
const REVALIDATE_EVERY: Duration = Duration::from_secs(30);

pub const TOO_FAST: &str = "发送过于频繁，请稍后再试";
pub const UNKNOWN_FRAME: &str = "无法识别的消息";
pub const TOO_LONG: &str = "消息过长";
pub const FELL_BEHIND: &str = "连接消息积压，请重新连接";

/// What the chat sockets need.
#[derive(Clone)]
pub struct ChatState {
    pub db: DatabaseConnection,
    pub auth: Auth,
    /// Account events (a login ended) for the agent sockets.
    pub bus: Arc<dyn Bus>,
    pub notifier: ChatNotifier,
    pub buyer_token_secret: Arc<[u8]>,
    /// Where chat pictures are written (`KEFU_UPLOAD_DIR`).
    pub upload_dir: Arc<PathBuf>,
    picture_permits: Arc<tokio::sync::Semaphore>,
    presence: Arc<presence::Presence>,
    /// Stores the sockets' messages, several per transaction (group commit).
    pub writer: MessageWriter,
    next_socket: Arc<AtomicU64>,
}

impl ChatState {
    /// The chat of one node: an in-process hub, and the bus wrapped so that a login that ends
    /// gives the agent's buyers back to routing. Use [`ChatState::bus`] as `AppState::bus`.
    /// Starts the message writer task, so it must be called inside a Tokio runtime.
    pub fn new(auth: Auth, bus: Arc<dyn Bus>, buyer_token_secret: Arc<[u8]>) -> Self {
        let db = auth.db.clone();
        let hub: Arc<dyn ChatHub> = Arc::new(InProcessHub::default());
        let notifier = ChatNotifier { db: db.clone(), hub };
        let bus: Arc<dyn Bus> = Arc::new(ReleasingBus { inner: bus, notifier: notifier.clone() });
        let writer = MessageWriter::spawn(db.clone());
        ChatState {
            db,
            auth,
            bus,
            notifier,
            buyer_token_secret,
            upload_dir: Arc::new(PathBuf::from(DEFAULT_UPLOAD_DIR)),
            picture_permits: pictures::picture_permits(),
            presence: presence::Presence::new(presence::DEFAULT_GRACE),
            writer,
            next_socket: Arc::new(AtomicU64::new(1)),
        }
    }

    /// A 服务中 agent with no workbench socket for `grace` becomes 示忙 (default 30 s).
    pub fn with_presence_grace(mut self, grace: Duration) -> Self {
        self.presence = presence::Presence::new(grace);
        self
    }

    /// Chat pictures go to `dir` instead of [`DEFAULT_UPLOAD_DIR`].
    pub fn with_upload_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.upload_dir = Arc::new(dir.into());
        self
    }

    fn socket_id(&self) -> SocketId {
        self.next_socket.fetch_add(1, Ordering::Relaxed)
    }
}

/// Default of `KEFU_UPLOAD_DIR`.
pub const DEFAULT_UPLOAD_DIR: &str = "data/uploads";

/// The chat routes; merge into the app's router AFTER the global body limit (the picture upload
/// has its own, larger one).
pub fn routes<S>(chat: ChatState) -> Router<S> {
    Router::new()
        .route(AGENT_CHAT_PATH, axum::routing::get(agent::agent_socket))
        .route(BUYER_CHAT_PATH, axum::routing::get(buyer::buyer_socket))
        // Reads its body itself, up to the picture cap, once the caller is known.
        .route(PICTURE_UPLOAD_PATH, axum::routing::post(pictures::upload_picture))
        .route(&format!("{MEDIA_PATH}{{name}}"), axum::routing::get(pictures::serve_picture))
        .with_state(chat)
}

/// Small buffers and frames: idle sockets must stay cheap.
fn configure(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
}

async fn send_frame<Tx, F>(tx: &mut Tx, frame: &F) -> Result<(), ()>
where
    Tx: Sink<Message> + Unpin,
    F: Serialize,
{
    let text = serde_json::to_string(frame).map_err(|_| ())?;
    tx.send(Message::Text(text.into())).await.map_err(|_| ())
}

/// At most [`MAX_FRAMES_PER_SEC`] frames in any one-second window of a socket.
struct RateLimit {
    window_start: Instant,
    count: u32,
}

impl RateLimit {
    fn new() -> Self {
        RateLimit { window_start: Instant::now(), count: 0 }
    }

    fn allow(&mut self) -> bool {
        let now = Instant::now();
        if now.duration_since(self.window_start) >= Duration::from_secs(1) {
            self.window_start = now;
            self.count = 0;
        }
        self.count += 1;
        self.count <= MAX_FRAMES_PER_SEC
    }
}

/// What a socket loop does with one incoming WebSocket message.
enum Incoming<F> {
    Frame(F),
    /// Refuse with this message; the socket stays open.
    Refuse(&'static str),
    /// Nothing to do (ping, pong).
    Ignore,
    Closed,
}

fn classify<F: serde::de::DeserializeOwned, E>(incoming: Option<Result<Message, E>>, limit: &mut RateLimit) -> Incoming<F> {
    match incoming {
        Some(Ok(Message::Text(text))) => {
            if !limit.allow() {
                return Incoming::Refuse(TOO_FAST);
            }
            if text.len() > MAX_PARSED_FRAME {
                return Incoming::Refuse(TOO_LONG);
            }
            match serde_json::from_str(text.as_str()) {
                Ok(frame) => Incoming::Frame(frame),
                Err(_) => Incoming::Refuse(UNKNOWN_FRAME),
            }
        }
        Some(Ok(Message::Binary(_))) => {
            if limit.allow() { Incoming::Refuse(UNKNOWN_FRAME) } else { Incoming::Refuse(TOO_FAST) }
        }
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Incoming::Ignore,
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Incoming::Closed,
    }
}

/// A bus that also gives an agent's conversations back to routing when their login ends
/// (剔除登录, a new password, 退出系统), whether or not the agent has a chat socket open.
struct ReleasingBus {
    inner: Arc<dyn Bus>,
    notifier: ChatNotifier,
}

impl Bus for ReleasingBus {
    fn publish(&self, account_id: i64, event: AccountEvent) {
        self.inner.publish(account_id, event);
        let AccountEvent::LoginEnded(_) = event;
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(account_id, "no runtime: the agent's conversations were not released");
            return;
        };
        let notifier = self.notifier.clone();
        runtime.spawn(async move { on_agent_login_ended(&notifier, account_id).await });
    }

    fn subscribe(&self, account_id: i64) -> broadcast::Receiver<AccountEvent> {
        self.inner.subscribe(account_id)
    }
}

/// The agent's login ended: they are 示忙 and their open conversations go to the other serving
/// agents or back to the queue; everyone concerned is told. Nothing for an admin account.
pub async fn on_agent_login_ended(notifier: &ChatNotifier, account_id: i64) {
    let db = &notifier.db;
    let result = async {
        let Some((supplier_id, true)) = domain::chat::views::account_supplier(db, account_id).await? else {
            return Ok(());
        };
        let released =
            domain::chat::release_agent_conversations(db, supplier_id, account_id, domain::db::now_ms()).await?;
        notifier.released(supplier_id, &released).await;
        Ok::<_, domain::DomainError>(())
    }
    .await;
    if let Err(err) = result {
        tracing::warn!(error = %err, account_id, "releasing the agent's conversations failed");
    }
}

/// 超时结束 once: ends the idle conversations and tells both sides.
pub async fn end_idle_conversations(notifier: &ChatNotifier, idle: Duration) -> Result<usize, domain::DomainError> {
    let idle_ms = i64::try_from(idle.as_millis()).unwrap_or(i64::MAX);
    let ended = domain::chat::end_idle_conversations(&notifier.db, idle_ms, domain::db::now_ms()).await?;
    let conversations = domain::chat::views::conversations_by_ids(&notifier.db, &ended).await?;
    let mut suppliers = std::collections::BTreeSet::new();
    for conversation in &conversations {
        notifier.ended(conversation, domain::entity::conversation::END_TIMEOUT);
        suppliers.insert(conversation.supplier_id);
    }
    // An ended queued conversation moves the buyers behind it up.
    for supplier_id in suppliers {
        notifier.queue_changed(supplier_id);
    }
    Ok(conversations.len())
}

/// Every `every`, ends the conversations idle for `idle` (runs until the process ends).
pub fn spawn_idle_sweeper(notifier: ChatNotifier, idle: Duration, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(err) = end_idle_conversations(&notifier, idle).await {
                tracing::warn!(error = %err, "ending idle conversations failed");
            }
        }
    });
}
