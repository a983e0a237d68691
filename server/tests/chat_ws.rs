//! The chat sockets end to end: the real routes on a real port, real WebSockets, a real SQLite
//! file with the demo data, agents logged in for real.

mod common;

use std::time::Duration;

use app::chat::protocol::{
    AgentFrame, AgentServerFrame, BuyerFrame, BuyerServerFrame, ChatContent, ChatMessage,
    EndReason, MessageAck, MessageKind,
};
use common::chat::{
    ChatServer, SECRET, Ws, agent_acked, agent_recv, agent_says, bodies, buyer_acked, buyer_recv,
    buyer_said, buyer_says, claims, ended, next_text, older, open, quiet, send_json, start_serving,
};
use domain::chat::sign;
use domain::logins::Session;
use futures::SinkExt;
use server::chat::{TOO_FAST, TOO_LONG, UNKNOWN_FRAME};
use tokio_tungstenite::tungstenite::Message;

const PRESENCE_GRACE: Duration = Duration::from_millis(400);

type Server = ChatServer;

async fn start() -> Server {
    ChatServer::demo(|chat| chat.with_presence_grace(PRESENCE_GRACE), false).await
}

/// kf101 serves and `buyer_id` of its supplier enters: the server, the agent's socket and
/// session, the buyer's socket and the conversation.
async fn talk(buyer_id: &str) -> (Server, Ws, Session, Ws, i64) {
    let server = start().await;
    let (mut agent, session) = server.serving_agent("kf101").await;
    let (buyer, cid) = server
        .buyer_enters(&mut agent, session.supplier_id, buyer_id)
        .await;
    (server, agent, session, buyer, cid)
}

/// `buyer_id` of the first demo supplier enters while nobody serves and waits at `position`.
async fn queued(server: &Server, buyer_id: &str, position: u64) -> Ws {
    let mut buyer = server.buyer(1, buyer_id).await;
    assert!(matches!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Hello { .. }
    ));
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Queued { position }
    );
    buyer
}

/// The agent's next frame is a page of history: its conversation, messages and whether there is
/// more before it.
async fn page(agent: &mut Ws) -> (i64, Vec<ChatMessage>, bool) {
    let AgentServerFrame::Older {
        conversation_id,
        messages,
        has_more,
    } = agent_recv(agent).await
    else {
        panic!("a page of history")
    };
    (conversation_id, messages, has_more)
}

/// The agent's frame is refused with an `Error`.
async fn refused(agent: &mut Ws, frame: &AgentFrame) {
    send_json(agent, frame).await;
    assert!(matches!(
        agent_recv(agent).await,
        AgentServerFrame::Error { .. }
    ));
}

/// Both sides learn that the conversation ended, and why.
async fn both_ended(agent: &mut Ws, buyer: &mut Ws, conversation_id: i64, reason: EndReason) {
    let ended = ended(conversation_id, reason);
    assert_eq!(
        agent_recv(agent).await,
        AgentServerFrame::Ended(ended.clone())
    );
    assert_eq!(buyer_recv(buyer).await, BuyerServerFrame::Ended(ended));
}

async fn stored_messages(server: &Server, conversation_id: i64) -> Vec<i32> {
    let stored = domain::chat::messages_since(&server.auth.db, conversation_id, 0, 500).await;
    stored.expect("messages").iter().map(|m| m.seq).collect()
}

