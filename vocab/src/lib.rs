//! The words the domain, the server and the browser share: who sent a message, what it holds,
//! why a conversation or a login ended. Serde only, so the wasm build takes this crate as it is
//! and it knows nothing of the database; the domain stores the same strings as ever
//! ([`Sender::as_str`], [`MessageKind::as_str`], [`EndReason::as_str`]).
//!
//! On the wire every enum is a snake_case string, and a [`MessageContent`] is an object tagged
//! by `kind` (see its documentation for the exact JSON).
//!
//! The order detail ([`orders`]) and the report's totals ([`reports`]) are here too: rows the
//! domain computes and the browser shows unchanged.

pub mod orders;
pub mod reports;

use serde::{Deserialize, Serialize};

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    /// The conversation's buyer.
    Buyer,
    /// An agent of the supplier.
    Agent,
    /// A notice of the system (queued, agent joined…).
    System,
}

impl Sender {
    /// Every sender, for tests and pickers.
    pub const ALL: [Sender; 3] = [Sender::Buyer, Sender::Agent, Sender::System];

    /// The stored `message.sender` value (and the JSON string).
    pub const fn as_str(self) -> &'static str {
        match self {
            Sender::Buyer => "buyer",
            Sender::Agent => "agent",
            Sender::System => "system",
        }
    }

    /// The sender a stored value names; `None` for anything else.
    pub fn parse(value: &str) -> Option<Sender> {
        Sender::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// What a message is: the tag of a [`MessageContent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Plain text (may hold emoji).
    Text,
    /// A picture.
    Image,
    /// An order card (订单发送).
    Order,
}

impl MessageKind {
    /// Every kind, for tests and pickers.
    pub const ALL: [MessageKind; 3] = [MessageKind::Text, MessageKind::Image, MessageKind::Order];

    /// The stored `message.kind` value (and the JSON string).
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Image => "image",
            MessageKind::Order => "order",
        }
    }

    /// The kind a stored value names; `None` for anything else.
    pub fn parse(value: &str) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// What a message holds besides its text: a text in a font size, a picture or an order card.
/// The same enum serves every layer, with what each layer knows of the picture and the order:
/// the domain stores ids (`MessageContent<i64, i64>`: the upload and the order), the browser
/// gets them resolved (the picture's address and size, the order as it is now).
///
/// JSON, tagged by `kind`, unknown fields refused:
/// `{"kind":"text","font_size":14}`, `{"kind":"image","picture":…}`, `{"kind":"order","order":…}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MessageContent<P, O> {
    /// Text, shown in this font size (px).
    Text { font_size: i16 },
    /// A picture.
    Image { picture: P },
    /// An order card.
    Order { order: O },
}

impl<P, O> MessageContent<P, O> {
    /// The tag of this content.
    pub fn kind(&self) -> MessageKind {
        match self {
            MessageContent::Text { .. } => MessageKind::Text,
            MessageContent::Image { .. } => MessageKind::Image,
            MessageContent::Order { .. } => MessageKind::Order,
        }
    }

    /// The same content with the picture and the order turned into something else (ids into
    /// what a reader sees).
    pub fn map<P2, O2>(
        self,
        picture: impl FnOnce(P) -> P2,
        order: impl FnOnce(O) -> O2,
    ) -> MessageContent<P2, O2> {
        match self {
            MessageContent::Text { font_size } => MessageContent::Text { font_size },
            MessageContent::Image { picture: p } => MessageContent::Image {
                picture: picture(p),
            },
            MessageContent::Order { order: o } => MessageContent::Order { order: order(o) },
        }
    }
}

/// How a conversation ended (the report's 结束方式).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// 客服结束.
    Agent,
    /// 客户结束.
    Buyer,
    /// 超时结束.
    Timeout,
    /// 剔除转接.
    Kicked,
}

impl EndReason {
    /// Every reason, in the report's order.
    pub const ALL: [EndReason; 4] = [
        EndReason::Agent,
        EndReason::Buyer,
        EndReason::Timeout,
        EndReason::Kicked,
    ];

    /// The stored `conversation.end_reason` value (and the JSON string).
    pub const fn as_str(self) -> &'static str {
        match self {
            EndReason::Agent => "agent",
            EndReason::Buyer => "buyer",
            EndReason::Timeout => "timeout",
            EndReason::Kicked => "kicked",
        }
    }

    /// The reason a stored value names; `None` for anything else.
    pub fn parse(value: &str) -> Option<EndReason> {
        EndReason::ALL.into_iter().find(|r| r.as_str() == value)
    }

    /// The 结束方式 label the report shows.
    pub const fn label(self) -> &'static str {
        match self {
            EndReason::Agent => "客服结束",
            EndReason::Buyer => "客户结束",
            EndReason::Timeout => "超时结束",
            EndReason::Kicked => "剔除转接",
        }
    }
}

