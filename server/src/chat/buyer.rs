//! `/ws/buyer?token=…`: the buyer widget's socket. The buyer is the mall's signed token.

use app::chat::protocol::{BuyerFrame, BuyerServerFrame, CHAT_PROTOCOL_VERSION};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap};
use axum::response::Response;
use domain::DomainError;
use domain::chat::{BuyerClaims, Content, NewMessage, Sender};
use domain::db::now_ms;
use domain::entity::{buyer, conversation};
use futures_util::{Sink, Stream, StreamExt};
use serde::Deserialize;
use tokio::sync::broadcast;

use super::actions;
use super::hub::{SocketId, SupplierEvent};
use super::limits::{SlotKey, TOO_MANY_ADDR_SOCKETS, TOO_MANY_BUYER_SOCKETS};
use super::notify::replay_since;
use super::socket::{self, Side, Step};
use super::{ChatState, HISTORY_CHUNK, configure, refuse_over_limit, refuse_socket, send_frame};
use domain::chat::Member;

#[derive(Deserialize)]
pub struct BuyerQuery {
    #[serde(default)]
    token: String,
}

pub async fn buyer_socket(
    ws: WebSocketUpgrade,
    State(chat): State<ChatState>,
    Query(query): Query<BuyerQuery>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    // Counted from the request on, so sockets still upgrading count too.
    let address_slot = chat.address_slot(&headers, &extensions);
    configure(ws).on_upgrade(move |socket: WebSocket| async move {
        let (mut tx, mut rx) = socket.split();
        let Ok(address_slot) = address_slot else {
            return refuse_over_limit::<BuyerSocket, _>(&mut tx, TOO_MANY_ADDR_SOCKETS).await;
        };
        let claims = match domain::chat::buyer_token::verify_within(
            &chat.buyer_token_secret,
            &query.token,
            now_ms() / 1000,
            chat.limits.buyer_token_max_lifetime_secs,
        ) {
            Ok(claims) => claims,
            Err(err) => return refuse_socket(&mut tx, &BuyerSocket::error(&err, None), None).await,
        };
        let key = SlotKey::Buyer(claims.supplier_id, claims.buyer_id.clone());
        let Some(buyer_slot) = chat.sockets.try_acquire(key, chat.limits.sockets_per_buyer) else {
            return refuse_over_limit::<BuyerSocket, _>(&mut tx, TOO_MANY_BUYER_SOCKETS).await;
        };
        run_buyer_socket(chat, claims, &mut tx, &mut rx).await;
        // The slots are free before the connection itself goes.
        drop(buyer_slot);
        drop(address_slot);
    })
}

/// The buyer enters (or re-enters) the chat: their open conversation or a new one, routed.
/// Returns the frames to send: `Hello`, then `Queued` or `Assigned`.
async fn enter(
    chat: &ChatState,
    buyer: &buyer::Model,
) -> Result<(conversation::Model, Vec<BuyerServerFrame>), DomainError> {
    let db = &chat.db;
    let limit = domain::chat::routing::NewConversationLimit {
        max: chat.limits.new_conversations_per_window,
        window_ms: i64::try_from(chat.limits.new_conversation_window.as_millis())
            .unwrap_or(i64::MAX),
    };
    // Safe to run again: an open conversation found on a retry is returned as it is.
    let conversation = domain::db::retry_transient("opening a conversation", |_| {
        domain::chat::routing::open_conversation_limited(
            db,
            buyer.supplier_id,
            buyer.id,
            now_ms(),
            Some(limit),
        )
    })
    .await?;
    let supplier_name = domain::chat::views::supplier_name(db, buyer.supplier_id).await?;
    let anyone_serving = domain::chat::views::anyone_serving(db, buyer.supplier_id).await?;
    let mut frames = vec![BuyerServerFrame::Hello {
        version: CHAT_PROTOCOL_VERSION,
        supplier_name,
        conversation_id: conversation.id,
        anyone_serving,
    }];
    match (conversation.status.as_str(), conversation.agent_id) {
        (conversation::STATUS_OPEN, Some(agent_id)) => {
            // Tells the agent (their list shows the buyer) and every socket of this buyer.
            chat.notifier
                .assigned(buyer.supplier_id, conversation.id, agent_id)
                .await?;
        }
        _ => {
            if let Some(position) =
                domain::chat::queue_position(db, buyer.supplier_id, conversation.id).await?
            {
                frames.push(BuyerServerFrame::Queued { position });
            }
        }
    }
    Ok((conversation, frames))
}

