//! Group commit for chat messages: every socket hands its message to one writer task, which
//! takes all the messages waiting at that moment and stores them in one transaction
//! ([`domain::chat::store_messages_grouped`]). With SQLite's `synchronous = FULL` each commit
//! costs an fsync (about 1.5 ms here), so one message per transaction caps the whole server
//! at a few hundred messages per second; grouping lets the rate grow with the load while
//! every message is still committed before its `Ack`.
//!
//! Nothing is lost on a database error:
//! - a transient error (busy/locked SQLite, a PostgreSQL deadlock or serialization failure, a
//!   lost connection) retries the whole group transaction a bounded number of times
//!   ([`domain::db::retry_transient`]); a retry is idempotent because each message is stored
//!   once per client message id, and a message that an earlier attempt did commit (its answer
//!   lost) is still reported as new, so the other side is told about it;
//! - once the group is committed, each caller gets its outcome: nothing after the commit can
//!   turn a stored message into a failure;
//! - the group runs in its own task under a supervisor: if it panics, its callers get an error
//!   at once (never a hang), and the next group is written as usual. The client resends a
//!   message that got an error with the same client message id, so it is stored exactly once.

use std::sync::Arc;

use domain::DomainError;
use domain::chat::{Content, GroupOutcome, GroupedMessage, Member, NewMessage, Sender};
use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

/// Most messages in one transaction (bounds the time one commit holds the write lock).
const MAX_GROUP: usize = 128;
/// Most bytes of message text and client ids in one group, so each statement of a group stays
/// well under one TCP segment on loopback (64 KiB): sqlx 0.9.0 does not set `TCP_NODELAY` on
/// its PostgreSQL connections (sqlx issue 4335), so the tail of a larger statement waited for
/// PostgreSQL's delayed ACK (40 ms a group: 256-message groups ran at 3 800 msgs/s, 128 with
/// this bound at 11 800).
const MAX_GROUP_BYTES: usize = 32 * 1024;
/// What a message adds to a statement besides its text: eleven bound values and their SQL.
const ROW_OVERHEAD_BYTES: usize = 160;
/// Messages waiting for the writer before senders wait too (back-pressure).
const QUEUE: usize = 4096;

type Outcome = GroupOutcome;

/// Where a [`FaultHook`] is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultPoint {
    /// Before an attempt at a group's transaction.
    BeforeAttempt,
    /// After the group's transaction committed, before the callers are answered (an error here
    /// is a commit whose answer was lost).
    AfterCommit,
}

/// A test's hand inside the writer: called at each [`FaultPoint`] with the attempt number (0
/// first) and the client message ids of the group. It may panic (the writer must survive that)
/// or return an error, as if the database had failed with it.
pub type FaultHook = Arc<dyn Fn(FaultPoint, u32, &[&str]) -> Result<(), DomainError> + Send + Sync>;

struct Request {
    conversation_id: i64,
    sender: Sender,
    client_msg_id: String,
    body: String,
    content: Content,
    now: i64,
    member: Option<Member>,
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
        Self::start(db, None)
    }

    /// [`MessageWriter::spawn`] with a [`FaultHook`] (tests only: forcing panics and errors).
    pub fn spawn_with_fault_hook(db: DatabaseConnection, hook: FaultHook) -> Self {
        Self::start(db, Some(hook))
    }

    fn start(db: DatabaseConnection, hook: Option<FaultHook>) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(supervise(db, rx, hook));
        MessageWriter { tx }
    }

    /// Stores a message as [`domain::chat::store_message`] does, committed together with
    /// whatever else is waiting; when `member` is given, only in that member's conversation
    /// (checked on the locked row: the caller reads nothing itself). An `Err` means the
    /// message may not be stored: the client keeps it and resends it with the same client
    /// message id.
    pub async fn store(
        &self,
        conversation_id: i64,
        member: Option<Member>,
        msg: &NewMessage<'_>,
        now: i64,
    ) -> Outcome {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            conversation_id,
            sender: msg.sender,
            client_msg_id: msg.client_msg_id.to_owned(),
            body: msg.body.to_owned(),
            content: msg.content,
            now,
            member,
            reply,
        };
        self.tx
            .send(request)
            .await
            .map_err(|_| DomainError::Internal("the message writer stopped".to_owned()))?;
        // Dropped without an answer: the group's task panicked (see `supervise`).
        answer.await.map_err(|_| {
            DomainError::Internal(
                "the message writer lost the message (its group failed)".to_owned(),
            )
        })?
    }
}

/// Takes the waiting messages a group at a time and writes each group in its own task, so a
/// panic while writing one group fails only that group's callers (their reply senders are
/// dropped with the task) and the next group is written as usual: the writer restarts itself.
async fn supervise(
    db: DatabaseConnection,
    mut rx: mpsc::Receiver<Request>,
    hook: Option<FaultHook>,
) {
    loop {
        let mut waiting = Vec::with_capacity(MAX_GROUP);
        if rx.recv_many(&mut waiting, MAX_GROUP).await == 0 {
            return;
        }
        for batch in by_bytes(waiting) {
            let messages = batch.len();
            let group = tokio::spawn(write_group(db.clone(), batch, hook.clone()));
            if let Err(err) = group.await {
                if err.is_panic() {
                    tracing::error!(
                        messages,
                        "the message writer panicked; its callers got an error, restarting"
                    );
                } else {
                    // The runtime is shutting down.
                    return;
                }
            }
        }
    }
}

