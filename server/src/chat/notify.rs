//! The one place that decides who is told about each chat event. Every recipient is taken from
//! the conversation row (its supplier, buyer and agent) read from the database, never from a
//! frame, so an event can only reach the sockets of the conversation's own tenant.

use std::collections::HashMap;
use std::sync::Arc;

use app::chat::protocol::{
    AgentServerFrame, BuyerServerFrame, ChatContent, ChatImage, ChatMessage, ConversationEnded,
    ConversationSummary, EndReason, Sender,
};
use axum::extract::ws::Message;
use domain::DomainError;
use domain::chat::{StoredContent, views};
use domain::entity::{conversation, message};
use futures_util::Sink;
use sea_orm::DatabaseConnection;
use serde::Serialize;

use super::hub::{ChatHub, Delivery, SocketId, SupplierEvent};

/// Where a stored message came from (its socket does not get it back as `Messages`).
#[derive(Clone, Copy, Debug)]
pub enum Origin {
    Agent(SocketId),
    Buyer(SocketId),
    /// Not from a socket (system notices).
    Server,
}

/// Tells the right sockets about chat events.
#[derive(Clone)]
pub struct ChatNotifier {
    pub db: DatabaseConnection,
    pub hub: Arc<dyn ChatHub>,
}

impl ChatNotifier {
    /// A newly stored message: the buyer's sockets and the assigned agent's sockets, except the
    /// one that sent it (it got an `Ack`).
    pub fn message_stored(
        &self,
        conversation: &conversation::Model,
        message: ChatMessage,
        origin: Origin,
    ) {
        let (agent_except, buyer_except) = match origin {
            Origin::Agent(s) => (Some(s), None),
            Origin::Buyer(s) => (None, Some(s)),
            Origin::Server => (None, None),
        };
        let messages = vec![message];
        self.hub.to_buyer(
            conversation.supplier_id,
            conversation.buyer_id,
            Delivery {
                frame: BuyerServerFrame::Messages {
                    conversation_id: conversation.id,
                    messages: messages.clone(),
                },
                except: buyer_except,
            },
        );
        if let Some(agent_id) = conversation.agent_id {
            self.hub.to_agent(
                conversation.supplier_id,
                agent_id,
                Delivery {
                    frame: AgentServerFrame::Messages {
                        conversation_id: conversation.id,
                        messages,
                    },
                    except: agent_except,
                },
            );
        }
    }

    /// Someone is typing: the other side of the conversation is told (nothing is stored).
    pub fn typing(&self, conversation: &conversation::Model, by_agent: bool) {
        if by_agent {
            self.hub.to_buyer(
                conversation.supplier_id,
                conversation.buyer_id,
                Delivery::all(BuyerServerFrame::Typing),
            );
        } else if let Some(agent_id) = conversation.agent_id {
            self.hub.to_agent(
                conversation.supplier_id,
                agent_id,
                Delivery::all(AgentServerFrame::Typing {
                    conversation_id: conversation.id,
                }),
            );
        }
    }

    /// The conversation was given to `agent_id`: the agent gets its summary, the buyer the
    /// agent's name.
    pub async fn assigned(
        &self,
        supplier_id: i64,
        conversation_id: i64,
        agent_id: i64,
    ) -> Result<(), DomainError> {
        // Re-read under the tenant check: it must be this supplier's and this agent's.
        let conversation =
            domain::chat::conversation_for_agent(&self.db, supplier_id, agent_id, conversation_id)
                .await?;
        let summary = summary(&self.db, conversation.clone()).await?;
        let agent_name = views::agent_name(&self.db, supplier_id, agent_id).await?;
        self.hub.to_agent(
            supplier_id,
            agent_id,
            Delivery::all(AgentServerFrame::Assigned {
                conversation: summary,
            }),
        );
        self.hub.to_buyer(
            supplier_id,
            conversation.buyer_id,
            Delivery::all(BuyerServerFrame::Assigned { agent_name }),
        );
        Ok(())
    }

    /// Logs instead of failing: a notice that cannot be built must not stop the caller.
    pub async fn assigned_all(&self, supplier_id: i64, assignments: &[(i64, i64)]) {
        for &(conversation_id, agent_id) in assignments {
            if let Err(err) = self.assigned(supplier_id, conversation_id, agent_id).await {
                tracing::warn!(error = %err, conversation_id, "telling an assignment failed");
            }
        }
    }

    /// The conversation ended: both sides, every socket.
    pub fn ended(&self, conversation: &conversation::Model, reason: EndReason) {
        let ended = ConversationEnded {
            conversation_id: conversation.id,
            reason,
        };
        self.hub.to_buyer(
            conversation.supplier_id,
            conversation.buyer_id,
            Delivery::all(BuyerServerFrame::Ended(ended.clone())),
        );
        if let Some(agent_id) = conversation.agent_id {
            self.hub.to_agent(
                conversation.supplier_id,
                agent_id,
                Delivery::all(AgentServerFrame::Ended(ended)),
            );
        }
    }

    /// The agent's status changed: their other sockets follow.
    pub fn status(&self, supplier_id: i64, agent_id: i64, serving: bool, from: SocketId) {
        self.hub.to_agent(
            supplier_id,
            agent_id,
            Delivery::except(AgentServerFrame::Status { serving }, from),
        );
    }

    /// Waiting buyers of the supplier re-read their place in the queue.
    pub fn queue_changed(&self, supplier_id: i64) {
        self.hub
            .to_supplier(supplier_id, SupplierEvent::QueueChanged);
    }

