//! What one buyer, agent or client address can cost the chat: open sockets, silent sockets
//! (ping/pong), picture uploads and the picture decoder. Every limit has a default constant
//! here; [`ChatLimits`] carries them so tests (and the configuration) can change them.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// Open `/ws/buyer` sockets per buyer (one supplier's 客户编号): a few tabs, not hundreds.
pub const SOCKETS_PER_BUYER: usize = 3;
/// Open `/ws/agent` sockets per agent account.
pub const SOCKETS_PER_AGENT: usize = 5;
/// Open chat sockets per client address. Generous: a county office puts many buyers behind one
/// address.
pub const SOCKETS_PER_ADDR: usize = 200;
/// New conversations (first entry, 重新咨询) a buyer may start per [`NEW_CONVERSATION_WINDOW`].
pub const NEW_CONVERSATIONS_PER_WINDOW: u32 = 5;
pub const NEW_CONVERSATION_WINDOW: Duration = Duration::from_secs(60);
/// Every socket sends a WebSocket Ping this often …
pub const PING_EVERY: Duration = Duration::from_secs(20);
/// … and is closed when nothing (no Pong, no frame) came from the client for this long, so a
/// half-open connection does not keep its slot.
pub const SILENT_AFTER: Duration = Duration::from_secs(60);
/// Pictures one buyer or one agent may upload per [`PICTURE_WINDOW`].
pub const PICTURES_PER_WINDOW: usize = 10;
pub const PICTURE_WINDOW: Duration = Duration::from_secs(60);
/// Picture bodies read and decoded at once (each up to 5 MiB, decoded up to 200 MB).
pub const DECODE_SLOTS: usize = 2;
/// Uploads that may wait for a decode slot; beyond that they are refused at once.
pub const DECODE_QUEUE: usize = 8;
/// A picture body must arrive within this time once it has its decode slot.
pub const UPLOAD_BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest re-encoded picture stored (a small GIF can become a big PNG).
pub const MAX_ENCODED_BYTES: usize = 8 * 1024 * 1024;
/// An upload no message refers to is deleted (row and file) after this long …
pub const UNREFERENCED_UPLOAD_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// … by a sweep this often.
pub const UPLOAD_SWEEP_EVERY: Duration = Duration::from_secs(60 * 60);

pub const TOO_MANY_BUYER_SOCKETS: &str = "您打开的客服窗口过多，请关闭其他窗口后再试";
pub const TOO_MANY_AGENT_SOCKETS: &str = "您打开的客服工作台过多，请关闭其他窗口后再试";
pub const TOO_MANY_ADDR_SOCKETS: &str = "当前网络打开的客服窗口过多，请稍后再试";
pub const PICTURES_TOO_FAST: &str = "上传图片过于频繁，请稍后再试";
pub const PICTURES_BUSY: &str = "上传的图片较多，请稍后再试";
pub const PICTURE_UPLOAD_TIMEOUT: &str = "图片上传超时，请重试";

/// The limits of one chat node.
#[derive(Clone, Debug)]
pub struct ChatLimits {
    pub sockets_per_buyer: usize,
    pub sockets_per_agent: usize,
    pub sockets_per_addr: usize,
    pub new_conversations_per_window: u32,
    pub new_conversation_window: Duration,
    pub ping_every: Duration,
    pub silent_after: Duration,
    pub pictures_per_window: usize,
    pub picture_window: Duration,
    pub decode_slots: usize,
    pub decode_queue: usize,
    pub upload_body_timeout: Duration,
    pub max_encoded_bytes: usize,
    pub unreferenced_upload_ttl: Duration,
    pub upload_sweep_every: Duration,
    /// A buyer token must expire within this long of its use (else refused).
    pub buyer_token_max_lifetime_secs: i64,
}

impl Default for ChatLimits {
    fn default() -> Self {
        ChatLimits {
            sockets_per_buyer: SOCKETS_PER_BUYER,
            sockets_per_agent: SOCKETS_PER_AGENT,
            sockets_per_addr: SOCKETS_PER_ADDR,
            new_conversations_per_window: NEW_CONVERSATIONS_PER_WINDOW,
            new_conversation_window: NEW_CONVERSATION_WINDOW,
            ping_every: PING_EVERY,
            silent_after: SILENT_AFTER,
            pictures_per_window: PICTURES_PER_WINDOW,
            picture_window: PICTURE_WINDOW,
            decode_slots: DECODE_SLOTS,
            decode_queue: DECODE_QUEUE,
            upload_body_timeout: UPLOAD_BODY_TIMEOUT,
            max_encoded_bytes: MAX_ENCODED_BYTES,
            unreferenced_upload_ttl: UNREFERENCED_UPLOAD_TTL,
            upload_sweep_every: UPLOAD_SWEEP_EVERY,
            buyer_token_max_lifetime_secs: domain::chat::buyer_token::DEFAULT_MAX_LIFETIME_SECS,
        }
    }
}

