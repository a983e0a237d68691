use super::*;
use crate::chat::effect::sent;
use crate::chat::message::tests::{agent_msg, msg};
use crate::chat::protocol::EndReason;

#[test]
fn header_and_queue_banner_come_from_one_state() {
    let hello = Reception::Connecting.hello(false, true);
    assert_eq!(hello.status_line(), "暂无客服在线，您可以先留言");
    let queued = hello.queued(3);
    assert_eq!(
        queued.queue_line().as_deref(),
        Some("正在排队，您前面还有 2 位")
    );
    let served = Reception::Served {
        agent: "客服小李".into(),
    };
    assert_eq!(served.status_line(), "客服在线 · 客服小李 为您服务");
    assert_eq!(served.queue_line(), None);
    // The agent's login ended and the buyer is queued again: the header no longer names
    // that agent while the banner counts the queue.
    let requeued = served.queued(2);
    assert!(!requeued.status_line().contains("客服小李"), "{requeued:?}");
    assert!(!requeued.online());
    assert_eq!(
        requeued.queue_line().as_deref(),
        Some("正在排队，您前面还有 1 位")
    );
    // A reconnect's Hello keeps the agent (Assigned or Queued follows); a new
    // conversation starts over.
    assert_eq!(served.hello(true, false), served);
    assert_eq!(
        served.hello(true, true),
        Reception::Waiting {
            anyone_serving: Some(true),
            position: None
        }
    );
    assert_eq!(Reception::Ended.queue_line(), None);
}

fn hello(conversation_id: i64) -> BuyerServerFrame {
    BuyerServerFrame::Hello {
        version: 2,
        supplier_name: "示例农产品供应商".into(),
        conversation_id,
        anyone_serving: true,
    }
}

/// The conversation ended (the reason does not matter to the widget).
fn ended(conversation_id: i64) -> BuyerServerFrame {
    BuyerServerFrame::Ended(ConversationEnded {
        conversation_id,
        reason: EndReason::Agent,
    })
}

fn messages(conversation_id: i64, messages: Vec<ChatMessage>) -> BuyerServerFrame {
    BuyerServerFrame::Messages {
        conversation_id,
        messages,
    }
}

fn in_conversation(conversation_id: i64, m: ChatMessage) -> ChatMessage {
    ChatMessage {
        conversation_id,
        ..m
    }
}

fn write(chat: &mut BuyerChat, id: &str) -> Vec<BuyerEffect> {
    chat.send(|cid| Pending::text(cid, id.into(), format!("问{id}"), 14, 0))
}

fn bodies(chat: &BuyerChat) -> Vec<&str> {
    chat.messages.iter().map(|m| m.body.as_str()).collect()
}

#[test]
fn hello_names_the_supplier_and_resumes_after_the_last_message() {
    let mut chat = BuyerChat::default();
    assert_eq!(chat.reception.status_line(), "正在连接…");
    let effects = chat.apply(hello(5));
    assert_eq!(chat.supplier_name, "示例农产品供应商");
    assert_eq!(chat.reception.status_line(), "客服在线");
    assert_eq!(
        effects,
        vec![
            Effect::Send(BuyerFrame::Resume { after_seq: 0 }),
            Effect::Greeted
        ]
    );
    chat.apply(messages(5, vec![in_conversation(5, agent_msg(3, "您好"))]));
    let effects = chat.apply(hello(5));
    assert_eq!(sent(&effects), vec![BuyerFrame::Resume { after_seq: 3 }]);
    assert_eq!(
        bodies(&chat),
        vec!["您好"],
        "the same conversation keeps its messages"
    );
}

#[test]
fn queued_then_assigned_updates_header_and_banner() {
    let mut chat = BuyerChat::default();
    chat.apply(hello(5));
    chat.apply(BuyerServerFrame::Queued { position: 2 });
    assert_eq!(chat.reception.status_line(), "客服在线 · 正在为您排队");
    assert_eq!(
        chat.reception.queue_line().as_deref(),
        Some("正在排队，您前面还有 1 位")
    );
    chat.apply(BuyerServerFrame::Assigned {
        agent_name: "客服小童".into(),
    });
    assert_eq!(chat.reception.status_line(), "客服在线 · 客服小童 为您服务");
    assert_eq!(chat.reception.queue_line(), None);
}

#[test]
fn messages_show_in_order_and_an_older_conversation_is_ignored() {
    let mut chat = BuyerChat::default();
    chat.apply(hello(5));
    chat.apply(messages(
        5,
        vec![
            in_conversation(5, agent_msg(2, "第二")),
            in_conversation(5, msg(1, "第一")),
        ],
    ));
    assert_eq!(bodies(&chat), vec!["第一", "第二"]);
    chat.apply(messages(4, vec![in_conversation(4, msg(9, "旧会话"))]));
    assert_eq!(bodies(&chat), vec!["第一", "第二"]);
}

