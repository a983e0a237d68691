//! The account channel: a WebSocket per open signed-in page. It tells the page at once when its
//! login ends (剔除登录, password reset, 退出系统 elsewhere), and while open it is the login's
//! heartbeat. The loop is written against a generic Sink/Stream so tests drive it through
//! channels.

use std::{future::Future, time::Duration};

use app::realtime::{LoginEndReason, PROTOCOL_VERSION, ServerFrame};
use app::state::{AppState, token_from_headers};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{Message, WebSocket},
    },
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use domain::bus::AccountEvent;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::broadcast;

use crate::chat::limits::{Beat, Heartbeat, PING_EVERY, SILENT_AFTER};
use crate::chat::{refuse_socket, send_frame};

/// How the channel checks that the page is still there: a WebSocket Ping every `ping_every`;
/// nothing heard (no Pong, no frame) for `silent_after` closes it, so a half-open connection
/// (a laptop closed, a network gone) does not stay open, and keep the login alive, for ever.
#[derive(Clone, Copy, Debug)]
pub struct Liveness {
    pub ping_every: Duration,
    pub silent_after: Duration,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness {
            ping_every: PING_EVERY,
            silent_after: SILENT_AFTER,
        }
    }
}

/// How often an open channel re-checks its login: keeps it alive (heartbeat) and notices ends
/// that did not come through the bus (another node without a shared bus, the operator CLI,
/// the idle sweep).
pub const REVALIDATE_EVERY: Duration = Duration::from_secs(30);

/// Idle sockets must stay cheap: small buffers, small frames.
const READ_BUFFER: usize = 4 * 1024;
const MAX_FRAME: usize = 4 * 1024;

pub async fn account_channel(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Response {
    let token = token_from_headers(&headers);
    // A failed lookup is the server's fault: a 500, not "logged out" (which would send the page
    // to the login form).
    let session = match crate::caller::session_of(&state.auth, &headers).await {
        Ok(session) => session,
        Err(err) => return err.into_response(),
    };
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket: WebSocket| async move {
            let (mut tx, rx) = socket.split();
            match (session, token) {
                (Some(session), Some(token)) => {
                    let events = state.bus.subscribe(session.account_id);
                    let auth = state.auth.clone();
                    let still_valid = move || {
                        let auth = auth.clone();
                        let token = token.clone();
                        async move { !matches!(auth.session(&token).await, Ok(None)) }
                    };
                    run_account_channel(
                        tx,
                        rx,
                        events,
                        still_valid,
                        REVALIDATE_EVERY,
                        Liveness::default(),
                    )
                    .await;
                }
                // No login: say so, so the page goes to the login page instead of retrying.
                _ => {
                    let ended = ServerFrame::LoginEnded {
                        reason: LoginEndReason::Expired,
                    };
                    refuse_socket(&mut tx, &ended, None).await;
                }
            }
        })
}