#[tokio::test]
async fn agent_and_buyer_talk_and_the_agent_ends() {
    let (server, mut agent, _, mut buyer, cid) = talk("T-1").await;

    let send = BuyerFrame::Send {
        client_msg_id: "b-1".into(),
        body: "你好，<b>在吗</b>".into(),
        font_size: 14,
    };
    send_json(&mut buyer, &send).await;
    buyer_acked(&mut buyer, "b-1", 1).await;
    let AgentServerFrame::Messages {
        conversation_id,
        messages,
    } = agent_recv(&mut agent).await
    else {
        panic!()
    };
    assert_eq!(conversation_id, cid);
    assert_eq!(bodies(&messages), vec![(1, "buyer", "你好，<b>在吗</b>")]);
    assert_eq!(messages[0].sender_name, "采购人T-1");

    send_json(&mut agent, &open(cid, 0)).await;
    let (_, messages, has_more) = page(&mut agent).await;
    assert!(!has_more);
    assert_eq!(messages.len(), 1);

    send_json(
        &mut agent,
        &AgentFrame::Send {
            conversation_id: cid,
            client_msg_id: "a-1".into(),
            body: "您好".into(),
            font_size: 16,
        },
    )
    .await;
    agent_acked(&mut agent, "a-1", 2).await;
    let BuyerServerFrame::Messages { messages, .. } = buyer_recv(&mut buyer).await else {
        panic!()
    };
    assert_eq!(bodies(&messages), vec![(2, "agent", "您好")]);
    assert_eq!(
        (messages[0].sender_name.as_str(), &messages[0].content),
        ("客服小童", &ChatContent::Text { font_size: 16 })
    );

    // A resend (lost Ack) is acknowledged with the stored seq and stored once.
    send_json(&mut buyer, &send).await;
    buyer_acked(&mut buyer, "b-1", 1).await;
    quiet(&mut agent).await;
    assert_eq!(stored_messages(&server, cid).await, vec![1, 2]);

    // A domain refusal carries the message id.
    send_json(&mut buyer, &buyer_says("b-2", "  ")).await;
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Error {
            message: "不能发送空白消息".into(),
            client_msg_id: Some("b-2".into())
        }
    );

    let conversation_id = cid;
    send_json(&mut agent, &AgentFrame::End { conversation_id }).await;
    both_ended(&mut agent, &mut buyer, cid, EndReason::Agent).await;
    // Nothing more can be said in it.
    send_json(&mut buyer, &buyer_says("b-3", "还在吗")).await;
    assert!(matches!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Error {
            client_msg_id: Some(_),
            ..
        }
    ));
    assert_eq!(stored_messages(&server, cid).await, vec![1, 2]);

    // 重新咨询: a new conversation, routed to the serving agent.
    send_json(&mut buyer, &BuyerFrame::Restart).await;
    let BuyerServerFrame::Hello {
        conversation_id: new_cid,
        ..
    } = buyer_recv(&mut buyer).await
    else {
        panic!()
    };
    assert_ne!(new_cid, cid);
    assert!(matches!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Assigned { .. }
    ));
    let AgentServerFrame::Assigned { conversation } = agent_recv(&mut agent).await else {
        panic!()
    };
    assert_eq!(conversation.conversation_id, new_cid);
}

#[tokio::test]
async fn a_reconnecting_buyer_gets_exactly_what_it_missed_and_the_buyer_ends() {
    let (server, mut agent, session, mut buyer, cid) = talk("T-2").await;
    let supplier_id = session.supplier_id;
    send_json(&mut buyer, &buyer_says("b-1", "一")).await;
    assert!(matches!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Ack(MessageAck { seq: 1, .. })
    ));
    assert!(matches!(
        agent_recv(&mut agent).await,
        AgentServerFrame::Messages { .. }
    ));
    drop(buyer);

    for (i, body) in ["二", "三"].iter().enumerate() {
        send_json(&mut agent, &agent_says(cid, &format!("a-{i}"), body)).await;
        assert!(matches!(
            agent_recv(&mut agent).await,
            AgentServerFrame::Ack { .. }
        ));
    }

    let mut buyer = server.buyer(supplier_id, "T-2").await;
    let BuyerServerFrame::Hello {
        conversation_id, ..
    } = buyer_recv(&mut buyer).await
    else {
        panic!()
    };
    assert_eq!(conversation_id, cid, "the open conversation is reused");
    assert!(matches!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Assigned { .. }
    ));
    send_json(&mut buyer, &BuyerFrame::Resume { after_seq: 1 }).await;
    let BuyerServerFrame::Messages { messages, .. } = buyer_recv(&mut buyer).await else {
        panic!()
    };
    assert_eq!(
        bodies(&messages),
        vec![(2, "agent", "二"), (3, "agent", "三")]
    );

    send_json(&mut buyer, &BuyerFrame::End).await;
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Ended(ended(cid, EndReason::Buyer))
    );
    loop {
        // The agent may first get the buyer's re-entry (Assigned again).
        match agent_recv(&mut agent).await {
            AgentServerFrame::Assigned { .. } => continue,
            frame => {
                let by_buyer = ended(cid, EndReason::Buyer);
                assert_eq!(frame, AgentServerFrame::Ended(by_buyer));
                break;
            }
        }
    }
}

