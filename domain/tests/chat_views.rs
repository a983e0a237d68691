//! What the agent's conversation list shows of a conversation: the buyer's unanswered messages
//! (the unread count when it reaches the agent, messages left while queued included) and since
//! when the buyer waits for an answer. Runs on a SQLite file and on PostgreSQL.

mod common;

use common::chat::{claims, reload};
use common::{each_db, hasher, supplier};
use domain::accounts::create_agent;
use domain::chat::views::{Unanswered, unanswered};
use domain::chat::{
    NewMessage, Sender, assign_waiting_buyers, open_conversation, set_serving, store_message,
    upsert_buyer,
};
use domain::entity::conversation;
use sea_orm::DatabaseConnection;

const T0: i64 = 1_780_000_000_000;

async fn say(db: &DatabaseConnection, conversation_id: i64, sender: Sender, id: &str, at: i64) {
    store_message(
        db,
        conversation_id,
        &NewMessage::text(sender, id, "在吗"),
        at,
    )
    .await
    .expect("stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unanswered_counts_the_queue_and_stops_the_clock_when_the_agent_answers() {
    each_db(|db| async move {
        let supplier_id = supplier(&db, "未读供应商", "unread_admin").await;
        let (agent, _) = create_agent(&db, &hasher(), supplier_id, "客服甲", None)
            .await
            .expect("agent");
        let buyer = upsert_buyer(&db, &claims(supplier_id, "U-1"))
            .await
            .expect("buyer");

        // Nobody serving: queued. Entered and silent, the buyer waits since entering.
        let c = open_conversation(&db, supplier_id, buyer.id, T0)
            .await
            .expect("open");
        assert_eq!(c.status, conversation::STATUS_QUEUED);
        assert_eq!(
            unanswered(&db, &c).await.expect("view"),
            Unanswered {
                count: 0,
                since: Some(T0)
            }
        );

        // Two messages left while queued; then an agent switches on and gets the buyer.
        say(&db, c.id, Sender::Buyer, "q-1", T0 + 1_000).await;
        say(&db, c.id, Sender::Buyer, "q-2", T0 + 2_000).await;
        set_serving(&db, supplier_id, agent.id, true, T0 + 3_000)
            .await
            .expect("serving");
        assert_eq!(
            assign_waiting_buyers(&db, supplier_id, T0 + 3_000)
                .await
                .expect("assign"),
            vec![(c.id, agent.id)]
        );
        let c = reload(&db, c.id).await;
        assert_eq!(
            unanswered(&db, &c).await.expect("view"),
            Unanswered {
                count: 2,
                since: Some(T0)
            },
            "both queued messages are unread when the buyer reaches the agent"
        );

        // The agent answers: nothing waits, the clock stops.
        say(&db, c.id, Sender::Agent(agent.id), "a-1", T0 + 60_000).await;
        let c = reload(&db, c.id).await;
        assert_eq!(
            unanswered(&db, &c).await.expect("view"),
            Unanswered {
                count: 0,
                since: None
            }
        );

        // The buyer writes again: waiting since that message, counted from it alone.
        say(&db, c.id, Sender::Buyer, "q-3", T0 + 120_000).await;
        say(&db, c.id, Sender::Buyer, "q-4", T0 + 180_000).await;
        let c = reload(&db, c.id).await;
        assert_eq!(
            unanswered(&db, &c).await.expect("view"),
            Unanswered {
                count: 2,
                since: Some(T0 + 120_000)
            }
        );
    })
    .await;
}
