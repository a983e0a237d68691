use super::*;
use crate::chat::effect::sent;
use crate::chat::message::tests::{agent_msg, msg};
use crate::chat::protocol::EndReason;

fn summary(conversation_id: i64, name: &str) -> ConversationSummary {
    ConversationSummary {
        conversation_id,
        buyer_external_id: format!("CG{conversation_id}"),
        buyer_name: name.into(),
        buyer_unit: "某县第一中学".into(),
        entered_at: 0,
        last_message: None,
        last_seq: 0,
        unread: 0,
        waiting_since: None,
    }
}

fn hello(conversations: Vec<ConversationSummary>) -> AgentServerFrame {
    AgentServerFrame::Hello {
        version: 2,
        serving: true,
        conversations,
    }
}

/// A buyer message of `conversation_id` written at `created_at`.
fn buyer_says(conversation_id: i64, seq: i32, body: &str, created_at: i64) -> ChatMessage {
    ChatMessage {
        conversation_id,
        created_at,
        ..msg(seq, body)
    }
}

/// The conversation ended (the reason does not matter to the workbench).
fn ended(conversation_id: i64) -> AgentServerFrame {
    AgentServerFrame::Ended(ConversationEnded {
        conversation_id,
        reason: EndReason::Agent,
    })
}

fn messages(conversation_id: i64, messages: Vec<ChatMessage>) -> AgentServerFrame {
    AgentServerFrame::Messages {
        conversation_id,
        messages,
    }
}

/// A workbench greeted with two buyers, 王采购 (1) and 李老师 (2).
fn greeted() -> Workbench {
    let mut bench = Workbench::default();
    bench.apply(hello(vec![summary(1, "王采购"), summary(2, "李老师")]));
    bench
}

fn unread(bench: &Workbench) -> Vec<u32> {
    bench.conversations.iter().map(|c| c.unread).collect()
}

fn type_text(bench: &mut Workbench, id: &str) -> Vec<AgentEffect> {
    bench.send(|cid| Pending::text(cid, id.into(), format!("回复{id}"), 14, 0))
}

#[test]
fn hello_lists_the_conversations_and_marks_those_gone_as_ended() {
    let mut bench = greeted();
    assert!(bench.serving);
    assert_eq!(bench.badge(), 2, "two new buyers in the title");
    bench.open(1);
    // Reconnected: 李老师 was handed on meanwhile, a new buyer came.
    let effects = bench.apply(hello(vec![summary(1, "王采购"), summary(3, "赵科长")]));
    let names: Vec<_> = bench
        .conversations
        .iter()
        .map(|c| (c.summary.buyer_name.as_str(), c.ended))
        .collect();
    assert_eq!(
        names,
        vec![("王采购", false), ("李老师", true), ("赵科长", false)]
    );
    assert_eq!(
        sent(&effects),
        vec![AgentFrame::Open {
            conversation_id: 1,
            after_seq: 0
        }],
        "the open conversation catches up"
    );
    assert_eq!(effects.last(), Some(&Effect::Greeted));
    assert_eq!(bench.badge(), 1, "only 赵科长 is new; 李老师 ended");
}

#[test]
fn a_new_buyer_beeps_and_notifies_once() {
    let mut bench = greeted();
    let effects = bench.apply(AgentServerFrame::Assigned {
        conversation: summary(3, "赵科长"),
    });
    assert_eq!(
        effects,
        vec![
            Effect::Beep,
            Effect::Notify {
                title: "新的采购人咨询".into(),
                body: "赵科长（某县第一中学）".into()
            }
        ]
    );
    bench.apply(ended(3));
    // The same buyer re-routed back: no new alert, and it is live again.
    let effects = bench.apply(AgentServerFrame::Assigned {
        conversation: summary(3, "赵科长"),
    });
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(bench.conversations.len(), 3);
    assert!(!bench.conversations[2].ended);
}

#[test]
fn buyer_messages_count_as_unread_only_while_the_conversation_is_closed() {
    let mut bench = greeted();
    bench.open(1);
    let effects = bench.apply(messages(1, vec![buyer_says(1, 1, "在吗", 0)]));
    assert!(effects.is_empty(), "the open conversation does not beep");
    let effects = bench.apply(messages(
        2,
        vec![buyer_says(2, 1, "你好", 0), buyer_says(2, 2, "有货吗", 0)],
    ));
    assert_eq!(effects, vec![Effect::Beep]);
    assert_eq!(unread(&bench), vec![0, 2]);
    assert_eq!(bench.conversations[1].last_line(), "有货吗");
    // The same messages again (a reconnect) are not counted twice.
    bench.apply(messages(2, vec![buyer_says(2, 2, "有货吗", 0)]));
    assert_eq!(unread(&bench), vec![0, 2]);
    assert_eq!(bench.badge(), 1, "李老师 has unread messages");
    bench.open(2);
    assert_eq!(unread(&bench), vec![0, 0]);
    assert_eq!(bench.badge(), 0);
}

#[test]
fn the_wait_runs_from_the_first_unanswered_message_until_the_agent_answers() {
    let mut bench = greeted();
    let minute = 60_000;
    bench.apply(messages(
        1,
        vec![
            buyer_says(1, 1, "在吗", 10 * minute),
            buyer_says(1, 2, "急", 12 * minute),
        ],
    ));
    let c = &bench.conversations[0];
    assert_eq!(c.wait_line(13 * minute + 59_000), "等待 3 分钟");
    assert_eq!(c.wait_line(0), "等待 0 分钟", "never negative");
    bench.apply(messages(1, vec![agent_msg(3, "您好")]));
    assert_eq!(bench.conversations[0].wait_line(20 * minute), "");
    bench.apply(ended(1));
    assert_eq!(bench.conversations[0].wait_line(20 * minute), "已结束");
}

