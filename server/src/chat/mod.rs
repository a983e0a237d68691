//! The real-time chat: `/ws/agent` (the agent workbench, session cookie) and
//! `/ws/buyer?token=…` (the buyer widget, the mall's signed token), speaking
//! [`app::chat::protocol`]. Both sides share one socket loop (`socket`), written against a
//! generic Sink/Stream, and what they do alike in a conversation (`actions`: send, type, end);
//! the chat rules are in `domain::chat`; who hears about what is decided in [`notify`].

mod actions;
pub mod agent;
pub mod buyer;
pub mod hub;
pub mod limits;
pub mod notify;
pub mod pictures;
pub mod presence;
mod socket;
pub mod writer;

pub use pictures::{spawn_upload_sweeper, sweep_unreferenced_uploads};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use app::chat::protocol::{AGENT_CHAT_PATH, BUYER_CHAT_PATH, MEDIA_PATH, PICTURE_UPLOAD_PATH};
use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade, close_code};
use axum::http::{Extensions, HeaderMap};
use domain::bus::{AccountEvent, Bus};
use domain::logins::Auth;
use futures_util::{Sink, SinkExt};
use sea_orm::DatabaseConnection;
use serde::Serialize;
use tokio::sync::broadcast;

use self::hub::{ChatHub, InProcessHub, SocketId};
use self::limits::{
    ChatLimits, PictureGate, PictureLoad, RateWindows, SlotKey, SocketSlot, SocketSlots,
};
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
    presence: Arc<presence::Presence>,
    /// What one buyer, agent or address may cost (see [`limits`]).
    pub limits: Arc<ChatLimits>,
    sockets: Arc<SocketSlots>,
    pictures: Arc<PictureGate>,
    /// Picture uploads per uploader: `(supplier, buyer or account, is_buyer)`.
    upload_rate: Arc<RateWindows<(i64, i64, bool)>>,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    trust_forwarded_for: bool,
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
        let notifier = ChatNotifier {
            db: db.clone(),
            hub,
        };
        let bus: Arc<dyn Bus> = Arc::new(ReleasingBus {
            inner: bus,
            notifier: notifier.clone(),
        });
        let writer = MessageWriter::spawn(db.clone());
        let limits = ChatLimits::default();
        ChatState {
            db,
            auth,
            bus,
            notifier,
            buyer_token_secret,
            upload_dir: Arc::new(PathBuf::from(DEFAULT_UPLOAD_DIR)),
            presence: presence::Presence::new(presence::DEFAULT_GRACE),
            sockets: Arc::new(SocketSlots::default()),
            pictures: PictureGate::new(limits.decode_slots, limits.decode_queue),
            upload_rate: Arc::new(RateWindows::new(
                limits.pictures_per_window,
                limits.picture_window,
            )),
            limits: Arc::new(limits),
            trust_forwarded_for: false,
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

    /// Other limits than the defaults (tests, configuration).
    pub fn with_limits(mut self, limits: ChatLimits) -> Self {
        self.pictures = PictureGate::new(limits.decode_slots, limits.decode_queue);
        self.upload_rate = Arc::new(RateWindows::new(
            limits.pictures_per_window,
            limits.picture_window,
        ));
        self.limits = Arc::new(limits);
        self
    }

    /// Count sockets by the client address behind the proxy (`app::state::client_addr`: the
    /// right-most `X-Forwarded-For` hop) instead of the peer address
    /// (`KEFU_TRUST_FORWARDED_FOR`, only behind a trusted reverse proxy).
    pub fn with_trust_forwarded_for(mut self, trust: bool) -> Self {
        self.trust_forwarded_for = trust;
        self
    }

    /// Open buyer sockets of this supplier's 客户编号.
    pub fn buyer_sockets(&self, supplier_id: i64, buyer_external_id: &str) -> usize {
        self.sockets
            .count(&SlotKey::Buyer(supplier_id, buyer_external_id.to_owned()))
    }

    /// Open chat sockets of this client address.
    pub fn address_sockets(&self, addr: &str) -> usize {
        self.sockets.count(&SlotKey::Addr(addr.to_owned()))
    }

    /// Changes whenever a socket takes or gives back its slot.
    pub fn sockets_changed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.sockets.changed()
    }

    /// The picture decoder's load (waiting, holding a slot, most ever holding).
    pub fn picture_load(&self) -> tokio::sync::watch::Receiver<PictureLoad> {
        self.pictures.load()
    }

    /// A place for one more chat socket from this request's client address: `Ok(None)` when
    /// the address is unknown (no peer address given to the router), `Err` when it has its
    /// [`ChatLimits::sockets_per_addr`] already.
    fn address_slot(
        &self,
        headers: &HeaderMap,
        extensions: &Extensions,
    ) -> Result<Option<SocketSlot>, ()> {
        let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        if peer.is_none() && !self.trust_forwarded_for {
            return Ok(None);
        }
        let addr = app::state::client_addr(headers, peer, self.trust_forwarded_for);
        self.sockets
            .try_acquire(SlotKey::Addr(addr), self.limits.sockets_per_addr)
            .map(Some)
            .ok_or(())
    }

    /// A socket's pings and its silence limit ([`ChatLimits::ping_every`],
    /// [`ChatLimits::silent_after`]).
    fn heartbeat(&self) -> limits::Heartbeat {
        limits::Heartbeat::new(self.limits.ping_every, self.limits.silent_after)
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
        .route(
            PICTURE_UPLOAD_PATH,
            axum::routing::post(pictures::upload_picture),
        )
        .route(
            &format!("{MEDIA_PATH}{{name}}"),
            axum::routing::get(pictures::serve_picture),
        )
        .with_state(chat)
}