#[tokio::test]
async fn waiting_buyers_are_queued_then_assigned_when_an_agent_serves() {
    let server = start().await;
    let mut first = server.buyer(1, "Q-1").await;
    let BuyerServerFrame::Hello {
        anyone_serving,
        conversation_id: first_cid,
        ..
    } = buyer_recv(&mut first).await
    else {
        panic!()
    };
    assert!(!anyone_serving);
    assert_eq!(
        buyer_recv(&mut first).await,
        BuyerServerFrame::Queued { position: 1 }
    );
    // Messages are kept while waiting.
    buyer_said(&mut first, "q-1", "有人吗", 1).await;

    let mut second = queued(&server, "Q-2", 2).await;

    let (mut agent, session) = server.serving_agent("kf101").await;
    let supplier_id = session.supplier_id;
    assert_eq!(supplier_id, 1);
    let AgentServerFrame::Assigned { conversation } = agent_recv(&mut agent).await else {
        panic!()
    };
    assert_eq!(
        conversation.conversation_id, first_cid,
        "first come, first served"
    );
    assert_eq!(conversation.last_message.as_deref(), Some("有人吗"));
    // The message left while queued is unread for the agent, and the buyer is still waiting.
    assert_eq!(conversation.unread, 1);
    assert!(conversation.waiting_since.is_some());
    assert!(matches!(
        agent_recv(&mut agent).await,
        AgentServerFrame::Assigned { .. }
    ));
    assert_eq!(
        buyer_recv(&mut first).await,
        BuyerServerFrame::Assigned {
            agent_name: "客服小童".into()
        }
    );
    assert_eq!(
        buyer_recv(&mut second).await,
        BuyerServerFrame::Assigned {
            agent_name: "客服小童".into()
        }
    );

    send_json(&mut agent, &open(first_cid, 0)).await;
    let (_, messages, has_more) = page(&mut agent).await;
    assert!(!has_more);
    assert_eq!(bodies(&messages), vec![(1, "buyer", "有人吗")]);
}

#[tokio::test]
async fn a_long_history_opens_at_its_newest_page_and_pages_back_to_the_start() {
    let (server, mut agent, _, _buyer, cid) = talk("H-1").await;
    let now = domain::db::now_ms();
    for i in 1..=70 {
        let (id, body) = (format!("h-{i}"), format!("第 {i} 条"));
        let msg = domain::chat::NewMessage::text(domain::chat::Sender::Buyer, &id, &body);
        domain::chat::store_message(&server.auth.db, cid, &msg, now)
            .await
            .expect("stored");
    }
    let seqs = |messages: &[ChatMessage]| messages.iter().map(|m| m.seq).collect::<Vec<_>>();

    send_json(&mut agent, &open(cid, 0)).await;
    let (conversation_id, messages, has_more) = page(&mut agent).await;
    assert_eq!((conversation_id, has_more), (cid, true));
    assert_eq!(seqs(&messages), (41..=70).collect::<Vec<_>>());
    assert_eq!(messages[29].body, "第 70 条");

    send_json(&mut agent, &older(cid, 41)).await;
    let (_, messages, has_more) = page(&mut agent).await;
    assert!(has_more);
    assert_eq!(seqs(&messages), (11..=40).collect::<Vec<_>>());
    send_json(&mut agent, &older(cid, 11)).await;
    let (_, messages, has_more) = page(&mut agent).await;
    assert!(!has_more);
    assert_eq!(seqs(&messages), (1..=10).collect::<Vec<_>>());

    // A reconnect that already has seq 70 gets nothing more; one that has 65 gets 66..70.
    send_json(&mut agent, &open(cid, 65)).await;
    let AgentServerFrame::Messages { messages, .. } = agent_recv(&mut agent).await else {
        panic!()
    };
    assert_eq!(seqs(&messages), vec![66, 67, 68, 69, 70]);

    // Another agent cannot page through it.
    let (mut other, _) = server.agent("kf102").await;
    let _hello = agent_recv(&mut other).await;
    refused(&mut other, &older(cid, 41)).await;
}