/// Whose sockets are counted.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SlotKey {
    /// A buyer: the supplier and the mall's 客户编号 (as in the token).
    Buyer(i64, String),
    /// An agent account of a supplier.
    Agent(i64, i64),
    /// A client address.
    Addr(String),
}

/// Counts of open sockets; a [`SocketSlot`] gives its place back when dropped, however the
/// socket ended (close, error, a dropped task).
pub struct SocketSlots {
    open: Mutex<HashMap<SlotKey, usize>>,
    /// Bumped whenever a slot is taken or given back (tests wait on it).
    changed: watch::Sender<u64>,
}

impl Default for SocketSlots {
    fn default() -> Self {
        SocketSlots {
            open: Mutex::new(HashMap::new()),
            changed: watch::channel(0).0,
        }
    }
}

impl SocketSlots {
    /// A place for one more socket of `key`, or `None` when it already has `max`.
    pub fn try_acquire(self: &Arc<Self>, key: SlotKey, max: usize) -> Option<SocketSlot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(key.clone()).or_insert(0);
        if *n >= max {
            if *n == 0 {
                open.remove(&key);
            }
            return None;
        }
        *n += 1;
        drop(open);
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
        Some(SocketSlot {
            slots: self.clone(),
            key,
        })
    }

    /// Sockets of `key` open now.
    pub fn count(&self, key: &SlotKey) -> usize {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    /// Changes whenever a slot is taken or given back.
    pub fn changed(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }
}

/// One open socket's place; dropping it frees the place.
pub struct SocketSlot {
    slots: Arc<SocketSlots>,
    key: SlotKey,
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        {
            let mut open = self.slots.open.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = open.get_mut(&self.key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    open.remove(&self.key);
                }
            }
        }
        self.slots.changed.send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// At most `max` events per key in any sliding `window`.
pub struct RateWindows<K> {
    max: usize,
    window: Duration,
    inner: Mutex<RateMap<K>>,
}

struct RateMap<K> {
    map: HashMap<K, VecDeque<Instant>>,
    /// Size of the map after the last sweep of keys with nothing recent.
    swept_at: usize,
}

impl<K: Hash + Eq> RateWindows<K> {
    pub fn new(max: usize, window: Duration) -> Self {
        RateWindows {
            max,
            window,
            inner: Mutex::new(RateMap {
                map: HashMap::new(),
                swept_at: 0,
            }),
        }
    }

    /// Counts one event of `key` if it is within the limit.
    pub fn allow(&self, key: K) -> bool {
        let now = Instant::now();
        let window = self.window;
        let recent = |t: &Instant| now.duration_since(*t) < window;
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        // Forget quiet keys once the map has doubled since the last sweep (amortised).
        if inner.map.len() >= (2 * inner.swept_at).max(256) {
            inner
                .map
                .retain(|_, times| times.back().is_some_and(recent));
            inner.swept_at = inner.map.len();
        }
        let times = inner.map.entry(key).or_default();
        while times.front().is_some_and(|t| !recent(t)) {
            times.pop_front();
        }
        if times.len() >= self.max {
            return false;
        }
        times.push_back(now);
        true
    }
}

/// The picture decoder's load, for tests and monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PictureLoad {
    /// Uploads waiting for a decode slot (their bodies not read yet).
    pub waiting: usize,
    /// Uploads holding a slot: reading, decoding or storing their body.
    pub holding: usize,
    /// The most that ever held a slot at once.
    pub max_holding: usize,
}

/// Decode slots: an upload takes one BEFORE its body is read, so at most `slots` bodies are in
/// memory at once; at most `queue` more wait, the rest are refused at once.
pub struct PictureGate {
    slots: Arc<Semaphore>,
    capacity: usize,
    load: watch::Sender<PictureLoad>,
}

/// The queue is full.
#[derive(Debug)]
pub struct Busy;

impl PictureGate {
    pub fn new(slots: usize, queue: usize) -> Arc<Self> {
        let slots = slots.max(1);
        Arc::new(PictureGate {
            slots: Arc::new(Semaphore::new(slots)),
            capacity: slots + queue,
            load: watch::channel(PictureLoad::default()).0,
        })
    }

