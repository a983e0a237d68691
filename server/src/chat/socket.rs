//! The socket loop both chat sides share: the heartbeat, the hub's deliveries, the side's own
//! events and the client's frames (rate-limited, parsed) in one `select!`, the answers sent in
//! order, and how the socket ends. What differs between the agent workbench and the buyer
//! widget is a [`Side`]: its frames, its events and how it answers them. The loop only needs a
//! Sink/Stream pair, so the unit tests below drive it through channels.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, close_code};
use domain::DomainError;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::hub::{Delivery, SocketId};
use super::limits::{Beat, Heartbeat};
use super::{
    FELL_BEHIND, MAX_FRAMES_PER_SEC, MAX_PARSED_FRAME, TOO_FAST, UNKNOWN_FRAME, parse_frame,
    send_frame, send_message,
};

/// One side of the chat (agent workbench or buyer widget) as the socket loop sees it.
pub(super) trait Side {
    /// What the client sends.
    type In: DeserializeOwned;
    /// What the server sends.
    type Out: Serialize;
    /// One of the side's own event sources woke (besides the hub and the client).
    type Event;
    /// Names the side in the logs.
    const NAME: &'static str;

    /// The side's `Error` frame, in Chinese, naming the refused message's client id if any.
    fn refusal(message: String, client_msg_id: Option<String>) -> Self::Out;

    /// Waits for the side's next event. Must be cancel-safe: it loses the race to the other
    /// sources all the time; the work belongs in [`Side::on_event`].
    async fn next_event(&mut self) -> Self::Event;

    /// Answers one event of the side's own.
    async fn on_event(&mut self, event: Self::Event) -> Step<Self::Out>;

    /// Answers one client frame. `tx` is for answers sent a page at a time as they are read.
    async fn on_frame<Tx>(&mut self, frame: Self::In, tx: &mut Tx) -> Step<Self::Out>
    where
        Tx: Sink<Message> + Unpin;

    /// The `Error` frame of a domain error: internal details are logged, never sent, and
    /// "not yours" reads as "does not exist".
    fn error(err: &DomainError, client_msg_id: Option<String>) -> Self::Out {
        if matches!(err, DomainError::Db(_) | DomainError::Internal(_)) {
            tracing::error!(error = %err, "chat ({})", Self::NAME);
        }
        Self::refusal(super::hide_foreign(err).user_message(), client_msg_id)
    }
}

/// What the loop does next.
pub(super) enum Step<F> {
    /// Send these frames (maybe none) and read on.
    Answer(Vec<F>),
    /// Send this last frame (if any), then close the socket.
    Close(Option<F>),
    /// The client is gone (a send failed): end without a Close.
    Gone,
}

impl<F> Step<F> {
    /// Nothing to send; read on.
    pub(super) fn nothing() -> Self {
        Step::Answer(Vec::new())
    }
}

/// One socket of `side`, until it closes: `hub` carries the frames for every socket of this
/// listener (`socket` skips its own), `heartbeat` pings and ends a silent client.
pub(super) async fn run<S, Tx, Rx, E>(
    mut side: S,
    socket: SocketId,
    mut hub: broadcast::Receiver<Delivery<S::Out>>,
    mut heartbeat: Heartbeat,
    mut tx: Tx,
    mut rx: Rx,
) where
    S: Side,
    S::Out: Clone,
    Tx: Sink<Message> + Unpin,
    Rx: Stream<Item = Result<Message, E>> + Unpin,
{
    let mut limit = RateLimit::new();
    loop {
        // The side's work is boxed: the loop (and so every idle socket's task) stays small.
        let step = tokio::select! {
            beat = heartbeat.beat() => match beat {
                Beat::Ping => match send_message(&mut tx, Message::Ping(Default::default())).await {
                    Ok(()) => Step::nothing(),
                    Err(()) => Step::Gone,
                },
                Beat::Silent => {
                    close_silent(&mut tx).await;
                    return;
                }
            },
            delivery = hub.recv() => from_hub::<S>(delivery, socket),
            event = side.next_event() => Box::pin(side.on_event(event)).await,
            incoming = rx.next() => match classify::<S::In, E>(heartbeat.heard_from(incoming), &mut limit) {
                Incoming::Frame(frame) => Box::pin(side.on_frame(frame, &mut tx)).await,
                Incoming::Refuse(message, client_msg_id) => Step::Answer(vec![S::refusal(message.into(), client_msg_id)]),
                Incoming::Ignore => Step::nothing(),
                Incoming::Closed => Step::Close(None),
            },
        };
        match step {
            Step::Answer(frames) => {
                for frame in &frames {
                    if send_frame(&mut tx, frame).await.is_err() {
                        return;
                    }
                }
            }
            Step::Close(last) => {
                if let Some(frame) = last {
                    let _ = send_frame(&mut tx, &frame).await;
                }
                break;
            }
            Step::Gone => return,
        }
    }
    let _ = tx.close().await;
}

