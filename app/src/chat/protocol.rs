//! The chat WebSocket protocol: one pair of frame enums per side, shared by the server and the
//! browser. Agents speak on `/ws/agent` (login from the session cookie), buyers on
//! `/ws/buyer?token=…` (the mall's signed token). The sender of every frame is taken from the
//! login or token, never from the frame; unknown fields and frame types are refused.
//!
//! The words both sides share with the domain are the `vocab` crate's, re-exported here: a
//! message's [`Sender`] (`"buyer"`, `"agent"`, `"system"`), its [`MessageContent`] and a
//! conversation's [`EndReason`] (`"agent"`, `"buyer"`, `"timeout"`, `"kicked"`).
//!
//! Version 3 (was 2): a [`ChatMessage`] carries `"content"`, an object tagged by `kind`, instead
//! of the flat `kind`, `font_size`, `image` and `order` fields —
//! `{"kind":"text","font_size":14}`, `{"kind":"image","picture":{"url":…,"width":…,"height":…}}`
//! (`null` once the picture is gone), `{"kind":"order","order":{…}}` (`null` when the order is
//! not there any more); `sender` and `Ended`'s `reason` are the same strings as before, now
//! checked (anything else is refused).

use serde::{Deserialize, Serialize};
pub use vocab::{EndReason, MessageContent, MessageKind, Sender};

/// Bumped on any incompatible change; sent in `Hello`.
pub const CHAT_PROTOCOL_VERSION: u32 = 3;
pub const AGENT_CHAT_PATH: &str = "/ws/agent";
pub const BUYER_CHAT_PATH: &str = "/ws/buyer";
/// `POST` the bytes of one picture here (`?conversation_id=…`, and `&token=…` for a buyer);
/// the answer is an [`UploadedPicture`], whose id a `SendImage` frame then carries.
pub const PICTURE_UPLOAD_PATH: &str = "/api/chat/pictures";
/// Pictures are served under this prefix (a buyer adds `?token=…`).
pub const MEDIA_PATH: &str = "/media/";
/// Messages per page of history (`Open` from the start, `Older`).
pub const HISTORY_PAGE: u64 = 30;

/// A picture in a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatImage {
    /// Site-relative, under [`MEDIA_PATH`].
    pub url: String,
    pub width: i32,
    pub height: i32,
}

/// The answer to a picture upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedPicture {
    pub upload_id: i64,
    pub image: ChatImage,
}

/// What a message shows besides its text: a text's font size, the picture (`None` once it was
/// deleted), the order card as the order is now (`None` when it is not there any more).
pub type ChatContent = MessageContent<Option<ChatImage>, Option<crate::orders::OrderSummary>>;

/// One stored message as both sides render it. `body` is plain text, never HTML.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatMessage {
    pub conversation_id: i64,
    /// Per-conversation sequence number, 1, 2, 3 …
    pub seq: i32,
    pub sender: Sender,
    pub sender_name: String,
    /// The text (empty for a picture or an order card).
    pub body: String,
    pub content: ChatContent,
    pub client_msg_id: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A conversation in the agent's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationSummary {
    pub conversation_id: i64,
    pub buyer_external_id: String,
    pub buyer_name: String,
    pub buyer_unit: String,
    /// Unix ms the buyer entered (for "time waited").
    pub entered_at: i64,
    pub last_message: Option<String>,
    pub last_seq: i32,
    /// The buyer's messages after the last agent message, those left while queued included:
    /// the unread count when the conversation reaches the agent's list.
    #[serde(default)]
    pub unread: u32,
    /// Unix ms since when the buyer waits for an answer (their first unanswered message, or
    /// their entry while no agent has written); `None` once the agent answered.
    #[serde(default)]
    pub waiting_since: Option<i64>,
}

/// The message with this client id is stored as `seq`: both sides' `Ack` frame
/// (`{"type":"ack","client_msg_id":…,"seq":…}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageAck {
    pub client_msg_id: String,
    pub seq: i32,
}