    /// An agent's conversations were taken back (剔除登录, new password, logout): the new
    /// agents and their buyers are told; buyers left waiting learn their place.
    pub async fn released(&self, supplier_id: i64, released: &[(i64, Option<i64>)]) {
        let assigned: Vec<(i64, i64)> = released
            .iter()
            .filter_map(|&(c, a)| a.map(|a| (c, a)))
            .collect();
        self.assigned_all(supplier_id, &assigned).await;
        if assigned.len() < released.len() {
            self.queue_changed(supplier_id);
        }
    }
}

/// The agent-list summary of a conversation.
pub async fn summary(
    db: &DatabaseConnection,
    conversation: conversation::Model,
) -> Result<ConversationSummary, DomainError> {
    let unanswered = views::unanswered(db, &conversation).await?;
    let view = views::conversation_view(db, conversation).await?;
    Ok(ConversationSummary {
        conversation_id: view.conversation.id,
        buyer_external_id: view.buyer.external_id,
        buyer_name: view.buyer.name,
        buyer_unit: view.buyer.unit,
        entered_at: view.conversation.entered_at,
        last_message: view.last_message.map(|m| preview(&m)),
        last_seq: view.conversation.last_seq,
        unread: u32::try_from(unanswered.count).unwrap_or(u32::MAX),
        waiting_since: unanswered.since,
    })
}

/// How a message shows in the conversation list.
fn preview(m: &message::Model) -> String {
    match domain::chat::content_of(m) {
        StoredContent::Image { .. } => "[图片]".to_owned(),
        StoredContent::Order { .. } => "[订单]".to_owned(),
        StoredContent::Text { .. } => m.body.clone(),
    }
}

/// Stored messages as both sides render them (with the sender's name and the picture).
pub async fn chat_messages(
    db: &DatabaseConnection,
    conversation: &conversation::Model,
    rows: Vec<message::Model>,
) -> Result<Vec<ChatMessage>, DomainError> {
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut buyer_name: Option<String> = None;
    let upload_ids: Vec<i64> = rows.iter().filter_map(|r| r.upload_id).collect();
    let images: HashMap<i64, ChatImage> = domain::chat::pictures::uploads_by_ids(db, &upload_ids)
        .await?
        .into_iter()
        .filter(|u| u.supplier_id == conversation.supplier_id)
        .map(|u| (u.id, super::pictures::image_of(&u)))
        .collect();
    // Order cards show the order as it is now, and only an order of this buyer with this supplier.
    let order_ids: Vec<i64> = rows.iter().filter_map(|r| r.order_id).collect();
    let orders = if order_ids.is_empty() {
        HashMap::new()
    } else {
        domain::orders::summaries_by_ids(
            db,
            conversation.supplier_id,
            conversation.buyer_id,
            &order_ids,
        )
        .await?
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let sender = Sender::parse(&row.sender).unwrap_or(Sender::System);
        let sender_name = match sender {
            Sender::Agent => match row.sender_account_id {
                Some(id) => match names.get(&id) {
                    Some(n) => n.clone(),
                    None => {
                        let n = views::agent_name(db, conversation.supplier_id, id)
                            .await
                            .unwrap_or_else(|_| "客服".to_owned());
                        names.insert(id, n.clone());
                        n
                    }
                },
                None => "客服".to_owned(),
            },
            Sender::Buyer => match &buyer_name {
                Some(n) => n.clone(),
                None => {
                    let n = views::conversation_view(db, conversation.clone())
                        .await?
                        .buyer
                        .name;
                    buyer_name = Some(n.clone());
                    n
                }
            },
            Sender::System => "系统".to_owned(),
        };
        let content = domain::chat::content_of(&row).map(
            |upload| upload.and_then(|id| images.get(&id).cloned()),
            |order| order.and_then(|id| orders.get(&id).cloned()),
        );
        out.push(chat_message(row, sender, sender_name, content));
    }
    Ok(out)
}

fn chat_message(
    row: message::Model,
    sender: Sender,
    sender_name: String,
    content: ChatContent,
) -> ChatMessage {
    ChatMessage {
        conversation_id: row.conversation_id,
        seq: row.seq,
        sender,
        sender_name,
        body: row.body,
        content,
        client_msg_id: row.client_msg_id,
        created_at: row.created_at,
    }
}

/// A stored text message as both sides render it, its sender's name known already (nothing to
/// read: no picture, no order card).
pub fn text_message(row: message::Model, sender_name: &str) -> ChatMessage {
    let sender = Sender::parse(&row.sender).unwrap_or(Sender::System);
    let content = domain::chat::content_of(&row).map(|_| None, |_| None);
    chat_message(row, sender, sender_name.to_owned(), content)
}

/// Sends the conversation's messages after `after_seq` to one socket, in seq order, at most
/// `chunk` per frame (made by `frame`), each page read from the database just before it is sent
/// ([`domain::chat::messages::messages_after`]): a replay of 100 000 messages holds one page in
/// memory, never the conversation. At least one frame goes out, empty when nothing was missed,
/// so the client learns that its history is complete. `Ok(false)` when the socket closed.
pub async fn replay_since<Tx, F>(
    db: &DatabaseConnection,
    conversation: &conversation::Model,
    after_seq: i32,
    chunk: u64,
    tx: &mut Tx,
    frame: impl Fn(Vec<ChatMessage>) -> F,
) -> Result<bool, DomainError>
where
    Tx: Sink<Message> + Unpin,
    F: Serialize,
{
    let mut after = after_seq;
    loop {
        let page =
            domain::chat::messages::messages_after(db, conversation.id, after, chunk).await?;
        if let Some(last) = page.messages.last() {
            after = last.seq;
        }
        let messages = chat_messages(db, conversation, page.messages).await?;
        if super::send_frame(tx, &frame(messages)).await.is_err() {
            return Ok(false);
        }
        if !page.has_more {
            return Ok(true);
        }
    }
}
