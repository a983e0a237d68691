//! Property tests of the frame decoders: the chat frames (`app::chat::protocol`) as the server
//! parses a text frame ([`server::chat::parse_frame`]) and as the browser parses the server's
//! frames, and the account channel's frames (`app::realtime`). Whatever arrives (any string,
//! any bytes) decoding never panics; every valid frame survives encode → decode unchanged; a
//! valid frame with a field added is refused (frames with fields).

use app::chat::protocol::{
    AgentFrame, AgentServerFrame, BuyerFrame, BuyerServerFrame, ChatContent, ChatImage,
    ChatMessage, ConversationEnded, ConversationSummary, EndReason, MessageAck, Sender,
};
use app::orders::OrderSummary;
use app::realtime::{ClientFrame, LoginEndReason, ServerFrame};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use server::chat::{MAX_PARSED_FRAME, TOO_LONG, UNKNOWN_FRAME, parse_frame};

/// Any text a client could put in a frame, including JSON-looking text.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        // Frames with a known tag and garbage after it.
        (
            prop::sample::select(vec![
                "send",
                "send_image",
                "send_order",
                "open",
                "older",
                "end",
                "typing",
                "set_serving",
                "resume",
                "restart",
                "hello",
                "ack",
                "messages",
                "error",
                "ping",
                "login_ended"
            ]),
            any::<String>()
        )
            .prop_map(|(tag, rest)| format!(r#"{{"type":"{tag}"{rest}"#)),
        "[\\[\\]{}:,\"0-9a-z_ .eE+-]{0,64}",
        // Deep nesting.
        (1usize..3000).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n))),
        (1usize..3000).prop_map(|n| format!(
            "{}1{}",
            r#"{"type":"send","body":"#.repeat(n),
            "}".repeat(n)
        )),
    ]
}

/// Decodes with every decoder a frame can meet; none may panic.
fn decode_everything(text: &str) {
    let _ = parse_frame::<AgentFrame>(text);
    let _ = parse_frame::<BuyerFrame>(text);
    let _ = parse_frame::<ClientFrame>(text);
    let _ = serde_json::from_str::<AgentServerFrame>(text);
    let _ = serde_json::from_str::<BuyerServerFrame>(text);
    let _ = serde_json::from_str::<ServerFrame>(text);
}

fn small_text() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| s.chars().take(40).collect())
}

fn image() -> impl Strategy<Value = ChatImage> {
    (small_text(), any::<i32>(), any::<i32>()).prop_map(|(url, width, height)| ChatImage {
        url,
        width,
        height,
    })
}

fn order() -> impl Strategy<Value = OrderSummary> {
    (
        any::<i64>(),
        small_text(),
        small_text(),
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
        proptest::option::of(small_text()),
    )
        .prop_map(
            |(order_id, order_no, status, created_at, total_fen, item_count, picture_url)| {
                OrderSummary {
                    order_id,
                    order_no,
                    status,
                    created_at,
                    total_fen,
                    item_count,
                    picture_url,
                }
            },
        )
}

fn end_reason() -> impl Strategy<Value = EndReason> {
    prop::sample::select(EndReason::ALL.to_vec())
}

fn content() -> impl Strategy<Value = ChatContent> {
    prop_oneof![
        any::<i16>().prop_map(|font_size| ChatContent::Text { font_size }),
        proptest::option::of(image()).prop_map(|picture| ChatContent::Image { picture }),
        proptest::option::of(order()).prop_map(|order| ChatContent::Order { order }),
    ]
}

fn message() -> impl Strategy<Value = ChatMessage> {
    (
        (
            any::<i64>(),
            any::<i32>(),
            prop::sample::select(Sender::ALL.to_vec()),
            small_text(),
        ),
        (small_text(), small_text(), any::<i64>()),
        content(),
    )
        .prop_map(
            |(
                (conversation_id, seq, sender, sender_name),
                (body, client_msg_id, created_at),
                content,
            )| ChatMessage {
                conversation_id,
                seq,
                sender,
                sender_name,
                body,
                content,
                client_msg_id,
                created_at,
            },
        )
}

prop_compose! {
    fn summary()(
        conversation_id in any::<i64>(),
        buyer_external_id in small_text(),
        buyer_name in small_text(),
        buyer_unit in small_text(),
        entered_at in any::<i64>(),
        last_message in proptest::option::of(small_text()),
        last_seq in any::<i32>(),
        unread in any::<u32>(),
        waiting_since in proptest::option::of(any::<i64>()),
    ) -> ConversationSummary {
        ConversationSummary {
            conversation_id,
            buyer_external_id,
            buyer_name,
            buyer_unit,
            entered_at,
            last_message,
            last_seq,
            unread,
            waiting_since,
        }
    }
}

