//! The seam for real-time events: who must be told what, right now. The in-process bus serves a
//! single node; a Redis-backed bus implements the same trait for several nodes, and nothing
//! that publishes or subscribes has to change.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::broadcast;

/// Why a login ended: the one enum the domain, the server and the browser share.
pub use vocab::LoginEndReason;

/// An event for every open page of one account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountEvent {
    LoginEnded(LoginEndReason),
}

/// Publishes account events to whoever listens, on this node or any other.
pub trait Bus: Send + Sync {
    fn publish(&self, account_id: i64, event: AccountEvent);
    fn subscribe(&self, account_id: i64) -> broadcast::Receiver<AccountEvent>;
}

/// The single-node bus: one broadcast channel per account with listeners.
#[derive(Default)]
pub struct InProcessBus {
    channels: Mutex<HashMap<i64, broadcast::Sender<AccountEvent>>>,
}

/// Events an account's listener may fall behind by before it starts losing them.
const CHANNEL_CAPACITY: usize = 8;

impl Bus for InProcessBus {
    fn publish(&self, account_id: i64, event: AccountEvent) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        // Nobody listens any more: forget the channel.
        if let Some(tx) = channels.get(&account_id)
            && tx.send(event).is_err()
        {
            channels.remove(&account_id);
        }
    }

    fn subscribe(&self, account_id: i64) -> broadcast::Receiver<AccountEvent> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels
            .entry(account_id)
            .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
            .subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_reach_only_the_account_they_are_for() {
        let bus = InProcessBus::default();
        let mut a = bus.subscribe(1);
        let mut b = bus.subscribe(2);
        bus.publish(1, AccountEvent::LoginEnded(LoginEndReason::Kicked));
        assert_eq!(
            a.recv().await.ok(),
            Some(AccountEvent::LoginEnded(LoginEndReason::Kicked))
        );
        assert!(
            b.try_recv().is_err(),
            "account 2 must not see account 1's event"
        );
    }

    #[test]
    fn channels_without_listeners_are_dropped() {
        let bus = InProcessBus::default();
        drop(bus.subscribe(7));
        bus.publish(7, AccountEvent::LoginEnded(LoginEndReason::LoggedOut));
        assert!(bus.channels.lock().map(|c| c.is_empty()).unwrap_or(false));
    }
}