/// The conversation ended, this way: both sides' `Ended` frame
/// (`{"type":"ended","conversation_id":…,"reason":…}`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationEnded {
    pub conversation_id: i64,
    pub reason: EndReason,
}

/// Agent → server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentFrame {
    /// 示忙 (false) / 服务中 (true).
    SetServing { serving: bool },
    /// Opens a conversation (records 客服进入时间 on the first open) and asks for its messages
    /// after `after_seq`; with 0, the newest page comes as `Older` (the rest on request).
    Open {
        conversation_id: i64,
        after_seq: i32,
    },
    /// 查看更早的消息: the page of messages just before `before_seq`.
    Older {
        conversation_id: i64,
        before_seq: i32,
    },
    Send {
        conversation_id: i64,
        client_msg_id: String,
        body: String,
        font_size: i16,
    },
    /// A picture uploaded to this conversation (see [`PICTURE_UPLOAD_PATH`]).
    SendImage {
        conversation_id: i64,
        client_msg_id: String,
        upload_id: i64,
    },
    /// 发送 in 采购人订单: an order card of the conversation's buyer.
    SendOrder {
        conversation_id: i64,
        client_msg_id: String,
        order_id: i64,
    },
    /// 结束对话.
    End { conversation_id: i64 },
    /// The agent is typing in this conversation (sent at most every couple of seconds).
    Typing { conversation_id: i64 },
}

/// Server → agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentServerFrame {
    /// First frame: protocol version, current status and the agent's open conversations.
    Hello {
        version: u32,
        serving: bool,
        conversations: Vec<ConversationSummary>,
    },
    Status {
        serving: bool,
    },
    /// A buyer was given to this agent (new, from the queue, or re-routed).
    Assigned {
        conversation: ConversationSummary,
    },
    /// Messages of a conversation in seq order (history after `Open`, or live).
    Messages {
        conversation_id: i64,
        messages: Vec<ChatMessage>,
    },
    /// A page of earlier messages, in seq order; `has_more` when there are older ones still.
    Older {
        conversation_id: i64,
        messages: Vec<ChatMessage>,
        has_more: bool,
    },
    /// The message with this client id is stored (sent after the commit).
    Ack(MessageAck),
    Ended(ConversationEnded),
    /// The buyer of this conversation is typing.
    Typing {
        conversation_id: i64,
    },
    /// A refused frame, in Chinese; `client_msg_id` when it was a message.
    Error {
        message: String,
        client_msg_id: Option<String>,
    },
}

/// Buyer → server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum BuyerFrame {
    /// Asks for the messages of the current conversation after `after_seq` (on (re)connect).
    Resume { after_seq: i32 },
    Send {
        client_msg_id: String,
        body: String,
        font_size: i16,
    },
    /// A picture uploaded to the current conversation (see [`PICTURE_UPLOAD_PATH`]).
    SendImage {
        client_msg_id: String,
        upload_id: i64,
    },
    /// Ends the conversation from the buyer's side.
    End,
    /// Starts a new conversation after the last one ended.
    Restart,
    /// The buyer is typing (sent at most every couple of seconds).
    Typing,
}

