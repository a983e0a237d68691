//! Agent presence: a 服务中 agent whose last workbench socket closed (browser closed, network
//! gone) is switched to 示忙 after a grace period, so no new buyer is routed to a screen nobody
//! watches. A reload or a short drop reconnects within the grace period and changes nothing.
//! The buyers the agent already holds stay theirs (示忙 keeps its buyers) until they come back or
//! their login is released.
//!
//! Counts are per process: with several nodes behind a balancer this moves to the shared bus.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::hub::SocketId;
use super::notify::ChatNotifier;

/// Default time an agent may be without a socket before becoming 示忙.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(30);

/// Open workbench sockets per agent.
pub struct Presence {
    sockets: Mutex<HashMap<i64, usize>>,
    grace: Duration,
}

impl Presence {
    pub fn new(grace: Duration) -> Arc<Self> {
        Arc::new(Presence {
            sockets: Mutex::new(HashMap::new()),
            grace,
        })
    }

    fn count(&self, agent_id: i64) -> usize {
        self.sockets
            .lock()
            .map(|m| m.get(&agent_id).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// A workbench socket of the agent opened; dropping the guard closes it.
    pub fn enter(
        self: &Arc<Self>,
        notifier: ChatNotifier,
        supplier_id: i64,
        agent_id: i64,
        socket: SocketId,
    ) -> PresenceGuard {
        if let Ok(mut m) = self.sockets.lock() {
            *m.entry(agent_id).or_insert(0) += 1;
        }
        PresenceGuard {
            presence: self.clone(),
            notifier,
            supplier_id,
            agent_id,
            socket,
        }
    }
}

/// Held by a running agent socket.
pub struct PresenceGuard {
    presence: Arc<Presence>,
    notifier: ChatNotifier,
    supplier_id: i64,
    agent_id: i64,
    socket: SocketId,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let left = match self.presence.sockets.lock() {
            Ok(mut m) => {
                let n = m.entry(self.agent_id).or_insert(1);
                *n = n.saturating_sub(1);
                let left = *n;
                if left == 0 {
                    m.remove(&self.agent_id);
                }
                left
            }
            Err(_) => return,
        };
        if left > 0 {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (presence, notifier) = (self.presence.clone(), self.notifier.clone());
        let (supplier_id, agent_id, socket) = (self.supplier_id, self.agent_id, self.socket);
        runtime.spawn(async move {
            tokio::time::sleep(presence.grace).await;
            if presence.count(agent_id) > 0 {
                return; // back in time
            }
            let db = &notifier.db;
            let result = async {
                if domain::chat::views::is_serving(db, supplier_id, agent_id).await? {
                    domain::chat::set_serving(
                        db,
                        supplier_id,
                        agent_id,
                        false,
                        domain::db::now_ms(),
                    )
                    .await?;
                    notifier.status(supplier_id, agent_id, false, socket);
                    tracing::info!(agent_id, "no workbench open: switched to 示忙");
                }
                Ok::<_, domain::DomainError>(())
            }
            .await;
            if let Err(err) = result {
                tracing::warn!(error = %err, agent_id, "switching an absent agent to 示忙 failed");
            }
        });
    }
}
