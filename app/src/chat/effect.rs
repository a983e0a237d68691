//! What a chat page does after its state took in a frame or a click: the side effects its
//! state asks for, performed in one place for both pages.

use leptos::prelude::*;
use serde::Serialize;

use super::socket::{Flow, FrameSender};

/// A side effect a chat page's state asks for; `F` is the frame this side sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect<F> {
    /// Send this frame on the socket.
    Send(F),
    /// A short beep (a new buyer, a buyer wrote in a conversation not open).
    Beep,
    /// A desktop notification, if the user allowed them.
    Notify {
        /// The notification's first line.
        title: String,
        /// What it says under the title.
        body: String,
    },
    /// Hide the typing notice with this stamp after [`TYPING_SHOWS_MS`](super::TYPING_SHOWS_MS).
    HideTypingLater(u32),
    /// The server greeted this connection: it is good.
    Greeted,
    /// The server refused this client for good: stop reconnecting.
    Stop,
}

/// Performs `effects` in order and tells the socket loop how to go on; `hide_typing` is called
/// with the stamp once a typing notice's time is up.
fn perform<F: Serialize>(
    effects: Vec<Effect<F>>,
    sender: StoredValue<FrameSender>,
    hide_typing: impl Fn(u32) + Copy + 'static,
) -> Flow {
    let mut flow = Flow::Continue;
    for effect in effects {
        match effect {
            Effect::Send(frame) => sender.with_value(|s| s.send(&frame)),
            Effect::Beep => super::socket::beep(),
            Effect::Notify { title, body } => super::socket::notify(&title, &body),
            Effect::HideTypingLater(stamp) => {
                later(super::TYPING_SHOWS_MS, move || hide_typing(stamp))
            }
            Effect::Greeted => flow = Flow::Greeted,
            Effect::Stop => flow = Flow::Stop,
        }
    }
    flow
}

/// The frames among `effects`, in order (for tests).
#[cfg(test)]
pub(crate) fn sent<F: Clone>(effects: &[Effect<F>]) -> Vec<F> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send(frame) => Some(frame.clone()),
            _ => None,
        })
        .collect()
}

/// Runs `f` after `ms` in the browser (never on the server, which renders no live chat).
fn later(ms: u32, f: impl FnOnce() + 'static) {
    #[cfg(feature = "hydrate")]
    gloo_timers::callback::Timeout::new(ms, f).forget();
    #[cfg(not(feature = "hydrate"))]
    let _ = (ms, f);
}

/// A chat page's state as its socket and clicks change it: the server frames it takes in,
/// the frames it sends, and its typing notice's timeouts.
pub trait ChatState: Send + Sync + 'static {
    /// What this side sends.
    type Frame: Serialize;
    /// What the server sends this side.
    type ServerFrame: serde::de::DeserializeOwned;
    /// Takes in one server frame.
    fn apply(&mut self, frame: Self::ServerFrame) -> Vec<Effect<Self::Frame>>;
    /// The typing notice with `stamp` has shown long enough.
    fn expire_typing(&mut self, stamp: u32);
}

/// A chat page's one state signal and its socket's sender: every change goes through
/// [`ChatHandle::act`], which performs the effects the state asks for.
pub struct ChatHandle<S: 'static> {
    /// The state the views render.
    pub state: RwSignal<S>,
    /// Frames to the server on the current connection.
    pub sender: StoredValue<FrameSender>,
}

impl<S> Clone for ChatHandle<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for ChatHandle<S> {}

impl<S: ChatState> ChatHandle<S> {
    /// A page starting from `state`, not connected yet.
    pub fn new(state: S) -> Self {
        ChatHandle {
            state: RwSignal::new(state),
            sender: StoredValue::new(FrameSender::default()),
        }
    }

    /// Changes the state with `change` and performs the effects it returns.
    pub fn act(self, change: impl FnOnce(&mut S) -> Vec<Effect<S::Frame>>) -> Flow {
        let effects = self.state.try_update(change).unwrap_or_default();
        perform(effects, self.sender, move |stamp| {
            self.state.update(|s| s.expire_typing(stamp))
        })
    }

    /// Sends `frame` now (dropped while offline).
    pub fn send(self, frame: &S::Frame) {
        self.sender.with_value(|s| s.send(frame));
    }

    /// One text frame from the server; anything that is no frame of this side is ignored.
    pub fn receive(self, text: &str) -> Flow {
        match serde_json::from_str::<S::ServerFrame>(text) {
            Ok(frame) => self.act(|s| s.apply(frame)),
            Err(_) => Flow::Continue,
        }
    }

    /// Opens the socket on `path` (kept open, reconnecting) with its state shown in `conn`.
    #[cfg(feature = "hydrate")]
    pub fn connect(self, path: String, conn: RwSignal<super::socket::ConnState>) {
        let sender = super::socket::spawn_socket(path, conn, move |text| self.receive(text));
        self.sender.set_value(sender);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::buyer_state::BuyerChat;

    #[test]
    fn a_socket_frame_changes_the_state_and_tells_the_loop_how_to_go_on() {
        let owner = Owner::new();
        owner.set();
        let chat = ChatHandle::new(BuyerChat::default());
        assert_eq!(chat.receive("not a frame"), Flow::Continue);
        let hello = r#"{"type":"hello","version":2,"supplier_name":"示例农产品供应商",
            "conversation_id":5,"anyone_serving":true}"#;
        assert_eq!(chat.receive(hello), Flow::Greeted);
        let name = chat.state.with_untracked(|s| s.supplier_name.clone());
        assert_eq!(name, "示例农产品供应商");

        // Refused before any Hello: the loop stops and the banner says why.
        let refused = ChatHandle::new(BuyerChat::default());
        let error = r#"{"type":"error","message":"买家身份令牌已过期","client_msg_id":null}"#;
        assert_eq!(refused.receive(error), Flow::Stop);
        let banner = refused.state.with_untracked(|s| s.refused.clone());
        assert_eq!(banner.as_deref(), Some("买家身份令牌已过期"));
    }
}