impl std::fmt::Display for EndReason {
    /// The report's label.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Why a login ended, as the browser that held it is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginEndReason {
    /// The supplier's admin used 剔除登录.
    Kicked,
    /// The admin set a new password for the account.
    PasswordReset,
    /// 退出系统 in another tab of the same login.
    LoggedOut,
    /// The session expired (noticed by the page's channel).
    Expired,
    /// The supplier's admin disabled the account (停用).
    Disabled,
}

impl LoginEndReason {
    /// The `reason` the login page explains.
    pub fn login_query(self) -> &'static str {
        match self {
            LoginEndReason::Kicked => "kicked",
            LoginEndReason::PasswordReset => "password_reset",
            LoginEndReason::LoggedOut => "logout",
            LoginEndReason::Expired => "expired",
            LoginEndReason::Disabled => "disabled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: Serialize>(value: &T) -> String {
        serde_json::to_string(value).unwrap_or_default()
    }

    fn round_trip<T>(value: T, expected: &str)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        assert_eq!(json(&value), expected);
        assert_eq!(serde_json::from_str::<T>(expected).ok(), Some(value));
    }

    #[test]
    fn each_enum_is_its_stored_string_on_the_wire() {
        for sender in Sender::ALL {
            round_trip(sender, &format!("\"{}\"", sender.as_str()));
            assert_eq!(Sender::parse(sender.as_str()), Some(sender));
        }
        for kind in MessageKind::ALL {
            round_trip(kind, &format!("\"{}\"", kind.as_str()));
            assert_eq!(MessageKind::parse(kind.as_str()), Some(kind));
        }
        for reason in EndReason::ALL {
            round_trip(reason, &format!("\"{}\"", reason.as_str()));
            assert_eq!(EndReason::parse(reason.as_str()), Some(reason));
        }
        let labels: Vec<String> = EndReason::ALL.iter().map(ToString::to_string).collect();
        assert_eq!(labels, ["客服结束", "客户结束", "超时结束", "剔除转接"]);
        assert_eq!(Sender::parse("Buyer"), None);
        assert_eq!(MessageKind::parse(""), None);
        assert_eq!(EndReason::parse("other"), None);
    }

    #[test]
    fn the_exact_json_of_each_enum() {
        round_trip(Sender::Buyer, r#""buyer""#);
        round_trip(Sender::Agent, r#""agent""#);
        round_trip(Sender::System, r#""system""#);
        round_trip(MessageKind::Text, r#""text""#);
        round_trip(MessageKind::Image, r#""image""#);
        round_trip(MessageKind::Order, r#""order""#);
        round_trip(EndReason::Agent, r#""agent""#);
        round_trip(EndReason::Buyer, r#""buyer""#);
        round_trip(EndReason::Timeout, r#""timeout""#);
        round_trip(EndReason::Kicked, r#""kicked""#);
        round_trip(LoginEndReason::Kicked, r#""kicked""#);
        round_trip(LoginEndReason::PasswordReset, r#""password_reset""#);
        round_trip(LoginEndReason::LoggedOut, r#""logged_out""#);
        round_trip(LoginEndReason::Expired, r#""expired""#);
        round_trip(LoginEndReason::Disabled, r#""disabled""#);
    }

    #[test]
    fn contents_are_tagged_by_kind_and_refuse_unknown_fields() {
        type Ids = MessageContent<i64, i64>;
        round_trip(
            Ids::Text { font_size: 14 },
            r#"{"kind":"text","font_size":14}"#,
        );
        round_trip(Ids::Image { picture: 7 }, r#"{"kind":"image","picture":7}"#);
        round_trip(Ids::Order { order: 9 }, r#"{"kind":"order","order":9}"#);
        type Shown = MessageContent<Option<String>, Option<String>>;
        round_trip(
            Shown::Image { picture: None },
            r#"{"kind":"image","picture":null}"#,
        );
        round_trip(
            Shown::Order {
                order: Some("A-1".into()),
            },
            r#"{"kind":"order","order":"A-1"}"#,
        );
        assert!(serde_json::from_str::<Ids>(r#"{"kind":"text","font_size":14,"x":1}"#).is_err());
        assert!(serde_json::from_str::<Ids>(r#"{"kind":"video","picture":1}"#).is_err());
        assert_eq!(Ids::Order { order: 9 }.kind(), MessageKind::Order);
        assert_eq!(
            Ids::Image { picture: 7 }.map(|p| p * 2, |o| o),
            Ids::Image { picture: 14 }
        );
    }

    #[test]
    fn the_login_page_reads_each_login_end() {
        let queries = [
            (LoginEndReason::Kicked, "kicked"),
            (LoginEndReason::PasswordReset, "password_reset"),
            (LoginEndReason::LoggedOut, "logout"),
            (LoginEndReason::Expired, "expired"),
            (LoginEndReason::Disabled, "disabled"),
        ];
        for (reason, query) in queries {
            assert_eq!(reason.login_query(), query);
        }
    }
}