/// A text message's client id, body and font size.
fn text_fields() -> impl Strategy<Value = (String, String, i16)> {
    (small_text(), any::<String>(), any::<i16>())
}

fn agent_frame() -> impl Strategy<Value = AgentFrame> {
    prop_oneof![
        any::<bool>().prop_map(|serving| AgentFrame::SetServing { serving }),
        (any::<i64>(), any::<i32>()).prop_map(|(conversation_id, after_seq)| AgentFrame::Open {
            conversation_id,
            after_seq
        }),
        (any::<i64>(), any::<i32>()).prop_map(|(conversation_id, before_seq)| AgentFrame::Older {
            conversation_id,
            before_seq
        }),
        (any::<i64>(), text_fields()).prop_map(
            |(conversation_id, (client_msg_id, body, font_size))| AgentFrame::Send {
                conversation_id,
                client_msg_id,
                body,
                font_size
            }
        ),
        // A picture or an order card: the same fields but the id's name.
        (any::<i64>(), small_text(), any::<i64>(), any::<bool>()).prop_map(
            |(conversation_id, client_msg_id, id, picture)| match picture {
                true => AgentFrame::SendImage {
                    conversation_id,
                    client_msg_id,
                    upload_id: id,
                },
                false => AgentFrame::SendOrder {
                    conversation_id,
                    client_msg_id,
                    order_id: id,
                },
            }
        ),
        any::<i64>().prop_map(|conversation_id| AgentFrame::End { conversation_id }),
        any::<i64>().prop_map(|conversation_id| AgentFrame::Typing { conversation_id }),
    ]
}

fn buyer_frame() -> impl Strategy<Value = BuyerFrame> {
    prop_oneof![
        any::<i32>().prop_map(|after_seq| BuyerFrame::Resume { after_seq }),
        text_fields().prop_map(|(client_msg_id, body, font_size)| BuyerFrame::Send {
            client_msg_id,
            body,
            font_size
        }),
        (small_text(), any::<i64>()).prop_map(|(client_msg_id, upload_id)| BuyerFrame::SendImage {
            client_msg_id,
            upload_id
        }),
        Just(BuyerFrame::End),
        Just(BuyerFrame::Restart),
        Just(BuyerFrame::Typing),
    ]
}

/// The frames both sides' servers send alike: `Messages`, `Ack`, `Ended` and `Error`.
macro_rules! shared_server_frames {
    ($frame:ident) => {
        prop_oneof![
            (any::<i64>(), prop::collection::vec(message(), 0..4)).prop_map(
                |(conversation_id, messages)| $frame::Messages {
                    conversation_id,
                    messages,
                }
            ),
            (small_text(), any::<i32>())
                .prop_map(|(client_msg_id, seq)| $frame::Ack(MessageAck { client_msg_id, seq })),
            (any::<i64>(), end_reason()).prop_map(|(conversation_id, reason)| {
                $frame::Ended(ConversationEnded {
                    conversation_id,
                    reason,
                })
            }),
            (small_text(), proptest::option::of(small_text())).prop_map(
                |(message, client_msg_id)| $frame::Error {
                    message,
                    client_msg_id,
                }
            ),
        ]
    };
}

fn agent_server_frame() -> impl Strategy<Value = AgentServerFrame> {
    let messages = || prop::collection::vec(message(), 0..4);
    prop_oneof![
        (
            any::<u32>(),
            any::<bool>(),
            prop::collection::vec(summary(), 0..4)
        )
            .prop_map(
                |(version, serving, conversations)| AgentServerFrame::Hello {
                    version,
                    serving,
                    conversations
                }
            ),
        any::<bool>().prop_map(|serving| AgentServerFrame::Status { serving }),
        summary().prop_map(|conversation| AgentServerFrame::Assigned { conversation }),
        (any::<i64>(), messages(), any::<bool>()).prop_map(
            |(conversation_id, messages, has_more)| {
                AgentServerFrame::Older {
                    conversation_id,
                    messages,
                    has_more,
                }
            }
        ),
        any::<i64>().prop_map(|conversation_id| AgentServerFrame::Typing { conversation_id }),
        shared_server_frames!(AgentServerFrame),
    ]
}