#[test]
fn older_messages_go_above_in_order() {
    let mut bench = greeted();
    bench.open(1);
    bench.apply(messages(1, vec![buyer_says(1, 31, "新", 0)]));
    bench.apply(AgentServerFrame::Older {
        conversation_id: 1,
        messages: vec![buyer_says(1, 29, "旧", 0), buyer_says(1, 30, "较旧", 0)],
        has_more: true,
    });
    let c = bench.current().expect("open");
    let seqs: Vec<i32> = c.messages.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![29, 30, 31]);
    assert!(c.has_older);
    assert_eq!(unread(&bench), vec![0, 0], "history is not unread");
    assert_eq!(
        bench.older(),
        Some(AgentFrame::Older {
            conversation_id: 1,
            before_seq: 29
        })
    );
}

#[test]
fn replies_go_one_at_a_time_and_an_ack_shows_them_stored() {
    let mut bench = greeted();
    bench.open(1);
    let first = type_text(&mut bench, "c1");
    assert_eq!(sent(&first).len(), 1);
    assert!(type_text(&mut bench, "c2").is_empty(), "c1 is on its way");
    assert_eq!(bench.current_pending().len(), 2);
    let effects = bench.apply(AgentServerFrame::Ack(MessageAck {
        client_msg_id: "c1".into(),
        seq: 4,
    }));
    assert_eq!(
        sent(&effects),
        vec![AgentFrame::Send {
            conversation_id: 1,
            client_msg_id: "c2".into(),
            body: "回复c2".into(),
            font_size: 14
        }]
    );
    let c = bench.current().expect("open");
    assert_eq!(c.messages.len(), 1);
    assert_eq!(
        (c.messages[0].seq, c.messages[0].sender_name.as_str()),
        (4, "我")
    );
    assert_eq!(c.last_line(), "回复c1");
    assert_eq!(bench.current_pending().len(), 1, "c2 still pending");
    // The server's copy of c2 comes before its Ack: it leaves the pending list.
    let mut stored = agent_msg(5, "回复c2");
    stored.client_msg_id = "c2".into();
    bench.apply(messages(1, vec![stored]));
    assert!(bench.current_pending().is_empty());
}

#[test]
fn an_error_with_a_client_id_marks_that_message_failed_and_reconnect_resends_it() {
    let mut bench = greeted();
    bench.open(1);
    type_text(&mut bench, "c1");
    type_text(&mut bench, "c2");
    bench.apply(AgentServerFrame::Error {
        message: "发送过于频繁，请稍后再试".into(),
        client_msg_id: Some("c1".into()),
    });
    let failed: Vec<_> = bench
        .current_pending()
        .iter()
        .map(|p| (p.client_msg_id.clone(), p.failed.is_some()))
        .collect();
    assert_eq!(failed, vec![("c1".into(), true), ("c2".into(), false)]);
    assert_eq!(bench.outbox.error, None, "the reason is on the bubble");
    // An error naming no message is shown above the composer.
    bench.apply(AgentServerFrame::Error {
        message: "对话已结束".into(),
        client_msg_id: None,
    });
    assert_eq!(bench.outbox.error.as_deref(), Some("对话已结束"));
    // A reconnect sends c1 again first, with the same id.
    let effects = bench.apply(hello(vec![summary(1, "王采购")]));
    let resent: Vec<_> = sent(&effects)
        .into_iter()
        .filter(|f| matches!(f, AgentFrame::Send { .. }))
        .collect();
    assert_eq!(
        resent,
        vec![AgentFrame::Send {
            conversation_id: 1,
            client_msg_id: "c1".into(),
            body: "回复c1".into(),
            font_size: 14
        }]
    );
}

#[test]
fn resend_sends_the_failed_message_again() {
    let mut bench = greeted();
    bench.open(1);
    type_text(&mut bench, "c1");
    bench.apply(AgentServerFrame::Error {
        message: "服务器内部错误，请稍后再试".into(),
        client_msg_id: Some("c1".into()),
    });
    assert_eq!(sent(&bench.resend("c1")).len(), 1);
    assert!(bench.current_pending()[0].failed.is_none());
}

#[test]
fn an_ended_conversation_takes_no_more_messages() {
    let mut bench = greeted();
    bench.open(1);
    type_text(&mut bench, "c1");
    bench.apply(ended(1));
    assert!(bench.current_ended());
    assert!(bench.current_pending().is_empty());
    let order = crate::chat::outbox::tests::order_summary();
    assert!(bench.send_order(order, "o1".into(), 0).is_empty());
    assert!(bench.current_pending().is_empty());
}

#[test]
fn the_typing_notice_shows_in_its_conversation_until_the_buyer_writes() {
    let mut bench = greeted();
    bench.open(1);
    let effects = bench.apply(AgentServerFrame::Typing { conversation_id: 2 });
    assert!(!bench.buyer_typing(), "李老师 types, 王采购 is open");
    let Some(Effect::HideTypingLater(stamp)) = effects.first().cloned() else {
        panic!("{effects:?}");
    };
    bench.open(2);
    assert!(bench.buyer_typing());
    bench.apply(messages(2, vec![buyer_says(2, 1, "好的", 0)]));
    assert!(!bench.buyer_typing(), "the message came");
    bench.apply(AgentServerFrame::Typing { conversation_id: 2 });
    bench.typing.expire(stamp);
    assert!(
        bench.buyer_typing(),
        "an old timeout keeps the newer notice"
    );
}

#[test]
fn status_follows_the_server() {
    let mut bench = greeted();
    bench.apply(AgentServerFrame::Status { serving: false });
    assert!(!bench.serving);
    bench.apply(AgentServerFrame::Status { serving: true });
    assert!(bench.serving);
}