#[tokio::test]
async fn a_queued_buyer_moves_up_when_the_one_ahead_leaves() {
    let server = start().await;
    let mut first = queued(&server, "Q-1", 1).await;
    let mut second = queued(&server, "Q-2", 2).await;
    send_json(&mut first, &BuyerFrame::End).await;
    assert!(matches!(
        buyer_recv(&mut first).await,
        BuyerServerFrame::Ended { .. }
    ));
    assert_eq!(
        buyer_recv(&mut second).await,
        BuyerServerFrame::Queued { position: 1 }
    );
}

#[tokio::test]
async fn forged_tampered_and_expired_tokens_are_refused() {
    let server = start().await;
    let good = sign(
        SECRET,
        &claims(1, "T-9", domain::db::now_ms() / 1000 + 3600),
    );
    let forged = sign(
        b"not-the-shared-secret",
        &claims(1, "T-9", domain::db::now_ms() / 1000 + 3600),
    );
    let (payload, signature) = good.split_once('.').expect("two parts");
    let other_payload = sign(
        SECRET,
        &claims(2, "T-9", domain::db::now_ms() / 1000 + 3600),
    );
    let tampered = format!(
        "{}.{signature}",
        other_payload.split_once('.').expect("two parts").0
    );
    assert_ne!(payload, tampered.split_once('.').expect("two parts").0);
    let expired = sign(SECRET, &claims(1, "T-9", 1_000));
    // Valid for two days: longer than the 24 h a token may live.
    let too_long = sign(
        SECRET,
        &claims(1, "T-9", domain::db::now_ms() / 1000 + 2 * 86_400),
    );
    for (token, reason) in [
        (forged.as_str(), "签名无效"),
        (tampered.as_str(), "签名无效"),
        (expired.as_str(), "已过期"),
        (too_long.as_str(), "有效期过长"),
        ("", "缺少买家身份令牌"),
    ] {
        let mut ws = server.buyer_socket(token).await;
        let BuyerServerFrame::Error { message, .. } = buyer_recv(&mut ws).await else {
            panic!("refused: {token}")
        };
        assert!(message.contains(reason), "{message} should say {reason}");
        assert_eq!(next_text(&mut ws).await, None, "the socket closes");
    }
    // The untouched token is accepted.
    let mut ws = server.buyer_socket(&good).await;
    assert!(matches!(
        buyer_recv(&mut ws).await,
        BuyerServerFrame::Hello { .. }
    ));
}