fn buyer_server_frame() -> impl Strategy<Value = BuyerServerFrame> {
    prop_oneof![
        (any::<u32>(), small_text(), any::<i64>(), any::<bool>()).prop_map(
            |(version, supplier_name, conversation_id, anyone_serving)| BuyerServerFrame::Hello {
                version,
                supplier_name,
                conversation_id,
                anyone_serving
            }
        ),
        any::<u64>().prop_map(|position| BuyerServerFrame::Queued { position }),
        small_text().prop_map(|agent_name| BuyerServerFrame::Assigned { agent_name }),
        Just(BuyerServerFrame::Typing),
        shared_server_frames!(BuyerServerFrame),
    ]
}

fn account_frame() -> impl Strategy<Value = ServerFrame> {
    prop_oneof![
        any::<u32>().prop_map(|version| ServerFrame::Hello { version }),
        prop::sample::select(vec![
            LoginEndReason::Kicked,
            LoginEndReason::PasswordReset,
            LoginEndReason::LoggedOut,
            LoginEndReason::Expired,
            LoginEndReason::Disabled
        ])
        .prop_map(|reason| ServerFrame::LoginEnded { reason }),
    ]
}

/// encode → decode is the identity, and the same JSON with one more field is refused.
fn round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    frame: &T,
) -> Result<(), TestCaseError> {
    let json = serde_json::to_string(frame).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T =
        serde_json::from_str(&json).map_err(|e| TestCaseError::fail(format!("{e}: {json}")))?;
    prop_assert_eq!(&back, frame);
    let mut value: serde_json::Value =
        serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
    // Frames without fields (`End`, `Restart`, `Typing`) are unit variants, which serde lets
    // through with extra fields: harmless (nothing is read from them) and left as it is.
    if let Some(object) = value.as_object_mut()
        && object.len() > 1
    {
        object.insert("sender_account_id".into(), serde_json::json!(1));
        prop_assert!(
            serde_json::from_value::<T>(value).is_err(),
            "an unknown field is refused: {}",
            json
        );
    }
    Ok(())
}

/// What the server's socket does with the encoded frame: the frame itself, or (only when it is
/// longer than the parse limit) the refusal for a long frame.
fn parsed_by_the_server<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    frame: &T,
) -> Result<(), TestCaseError> {
    let json = serde_json::to_string(frame).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let parsed = parse_frame::<T>(&json);
    if json.len() > MAX_PARSED_FRAME {
        prop_assert_eq!(parsed, Err(TOO_LONG));
    } else {
        prop_assert_eq!(parsed.as_ref(), Ok(frame));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_text_decodes_without_panicking(text in any_text()) {
        decode_everything(&text);
    }

    #[test]
    fn any_bytes_decode_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        // A binary frame is refused as a whole; its bytes read as text must not hurt either.
        decode_everything(&String::from_utf8_lossy(&bytes));
        let _ = serde_json::from_slice::<AgentServerFrame>(&bytes);
        let _ = serde_json::from_slice::<BuyerServerFrame>(&bytes);
        let _ = serde_json::from_slice::<ServerFrame>(&bytes);
    }

    #[test]
    fn text_that_is_not_a_frame_is_refused_as_unknown(text in any::<String>()) {
        prop_assume!(text.len() <= MAX_PARSED_FRAME);
        prop_assume!(serde_json::from_str::<BuyerFrame>(&text).is_err());
        prop_assert_eq!(parse_frame::<BuyerFrame>(&text), Err(UNKNOWN_FRAME));
    }

    #[test]
    fn agent_frames_round_trip(frame in agent_frame()) {
        round_trips(&frame)?;
        parsed_by_the_server(&frame)?;
    }

    #[test]
    fn buyer_frames_round_trip(frame in buyer_frame()) {
        round_trips(&frame)?;
        parsed_by_the_server(&frame)?;
    }

    #[test]
    fn server_frames_round_trip(agent in agent_server_frame(), buyer in buyer_server_frame(), account in account_frame()) {
        round_trips(&agent)?;
        round_trips(&buyer)?;
        round_trips(&account)?;
        round_trips(&ClientFrame::Ping {})?;
    }
}

#[test]
fn an_oversized_frame_is_refused_before_it_is_parsed() {
    let body = "字".repeat(MAX_PARSED_FRAME);
    let frame = BuyerFrame::Send {
        client_msg_id: "x".into(),
        body,
        font_size: 14,
    };
    let json = serde_json::to_string(&frame).expect("json");
    assert_eq!(parse_frame::<BuyerFrame>(&json), Err(TOO_LONG));
}
