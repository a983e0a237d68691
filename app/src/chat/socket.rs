//! The browser side of a chat socket: one connection at a time, reconnecting with backoff and
//! jitter, plus the small browser helpers both chat pages share (clock, ids, alerts).

#[cfg(feature = "hydrate")]
use leptos::prelude::*;
use serde::Serialize;

/// What the connection is doing, shown to the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// First attempt, before the server's `Hello`.
    Connecting,
    /// `Hello` received.
    Online,
    /// Lost; trying again after a pause.
    Reconnecting,
    /// The server refused us for good (bad token); no more attempts.
    Stopped,
}

/// What the page's frame handler tells the socket loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The server greeted us: the connection is good, reset the backoff.
    Greeted,
    /// Stop for good (the server refused this client).
    Stop,
}

/// Sends frames on the current connection. Frames sent while offline are dropped: the pages
/// re-send what matters (Open/Resume and unacknowledged messages) when `Hello` arrives.
#[derive(Clone, Default)]
pub struct FrameSender {
    #[cfg(feature = "hydrate")]
    tx: Option<futures::channel::mpsc::UnboundedSender<String>>,
}

impl FrameSender {
    /// Sends `frame` now, or drops it while offline.
    pub fn send<T: Serialize>(&self, frame: &T) {
        #[cfg(feature = "hydrate")]
        if let (Some(tx), Ok(text)) = (&self.tx, serde_json::to_string(frame)) {
            let _ = tx.unbounded_send(text);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = frame;
    }
}

/// Opens `path` (same origin, ws/wss by page protocol) and keeps it open; every text frame goes
/// to `on_text`. Returns the sender for frames to the server.
#[cfg(feature = "hydrate")]
pub fn spawn_socket(
    path: String,
    state: RwSignal<ConnState>,
    mut on_text: impl FnMut(&str) -> Flow + 'static,
) -> FrameSender {
    use futures::future::{Either, select};
    use futures::{SinkExt, StreamExt};
    use gloo_net::websocket::{Message, futures::WebSocket};

    let (tx, mut rx) = futures::channel::mpsc::unbounded::<String>();
    leptos::task::spawn_local(async move {
        let mut attempt: u32 = 0;
        loop {
            if let Some(url) = socket_url(&path)
                && let Ok(socket) = WebSocket::open(&url)
            {
                let (mut sink, mut stream) = socket.split();
                // Whatever was queued while offline is stale; the Hello handler re-sends.
                while rx.try_recv().is_ok() {}
                loop {
                    match select(stream.next(), rx.next()).await {
                        Either::Left((Some(Ok(Message::Text(text))), _)) => match on_text(&text) {
                            Flow::Continue => {}
                            Flow::Greeted => {
                                attempt = 0;
                                state.set(ConnState::Online);
                            }
                            Flow::Stop => {
                                state.set(ConnState::Stopped);
                                return;
                            }
                        },
                        Either::Left((Some(Ok(_)), _)) => {}
                        Either::Left(_) => break,
                        Either::Right((Some(text), _)) => {
                            if sink.send(Message::Text(text)).await.is_err() {
                                break;
                            }
                        }
                        Either::Right((None, _)) => return,
                    }
                }
            }
            state.set(ConnState::Reconnecting);
            // Backoff with jitter: 0.5 s, 1 s, 2 s … up to 15 s.
            let base = 500u32.saturating_mul(1 << attempt.min(5)).min(15_000);
            let jitter = (js_sys::Math::random() * f64::from(base) / 2.0) as u32;
            gloo_timers::future::TimeoutFuture::new(base / 2 + jitter).await;
            attempt = attempt.saturating_add(1);
        }
    });
    FrameSender { tx: Some(tx) }
}

#[cfg(feature = "hydrate")]
fn socket_url(path: &str) -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}{path}", location.host().ok()?))
}

/// Unix milliseconds now (0 on the server, which never renders live chat state).
pub fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0
    }
}

/// HH:MM in China time (the product's only time zone), the same on every machine.
pub fn hhmm(ms: i64) -> String {
    let minutes = (ms.div_euclid(60_000) + 8 * 60).rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A client id for a message, unique enough to make re-sending idempotent.
pub fn new_client_msg_id() -> String {
    #[cfg(feature = "hydrate")]
    let random = (js_sys::Math::random() * 1e12) as u64;
    #[cfg(not(feature = "hydrate"))]
    let random = 0u64;
    format!("c{}-{random:x}", now_ms())
}

// Alerts go through web-sys, never through `new Function`/`eval`: the pages' Content-Security-
// Policy has no `unsafe-eval`. Failures are ignored: alerts are a courtesy.

#[cfg(feature = "hydrate")]
thread_local! {
    /// One AudioContext per page, created on a click (browsers only allow sound after one).
    static AUDIO: std::cell::RefCell<Option<web_sys::AudioContext>> = const { std::cell::RefCell::new(None) };
}

#[cfg(feature = "hydrate")]
fn audio_context(create: bool) -> Option<web_sys::AudioContext> {
    AUDIO.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() && create {
            *slot = web_sys::AudioContext::new().ok();
        }
        slot.clone()
    })
}

/// A short beep through WebAudio, when the browser allows sound.
pub fn beep() {
    #[cfg(feature = "hydrate")]
    {
        let Some(ctx) = audio_context(true) else {
            return;
        };
        if ctx.state() == web_sys::AudioContextState::Suspended {
            let _ = ctx.resume();
        }
        let (Ok(osc), Ok(gain)) = (ctx.create_oscillator(), ctx.create_gain()) else {
            return;
        };
        let now = ctx.current_time();
        osc.set_type(web_sys::OscillatorType::Sine);
        osc.frequency().set_value(880.0);
        let _ = gain.gain().set_value_at_time(0.15, now);
        let _ = gain
            .gain()
            .exponential_ramp_to_value_at_time(0.001, now + 0.25);
        let _ = osc.connect_with_audio_node(&gain);
        let _ = gain.connect_with_audio_node(&ctx.destination());
        let _ = osc.start();
        let _ = osc.stop_with_when(now + 0.25);
    }
}

/// Asks for desktop-notification permission (call from a click) and unlocks sound.
pub fn ask_alert_permission() {
    #[cfg(feature = "hydrate")]
    {
        if web_sys::Notification::permission() == web_sys::NotificationPermission::Default {
            let _ = web_sys::Notification::request_permission();
        }
        let _ = audio_context(true);
    }
}

/// A desktop notification, only if permission was granted.
pub fn notify(title: &str, body: &str) {
    #[cfg(feature = "hydrate")]
    {
        if web_sys::Notification::permission() != web_sys::NotificationPermission::Granted {
            return;
        }
        let options = web_sys::NotificationOptions::new();
        options.set_body(body);
        let _ = web_sys::Notification::new_with_options(title, &options);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (title, body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hhmm_is_china_time() {
        // 2024-01-01T00:00:00Z is 08:00 in Shanghai.
        assert_eq!(hhmm(1_704_067_200_000), "08:00");
        assert_eq!(
            hhmm(1_704_067_200_000 + 16 * 3_600_000 + 5 * 60_000),
            "00:05"
        );
    }
}