#[tokio::test]
async fn an_agent_of_another_supplier_cannot_touch_the_conversation() {
    let (server, mut agent, session, _buyer, cid) = talk("T-3").await;
    let supplier_id = session.supplier_id;

    let (mut intruder, other) = server.agent("kf201").await;
    let other_supplier = other.supplier_id;
    assert_ne!(other_supplier, supplier_id);
    let AgentServerFrame::Hello { conversations, .. } = agent_recv(&mut intruder).await else {
        panic!()
    };
    assert!(conversations.is_empty());
    send_json(&mut intruder, &open(cid, 0)).await;
    assert!(matches!(
        agent_recv(&mut intruder).await,
        AgentServerFrame::Error {
            client_msg_id: None,
            ..
        }
    ));
    send_json(&mut intruder, &agent_says(cid, "x-1", "hi")).await;
    let AgentServerFrame::Error { client_msg_id, .. } = agent_recv(&mut intruder).await else {
        panic!()
    };
    assert_eq!(client_msg_id.as_deref(), Some("x-1"));
    let conversation_id = cid;
    refused(&mut intruder, &AgentFrame::End { conversation_id }).await;
    assert!(
        stored_messages(&server, cid).await.is_empty(),
        "nothing stored"
    );
    quiet(&mut agent).await;

    // Another agent of the same supplier may not either.
    let (mut colleague, _) = server.agent("kf102").await;
    assert!(matches!(
        agent_recv(&mut colleague).await,
        AgentServerFrame::Hello { .. }
    ));
    send_json(&mut colleague, &agent_says(cid, "c-1", "hi")).await;
    assert_eq!(
        agent_recv(&mut colleague).await,
        // The same answer as for a conversation that does not exist.
        AgentServerFrame::Error {
            message: "要操作的内容不存在或已被删除".into(),
            client_msg_id: Some("c-1".into())
        }
    );
    assert!(stored_messages(&server, cid).await.is_empty());
}

