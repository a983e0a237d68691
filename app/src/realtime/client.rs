//! The browser side of the account channel: stays connected (reconnecting with backoff and
//! jitter after a drop) and sends the page to the login page when the login ends.

use futures::StreamExt;
use gloo_net::websocket::{Message, futures::WebSocket};

use super::{ACCOUNT_CHANNEL_PATH, LoginEndReason, ServerFrame};
use crate::components::go_to;

/// Opens the channel for as long as the page lives.
pub fn connect_account_channel() {
    leptos::task::spawn_local(async move {
        let mut attempt: u32 = 0;
        loop {
            if let Some(reason) = run_once(&mut attempt).await {
                go_to(&format!("/login?reason={}", reason.login_query()));
                return;
            }
            // Backoff with jitter: 0.5 s, 1 s, 2 s … up to 15 s.
            let base = 500u32.saturating_mul(1 << attempt.min(5)).min(15_000);
            let jitter = (js_sys::Math::random() * f64::from(base) / 2.0) as u32;
            gloo_timers::future::TimeoutFuture::new(base / 2 + jitter).await;
            attempt = attempt.saturating_add(1);
        }
    });
}

/// One connection; returns the reason when the server ended the login.
async fn run_once(attempt: &mut u32) -> Option<LoginEndReason> {
    let url = channel_url()?;
    let Ok(socket) = WebSocket::open(&url) else {
        return None;
    };
    let (_tx, mut rx) = socket.split();
    while let Some(Ok(message)) = rx.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        match serde_json::from_str::<ServerFrame>(&text) {
            Ok(ServerFrame::Hello { .. }) => *attempt = 0,
            Ok(ServerFrame::LoginEnded { reason }) => return Some(reason),
            Err(_) => {}
        }
    }
    None
}

fn channel_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!(
        "{scheme}://{}{ACCOUNT_CHANNEL_PATH}",
        location.host().ok()?
    ))
}
