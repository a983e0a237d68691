//! The WebSocket protocol between a signed-in page and the server: one pair of frame enums
//! shared by both sides. Unknown fields or frame types are refused by serde.

#[cfg(feature = "hydrate")]
mod client;
#[cfg(feature = "hydrate")]
pub use client::connect_account_channel;

use serde::{Deserialize, Serialize};

/// Bumped on any incompatible change to the frames.
pub const PROTOCOL_VERSION: u32 = 1;

/// Path of the signed-in page's channel (the login comes from the session cookie).
pub const ACCOUNT_CHANNEL_PATH: &str = "/ws/account";

/// Why the server ended this page's login: the one enum the domain and the browser share.
pub use vocab::LoginEndReason;

/// Server → page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServerFrame {
    Hello {
        version: u32,
    },
    /// This login is over; the page returns to the login page.
    LoginEnded {
        reason: LoginEndReason,
    },
}

/// Page → server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    Ping {},
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_unknown_fields_are_refused() {
        let frame = ServerFrame::LoginEnded {
            reason: LoginEndReason::Kicked,
        };
        let json = serde_json::to_string(&frame).expect("serialises");
        assert_eq!(json, r#"{"type":"login_ended","reason":"kicked"}"#);
        assert_eq!(serde_json::from_str::<ServerFrame>(&json).ok(), Some(frame));
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"ping","sender":1}"#).is_err());
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"send"}"#).is_err());
    }
}