/// Splits the waiting messages, in order, into groups of at most [`MAX_GROUP_BYTES`] (a
/// message larger than that is a group of its own).
fn by_bytes(waiting: Vec<Request>) -> Vec<Vec<Request>> {
    let mut groups: Vec<Vec<Request>> = Vec::new();
    let mut bytes = 0;
    for request in waiting {
        let size = request.body.len() + request.client_msg_id.len() + ROW_OVERHEAD_BYTES;
        match groups.last_mut() {
            Some(group) if bytes + size <= MAX_GROUP_BYTES => {
                bytes += size;
                group.push(request);
            }
            _ => {
                bytes = size;
                groups.push(vec![request]);
            }
        }
    }
    groups
}

/// Stores one group (retrying the whole transaction on a transient error) and answers each
/// caller.
async fn write_group(db: DatabaseConnection, mut batch: Vec<Request>, hook: Option<FaultHook>) {
    // Lock the conversations in id order (a stable sort keeps each conversation's own order),
    // so two writers on PostgreSQL cannot deadlock on each other's rows.
    batch.sort_by_key(|r| r.conversation_id);
    let group: Vec<GroupedMessage<'_>> = batch
        .iter()
        .map(|r| GroupedMessage {
            conversation_id: r.conversation_id,
            msg: NewMessage {
                sender: r.sender,
                client_msg_id: &r.client_msg_id,
                body: &r.body,
                content: r.content,
            },
            now: r.now,
            member: r.member,
        })
        .collect();
    let ids: Vec<&str> = batch.iter().map(|r| r.client_msg_id.as_str()).collect();
    let (db_ref, group_ref, ids_ref, hook_ref) = (&db, &group, &ids, &hook);
    let result = domain::db::retry_transient("storing a group of messages", |attempt| async move {
        if let Some(hook) = hook_ref {
            hook(FaultPoint::BeforeAttempt, attempt, ids_ref)?;
        }
        let mut outcomes = domain::chat::store_messages_grouped(db_ref, group_ref).await?;
        if let Some(hook) = hook_ref {
            hook(FaultPoint::AfterCommit, attempt, ids_ref)?;
        }
        if attempt > 0 {
            claim_earlier_commits(group_ref, &mut outcomes);
        }
        Ok(outcomes)
    })
    .await;
    drop(ids);
    drop(group);
    match result {
        // Committed: every caller gets its outcome, whatever happens next.
        Ok(outcomes) => {
            for (request, outcome) in batch.into_iter().zip(outcomes) {
                let _ = request.reply.send(outcome);
            }
        }
        Err(err) => {
            tracing::error!(error = %err, messages = batch.len(), "storing a group of messages failed");
            for request in batch {
                let _ = request
                    .reply
                    .send(Err(DomainError::Internal(err.to_string())));
            }
        }
    }
}

/// On a retry, a message found already stored with this very request's time was committed by
/// an earlier attempt whose answer was lost (the commit succeeded, then the connection failed):
/// it is new to everyone but the database, so report it as new and the other side is told.
/// A true resend from the client carries a later time and stays "not new".
fn claim_earlier_commits(group: &[GroupedMessage<'_>], outcomes: &mut [Outcome]) {
    for (item, outcome) in group.iter().zip(outcomes.iter_mut()) {
        if let Ok(stored) = outcome
            && !stored.created
            && stored.message.created_at == item.now
        {
            stored.created = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(client_msg_id: &str, body_bytes: usize) -> Request {
        Request {
            conversation_id: 1,
            sender: Sender::Buyer,
            client_msg_id: client_msg_id.to_owned(),
            body: "字".repeat(body_bytes / 3),
            content: Content::Text { font_size: 14 },
            now: 0,
            member: None,
            reply: oneshot::channel().0,
        }
    }

    fn ids(groups: &[Vec<Request>]) -> Vec<Vec<&str>> {
        groups
            .iter()
            .map(|g| g.iter().map(|r| r.client_msg_id.as_str()).collect())
            .collect()
    }

    #[test]
    fn groups_are_cut_by_bytes_in_order_and_a_huge_message_goes_alone() {
        let small: Vec<Request> = (0..MAX_GROUP)
            .map(|i| request(&format!("s{i}"), 30))
            .collect();
        assert_eq!(by_bytes(small).len(), 1, "128 short messages are one group");

        let waiting = vec![
            request("a", 12_000),
            request("b", 12_000),
            request("c", 12_000),
            request("d", 60_000),
            request("e", 300),
        ];
        assert_eq!(
            ids(&by_bytes(waiting)),
            [vec!["a", "b"], vec!["c"], vec!["d"], vec!["e"]]
        );
    }
}