/// A frame from the hub: sent unless it came from this very socket. A socket that fell behind
/// is told and closed (the client reconnects and resumes from its last seq).
fn from_hub<S: Side>(
    delivery: Result<Delivery<S::Out>, broadcast::error::RecvError>,
    socket: SocketId,
) -> Step<S::Out> {
    match delivery {
        Ok(delivery) if delivery.is_for(socket) => Step::Answer(vec![delivery.frame]),
        Ok(_) => Step::nothing(),
        Err(broadcast::error::RecvError::Lagged(_)) => {
            Step::Close(Some(S::refusal(FELL_BEHIND.into(), None)))
        }
        Err(broadcast::error::RecvError::Closed) => Step::Close(None),
    }
}

/// The client stopped answering: a Close (best effort), then the socket ends.
async fn close_silent<Tx>(tx: &mut Tx)
where
    Tx: Sink<Message> + Unpin,
{
    let close = CloseFrame {
        code: close_code::AWAY,
        reason: "连接无响应，已断开".into(),
    };
    let _ =
        tokio::time::timeout(Duration::from_secs(1), tx.send(Message::Close(Some(close)))).await;
}

/// At most [`MAX_FRAMES_PER_SEC`] frames in any one-second window of a socket.
struct RateLimit {
    window_start: Instant,
    count: u32,
}

impl RateLimit {
    fn new() -> Self {
        RateLimit {
            window_start: Instant::now(),
            count: 0,
        }
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
    /// Refuse with this message (and the refused message's client id, when it carried one, so
    /// the page can offer 重发 for exactly that message); the socket stays open.
    Refuse(&'static str, Option<String>),
    /// Nothing to do (ping, pong).
    Ignore,
    Closed,
}

/// The `client_msg_id` of a frame that is refused before it is handled (too fast, malformed),
/// so the page marks exactly that message 发送失败 instead of leaving it 发送中 for ever.
fn client_msg_id_of(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct WithId {
        client_msg_id: Option<String>,
    }
    if text.len() > MAX_PARSED_FRAME {
        return None;
    }
    let id = serde_json::from_str::<WithId>(text).ok()?.client_msg_id?;
    // Client ids are short; a long one is not echoed back.
    (id.chars().count() <= domain::chat::messages::MAX_CLIENT_MSG_ID_CHARS).then_some(id)
}

fn classify<F: DeserializeOwned, E>(
    incoming: Option<Result<Message, E>>,
    limit: &mut RateLimit,
) -> Incoming<F> {
    match incoming {
        Some(Ok(Message::Text(text))) => {
            if !limit.allow() {
                return Incoming::Refuse(TOO_FAST, client_msg_id_of(text.as_str()));
            }
            match parse_frame(text.as_str()) {
                Ok(frame) => Incoming::Frame(frame),
                Err(refusal) => Incoming::Refuse(refusal, client_msg_id_of(text.as_str())),
            }
        }
        Some(Ok(Message::Binary(_))) => {
            if limit.allow() {
                Incoming::Refuse(UNKNOWN_FRAME, None)
            } else {
                Incoming::Refuse(TOO_FAST, None)
            }
        }
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Incoming::Ignore,
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Incoming::Closed,
    }
}

#[cfg(test)]
mod tests {
    //! The loop driven through channels, as axum's testing-websockets example does: what the
    //! test sends is what a client sends, what it reads is what the client would receive.

    use std::convert::Infallible;

    use futures::channel::mpsc;
    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize)]
    #[serde(tag = "type")]
    enum TestIn {
        Echo { client_msg_id: String, body: String },
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type")]
    enum TestOut {
        Echoed {
            client_msg_id: String,
            body: String,
        },
        Told {
            what: String,
        },
        Error {
            message: String,
            client_msg_id: Option<String>,
        },
    }