/// Runs one page's channel until the page goes away or its login ends.
pub async fn run_account_channel<Tx, Rx, E, V, F>(
    mut tx: Tx,
    mut rx: Rx,
    mut events: broadcast::Receiver<AccountEvent>,
    still_valid: V,
    revalidate_every: Duration,
    liveness: Liveness,
) where
    Tx: Sink<Message> + Unpin,
    Rx: Stream<Item = Result<Message, E>> + Unpin,
    V: Fn() -> F,
    F: Future<Output = bool>,
{
    let hello = ServerFrame::Hello {
        version: PROTOCOL_VERSION,
    };
    if send_frame(&mut tx, &hello).await.is_err() {
        return;
    }
    let mut tick = tokio::time::interval(revalidate_every);
    tick.tick().await; // the first tick is immediate; the login was just checked
    let mut heartbeat = Heartbeat::new(liveness.ping_every, liveness.silent_after);
    let ended = loop {
        tokio::select! {
            beat = heartbeat.beat() => match beat {
                Beat::Ping => {
                    let ping = tokio::time::timeout(liveness.silent_after, tx.send(Message::Ping(Default::default())));
                    if !matches!(ping.await, Ok(Ok(()))) {
                        return;
                    }
                }
                // Nobody is listening: no LoginEnded to send.
                Beat::Silent => break None,
            },
            event = events.recv() => match event {
                Ok(AccountEvent::LoginEnded(reason)) => break Some(reason),
                // Fell behind: check the login itself.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    if !still_valid().await { break Some(LoginEndReason::Expired) }
                }
                Err(broadcast::error::RecvError::Closed) => break None,
            },
            _ = tick.tick() => {
                if !still_valid().await { break Some(LoginEndReason::Expired) }
            }
            incoming = rx.next() => match heartbeat.heard_from(incoming) {
                // Pings and text frames keep the socket open; pongs are answered by axum.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break None,
                Some(Ok(_)) => {}
            },
        }
    };
    if let Some(reason) = ended {
        let _ = tokio::time::timeout(
            liveness.silent_after,
            send_frame(&mut tx, &ServerFrame::LoginEnded { reason }),
        )
        .await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), tx.close()).await;
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };

    use domain::bus::{Bus, InProcessBus};
    use futures::channel::mpsc;

    use super::*;

    fn frames(sent: Vec<Message>) -> Vec<ServerFrame> {
        sent.into_iter()
            .filter_map(|m| match m {
                Message::Text(t) => serde_json::from_str(t.as_str()).ok(),
                _ => None,
            })
            .collect()
    }

    #[tokio::test]
    async fn a_kick_reaches_the_page_at_once() {
        let bus = InProcessBus::default();
        let (tx, sent) = mpsc::unbounded::<Message>();
        let (_client, rx) = mpsc::unbounded::<Result<Message, ()>>();
        let events = bus.subscribe(42);
        let task = tokio::spawn(run_account_channel(
            tx,
            rx,
            events,
            || async { true },
            Duration::from_secs(3600),
            Liveness::default(),
        ));
        bus.publish(41, AccountEvent::LoginEnded(LoginEndReason::Kicked)); // someone else
        bus.publish(42, AccountEvent::LoginEnded(LoginEndReason::Kicked));
        tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .expect("the channel ends within a second")
            .expect("no panic");
        assert_eq!(
            frames(sent.collect().await),
            vec![
                ServerFrame::Hello {
                    version: PROTOCOL_VERSION
                },
                ServerFrame::LoginEnded {
                    reason: LoginEndReason::Kicked
                },
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_login_ended_elsewhere_is_noticed_by_revalidation() {
        let bus = InProcessBus::default();
        let (tx, sent) = mpsc::unbounded::<Message>();
        let (_client, rx) = mpsc::unbounded::<Result<Message, ()>>();
        let valid = Arc::new(AtomicBool::new(true));
        let check = valid.clone();
        let task = tokio::spawn(run_account_channel(
            tx,
            rx,
            bus.subscribe(1),
            move || {
                let v = check.load(Ordering::SeqCst);
                async move { v }
            },
            Duration::from_secs(30),
            Liveness {
                ping_every: Duration::from_secs(3600),
                silent_after: Duration::from_secs(7200),
            },
        ));
        tokio::time::sleep(Duration::from_secs(31)).await;
        assert!(!task.is_finished(), "a valid login keeps its channel");
        valid.store(false, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(31)).await;
        task.await.expect("no panic");
        assert_eq!(
            frames(sent.collect().await).last(),
            Some(&ServerFrame::LoginEnded {
                reason: LoginEndReason::Expired
            })
        );
    }

    #[tokio::test]
    async fn the_page_going_away_ends_the_channel_quietly() {
        let bus = InProcessBus::default();
        let (tx, sent) = mpsc::unbounded::<Message>();
        let (client, rx) = mpsc::unbounded::<Result<Message, ()>>();
        drop(client);
        run_account_channel(
            tx,
            rx,
            bus.subscribe(5),
            || async { true },
            Duration::from_secs(3600),
            Liveness::default(),
        )
        .await;
        assert_eq!(
            frames(sent.collect().await),
            vec![ServerFrame::Hello {
                version: PROTOCOL_VERSION
            }]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_page_is_pinged_then_closed_and_one_that_answers_stays() {
        let bus = InProcessBus::default();
        let liveness = Liveness {
            ping_every: Duration::from_secs(20),
            silent_after: Duration::from_secs(60),
        };

        // Never answers: pinged, then closed, with no LoginEnded (the login is fine).
        let (tx, sent) = mpsc::unbounded::<Message>();
        let (_client, rx) = mpsc::unbounded::<Result<Message, ()>>();
        let started = tokio::time::Instant::now();
        run_account_channel(
            tx,
            rx,
            bus.subscribe(7),
            || async { true },
            Duration::from_secs(3600),
            liveness,
        )
        .await;
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(60) && waited <= Duration::from_secs(81),
            "closed after {waited:?}"
        );
        let sent: Vec<Message> = sent.collect().await;
        let pings = sent
            .iter()
            .filter(|m| matches!(m, Message::Ping(_)))
            .count();
        assert!(pings >= 2, "pinged before closing: {pings}");
        assert_eq!(
            frames(sent),
            vec![ServerFrame::Hello {
                version: PROTOCOL_VERSION
            }]
        );

        // Answers every Ping with a Pong: still open after ten minutes, then the page leaves.
        let (tx, mut sent) = mpsc::unbounded::<Message>();
        let (client, rx) = mpsc::unbounded::<Result<Message, ()>>();
        let task = tokio::spawn(run_account_channel(
            tx,
            rx,
            bus.subscribe(8),
            || async { true },
            Duration::from_secs(3600),
            liveness,
        ));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        let mut pongs = 0;
        while tokio::time::Instant::now() < deadline {
            match sent.next().await {
                Some(Message::Ping(payload)) => {
                    client
                        .unbounded_send(Ok(Message::Pong(payload)))
                        .expect("channel open");
                    pongs += 1;
                }
                Some(_) => {}
                None => panic!("the channel of a page that answers was closed"),
            }
        }
        assert!(pongs >= 25, "{pongs} pings answered");
        assert!(!task.is_finished());
        drop(client);
        task.await.expect("no panic");
    }
}