#[tokio::test]
async fn bad_frames_get_an_error_and_the_socket_stays_open() {
    let server = start().await;
    let (mut agent, _) = server.agent("kf101").await;
    assert!(matches!(
        agent_recv(&mut agent).await,
        AgentServerFrame::Hello { .. }
    ));
    let big = format!(
        r#"{{"type":"send","conversation_id":1,"client_msg_id":"x","body":"{}","font_size":14}}"#,
        "a".repeat(14 * 1024)
    );
    for (bad, refusal) in [
        (r#"{"type":"fly"}"#.to_owned(), UNKNOWN_FRAME),
        (
            r#"{"type":"set_serving","serving":true,"extra":1}"#.to_owned(),
            UNKNOWN_FRAME,
        ),
        ("not json".to_owned(), UNKNOWN_FRAME),
        (big, TOO_LONG),
    ] {
        agent.send(Message::Text(bad.into())).await.expect("send");
        assert_eq!(
            agent_recv(&mut agent).await,
            AgentServerFrame::Error {
                message: refusal.into(),
                client_msg_id: None
            }
        );
    }
    send_json(&mut agent, &AgentFrame::SetServing { serving: true }).await;
    assert_eq!(
        agent_recv(&mut agent).await,
        AgentServerFrame::Status { serving: true }
    );

    // Beyond the frame limit the socket is closed.
    let huge = "a".repeat(32 * 1024);
    let _ = agent.send(Message::Text(huge.into())).await;
    assert_eq!(next_text(&mut agent).await, None);
}

#[tokio::test]
async fn too_many_frames_per_second_are_refused() {
    let server = start().await;
    let mut buyer = server.buyer(1, "R-1").await;
    assert!(matches!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Hello { .. }
    ));
    assert!(matches!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Queued { .. }
    ));
    for i in 0..12 {
        send_json(&mut buyer, &buyer_says(&format!("r-{i}"), "刷屏")).await;
    }
    let mut acked = std::collections::BTreeSet::new();
    let mut refused = std::collections::BTreeSet::new();
    for _ in 0..12 {
        match buyer_recv(&mut buyer).await {
            BuyerServerFrame::Ack(MessageAck { client_msg_id, .. }) => {
                acked.insert(client_msg_id);
            }
            // The refusal names the refused message, so the page offers 重发 for exactly it.
            BuyerServerFrame::Error {
                message,
                client_msg_id: Some(id),
            } if message == TOO_FAST => {
                refused.insert(id);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(refused.len() >= 2, "acked {acked:?}, refused {refused:?}");
    let all: std::collections::BTreeSet<String> = (0..12).map(|i| format!("r-{i}")).collect();
    assert_eq!(
        acked
            .union(&refused)
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        all
    );
    assert!(acked.is_disjoint(&refused));
}

#[tokio::test]
async fn a_non_agent_or_anonymous_socket_is_refused() {
    let server = start().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws/agent", server.addr))
        .await
        .expect("connects");
    assert!(matches!(
        serde_json::from_str::<AgentServerFrame>(&next_text(&mut ws).await.expect("a frame"))
            .expect("frame"),
        AgentServerFrame::Error { .. }
    ));
    assert_eq!(next_text(&mut ws).await, None);
}

#[tokio::test]
async fn a_kicked_agents_buyers_go_to_another_serving_agent() {
    let (server, mut agent, session, mut buyer, cid) = talk("K-1").await;
    let (mut other, _) = server.serving_agent("kf102").await;

    // What the admin's 剔除登录 does: end the login and publish it on the bus.
    server.chat.bus.publish(
        session.account_id,
        domain::bus::AccountEvent::LoginEnded(domain::bus::LoginEndReason::Kicked),
    );
    assert!(matches!(
        agent_recv(&mut agent).await,
        AgentServerFrame::Error { .. }
    ));
    assert_eq!(
        next_text(&mut agent).await,
        None,
        "the kicked agent's socket closes"
    );
    let AgentServerFrame::Assigned { conversation } = agent_recv(&mut other).await else {
        panic!()
    };
    assert_eq!(conversation.conversation_id, cid);
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Assigned {
            agent_name: "客服小李".into()
        }
    );
}

#[tokio::test]
async fn idle_conversations_end_for_both_sides() {
    let (server, mut agent, _, mut buyer, cid) = talk("I-1").await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let ended =
        server::chat::end_idle_conversations(&server.chat.notifier, Duration::from_millis(1))
            .await
            .expect("sweep");
    assert!(ended >= 1);
    both_ended(&mut agent, &mut buyer, cid, EndReason::Timeout).await;
}

#[tokio::test]
async fn typing_reaches_only_the_other_side_of_the_conversation() {
    let (server, mut agent, _, mut buyer, cid) = talk("T-typing").await;

    send_json(&mut buyer, &BuyerFrame::Typing).await;
    assert_eq!(
        agent_recv(&mut agent).await,
        AgentServerFrame::Typing {
            conversation_id: cid
        }
    );
    quiet(&mut buyer).await;

    send_json(
        &mut agent,
        &AgentFrame::Typing {
            conversation_id: cid,
        },
    )
    .await;
    assert_eq!(buyer_recv(&mut buyer).await, BuyerServerFrame::Typing);
    quiet(&mut agent).await;

    // Another supplier's agent cannot make the buyer see "typing", and nothing is stored.
    let (mut intruder, _) = server.agent("kf201").await;
    assert!(matches!(
        agent_recv(&mut intruder).await,
        AgentServerFrame::Hello { .. }
    ));
    let conversation_id = cid;
    refused(&mut intruder, &AgentFrame::Typing { conversation_id }).await;
    quiet(&mut buyer).await;
    assert!(stored_messages(&server, cid).await.is_empty());
}

#[tokio::test]
async fn an_agent_whose_workbench_closed_gets_no_new_buyers_but_a_reload_changes_nothing() {
    let server = start().await;
    let (token, session) = server
        .auth
        .login("kf101", domain::demo::AGENT_PASSWORD, "127.0.0.1", "test")
        .await
        .expect("agent logs in");
    let supplier_id = session.supplier_id;
    let serving =
        || domain::chat::views::is_serving(&server.auth.db, supplier_id, session.account_id);
    let mut agent = server.agent_socket(&token).await;
    start_serving(&mut agent).await;

    // A reload: the socket closes and a new one opens within the grace period.
    drop(agent);
    let mut agent = server.agent_socket(&token).await;
    assert!(matches!(
        agent_recv(&mut agent).await,
        AgentServerFrame::Hello { serving: true, .. }
    ));
    tokio::time::sleep(PRESENCE_GRACE * 2).await;
    assert!(serving().await.expect("status"), "a reload keeps 服务中");
    let (_buyer, _cid) = server.buyer_enters(&mut agent, supplier_id, "R-1").await;

    // The browser closes for good: after the grace period the agent is 示忙, new buyers queue.
    drop(agent);
    tokio::time::sleep(PRESENCE_GRACE * 2).await;
    assert!(
        !serving().await.expect("status"),
        "nobody at the workbench: 示忙"
    );
    let mut buyer = server.buyer(supplier_id, "R-2").await;
    assert!(matches!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Hello {
            anyone_serving: false,
            ..
        }
    ));
    assert_eq!(
        buyer_recv(&mut buyer).await,
        BuyerServerFrame::Queued { position: 1 }
    );
}