#[test]
fn messages_go_one_at_a_time_and_an_ack_shows_them_as_mine() {
    let mut chat = BuyerChat::default();
    chat.apply(hello(5));
    assert_eq!(sent(&write(&mut chat, "c1")).len(), 1);
    assert!(write(&mut chat, "c2").is_empty(), "c1 is on its way");
    let effects = chat.apply(BuyerServerFrame::Ack(MessageAck {
        client_msg_id: "c1".into(),
        seq: 1,
    }));
    assert_eq!(
        sent(&effects),
        vec![BuyerFrame::Send {
            client_msg_id: "c2".into(),
            body: "问c2".into(),
            font_size: 14
        }]
    );
    assert_eq!(bodies(&chat), vec!["问c1"]);
    assert_eq!(chat.messages[0].sender_name, "我");
    let pending: Vec<_> = chat
        .outbox
        .pending()
        .iter()
        .map(|p| p.client_msg_id.as_str())
        .collect();
    assert_eq!(pending, vec!["c2"]);
}

#[test]
fn a_reconnect_resends_what_was_not_stored_in_order_with_the_same_ids() {
    let mut chat = BuyerChat::default();
    chat.apply(hello(5));
    write(&mut chat, "c1");
    write(&mut chat, "c2");
    chat.apply(BuyerServerFrame::Error {
        message: "服务器内部错误，请稍后再试".into(),
        client_msg_id: Some("c1".into()),
    });
    let failed: Vec<_> = chat
        .outbox
        .pending()
        .iter()
        .map(|p| (p.client_msg_id.as_str(), p.failed.is_some()))
        .collect();
    assert_eq!(failed, vec![("c1", true), ("c2", false)]);
    assert_eq!(chat.refused, None, "a refused message is no refused buyer");
    let effects = chat.apply(hello(5));
    assert_eq!(
        sent(&effects),
        vec![
            BuyerFrame::Resume { after_seq: 0 },
            BuyerFrame::Send {
                client_msg_id: "c1".into(),
                body: "问c1".into(),
                font_size: 14
            }
        ]
    );
}

#[test]
fn an_error_before_hello_stops_the_widget_for_good() {
    let mut chat = BuyerChat::default();
    let effects = chat.apply(BuyerServerFrame::Error {
        message: "身份令牌已过期，请从商城重新进入".into(),
        client_msg_id: None,
    });
    assert_eq!(effects, vec![Effect::Stop]);
    assert_eq!(
        chat.refused.as_deref(),
        Some("身份令牌已过期，请从商城重新进入")
    );
    assert_eq!(chat.outbox.error, None);
}

#[test]
fn ended_then_restart_starts_a_new_conversation() {
    let mut chat = BuyerChat::default();
    chat.apply(hello(5));
    chat.apply(messages(5, vec![in_conversation(5, msg(1, "谢谢"))]));
    chat.apply(ended(4));
    assert!(!chat.ended, "an older conversation's end");
    chat.apply(ended(5));
    assert!(chat.ended);
    assert_eq!(chat.reception.status_line(), "会话已结束");
    assert_eq!(chat.typing_frame(), None, "no typing into an ended chat");
    assert_eq!(sent(&chat.restart()), vec![BuyerFrame::Restart]);
    assert!(!chat.ended);
    assert!(chat.messages.is_empty());
    // The server answers with the new conversation's Hello.
    let effects = chat.apply(hello(6));
    assert_eq!(chat.conversation_id, 6);
    assert_eq!(sent(&effects), vec![BuyerFrame::Resume { after_seq: 0 }]);
    assert_eq!(chat.reception.status_line(), "客服在线");
}

#[test]
fn the_agent_typing_shows_until_their_message() {
    let mut chat = BuyerChat::default();
    chat.apply(hello(5));
    let effects = chat.apply(BuyerServerFrame::Typing);
    assert!(matches!(effects[..], [Effect::HideTypingLater(_)]));
    assert_eq!(chat.typing.shown(), Some(()));
    chat.apply(messages(5, vec![in_conversation(5, msg(1, "我自己"))]));
    assert_eq!(chat.typing.shown(), Some(()), "the buyer's own message");
    chat.apply(messages(5, vec![in_conversation(5, agent_msg(2, "您好"))]));
    assert_eq!(chat.typing.shown(), None);
}