    /// Waits for a decode slot, or `Busy` when too many uploads wait already.
    pub async fn enter(self: &Arc<Self>) -> Result<DecodeSlot, Busy> {
        let capacity = self.capacity;
        let mut admitted = false;
        self.load.send_if_modified(|load| {
            admitted = load.waiting + load.holding < capacity;
            if admitted {
                load.waiting += 1;
            }
            admitted
        });
        if !admitted {
            return Err(Busy);
        }
        // Gives the place in the queue back even if the client goes away while waiting.
        let waiting = Waiting(self.clone());
        let permit = self.slots.clone().acquire_owned().await.map_err(|_| Busy)?;
        self.load.send_modify(|load| {
            load.holding += 1;
            load.max_holding = load.max_holding.max(load.holding);
        });
        drop(waiting);
        Ok(DecodeSlot {
            gate: self.clone(),
            _permit: permit,
        })
    }

    /// The current load; changes as uploads come and go.
    pub fn load(&self) -> watch::Receiver<PictureLoad> {
        self.load.subscribe()
    }
}

struct Waiting(Arc<PictureGate>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0
            .load
            .send_modify(|load| load.waiting = load.waiting.saturating_sub(1));
    }
}

/// Held while a picture body is read, decoded and stored.
pub struct DecodeSlot {
    gate: Arc<PictureGate>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for DecodeSlot {
    fn drop(&mut self) {
        self.gate
            .load
            .send_modify(|load| load.holding = load.holding.saturating_sub(1));
    }
}

/// What the heartbeat asks the socket loop to do.
pub enum Beat {
    /// Send a WebSocket Ping.
    Ping,
    /// Nothing came from the client for too long: close.
    Silent,
}

/// Pings the client every `ping_every` and notices when it has been silent for `silent_after`.
pub struct Heartbeat {
    tick: tokio::time::Interval,
    last_heard: tokio::time::Instant,
    silent_after: Duration,
}

impl Heartbeat {
    pub fn new(ping_every: Duration, silent_after: Duration) -> Self {
        let ping_every = ping_every.max(Duration::from_millis(10));
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Heartbeat {
            tick,
            last_heard: tokio::time::Instant::now(),
            silent_after,
        }
    }

    /// The client sent something (a frame, a Pong, a Ping).
    pub fn heard(&mut self) {
        self.last_heard = tokio::time::Instant::now();
    }

    /// Passes a socket's next incoming message through, noting that the client is alive.
    pub fn heard_from<T, E>(&mut self, incoming: Option<Result<T, E>>) -> Option<Result<T, E>> {
        if matches!(incoming, Some(Ok(_))) {
            self.heard();
        }
        incoming
    }

    /// Waits for the next beat.
    pub async fn beat(&mut self) -> Beat {
        self.tick.tick().await;
        if self.last_heard.elapsed() >= self.silent_after {
            Beat::Silent
        } else {
            Beat::Ping
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_given_back_when_dropped() {
        let slots = Arc::new(SocketSlots::default());
        let key = SlotKey::Buyer(1, "B-1".into());
        let a = slots.try_acquire(key.clone(), 2);
        let b = slots.try_acquire(key.clone(), 2);
        assert!(a.is_some() && b.is_some());
        assert!(slots.try_acquire(key.clone(), 2).is_none());
        assert!(
            slots
                .try_acquire(SlotKey::Buyer(2, "B-1".into()), 2)
                .is_some(),
            "another supplier's buyer"
        );
        drop(a);
        assert_eq!(slots.count(&key), 1);
        assert!(slots.try_acquire(key.clone(), 2).is_some());
    }

    #[test]
    fn a_rate_window_counts_per_key() {
        let rate = RateWindows::new(2, Duration::from_secs(60));
        assert!(rate.allow(1));
        assert!(rate.allow(1));
        assert!(!rate.allow(1));
        assert!(rate.allow(2));
        let short = RateWindows::new(1, Duration::ZERO);
        assert!(
            short.allow(1) && short.allow(1),
            "an empty window forgets at once"
        );
    }

    #[tokio::test]
    async fn the_decode_queue_is_bounded() {
        let gate = PictureGate::new(1, 1);
        let first = gate.enter().await.expect("a slot");
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move { gate.enter().await.is_ok() }
        });
        let mut load = gate.load();
        load.wait_for(|l| l.waiting == 1).await.expect("load");
        assert!(gate.enter().await.is_err(), "the queue is full");
        drop(first);
        assert!(waiting.await.expect("no panic"));
        assert_eq!(gate.load().borrow().max_holding, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_client_is_noticed() {
        let mut heart = Heartbeat::new(Duration::from_secs(20), Duration::from_secs(60));
        assert!(matches!(heart.beat().await, Beat::Ping));
        heart.heard();
        assert!(matches!(heart.beat().await, Beat::Ping));
        assert!(matches!(heart.beat().await, Beat::Ping));
        assert!(matches!(heart.beat().await, Beat::Silent));
    }
}