    /// Echoes frames; its own events are told, or end the socket when they say "end".
    struct EchoSide {
        events: mpsc::UnboundedReceiver<String>,
    }

    impl Side for EchoSide {
        type In = TestIn;
        type Out = TestOut;
        type Event = Option<String>;
        const NAME: &'static str = "test";

        fn refusal(message: String, client_msg_id: Option<String>) -> TestOut {
            TestOut::Error {
                message,
                client_msg_id,
            }
        }

        async fn next_event(&mut self) -> Option<String> {
            self.events.next().await
        }

        async fn on_event(&mut self, event: Option<String>) -> Step<TestOut> {
            match event.as_deref() {
                Some("end") => Step::Close(Some(Self::refusal("结束".into(), None))),
                Some(what) => Step::Answer(vec![TestOut::Told { what: what.into() }]),
                None => Step::Close(None),
            }
        }

        async fn on_frame<Tx>(&mut self, frame: TestIn, _tx: &mut Tx) -> Step<TestOut>
        where
            Tx: Sink<Message> + Unpin,
        {
            let TestIn::Echo {
                client_msg_id,
                body,
            } = frame;
            Step::Answer(vec![TestOut::Echoed {
                client_msg_id,
                body,
            }])
        }
    }

    const SOCKET: SocketId = 7;