/// One buyer socket, until it closes.
pub async fn run_buyer_socket<Tx, Rx, E>(chat: ChatState, claims: BuyerClaims, mut tx: Tx, rx: Rx)
where
    Tx: Sink<Message> + Unpin,
    Rx: Stream<Item = Result<Message, E>> + Unpin,
{
    let socket = chat.socket_id();
    // The entry is boxed like the loop's work: only the loop stays in an idle socket's task.
    let recorded = Box::pin(domain::db::retry_transient("recording the buyer", |_| {
        domain::chat::upsert_buyer(&chat.db, &claims)
    }));
    let buyer = match recorded.await {
        Ok(buyer) => buyer,
        Err(err) => {
            let err = match err {
                DomainError::NotFound => {
                    DomainError::validation("token", "买家身份令牌中的供应商不存在")
                }
                other => other,
            };
            return refuse_socket(&mut tx, &BuyerSocket::error(&err, None), None).await;
        }
    };
    let supplier_id = buyer.supplier_id;
    // Subscribe before entering, so the `Assigned` of this very entry is not missed.
    let events = chat.notifier.hub.subscribe_buyer(supplier_id, buyer.id);
    let queue = chat.notifier.hub.subscribe_supplier(supplier_id);
    let current = match Box::pin(enter(&chat, &buyer)).await {
        Ok((conversation, frames)) => {
            for frame in &frames {
                if send_frame(&mut tx, frame).await.is_err() {
                    return;
                }
            }
            conversation.id
        }
        Err(err) => {
            return refuse_socket(&mut tx, &BuyerSocket::error(&err, None), None).await;
        }
    };
    let heartbeat = chat.heartbeat();
    let side = BuyerSocket {
        chat,
        buyer,
        socket,
        current,
        queue,
    };
    socket::run(side, socket, events, heartbeat, tx, rx).await;
}

/// One open buyer socket as the shared loop sees it: who it is, which conversation it is in,
/// and the supplier's queue changes.
struct BuyerSocket {
    chat: ChatState,
    buyer: buyer::Model,
    socket: SocketId,
    /// The buyer's conversation; 重新咨询 moves it to a new one.
    current: i64,
    queue: broadcast::Receiver<SupplierEvent>,
}

impl Side for BuyerSocket {
    type In = BuyerFrame;
    type Out = BuyerServerFrame;
    type Event = Result<SupplierEvent, broadcast::error::RecvError>;
    const NAME: &'static str = "buyer";

    fn refusal(message: String, client_msg_id: Option<String>) -> BuyerServerFrame {
        BuyerServerFrame::Error {
            message,
            client_msg_id,
        }
    }

    async fn next_event(&mut self) -> Self::Event {
        self.queue.recv().await
    }

    /// The queue moved: a waiting buyer hears their new place.
    async fn on_event(&mut self, event: Self::Event) -> Step<BuyerServerFrame> {
        match event {
            Ok(SupplierEvent::QueueChanged) | Err(broadcast::error::RecvError::Lagged(_)) => {
                let (db, supplier_id) = (&self.chat.db, self.buyer.supplier_id);
                match domain::chat::queue_position(db, supplier_id, self.current).await {
                    Ok(Some(position)) => Step::Answer(vec![BuyerServerFrame::Queued { position }]),
                    Ok(None) => Step::nothing(),
                    Err(err) => Step::Answer(vec![Self::error(&err, None)]),
                }
            }
            Err(broadcast::error::RecvError::Closed) => Step::Close(None),
        }
    }

