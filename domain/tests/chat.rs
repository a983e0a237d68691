//! The chat core: buyer tokens, routing and the queue, messages, the end of a conversation and
//! tenant scoping. Every database test runs on a SQLite file and on PostgreSQL.

mod common;

use std::collections::HashSet;

use common::chat::{claims, reload};
use common::{each_db, hasher, supplier};
use domain::DomainError;
use domain::accounts::create_agent;
use domain::chat::{
    self, Content, EndReason, GroupedMessage, NewMessage, Sender, assign_waiting_buyers,
    conversation_for_agent, conversation_for_buyer, end_conversation, end_idle_conversations,
    history_before, mark_agent_joined, messages_since, open_conversation, queue_position,
    release_agent_conversations, reset_status_on_login, route, set_serving, store_message,
    store_messages_batch, store_messages_grouped, upsert_buyer,
};
use domain::entity::{conversation, message};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

const SECRET: &[u8] = b"mall-shared-secret";
const T0: i64 = 1_780_000_000_000;

fn reason(err: DomainError) -> String {
    match err {
        DomainError::Validation { reason, .. } => reason,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn buyer_tokens_are_checked() {
    let good = claims(7, "C0001");
    let token = chat::sign(SECRET, &good);
    assert_eq!(
        chat::verify(SECRET, &token, 1_900_000_000).expect("good"),
        good
    );

    // Tampered payload, signature kept.
    let (_, signature) = token.split_once('.').expect("two parts");
    let mut evil = good.clone();
    evil.supplier_id = 8;
    let forged_payload = chat::sign(SECRET, &evil);
    let (evil_payload, _) = forged_payload.split_once('.').expect("two parts");
    let tampered = format!("{evil_payload}.{signature}");
    assert!(reason(chat::verify(SECRET, &tampered, 0).expect_err("tampered")).contains("签名无效"));

    // Tampered signature (one character changed, still valid base64url).
    let mut sig: Vec<char> = signature.chars().collect();
    sig[3] = if sig[3] == 'A' { 'B' } else { 'A' };
    let tampered_sig = format!(
        "{}.{}",
        token.split_once('.').expect("parts").0,
        sig.iter().collect::<String>()
    );
    assert!(
        reason(chat::verify(SECRET, &tampered_sig, 0).expect_err("bad sig")).contains("签名无效")
    );

    // Wrong secret.
    assert!(reason(chat::verify(b"other", &token, 0).expect_err("secret")).contains("签名无效"));

    // Expired.
    let mut old = good.clone();
    old.exp = 1_000;
    let expired = chat::sign(SECRET, &old);
    assert!(reason(chat::verify(SECRET, &expired, 1_001).expect_err("expired")).contains("已过期"));
    chat::verify(SECRET, &expired, 1_000).expect("valid up to exp");

    // Missing and malformed.
    assert!(reason(chat::verify(SECRET, "  ", 0).expect_err("missing")).contains("缺少"));
    for bad in ["abc", "a.b.c", ".abc", "abc.!!!"] {
        assert!(
            reason(chat::verify(SECRET, bad, 0).expect_err("malformed")).contains("格式错误"),
            "{bad}"
        );
    }

    // Unknown field, correctly signed: refused.
    let payload = b64(
        br#"{"v":1,"supplier_id":7,"buyer_id":"C1","name":"a","unit":"u","exp":2000000000,"admin":true}"#,
    );
    let unknown = sign_raw(&payload);
    assert!(reason(chat::verify(SECRET, &unknown, 0).expect_err("unknown")).contains("格式错误"));

    // Field limits.
    let mut long = good.clone();
    long.buyer_id = "x".repeat(65);
    let err = chat::verify(SECRET, &chat::sign(SECRET, &long), 0).expect_err("long id");
    assert_eq!(reason(err), "客户编号不能超过 64 个字符");
    let mut long = good.clone();
    long.name = "名".repeat(33);
    let err = chat::verify(SECRET, &chat::sign(SECRET, &long), 0).expect_err("long name");
    assert_eq!(reason(err), "采购人姓名不能超过 32 个字符");
    long.name = "名".repeat(32);
    chat::verify(SECRET, &chat::sign(SECRET, &long), 0).expect("32 chars is fine");
    let mut long = good.clone();
    long.unit = "单".repeat(65);
    assert!(chat::verify(SECRET, &chat::sign(SECRET, &long), 0).is_err());
    let mut empty = good;
    empty.buyer_id = " ".to_owned();
    assert!(
        reason(chat::verify(SECRET, &chat::sign(SECRET, &empty), 0).expect_err("empty"))
            .contains("客户编号")
    );
}

/// Signs an arbitrary base64url payload the way the mall does.
fn sign_raw(payload: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET).expect("key");
    mac.update(payload.as_bytes());
    format!("{payload}.{}", b64(&mac.finalize().into_bytes()))
}

/// A supplier with two agents, 客服甲 and 客服乙: the supplier id and the agents' ids.
async fn shop(db: &DatabaseConnection, name: &str, admin: &str) -> (i64, [i64; 2]) {
    let supplier_id = supplier(db, name, admin).await;
    let (a, _) = create_agent(db, &hasher(), supplier_id, "客服甲", None)
        .await
        .expect("agent a");
    let (b, _) = create_agent(db, &hasher(), supplier_id, "客服乙", None)
        .await
        .expect("agent b");
    (supplier_id, [a.id, b.id])
}

async fn buyer(db: &DatabaseConnection, supplier_id: i64, external: &str) -> i64 {
    upsert_buyer(db, &claims(supplier_id, external))
        .await
        .expect("buyer")
        .id
}

/// [`shop`] with 客服甲 serving since `T0`.
async fn serving_shop(db: &DatabaseConnection, name: &str, admin: &str) -> (i64, [i64; 2]) {
    let (s, [a, b]) = shop(db, name, admin).await;
    set_serving(db, s, a, true, T0).await.expect("a on");
    (s, [a, b])
}

/// A buyer of the supplier (by 客户编号) entering the chat: their conversation, routed.
async fn enter(
    db: &DatabaseConnection,
    supplier_id: i64,
    external: &str,
    now: i64,
) -> conversation::Model {
    let buyer_id = buyer(db, supplier_id, external).await;
    open_conversation(db, supplier_id, buyer_id, now)
        .await
        .expect("open")
}

/// Stores a text message and answers the stored row and whether it is new.
async fn say(
    db: &DatabaseConnection,
    conversation_id: i64,
    sender: Sender,
    client_msg_id: &str,
    body: &str,
    now: i64,
) -> (message::Model, bool) {
    store_message(
        db,
        conversation_id,
        &NewMessage::text(sender, client_msg_id, body),
        now,
    )
    .await
    .expect("store")
}

/// How many messages the conversation holds.
async fn stored_count(db: &DatabaseConnection, conversation_id: i64) -> u64 {
    message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .count(db)
        .await
        .expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn upsert_buyer_updates_name_and_unit() {
    each_db(|db| async move {
        let s = supplier(&db, "供应商甲", "admin_a").await;
        let first = upsert_buyer(&db, &claims(s, "C1")).await.expect("insert");
        let mut renamed = claims(s, "C1");
        renamed.name = "李四".to_owned();
        renamed.unit = "某县教育局".to_owned();
        let second = upsert_buyer(&db, &renamed).await.expect("update");
        assert_eq!(first.id, second.id);
        assert_eq!(second.name, "李四");
        assert_eq!(second.unit, "某县教育局");
        assert!(matches!(
            upsert_buyer(&db, &claims(s + 100, "C1")).await,
            Err(DomainError::NotFound)
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_prefers_fewest_open_then_idle_longest() {
    each_db(|db| async move {
        let (s, [a, b]) = shop(&db, "供应商甲", "admin_a").await;
        // a switched on first: idle longest.
        set_serving(&db, s, a, true, T0).await.expect("a on");
        set_serving(&db, s, b, true, T0 + 10).await.expect("b on");

        let b1 = buyer(&db, s, "C1").await;
        let c1 = open_conversation(&db, s, b1, T0 + 100).await.expect("c1");
        assert_eq!(c1.status, conversation::STATUS_OPEN);
        assert_eq!(c1.agent_id, Some(a), "tie on 0 open: idle longest (a)");
        assert_eq!(c1.entered_at, T0 + 100);

        let c2 = enter(&db, s, "C2", T0 + 200).await;
        assert_eq!(c2.agent_id, Some(b), "fewest open: b has 0");

        let c3 = enter(&db, s, "C3", T0 + 300).await;
        assert_eq!(
            c3.agent_id,
            Some(a),
            "tie on 1 open: a was assigned earlier"
        );

        // The buyer's open conversation is reused, not duplicated.
        let again = open_conversation(&db, s, b1, T0 + 400)
            .await
            .expect("again");
        assert_eq!(again.id, c1.id);
        assert_eq!(again.entered_at, T0 + 100);

        // a has 2, b has 1 → b, even though b was assigned more recently.
        let c4 = enter(&db, s, "C4", T0 + 500).await;
        assert_eq!(c4.agent_id, Some(b));
        // An ended conversation no longer counts: a 1, b 2 → a.
        end_conversation(&db, s, c1.id, EndReason::Agent, T0 + 550)
            .await
            .expect("end");
        let c5 = enter(&db, s, "C5", T0 + 600).await;
        assert_eq!(c5.agent_id, Some(a));
        // After ending, the buyer gets a new conversation.
        let fresh = open_conversation(&db, s, b1, T0 + 700)
            .await
            .expect("fresh");
        assert_ne!(fresh.id, c1.id);
        assert_eq!(fresh.entered_at, T0 + 700);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nobody_serving_queues_and_switching_on_takes_the_queue_in_order() {
    each_db(|db| async move {
        let (s, [a, b]) = shop(&db, "供应商甲", "admin_a").await;
        // Logged in but 示忙.
        reset_status_on_login(&db, s, a, T0).await.expect("login a");
        let mut ids = Vec::new();
        for i in 0..3 {
            let buyer_id = buyer(&db, s, &format!("C{i}")).await;
            let c = open_conversation(&db, s, buyer_id, T0 + 100 * (i + 1))
                .await
                .expect("open");
            assert_eq!(c.status, conversation::STATUS_QUEUED);
            assert_eq!(c.agent_id, None);
            ids.push(c.id);
        }
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(
                queue_position(&db, s, *id).await.expect("pos"),
                Some(i as u64 + 1)
            );
        }
        assert_eq!(route(&db, s, ids[0], T0 + 400).await.expect("route"), None);

        set_serving(&db, s, a, true, T0 + 1000).await.expect("a on");
        let assigned = assign_waiting_buyers(&db, s, T0 + 1000)
            .await
            .expect("assign");
        assert_eq!(assigned, ids.iter().map(|id| (*id, a)).collect::<Vec<_>>());
        for id in &ids {
            assert_eq!(queue_position(&db, s, *id).await.expect("pos"), None);
            let c = reload(&db, *id).await;
            assert_eq!((c.status.as_str(), c.agent_id), ("open", Some(a)));
        }
        // Nothing left to assign.
        set_serving(&db, s, b, true, T0 + 1100).await.expect("b on");
        assert!(
            assign_waiting_buyers(&db, s, T0 + 1100)
                .await
                .expect("again")
                .is_empty()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_busy_agent_gets_nothing_new_but_keeps_their_buyers() {
    each_db(|db| async move {
        let (s, [a, b]) = serving_shop(&db, "供应商甲", "admin_a").await;
        let c1 = enter(&db, s, "C1", T0 + 1).await;
        assert_eq!(c1.agent_id, Some(a));

        set_serving(&db, s, a, false, T0 + 2).await.expect("a busy");
        set_serving(&db, s, b, true, T0 + 3).await.expect("b on");
        let c2 = enter(&db, s, "C2", T0 + 4).await;
        assert_eq!(c2.agent_id, Some(b), "a is busy: the new buyer goes to b");
        let c3 = enter(&db, s, "C3", T0 + 5).await;
        assert_eq!(c3.agent_id, Some(b), "a has fewer open but is busy");
        // a keeps c1.
        let kept = conversation_for_agent(&db, s, a, c1.id)
            .await
            .expect("kept");
        assert_eq!(kept.status, conversation::STATUS_OPEN);

        // Everyone busy: queued.
        set_serving(&db, s, b, false, T0 + 6).await.expect("b busy");
        let c4 = enter(&db, s, "C4", T0 + 7).await;
        assert_eq!(c4.status, conversation::STATUS_QUEUED);
        // Only agents of the supplier can switch.
        let (_, other) = shop(&db, "供应商乙", "admin_b").await;
        assert!(matches!(
            set_serving(&db, s, other[0], true, T0).await,
            Err(DomainError::NotFound)
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_agents_switching_on_at_once_never_share_a_buyer() {
    each_db(|db| async move {
        let (s, [a, b]) = shop(&db, "供应商甲", "admin_a").await;
        let mut queued = HashSet::new();
        for i in 0..10 {
            let c = enter(&db, s, &format!("C{i}"), T0 + i).await;
            queued.insert(c.id);
        }
        set_serving(&db, s, a, true, T0 + 100).await.expect("a on");
        set_serving(&db, s, b, true, T0 + 100).await.expect("b on");
        let (db1, db2) = (db.clone(), db.clone());
        let t1 = tokio::spawn(async move { assign_waiting_buyers(&db1, s, T0 + 200).await });
        let t2 = tokio::spawn(async move { assign_waiting_buyers(&db2, s, T0 + 200).await });
        let r1 = t1.await.expect("join").expect("assign 1");
        let r2 = t2.await.expect("join").expect("assign 2");
        let all: Vec<(i64, i64)> = r1.into_iter().chain(r2).collect();
        assert_eq!(all.len(), 10, "each buyer assigned exactly once: {all:?}");
        let ids: HashSet<i64> = all.iter().map(|(c, _)| *c).collect();
        assert_eq!(ids, queued);
        for (c, agent) in &all {
            let row = reload(&db, *c).await;
            assert_eq!(row.agent_id, Some(*agent));
            assert_eq!(row.status, conversation::STATUS_OPEN);
        }
        // Balanced: 5 each.
        let for_a = all.iter().filter(|(_, ag)| *ag == a).count();
        assert_eq!(for_a, 5);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_are_numbered_idempotent_and_limited() {
    each_db(|db| async move {
        let (s, [a, _]) = serving_shop(&db, "供应商甲", "admin_a").await;
        let c = enter(&db, s, "C1", T0).await.id;

        for i in 1..=5 {
            let client = format!("m{i}");
            let body = format!("第{i}条");
            let (m, created) = say(&db, c, Sender::Buyer, &client, &body, T0 + i64::from(i)).await;
            assert!(created);
            assert_eq!(m.seq, i);
            assert_eq!(m.body, body);
        }
        // A resend stores nothing and returns the original.
        let (again, created) = say(&db, c, Sender::Buyer, "m3", "第3条", T0 + 99).await;
        assert!(!created);
        assert_eq!((again.seq, again.created_at), (3, T0 + 3));
        assert_eq!(stored_count(&db, c).await, 5);
        assert_eq!(reload(&db, c).await.last_seq, 5);

        // Reconnect after seq 2: exactly 3, 4, 5, in order; paging.
        let missed = messages_since(&db, c, 2, 100).await.expect("since");
        assert_eq!(missed.iter().map(|m| m.seq).collect::<Vec<_>>(), [3, 4, 5]);
        let page = messages_since(&db, c, 0, 2).await.expect("page");
        assert_eq!(page.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2]);
        let older = history_before(&db, c, 5, 2).await.expect("history");
        assert_eq!(older.iter().map(|m| m.seq).collect::<Vec<_>>(), [3, 4]);
        assert!(messages_since(&db, c, 0, 0).await.is_err());
        assert!(messages_since(&db, c, 0, 501).await.is_err());

        // Batch: one transaction, continues the numbering, resends inside are not stored.
        let batch = store_messages_batch(
            &db,
            c,
            &[
                NewMessage::text(Sender::Agent(a), "b1", "您好"),
                NewMessage::text(Sender::Agent(a), "m1", "不会存"),
                NewMessage::text(Sender::Agent(a), "b2", "请问"),
            ],
            T0 + 50,
        )
        .await
        .expect("batch");
        assert_eq!(
            batch.iter().map(|(m, c)| (m.seq, *c)).collect::<Vec<_>>(),
            [(6, true), (1, false), (7, true)]
        );

        // Limits.
        let long = "字".repeat(2001);
        let err = store_message(&db, c, &NewMessage::text(Sender::Buyer, "x1", &long), T0)
            .await
            .expect_err("too long");
        assert_eq!(reason(err), "消息不能超过 2000 个字符");
        let ok = "字".repeat(2000);
        say(&db, c, Sender::Buyer, "x2", &ok, T0).await;
        assert!(
            store_message(&db, c, &NewMessage::text(Sender::Buyer, "x3", "  \n "), T0)
                .await
                .is_err()
        );
        let mut odd_font = NewMessage::text(Sender::Buyer, "x4", "hi");
        odd_font.content = Content::Text { font_size: 13 };
        assert_eq!(
            reason(
                store_message(&db, c, &odd_font, T0)
                    .await
                    .expect_err("font")
            ),
            "不支持的字体大小"
        );
        let long_id = "i".repeat(65);
        assert!(
            store_message(&db, c, &NewMessage::text(Sender::Buyer, &long_id, "hi"), T0)
                .await
                .is_err()
        );
        assert!(
            store_message(&db, c, &NewMessage::text(Sender::Buyer, "", "hi"), T0)
                .await
                .is_err()
        );
        // A picture is an upload of this conversation (none has this id).
        let image = NewMessage::of(Sender::Buyer, "x5", Content::Image { picture: 987_654 });
        assert!(
            store_message(&db, c, &image, T0).await.is_err(),
            "image needs an upload"
        );
        let bad_order = NewMessage::of(Sender::Agent(a), "x6", Content::Order { order: 987_654 });
        assert!(matches!(
            store_message(&db, c, &bad_order, T0).await,
            Err(DomainError::NotFound)
        ));
        // Nothing refused was stored.
        assert_eq!(reload(&db, c).await.last_seq, 8);

        // Ended: new messages refused, a resend still answered.
        end_conversation(&db, s, c, EndReason::Buyer, T0 + 60)
            .await
            .expect("end");
        let err = store_message(
            &db,
            c,
            &NewMessage::text(Sender::Buyer, "late", "在吗"),
            T0 + 61,
        )
        .await
        .expect_err("ended");
        assert!(matches!(err, DomainError::Conflict(ref m) if m.contains("会话已结束")));
        let (m, created) = say(&db, c, Sender::Buyer, "m5", "第5条", T0 + 62).await;
        assert!(!created);
        assert_eq!(m.seq, 5);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counters_times_and_the_end_of_a_conversation() {
    each_db(|db| async move {
        let (s, [a, _]) = serving_shop(&db, "供应商甲", "admin_a").await;
        let c = enter(&db, s, "C1", T0 + 1_000).await.id;

        say(&db, c, Sender::Buyer, "1", "你好", T0 + 2_000).await;
        let joined = mark_agent_joined(&db, s, c, a, T0 + 3_000)
            .await
            .expect("join");
        assert_eq!(joined.agent_joined_at, Some(T0 + 3_000));
        // Only the first open counts.
        mark_agent_joined(&db, s, c, a, T0 + 3_500)
            .await
            .expect("join again");
        say(&db, c, Sender::Agent(a), "2", "您好", T0 + 4_000).await;
        say(&db, c, Sender::Agent(a), "3", "请讲", T0 + 5_000).await;
        say(&db, c, Sender::Buyer, "4", "好", T0 + 6_000).await;
        let row = reload(&db, c).await;
        assert_eq!(row.entered_at, T0 + 1_000);
        assert_eq!(row.agent_joined_at, Some(T0 + 3_000));
        assert_eq!(row.first_agent_reply_at, Some(T0 + 4_000));
        assert_eq!((row.agent_msg_count, row.buyer_msg_count), (2, 2));
        assert_eq!(row.last_message_at, T0 + 6_000);

        let (ended, changed) = end_conversation(&db, s, c, EndReason::Agent, T0 + 7_000)
            .await
            .expect("end");
        assert!(changed);
        assert_eq!(ended.status, conversation::STATUS_ENDED);
        assert_eq!(ended.ended_at, Some(T0 + 7_000));
        assert_eq!(ended.end_reason.as_deref(), Some(conversation::END_AGENT));
        let (again, changed) = end_conversation(&db, s, c, EndReason::Buyer, T0 + 9_000)
            .await
            .expect("end again");
        assert!(!changed);
        assert_eq!(again, ended, "ending an ended conversation changes nothing");

        // t1 set by the first agent message when the agent never "opened" it.
        let c2 = enter(&db, s, "C2", T0 + 10_000).await.id;
        say(&db, c2, Sender::Agent(a), "1", "在", T0 + 11_000).await;
        let row = reload(&db, c2).await;
        assert_eq!(row.agent_joined_at, Some(T0 + 11_000));
        assert_eq!(row.first_agent_reply_at, Some(T0 + 11_000));

        // Idle sweep: c2 last message at +11 s; c3 (queued) entered at +20 s; sweep at +40 s
        // with 25 s idle ends c2 only.
        set_serving(&db, s, a, false, T0 + 12_000)
            .await
            .expect("busy");
        let c3 = enter(&db, s, "C3", T0 + 20_000).await;
        assert_eq!(c3.status, conversation::STATUS_QUEUED);
        let ended = end_idle_conversations(&db, 25_000, T0 + 40_000)
            .await
            .expect("sweep");
        assert_eq!(ended, [c2]);
        let row = reload(&db, c2).await;
        assert_eq!(row.end_reason.as_deref(), Some(conversation::END_TIMEOUT));
        assert_eq!(row.ended_at, Some(T0 + 40_000));
        assert_eq!(reload(&db, c3.id).await.status, conversation::STATUS_QUEUED);
        let ended = end_idle_conversations(&db, 25_000, T0 + 46_000)
            .await
            .expect("sweep 2");
        assert_eq!(ended, [c3.id]);
        assert!(
            end_idle_conversations(&db, 25_000, T0 + 90_000)
                .await
                .expect("sweep 3")
                .is_empty()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kicking_an_agent_reroutes_their_buyers() {
    each_db(|db| async move {
        let (s, [a, b]) = serving_shop(&db, "供应商甲", "admin_a").await;
        let mut mine = Vec::new();
        for i in 0..2 {
            let c = enter(&db, s, &format!("C{i}"), T0 + i).await;
            assert_eq!(c.agent_id, Some(a));
            mine.push(c.id);
        }
        say(&db, mine[0], Sender::Agent(a), "1", "您好", T0 + 5).await;

        // Nobody else serving: back to the queue, in order.
        let released = release_agent_conversations(&db, s, a, T0 + 10)
            .await
            .expect("kick");
        assert_eq!(
            released,
            mine.iter().map(|c| (*c, None)).collect::<Vec<_>>()
        );
        assert_eq!(queue_position(&db, s, mine[0]).await.expect("pos"), Some(1));
        assert_eq!(queue_position(&db, s, mine[1]).await.expect("pos"), Some(2));
        let row = reload(&db, mine[0]).await;
        assert_eq!((row.agent_id, row.last_seq), (None, 1), "messages are kept");
        // The kicked agent is 示忙: a new buyer is not given to them.
        let c9 = enter(&db, s, "C9", T0 + 11).await;
        assert_eq!(c9.status, conversation::STATUS_QUEUED);

        // With b serving, a kick re-routes to b at once.
        set_serving(&db, s, b, true, T0 + 20).await.expect("b on");
        let taken = assign_waiting_buyers(&db, s, T0 + 20)
            .await
            .expect("assign");
        assert_eq!(taken.len(), 3);
        set_serving(&db, s, a, true, T0 + 30).await.expect("a back");
        let c10 = enter(&db, s, "C10", T0 + 31).await;
        assert_eq!(c10.agent_id, Some(a));
        let released = release_agent_conversations(&db, s, a, T0 + 40)
            .await
            .expect("kick");
        assert_eq!(released, [(c10.id, Some(b))]);
        assert_eq!(reload(&db, c10.id).await.agent_id, Some(b));
        assert!(matches!(
            conversation_for_agent(&db, s, a, c10.id).await,
            Err(DomainError::Forbidden)
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn suppliers_never_see_each_others_conversations() {
    each_db(|db| async move {
        let (sa, agents_a) = shop(&db, "供应商甲", "admin_a").await;
        let (sb, agents_b) = shop(&db, "供应商乙", "admin_b").await;
        set_serving(&db, sa, agents_a[0], true, T0)
            .await
            .expect("on");
        set_serving(&db, sb, agents_b[0], true, T0)
            .await
            .expect("on");
        let buyer_a = buyer(&db, sa, "C1").await;
        let c = open_conversation(&db, sa, buyer_a, T0).await.expect("open");
        assert_eq!(c.agent_id, Some(agents_a[0]));

        conversation_for_agent(&db, sa, agents_a[0], c.id)
            .await
            .expect("own agent");
        conversation_for_buyer(&db, sa, buyer_a, c.id)
            .await
            .expect("own buyer");
        // Supplier B's agent, under either supplier id.
        assert!(matches!(
            conversation_for_agent(&db, sb, agents_b[0], c.id).await,
            Err(DomainError::NotFound)
        ));
        assert!(matches!(
            conversation_for_agent(&db, sa, agents_b[0], c.id).await,
            Err(DomainError::Forbidden)
        ));
        // The other agent of A, and another buyer of A.
        assert!(matches!(
            conversation_for_agent(&db, sa, agents_a[1], c.id).await,
            Err(DomainError::Forbidden)
        ));
        let other_buyer = buyer(&db, sa, "C2").await;
        assert!(matches!(
            conversation_for_buyer(&db, sa, other_buyer, c.id).await,
            Err(DomainError::Forbidden)
        ));
        // The same 客户编号 at supplier B is a different buyer.
        let buyer_b = buyer(&db, sb, "C1").await;
        assert_ne!(buyer_a, buyer_b);
        assert!(matches!(
            conversation_for_buyer(&db, sb, buyer_b, c.id).await,
            Err(DomainError::NotFound)
        ));
        // Supplier-scoped operations refuse the other supplier's conversation.
        assert!(matches!(
            end_conversation(&db, sb, c.id, EndReason::Agent, T0).await,
            Err(DomainError::NotFound)
        ));
        assert_eq!(reload(&db, c.id).await.status, conversation::STATUS_OPEN);
        assert!(matches!(
            queue_position(&db, sb, c.id).await,
            Err(DomainError::NotFound)
        ));
        assert!(matches!(
            route(&db, sb, c.id, T0).await,
            Err(DomainError::NotFound)
        ));
        assert!(matches!(
            open_conversation(&db, sb, buyer_a, T0).await,
            Err(DomainError::NotFound)
        ));
        assert!(matches!(
            release_agent_conversations(&db, sb, agents_a[0], T0).await,
            Err(DomainError::NotFound)
        ));
        assert!(matches!(
            mark_agent_joined(&db, sb, c.id, agents_b[0], T0).await,
            Err(DomainError::NotFound)
        ));
    })
    .await;
}

/// Group commit: messages of several conversations in one transaction, each numbered in its
/// own conversation, each with its own outcome: a refused one (ended conversation, invalid)
/// does not refuse the others, and a resend inside the group stores nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_group_of_messages_of_several_conversations_commits_once_with_one_outcome_each() {
    each_db(|db| async move {
        let (s, [a, _]) = serving_shop(&db, "供应商组", "admin_g").await;
        let c1 = enter(&db, s, "G1", T0).await.id;
        let c2 = enter(&db, s, "G2", T0).await.id;
        let c3 = enter(&db, s, "G3", T0).await.id;
        say(&db, c1, Sender::Buyer, "g0", "早", T0).await;
        end_conversation(&db, s, c3, EndReason::Buyer, T0 + 1)
            .await
            .expect("end");

        let item = |conversation_id, msg, now| GroupedMessage {
            conversation_id,
            msg,
            now,
            member: None,
        };
        let outcomes = store_messages_grouped(
            &db,
            &[
                item(c1, NewMessage::text(Sender::Buyer, "g1", "一"), T0 + 2),
                item(c2, NewMessage::text(Sender::Agent(a), "g1", "您好"), T0 + 2),
                item(c3, NewMessage::text(Sender::Buyer, "g1", "已结束"), T0 + 2),
                item(c1, NewMessage::text(Sender::Buyer, "g2", "  "), T0 + 3),
                item(c1, NewMessage::text(Sender::Buyer, "g0", "早"), T0 + 3),
                item(c1, NewMessage::text(Sender::Buyer, "g3", "二"), T0 + 3),
            ],
        )
        .await
        .expect("the group commits");
        let summary: Vec<Result<(i64, i32, bool), String>> = outcomes
            .into_iter()
            .map(|o| {
                o.map(|s| (s.message.conversation_id, s.message.seq, s.created))
                    .map_err(|e| e.to_string())
            })
            .collect();
        assert_eq!(summary[0], Ok((c1, 2, true)));
        assert_eq!(summary[1], Ok((c2, 1, true)));
        assert!(
            summary[2].as_ref().is_err_and(|e| e.contains("会话已结束")),
            "{:?}",
            summary[2]
        );
        assert!(summary[3].is_err(), "blank is refused");
        assert_eq!(
            summary[4],
            Ok((c1, 1, false)),
            "a resend is answered with the stored message"
        );
        assert_eq!(summary[5], Ok((c1, 3, true)));

        let seqs = |c| {
            let db = db.clone();
            async move {
                messages_since(&db, c, 0, 10)
                    .await
                    .expect("messages")
                    .into_iter()
                    .map(|m| (m.seq, m.client_msg_id))
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            seqs(c1).await,
            [
                (1, "g0".to_owned()),
                (2, "g1".to_owned()),
                (3, "g3".to_owned())
            ]
        );
        assert_eq!(seqs(c2).await, [(1, "g1".to_owned())]);
        assert!(seqs(c3).await.is_empty());
        assert_eq!(
            (
                reload(&db, c1).await.last_seq,
                reload(&db, c1).await.buyer_msg_count
            ),
            (3, 3)
        );
        assert_eq!(reload(&db, c2).await.agent_msg_count, 1);
    })
    .await;
}

/// The group checks each message's sender on the locked conversation row: another supplier's
/// conversation is NotFound, another buyer's or agent's Forbidden, and those refusals store
/// nothing while the rest of the group is stored. A client id sent twice in one group is stored
/// once (the second is a resend of the first). Each outcome carries the conversation as the
/// group left it, and an agent's first message sets r1, t1 and the agent who served it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_group_checks_each_sender_and_stores_a_repeated_client_id_once() {
    use domain::chat::Member;
    each_db(|db| async move {
        let (s, [a, b]) = serving_shop(&db, "供应商查", "admin_chk").await;
        let (other, _) = serving_shop(&db, "供应商他", "admin_oth").await;
        let mine = enter(&db, s, "M1", T0).await;
        let theirs = enter(&db, s, "M2", T0).await;
        assert_eq!(mine.agent_id, Some(a), "routed to the serving agent");
        let buyer = Member::Buyer {
            supplier_id: s,
            buyer_id: mine.buyer_id,
        };
        let agent = |agent_id| Member::Agent {
            supplier_id: s,
            agent_id,
        };
        let item = |member, msg, now| GroupedMessage {
            conversation_id: mine.id,
            msg,
            now,
            member: Some(member),
        };
        let foreign_supplier = Member::Buyer {
            supplier_id: other,
            buyer_id: mine.buyer_id,
        };
        let other_buyer = Member::Buyer {
            supplier_id: s,
            buyer_id: theirs.buyer_id,
        };
        let outcomes = store_messages_grouped(
            &db,
            &[
                item(buyer, NewMessage::text(Sender::Buyer, "x1", "在吗"), T0 + 5),
                item(
                    foreign_supplier,
                    NewMessage::text(Sender::Buyer, "x2", "越权"),
                    T0 + 5,
                ),
                item(
                    other_buyer,
                    NewMessage::text(Sender::Buyer, "x3", "越权"),
                    T0 + 5,
                ),
                item(
                    agent(b),
                    NewMessage::text(Sender::Agent(b), "x4", "越权"),
                    T0 + 5,
                ),
                item(buyer, NewMessage::text(Sender::Buyer, "x1", "在吗"), T0 + 6),
                item(
                    agent(a),
                    NewMessage::text(Sender::Agent(a), "x5", "您好"),
                    T0 + 7,
                ),
            ],
        )
        .await
        .expect("the group commits");
        let err = |i: usize| outcomes[i].as_ref().err().map(ToString::to_string);
        assert_eq!(err(1), Some(DomainError::NotFound.to_string()));
        assert_eq!(err(2), Some(DomainError::Forbidden.to_string()));
        assert_eq!(err(3), Some(DomainError::Forbidden.to_string()));
        let ok = |i: usize| outcomes[i].as_ref().expect("stored");
        assert_eq!((ok(0).message.seq, ok(0).created), (1, true));
        assert_eq!(
            (ok(4).message.id, ok(4).created),
            (ok(0).message.id, false),
            "the repeated client id is the first message"
        );
        assert_eq!((ok(5).message.seq, ok(5).created), (2, true));
        let left = &ok(5).conversation;
        assert_eq!((left.last_seq, left.agent_id), (2, Some(a)));

        let stored = reload(&db, mine.id).await;
        assert_eq!(
            &stored, left,
            "the outcome's conversation is the stored row"
        );
        assert_eq!((stored.buyer_msg_count, stored.agent_msg_count), (1, 1));
        assert_eq!(stored.first_agent_reply_at, Some(T0 + 7));
        assert_eq!(stored.served_agent_id, Some(a));
        assert_eq!(stored.last_message_at, T0 + 7);
        let ids: Vec<String> = messages_since(&db, mine.id, 0, 10)
            .await
            .expect("messages")
            .into_iter()
            .map(|m| m.client_msg_id)
            .collect();
        assert_eq!(ids, ["x1", "x5"]);
        assert!(
            messages_since(&db, theirs.id, 0, 10)
                .await
                .expect("messages")
                .is_empty()
        );
    })
    .await;
}

/// Two writers (two server nodes on one PostgreSQL, or two pool connections) storing groups for
/// the same conversations at once: the group locks its conversations before numbering, so every
/// message gets its own seq, each conversation's seqs run 1, 2, 3… and each writer's messages
/// keep their order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_groups_on_the_same_conversations_never_share_a_seq() {
    const ROUNDS: usize = 12;
    each_db(|db| async move {
        let (s, _) = serving_shop(&db, "供应商并", "admin_par").await;
        let mut conversations = Vec::new();
        for b in 0..4 {
            conversations.push(enter(&db, s, &format!("P{b}"), T0).await.id);
        }
        // Both writers start each round together, so their groups overlap.
        let together = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let writer = |w: usize| {
            let (db, conversations) = (db.clone(), conversations.clone());
            let together = together.clone();
            tokio::spawn(async move {
                for round in 0..ROUNDS {
                    together.wait().await;
                    let ids: Vec<String> = conversations
                        .iter()
                        .map(|c| format!("w{w}-{c}-{round}"))
                        .collect();
                    let group: Vec<GroupedMessage<'_>> = conversations
                        .iter()
                        .zip(&ids)
                        .map(|(&conversation_id, id)| GroupedMessage {
                            conversation_id,
                            msg: NewMessage::text(Sender::Buyer, id, "并发"),
                            now: T0 + 1,
                            member: None,
                        })
                        .collect();
                    let stored = domain::db::retry_transient("test group", |_| {
                        store_messages_grouped(&db, &group)
                    })
                    .await
                    .expect("the group commits");
                    assert!(stored.iter().all(|o| o.as_ref().is_ok_and(|m| m.created)));
                }
            })
        };
        let (a, b) = (writer(1), writer(2));
        a.await.expect("writer 1");
        b.await.expect("writer 2");
        for c in conversations {
            let stored = messages_since(&db, c, 0, 500).await.expect("messages");
            let seqs: Vec<i32> = stored.iter().map(|m| m.seq).collect();
            assert_eq!(seqs, (1..=2 * ROUNDS as i32).collect::<Vec<_>>());
            for w in [1, 2] {
                let rounds: Vec<String> = stored
                    .iter()
                    .filter(|m| m.client_msg_id.starts_with(&format!("w{w}-")))
                    .map(|m| m.client_msg_id.clone())
                    .collect();
                let expected: Vec<String> = (0..ROUNDS).map(|r| format!("w{w}-{c}-{r}")).collect();
                assert_eq!(rounds, expected, "writer {w}'s messages in its order");
            }
            assert_eq!(reload(&db, c).await.last_seq, 2 * ROUNDS as i32);
        }
    })
    .await;
}

/// History replay reads bounded pages: a long conversation comes back page by page (never more
/// than the page asked for), the pages concatenate to every message in order, and `has_more`
/// says exactly when to ask again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replay_comes_in_bounded_pages_that_concatenate_to_everything() {
    use domain::chat::messages::messages_after;
    const TOTAL: i32 = 1_234;
    const PAGE: u64 = 200;
    each_db(|db| async move {
        let (s, _) = serving_shop(&db, "供应商长", "admin_long").await;
        let c = enter(&db, s, "L1", T0).await.id;
        let ids: Vec<String> = (1..=TOTAL).map(|i| format!("m{i}")).collect();
        let bodies: Vec<String> = (1..=TOTAL).map(|i| format!("第{i}条")).collect();
        for chunk in (0..TOTAL as usize).collect::<Vec<_>>().chunks(250) {
            let msgs: Vec<NewMessage<'_>> = chunk
                .iter()
                .map(|&i| NewMessage::text(Sender::Buyer, &ids[i], &bodies[i]))
                .collect();
            store_messages_batch(&db, c, &msgs, T0)
                .await
                .expect("batch");
        }

        let mut seen = Vec::new();
        let mut after = 0;
        let mut pages = 0;
        loop {
            let page = messages_after(&db, c, after, PAGE).await.expect("page");
            assert!(page.messages.len() as u64 <= PAGE, "a page is bounded");
            pages += 1;
            if let Some(last) = page.messages.last() {
                after = last.seq;
            }
            seen.extend(page.messages.into_iter().map(|m| (m.seq, m.body)));
            if !page.has_more {
                break;
            }
        }
        assert_eq!(pages, (TOTAL as u64).div_ceil(PAGE));
        assert_eq!(seen.len(), TOTAL as usize);
        for (i, (seq, body)) in seen.iter().enumerate() {
            assert_eq!((*seq, body.as_str()), (i as i32 + 1, bodies[i].as_str()));
        }
        // From the middle; an exact multiple of the page ends with has_more = false.
        let tail = messages_after(&db, c, TOTAL - 200, PAGE)
            .await
            .expect("tail");
        assert_eq!((tail.messages.len(), tail.has_more), (200, false));
        let nothing = messages_after(&db, c, TOTAL, PAGE)
            .await
            .expect("caught up");
        assert!(nothing.messages.is_empty() && !nothing.has_more);
        // The page size is capped.
        assert!(messages_after(&db, c, 0, 0).await.is_err());
        assert!(
            messages_after(&db, c, 0, domain::chat::MAX_PAGE + 1)
                .await
                .is_err()
        );
    })
    .await;
}

/// A SQLite database whose write lock another connection holds past the busy timeout: storing
/// fails with an error classified as transient (after the bounded retries), stores nothing, and
/// the same message (same client id) is stored once as soon as the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_locked_sqlite_database_is_a_transient_error_and_the_resend_is_stored_once() {
    use sea_orm::{ConnectOptions, Database};
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kefu.db").display());
    let mut options = ConnectOptions::new(url.clone());
    domain::db::configure_with_busy_timeout(&mut options, std::time::Duration::from_millis(100))
        .expect("configure");
    let db = Database::connect(options).await.expect("connect");
    domain::db::migrate(&db).await.expect("migrate");
    let (s, _) = serving_shop(&db, "供应商锁", "admin_lock").await;
    let c = enter(&db, s, "K1", T0).await.id;

    let locker = domain::db::connect(&url).await.expect("second connection");
    let lock = domain::db::begin_write(&locker)
        .await
        .expect("BEGIN IMMEDIATE");
    let msg = NewMessage::text(Sender::Buyer, "k1", "锁住了吗");
    let err = store_message(&db, c, &msg, T0)
        .await
        .expect_err("the database is locked");
    assert!(err.is_transient(), "busy is transient: {err:?}");
    assert_eq!(err.user_message(), "服务器内部错误，请稍后再试");
    let group = [GroupedMessage {
        conversation_id: c,
        msg: msg.clone(),
        now: T0,
        member: None,
    }];
    let err = store_messages_grouped(&db, &group)
        .await
        .expect_err("locked");
    assert!(err.is_transient(), "{err:?}");
    // Not transient: a refusal is never retried into something else.
    assert!(!DomainError::validation("body", "x").is_transient());
    lock.rollback().await.expect("release");

    let (stored, created) = store_message(&db, c, &msg, T0 + 1).await.expect("stored");
    assert!(created);
    let (again, created) = store_message(&db, c, &msg, T0 + 2).await.expect("resend");
    assert!(!created);
    assert_eq!(again.id, stored.id);
    assert_eq!(stored_count(&db, c).await, 1);
    assert_eq!(reload(&db, c).await.last_seq, 1);
    locker.close().await.expect("close");
}
