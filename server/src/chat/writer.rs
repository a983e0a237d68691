//! Group commit for chat messages: every socket hands its message to one writer task, which
//! takes all the messages waiting at that moment and stores them in one transaction
//! ([`domain::chat::store_messages_grouped`]). With SQLite's `synchronous = FULL` each commit
//! costs an fsync (about 1.5 ms here), so one message per transaction caps the whole server
//! at a few hundred messages per second; grouping lets the rate grow with the load while
//! every message is still committed before its `Ack`.

use domain::DomainError;
use domain::chat::{GroupedMessage, NewMessage, Sender};
use domain::entity::message;
use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

/// Most messages in one transaction (bounds the time one commit holds the write lock).
const MAX_GROUP: usize = 256;
/// Messages waiting for the writer before senders wait too (back-pressure).
const QUEUE: usize = 4096;

type Outcome = Result<(message::Model, bool), DomainError>;

struct Request {
    conversation_id: i64,
    sender: Sender,
    client_msg_id: String,
    kind: String,
    body: String,
    font_size: i16,
    upload_id: Option<i64>,
    order_id: Option<i64>,
    now: i64,
    reply: oneshot::Sender<Outcome>,
}

/// Hands messages to the writer task; cheap to clone.
#[derive(Clone)]
pub struct MessageWriter {
    tx: mpsc::Sender<Request>,
}

impl MessageWriter {
    /// Starts the writer task (needs a Tokio runtime); it ends when every handle is dropped.
    pub fn spawn(db: DatabaseConnection) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_groups(db, rx));
        MessageWriter { tx }
    }

    /// [`domain::chat::store_message`], committed together with whatever else is waiting.
    pub async fn store(&self, conversation_id: i64, msg: &NewMessage<'_>, now: i64) -> Outcome {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            conversation_id,
            sender: msg.sender,
            client_msg_id: msg.client_msg_id.to_owned(),
            kind: msg.kind.to_owned(),
            body: msg.body.to_owned(),
            font_size: msg.font_size,
            upload_id: msg.upload_id,
            order_id: msg.order_id,
            now,
            reply,
        };
        let gone = || DomainError::Internal("the message writer stopped".to_owned());
        self.tx.send(request).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn write_groups(db: DatabaseConnection, mut rx: mpsc::Receiver<Request>) {
    let mut batch = Vec::with_capacity(MAX_GROUP);
    while rx.recv_many(&mut batch, MAX_GROUP).await > 0 {
        // Lock the conversations in id order (a stable sort keeps each conversation's own
        // order), so two writers on PostgreSQL cannot deadlock on each other's rows.
        batch.sort_by_key(|r| r.conversation_id);
        let group: Vec<GroupedMessage<'_>> = batch
            .iter()
            .map(|r| GroupedMessage {
                conversation_id: r.conversation_id,
                msg: NewMessage {
                    sender: r.sender,
                    client_msg_id: &r.client_msg_id,
                    kind: &r.kind,
                    body: &r.body,
                    font_size: r.font_size,
                    upload_id: r.upload_id,
                    order_id: r.order_id,
                },
                now: r.now,
            })
            .collect();
        let result = domain::chat::store_messages_grouped(&db, &group).await;
        drop(group);
        match result {
            Ok(outcomes) => {
                for (request, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = request.reply.send(outcome);
                }
            }
            Err(err) => {
                tracing::error!(error = %err, messages = batch.len(), "storing a group of messages failed");
                for request in batch.drain(..) {
                    let _ = request.reply.send(Err(DomainError::Internal(err.to_string())));
                }
            }
        }
    }
}