/// Small buffers and frames: idle sockets must stay cheap.
fn configure(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
}

/// A send that has not completed in this time (a client that stopped reading, its buffers
/// full) ends the socket.
const SEND_TIMEOUT: Duration = limits::SILENT_AFTER;

async fn send_message<Tx>(tx: &mut Tx, message: Message) -> Result<(), ()>
where
    Tx: Sink<Message> + Unpin,
{
    match tokio::time::timeout(SEND_TIMEOUT, tx.send(message)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

/// Sends one frame as JSON text; `Err` when the client is gone or too slow.
pub(crate) async fn send_frame<Tx, F>(tx: &mut Tx, frame: &F) -> Result<(), ()>
where
    Tx: Sink<Message> + Unpin,
    F: Serialize,
{
    let text = serde_json::to_string(frame).map_err(|_| ())?;
    send_message(tx, Message::Text(text.into())).await
}

/// Refuses a socket: the frame (an `Error` in Chinese, or the account channel's `LoginEnded`),
/// then, for a socket over a limit, a Close with `close_reason` (policy violation), then the
/// socket ends. The one way every socket route turns a caller away.
pub(crate) async fn refuse_socket<Tx, F>(tx: &mut Tx, frame: &F, close_reason: Option<&str>)
where
    Tx: Sink<Message> + Unpin,
    F: Serialize,
{
    let _ = send_frame(tx, frame).await;
    if let Some(reason) = close_reason {
        let close = CloseFrame {
            code: close_code::POLICY,
            reason: reason.into(),
        };
        let _ = send_message(tx, Message::Close(Some(close))).await;
    }
    let _ = tokio::time::timeout(SEND_TIMEOUT, tx.close()).await;
}

/// Refuses a socket of side `S` over a limit: its `Error` and a Close, both saying `reason`.
async fn refuse_over_limit<S: socket::Side, Tx>(tx: &mut Tx, reason: &str)
where
    Tx: Sink<Message> + Unpin,
{
    refuse_socket(tx, &S::refusal(reason.into(), None), Some(reason)).await;
}

/// How a socket reads one text frame: a client frame, or the Chinese refusal ([`TOO_LONG`],
/// [`UNKNOWN_FRAME`]). Never panics, whatever the text.
pub fn parse_frame<F: serde::de::DeserializeOwned>(text: &str) -> Result<F, &'static str> {
    if text.len() > MAX_PARSED_FRAME {
        return Err(TOO_LONG);
    }
    serde_json::from_str(text).map_err(|_| UNKNOWN_FRAME)
}

/// "Not yours" and "does not exist" are one answer on every chat route and frame, so nobody
/// learns by probing ids which conversations (or pictures) exist.
pub(crate) fn hide_foreign(err: &domain::DomainError) -> &domain::DomainError {
    const NOT_FOUND: &domain::DomainError = &domain::DomainError::NotFound;
    match err {
        domain::DomainError::Forbidden => NOT_FOUND,
        other => other,
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
            tracing::warn!(
                account_id,
                "no runtime: the agent's conversations were not released"
            );
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
        let Some((supplier_id, true)) =
            domain::chat::views::account_supplier(db, account_id).await?
        else {
            return Ok(());
        };
        let released = domain::chat::release_agent_conversations(
            db,
            supplier_id,
            account_id,
            domain::db::now_ms(),
        )
        .await?;
        notifier.released(supplier_id, &released).await;
        Ok::<_, domain::DomainError>(())
    }
    .await;
    if let Err(err) = result {
        tracing::warn!(error = %err, account_id, "releasing the agent's conversations failed");
    }
}

/// 超时结束 once: ends the idle conversations and tells both sides.
pub async fn end_idle_conversations(
    notifier: &ChatNotifier,
    idle: Duration,
) -> Result<usize, domain::DomainError> {
    let idle_ms = i64::try_from(idle.as_millis()).unwrap_or(i64::MAX);
    let ended =
        domain::chat::end_idle_conversations(&notifier.db, idle_ms, domain::db::now_ms()).await?;
    let conversations = domain::chat::views::conversations_by_ids(&notifier.db, &ended).await?;
    let mut suppliers = std::collections::BTreeSet::new();
    for conversation in &conversations {
        notifier.ended(conversation, domain::chat::EndReason::Timeout);
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