    async fn on_frame<Tx>(&mut self, frame: BuyerFrame, tx: &mut Tx) -> Step<BuyerServerFrame>
    where
        Tx: Sink<Message> + Unpin,
    {
        let (chat, buyer) = (&self.chat, &self.buyer);
        match frame {
            BuyerFrame::Resume { after_seq } => {
                match resume(chat, buyer, self.current, after_seq, tx).await {
                    Ok(frames) => Step::Answer(frames),
                    Err(()) => Step::Gone,
                }
            }
            frame => Step::Answer(handle(chat, buyer, self.socket, &mut self.current, frame).await),
        }
    }
}

actions::answers_with!(BuyerSocket, BuyerServerFrame);

/// Answers one frame; returns the frames for this socket.
async fn handle(
    chat: &ChatState,
    buyer: &buyer::Model,
    socket: SocketId,
    current: &mut i64,
    frame: BuyerFrame,
) -> Vec<BuyerServerFrame> {
    let conversation_id = *current;
    let member = Member::Buyer {
        supplier_id: buyer.supplier_id,
        buyer_id: buyer.id,
    };
    // The socket knows the buyer's name: a text message needs no read to be shown.
    let sender = (member, Some(buyer.name.as_str()));
    match frame {
        // Answered by the socket loop, page by page as it is read: see [`resume`].
        BuyerFrame::Resume { .. } => Vec::new(),
        BuyerFrame::Send {
            client_msg_id,
            body,
            font_size,
        } => {
            let content = Content::Text { font_size };
            let msg = NewMessage::of(Sender::Buyer, &client_msg_id, content).with_body(&body);
            actions::send::<BuyerSocket>(chat, sender, socket, conversation_id, &msg).await
        }
        BuyerFrame::SendImage {
            client_msg_id,
            upload_id,
        } => {
            let content = Content::Image { picture: upload_id };
            let msg = NewMessage::of(Sender::Buyer, &client_msg_id, content);
            actions::send::<BuyerSocket>(chat, sender, socket, conversation_id, &msg).await
        }
        BuyerFrame::End => actions::end::<BuyerSocket>(chat, member, conversation_id).await,
        BuyerFrame::Typing => actions::typing::<BuyerSocket>(chat, member, conversation_id).await,
        BuyerFrame::Restart => match enter(chat, buyer).await {
            Ok((conversation, frames)) => {
                *current = conversation.id;
                frames
            }
            Err(err) => vec![BuyerSocket::error(&err, None)],
        },
    }
}

/// `Resume`: the current conversation's messages after `after_seq`, sent to this socket a page
/// at a time as they are read ([`replay_since`]). Returns the frames still to send (an error);
/// `Err(())` when the socket closed.
async fn resume<Tx>(
    chat: &ChatState,
    buyer: &buyer::Model,
    conversation_id: i64,
    after_seq: i32,
    tx: &mut Tx,
) -> Result<Vec<BuyerServerFrame>, ()>
where
    Tx: Sink<Message> + Unpin,
{
    let db = &chat.db;
    let result = async {
        let conversation =
            domain::chat::conversation_for_buyer(db, buyer.supplier_id, buyer.id, conversation_id)
                .await?;
        let frame = |messages| BuyerServerFrame::Messages {
            conversation_id,
            messages,
        };
        replay_since(db, &conversation, after_seq, HISTORY_CHUNK, tx, frame).await
    }
    .await;
    match result {
        Ok(true) => Ok(Vec::new()),
        Ok(false) => Err(()),
        Err(err) => Ok(vec![BuyerSocket::error(&err, None)]),
    }
}