/// The ids of a demo buyer's orders with supplier 1, newest first.
async fn orders_of(server: &Server, external_id: &str) -> Vec<i64> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let buyer = domain::entity::buyer::Entity::find()
        .filter(domain::entity::buyer::Column::SupplierId.eq(1))
        .filter(domain::entity::buyer::Column::ExternalId.eq(external_id))
        .one(&server.auth.db)
        .await
        .expect("query")
        .expect("demo buyer");
    domain::entity::purchase_order::Entity::find()
        .filter(domain::entity::purchase_order::Column::BuyerId.eq(buyer.id))
        .order_by_desc(domain::entity::purchase_order::Column::CreatedAt)
        .all(&server.auth.db)
        .await
        .expect("orders")
        .into_iter()
        .map(|o| o.id)
        .collect()
}

#[tokio::test]
async fn an_order_card_of_the_buyer_reaches_both_sides_and_no_other_order_can_be_sent() {
    let (server, mut agent, _, mut buyer, cid) = talk("CG1001").await;
    let mine = orders_of(&server, "CG1001").await;
    let theirs = orders_of(&server, "CG1002").await;
    assert!(
        !mine.is_empty() && !theirs.is_empty(),
        "the demo buyers have orders"
    );

    let card = AgentFrame::SendOrder {
        conversation_id: cid,
        client_msg_id: "o-1".into(),
        order_id: mine[0],
    };
    send_json(&mut agent, &card).await;
    agent_acked(&mut agent, "o-1", 1).await;
    let BuyerServerFrame::Messages { messages, .. } = buyer_recv(&mut buyer).await else {
        panic!("Messages")
    };
    assert_eq!(messages[0].content.kind(), MessageKind::Order);
    let ChatContent::Order { order: Some(order) } = &messages[0].content else {
        panic!("the card carries the order")
    };
    assert_eq!(order.order_id, mine[0]);
    assert!(order.order_no.starts_with("832"), "{}", order.order_no);
    assert!(order.total_fen > 0 && order.item_count > 0);

    // Another buyer's order, or another supplier's, is refused and nothing is stored.
    for (id, order_id) in [("o-2", theirs[0]), ("o-3", i64::MAX)] {
        let frame = AgentFrame::SendOrder {
            conversation_id: cid,
            client_msg_id: id.into(),
            order_id,
        };
        send_json(&mut agent, &frame).await;
        let AgentServerFrame::Error { client_msg_id, .. } = agent_recv(&mut agent).await else {
            panic!("refused")
        };
        assert_eq!(client_msg_id.as_deref(), Some(id));
    }
    assert_eq!(stored_messages(&server, cid).await, vec![1]);
    quiet(&mut buyer).await;

    // History shows the card too.
    send_json(&mut buyer, &BuyerFrame::Resume { after_seq: 0 }).await;
    let BuyerServerFrame::Messages { messages, .. } = buyer_recv(&mut buyer).await else {
        panic!("Messages")
    };
    assert_eq!(
        match &messages[0].content {
            ChatContent::Order { order } => order.as_ref().map(|o| o.order_id),
            _ => None,
        },
        Some(mine[0])
    );
}
