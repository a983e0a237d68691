//! The chat hub: carries frames to the sockets that are open right now. Three kinds of
//! listeners: every socket of one agent, every socket of one buyer, and every buyer socket of a
//! supplier (queue changes). Keys always include the supplier, so a listener of one tenant can
//! never be addressed with another tenant's ids. Which listeners receive an event is decided in
//! one place, [`super::notify::ChatNotifier`]; the hub only delivers.
//!
//! The in-process hub serves a single node; a Redis-backed hub implements [`ChatHub`] for
//! several nodes and nothing else changes.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use app::chat::protocol::{AgentServerFrame, BuyerServerFrame};
use tokio::sync::broadcast;

/// Identifies one open socket (to skip the socket an event came from).
pub type SocketId = u64;

/// A frame for every socket of a listener, except possibly the one it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery<F> {
    pub frame: F,
    pub except: Option<SocketId>,
}

impl<F> Delivery<F> {
    pub fn all(frame: F) -> Self {
        Delivery {
            frame,
            except: None,
        }
    }
    pub fn except(frame: F, socket: SocketId) -> Self {
        Delivery {
            frame,
            except: Some(socket),
        }
    }
    /// Whether `socket` must send this delivery.
    pub fn is_for(&self, socket: SocketId) -> bool {
        self.except != Some(socket)
    }
}

/// An event for every buyer socket of a supplier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SupplierEvent {
    /// The queue changed (someone left it): waiting buyers re-read their position.
    QueueChanged,
}

/// Delivers chat events to the sockets open on this node (or, for another implementation, on
/// any node).
pub trait ChatHub: Send + Sync {
    fn subscribe_agent(
        &self,
        supplier_id: i64,
        agent_id: i64,
    ) -> broadcast::Receiver<Delivery<AgentServerFrame>>;
    fn subscribe_buyer(
        &self,
        supplier_id: i64,
        buyer_id: i64,
    ) -> broadcast::Receiver<Delivery<BuyerServerFrame>>;
    fn subscribe_supplier(&self, supplier_id: i64) -> broadcast::Receiver<SupplierEvent>;
    fn to_agent(&self, supplier_id: i64, agent_id: i64, delivery: Delivery<AgentServerFrame>);
    fn to_buyer(&self, supplier_id: i64, buyer_id: i64, delivery: Delivery<BuyerServerFrame>);
    fn to_supplier(&self, supplier_id: i64, event: SupplierEvent);
}

/// Frames a socket may fall behind by before it is closed (the client then reconnects and
/// resumes from its last seq, so nothing is lost). The slots are allocated when the channel is
/// made, so they are most of what an idle socket costs: an agent hears about all of their
/// buyers, a buyer only about their own conversation.
const AGENT_CAPACITY: usize = 64;
const BUYER_CAPACITY: usize = 16;
const SUPPLIER_CAPACITY: usize = 64;

/// One broadcast channel per key with listeners.
struct Channels<K, T> {
    capacity: usize,
    inner: Mutex<ChannelMap<K, T>>,
}

struct ChannelMap<K, T> {
    map: HashMap<K, broadcast::Sender<T>>,
    /// Size of the map after the last sweep of channels nobody listens to any more.
    swept_at: usize,
}

impl<K, T> Channels<K, T> {
    fn new(capacity: usize) -> Self {
        Channels {
            capacity,
            inner: Mutex::new(ChannelMap {
                map: HashMap::new(),
                swept_at: 0,
            }),
        }
    }
}

impl<K: Hash + Eq, T: Clone> Channels<K, T> {
    fn subscribe(&self, key: K) -> broadcast::Receiver<T> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        // Forget channels whose sockets are all gone, once the map has doubled since the last
        // sweep: amortised O(1) per subscription instead of a pass over every socket.
        if inner.map.len() >= (2 * inner.swept_at).max(64) {
            inner.map.retain(|_, tx| tx.receiver_count() > 0);
            inner.swept_at = inner.map.len();
        }
        let capacity = self.capacity;
        inner
            .map
            .entry(key)
            .or_insert_with(|| broadcast::channel(capacity).0)
            .subscribe()
    }

    fn publish(&self, key: &K, event: T) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let map = &mut inner.map;
        if let Some(tx) = map.get(key)
            && tx.send(event).is_err()
        {
            map.remove(key);
        }
    }
}

/// The single-node hub.
pub struct InProcessHub {
    agents: Channels<(i64, i64), Delivery<AgentServerFrame>>,
    buyers: Channels<(i64, i64), Delivery<BuyerServerFrame>>,
    suppliers: Channels<i64, SupplierEvent>,
}

impl Default for InProcessHub {
    fn default() -> Self {
        InProcessHub {
            agents: Channels::new(AGENT_CAPACITY),
            buyers: Channels::new(BUYER_CAPACITY),
            suppliers: Channels::new(SUPPLIER_CAPACITY),
        }
    }
}

impl ChatHub for InProcessHub {
    fn subscribe_agent(
        &self,
        supplier_id: i64,
        agent_id: i64,
    ) -> broadcast::Receiver<Delivery<AgentServerFrame>> {
        self.agents.subscribe((supplier_id, agent_id))
    }
    fn subscribe_buyer(
        &self,
        supplier_id: i64,
        buyer_id: i64,
    ) -> broadcast::Receiver<Delivery<BuyerServerFrame>> {
        self.buyers.subscribe((supplier_id, buyer_id))
    }
    fn subscribe_supplier(&self, supplier_id: i64) -> broadcast::Receiver<SupplierEvent> {
        self.suppliers.subscribe(supplier_id)
    }
    fn to_agent(&self, supplier_id: i64, agent_id: i64, delivery: Delivery<AgentServerFrame>) {
        self.agents.publish(&(supplier_id, agent_id), delivery);
    }
    fn to_buyer(&self, supplier_id: i64, buyer_id: i64, delivery: Delivery<BuyerServerFrame>) {
        self.buyers.publish(&(supplier_id, buyer_id), delivery);
    }
    fn to_supplier(&self, supplier_id: i64, event: SupplierEvent) {
        self.suppliers.publish(&supplier_id, event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_same_ids_of_another_supplier_are_another_listener() {
        let hub = InProcessHub::default();
        let mut mine = hub.subscribe_agent(1, 7);
        let mut other = hub.subscribe_agent(2, 7);
        hub.to_agent(
            1,
            7,
            Delivery::all(AgentServerFrame::Status { serving: true }),
        );
        assert_eq!(
            mine.recv().await.ok().map(|d| d.frame),
            Some(AgentServerFrame::Status { serving: true })
        );
        assert!(
            other.try_recv().is_err(),
            "supplier 2's agent 7 must not see supplier 1's event"
        );
    }

    #[tokio::test]
    async fn channels_nobody_listens_to_are_forgotten() {
        let hub = InProcessHub::default();
        for buyer in 0..1000 {
            drop(hub.subscribe_buyer(1, buyer));
        }
        let _live = hub.subscribe_buyer(1, 5000);
        let len = hub
            .buyers
            .inner
            .lock()
            .map(|i| i.map.len())
            .unwrap_or(usize::MAX);
        assert!(len < 200, "{len} channels kept for 1 live listener");
    }

    #[test]
    fn a_delivery_skips_the_socket_it_came_from() {
        let d = Delivery::except(AgentServerFrame::Status { serving: true }, 3);
        assert!(!d.is_for(3));
        assert!(d.is_for(4));
    }
}