/// Server → buyer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum BuyerServerFrame {
    Hello {
        version: u32,
        supplier_name: String,
        conversation_id: i64,
        anyone_serving: bool,
    },
    /// Waiting: place in the queue (1 = next).
    Queued {
        position: u64,
    },
    /// An agent took the conversation.
    Assigned {
        agent_name: String,
    },
    Messages {
        conversation_id: i64,
        messages: Vec<ChatMessage>,
    },
    /// The message with this client id is stored (sent after the commit).
    Ack(MessageAck),
    Ended(ConversationEnded),
    /// The agent is typing.
    Typing,
    Error {
        message: String,
        client_msg_id: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T>(value: &T, expected: &str)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        assert_eq!(serde_json::to_string(value).ok().as_deref(), Some(expected));
        assert_eq!(
            serde_json::from_str::<T>(expected).ok().as_ref(),
            Some(value)
        );
    }

    #[test]
    fn a_message_carries_its_sender_and_its_content_tagged_by_kind() {
        let text = ChatMessage {
            conversation_id: 7,
            seq: 2,
            sender: Sender::Agent,
            sender_name: "客服小童".into(),
            body: "您好".into(),
            content: ChatContent::Text { font_size: 16 },
            client_msg_id: "c2".into(),
            created_at: 1000,
        };
        round_trip(
            &text,
            r#"{"conversation_id":7,"seq":2,"sender":"agent","sender_name":"客服小童","body":"您好","content":{"kind":"text","font_size":16},"client_msg_id":"c2","created_at":1000}"#,
        );
        let picture = ChatMessage {
            sender: Sender::Buyer,
            body: String::new(),
            content: ChatContent::Image {
                picture: Some(ChatImage {
                    url: "/media/a.jpg".into(),
                    width: 4,
                    height: 3,
                }),
            },
            ..text.clone()
        };
        round_trip(
            &picture,
            r#"{"conversation_id":7,"seq":2,"sender":"buyer","sender_name":"客服小童","body":"","content":{"kind":"image","picture":{"url":"/media/a.jpg","width":4,"height":3}},"client_msg_id":"c2","created_at":1000}"#,
        );
        let gone = ChatMessage {
            content: ChatContent::Order { order: None },
            ..text.clone()
        };
        assert_eq!(gone.content.kind(), MessageKind::Order);
        assert!(
            serde_json::to_string(&gone)
                .unwrap_or_default()
                .contains(r#""content":{"kind":"order","order":null}"#)
        );
        // A sender or a field the protocol does not know is refused.
        let json = serde_json::to_string(&text).unwrap_or_default();
        let admin = json.replace(r#""sender":"agent""#, r#""sender":"admin""#);
        assert!(serde_json::from_str::<ChatMessage>(&admin).is_err());
        let extra = json.replace(r#""font_size":16"#, r#""font_size":16,"color":"red""#);
        assert!(serde_json::from_str::<ChatMessage>(&extra).is_err());
    }

    fn ended(reason: EndReason) -> ConversationEnded {
        ConversationEnded {
            conversation_id: 7,
            reason,
        }
    }

    fn ack() -> MessageAck {
        MessageAck {
            client_msg_id: "c1".into(),
            seq: 4,
        }
    }

    #[test]
    fn ended_names_how_the_conversation_ended() {
        round_trip(
            &BuyerServerFrame::Ended(ended(EndReason::Timeout)),
            r#"{"type":"ended","conversation_id":7,"reason":"timeout"}"#,
        );
        round_trip(
            &AgentServerFrame::Ended(ended(EndReason::Kicked)),
            r#"{"type":"ended","conversation_id":7,"reason":"kicked"}"#,
        );
        let unknown = r#"{"type":"ended","conversation_id":7,"reason":"bored"}"#;
        assert!(serde_json::from_str::<AgentServerFrame>(unknown).is_err());
        assert!(serde_json::from_str::<BuyerServerFrame>(unknown).is_err());
    }

    #[test]
    fn both_sides_ack_and_ended_are_flat_and_refuse_unknown_fields() {
        let ack_json = r#"{"type":"ack","client_msg_id":"c1","seq":4}"#;
        round_trip(&AgentServerFrame::Ack(ack()), ack_json);
        round_trip(&BuyerServerFrame::Ack(ack()), ack_json);
        let ended_json = r#"{"type":"ended","conversation_id":7,"reason":"agent"}"#;
        round_trip(
            &AgentServerFrame::Ended(ended(EndReason::Agent)),
            ended_json,
        );
        round_trip(
            &BuyerServerFrame::Ended(ended(EndReason::Agent)),
            ended_json,
        );
        for extra in [
            ack_json.replace(r#""seq":4"#, r#""seq":4,"x":1"#),
            ended_json.replace(r#""reason":"agent""#, r#""reason":"agent","x":1"#),
        ] {
            assert!(serde_json::from_str::<AgentServerFrame>(&extra).is_err());
            assert!(serde_json::from_str::<BuyerServerFrame>(&extra).is_err());
        }
    }
}