    /// The client's end of one socket run by the loop in a task of its own.
    struct Client {
        to_server: mpsc::Sender<Result<Message, Infallible>>,
        from_server: mpsc::Receiver<Message>,
        events: mpsc::UnboundedSender<String>,
        hub: broadcast::Sender<Delivery<TestOut>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Client {
        fn connect() -> Self {
            let (to_server, server_rx) = mpsc::channel(64);
            let (server_tx, from_server) = mpsc::channel(64);
            let (events, side_events) = mpsc::unbounded();
            let (hub, hub_rx) = broadcast::channel(4);
            let side = EchoSide {
                events: side_events,
            };
            let heartbeat = Heartbeat::new(Duration::from_secs(20), Duration::from_secs(60));
            let task = tokio::spawn(run(side, SOCKET, hub_rx, heartbeat, server_tx, server_rx));
            Client {
                to_server,
                from_server,
                events,
                hub,
                task,
            }
        }

        async fn send(&mut self, message: Message) {
            assert!(self.to_server.send(Ok(message)).await.is_ok());
        }

        async fn echo(&mut self, client_msg_id: &str) {
            let text =
                format!(r#"{{"type":"Echo","client_msg_id":"{client_msg_id}","body":"你好"}}"#);
            self.send(Message::Text(text.into())).await;
        }

        /// The next message from the server (`None` once the server closed its end).
        async fn message(&mut self) -> Option<Message> {
            self.from_server.next().await
        }

        /// The next frame from the server, past the heartbeat's Pings.
        async fn frame(&mut self) -> TestOut {
            loop {
                match self.message().await {
                    Some(Message::Ping(_)) => continue,
                    Some(Message::Text(text)) => {
                        return serde_json::from_str(text.as_str()).expect("a test frame");
                    }
                    other => panic!("expected a frame, got {other:?}"),
                }
            }
        }
    }

    fn echoed(client_msg_id: &str) -> TestOut {
        TestOut::Echoed {
            client_msg_id: client_msg_id.into(),
            body: "你好".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_frame_in_gets_its_answer_out() {
        let mut client = Client::connect();
        client.echo("m1").await;
        assert_eq!(client.frame().await, echoed("m1"));
        client.send(Message::Text("not json".into())).await;
        assert_eq!(
            client.frame().await,
            TestOut::Error {
                message: UNKNOWN_FRAME.into(),
                client_msg_id: None
            }
        );
        client.echo("m2").await;
        assert_eq!(client.frame().await, echoed("m2"), "still open");
    }

    #[tokio::test(start_paused = true)]
    async fn a_frame_over_the_rate_limit_is_refused_by_its_id_and_the_socket_stays_open() {
        let mut client = Client::connect();
        let limit = MAX_FRAMES_PER_SEC as usize;
        for i in 0..=limit {
            client.echo(&format!("m{i}")).await;
        }
        for i in 0..limit {
            assert_eq!(client.frame().await, echoed(&format!("m{i}")));
        }
        assert_eq!(
            client.frame().await,
            TestOut::Error {
                message: TOO_FAST.into(),
                client_msg_id: Some(format!("m{limit}")),
            }
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        client.echo("later").await;
        assert_eq!(client.frame().await, echoed("later"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_client_is_pinged_then_closed_after_the_heartbeat_timeout() {
        let mut client = Client::connect();
        let start = Instant::now();
        // Nothing from the client: a Ping at 20 s and 40 s, the Close at 60 s.
        assert!(matches!(client.message().await, Some(Message::Ping(_))));
        assert!(matches!(client.message().await, Some(Message::Ping(_))));
        match client.message().await {
            Some(Message::Close(Some(close))) => assert_eq!(close.code, close_code::AWAY),
            other => panic!("expected a Close, got {other:?}"),
        }
        assert_eq!(start.elapsed(), Duration::from_secs(60));
        client.task.await.expect("the loop ends");
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_answers_pings_stays() {
        let mut client = Client::connect();
        for _ in 0..5 {
            assert!(matches!(client.message().await, Some(Message::Ping(_))));
            client.send(Message::Pong(Default::default())).await;
        }
        client.echo("m1").await;
        assert_eq!(client.frame().await, echoed("m1"), "open after 100 s");
    }

    #[tokio::test(start_paused = true)]
    async fn close_ends_the_loop() {
        let mut client = Client::connect();
        client.send(Message::Close(None)).await;
        assert!(
            client.message().await.is_none(),
            "the server closed its end"
        );
        client.task.await.expect("the loop ends");
    }

    #[tokio::test(start_paused = true)]
    async fn the_hub_reaches_every_socket_but_the_one_it_came_from() {
        let mut client = Client::connect();
        let told = |what: &str| TestOut::Told { what: what.into() };
        assert!(
            client
                .hub
                .send(Delivery::except(told("own"), SOCKET))
                .is_ok()
        );
        assert!(client.hub.send(Delivery::all(told("other"))).is_ok());
        assert_eq!(client.frame().await, told("other"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_socket_that_fell_behind_the_hub_is_told_and_closed() {
        let mut client = Client::connect();
        // More than the channel holds, before the loop reads any.
        for i in 0..10 {
            let frame = TestOut::Told {
                what: i.to_string(),
            };
            assert!(client.hub.send(Delivery::all(frame)).is_ok());
        }
        assert_eq!(
            client.frame().await,
            TestOut::Error {
                message: FELL_BEHIND.into(),
                client_msg_id: None
            }
        );
        assert!(client.message().await.is_none());
        client.task.await.expect("the loop ends");
    }

    #[tokio::test(start_paused = true)]
    async fn the_sides_own_events_are_answered_and_may_end_the_socket() {
        let mut client = Client::connect();
        assert!(client.events.unbounded_send("排队".into()).is_ok());
        assert_eq!(
            client.frame().await,
            TestOut::Told {
                what: "排队".into()
            }
        );
        assert!(client.events.unbounded_send("end".into()).is_ok());
        assert_eq!(
            client.frame().await,
            TestOut::Error {
                message: "结束".into(),
                client_msg_id: None
            }
        );
        assert!(client.message().await.is_none());
        client.task.await.expect("the loop ends");
    }
}
