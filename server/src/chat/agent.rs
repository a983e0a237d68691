//! `/ws/agent`: the agent workbench's socket. The agent is the cookie's login; only agents.

use app::chat::protocol::{AgentFrame, AgentServerFrame, CHAT_PROTOCOL_VERSION, HISTORY_PAGE};
use app::state::token_from_headers;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{Extensions, HeaderMap};
use axum::response::Response;
use domain::DomainError;
use domain::auth::{Role, Session};
use domain::bus::AccountEvent;
use domain::chat::{EndReason, MAX_PAGE, NewMessage, Sender};
use domain::db::now_ms;
use domain::entity::message;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::broadcast;

use super::hub::SocketId;
use super::limits::{Beat, Heartbeat, SlotKey, TOO_MANY_ADDR_SOCKETS, TOO_MANY_AGENT_SOCKETS};
use super::notify::{Origin, chat_messages, replay_since, summary};
use super::{
    ChatState, FELL_BEHIND, HISTORY_CHUNK, Incoming, REVALIDATE_EVERY, RateLimit, classify,
    close_silent, configure, refuse_socket, send_frame, send_message,
};

pub async fn agent_socket(
    ws: WebSocketUpgrade,
    State(chat): State<ChatState>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    let address_slot = chat.address_slot(&headers, &extensions);
    let token = token_from_headers(&headers);
    let session = match crate::caller::session_of(&chat.auth, &headers).await {
        Ok(session) => session,
        Err(err) => return axum::response::IntoResponse::into_response(err),
    };
    // The Origin was checked against the public origin by the security layer (not against
    // `Host`, which a reverse proxy may rewrite).
    configure(ws).on_upgrade(move |socket: WebSocket| async move {
        let (mut tx, mut rx) = socket.split();
        let Ok(address_slot) = address_slot else {
            let frame = AgentServerFrame::Error {
                message: TOO_MANY_ADDR_SOCKETS.into(),
                client_msg_id: None,
            };
            refuse_socket(&mut tx, &frame, TOO_MANY_ADDR_SOCKETS).await;
            return;
        };
        let refusal = match (&session, &token) {
            (Some(s), Some(_)) if s.role == Role::Agent => None,
            (Some(_), Some(_)) => Some("只有在线客服可以使用客服工作台"),
            _ => Some("登录已失效，请重新登录"),
        };
        match (refusal, session, token) {
            (None, Some(session), Some(token)) => {
                let key = SlotKey::Agent(session.supplier_id, session.account_id);
                let Some(agent_slot) = chat.sockets.try_acquire(key, chat.limits.sockets_per_agent)
                else {
                    let frame = AgentServerFrame::Error {
                        message: TOO_MANY_AGENT_SOCKETS.into(),
                        client_msg_id: None,
                    };
                    refuse_socket(&mut tx, &frame, TOO_MANY_AGENT_SOCKETS).await;
                    return;
                };
                run_agent_socket(chat, session, token, &mut tx, &mut rx).await;
                // The slots are free before the connection itself goes.
                drop(agent_slot);
                drop(address_slot);
            }
            (refusal, _, _) => {
                let message = refusal.unwrap_or("登录已失效，请重新登录").to_owned();
                let _ = send_frame(
                    &mut tx,
                    &AgentServerFrame::Error {
                        message,
                        client_msg_id: None,
                    },
                )
                .await;
                let _ = tx.close().await;
            }
        }
    })
}

/// A cookie-authenticated socket must come from our own pages (no cross-site hijacking): when
/// the browser sends an `Origin`, its host must be the request's `Host`.
fn error(err: &DomainError, client_msg_id: Option<String>) -> AgentServerFrame {
    if matches!(err, DomainError::Db(_) | DomainError::Internal(_)) {
        tracing::error!(error = %err, "chat (agent)");
    }
    AgentServerFrame::Error {
        message: super::hide_foreign(err).user_message(),
        client_msg_id,
    }
}

/// One agent socket, until it closes or the login ends.
pub async fn run_agent_socket<Tx, Rx, E>(
    chat: ChatState,
    session: Session,
    token: String,
    mut tx: Tx,
    mut rx: Rx,
) where
    Tx: Sink<Message> + Unpin,
    Rx: Stream<Item = Result<Message, E>> + Unpin,
{
    let socket = chat.socket_id();
    let (supplier_id, agent_id) = (session.supplier_id, session.account_id);
    // Subscribe before reading the state, so nothing between the two is missed.
    let mut events = chat.notifier.hub.subscribe_agent(supplier_id, agent_id);
    let mut login = chat.bus.subscribe(agent_id);
    let _present = chat
        .presence
        .enter(chat.notifier.clone(), supplier_id, agent_id, socket);
    let hello = async {
        let serving = domain::chat::views::is_serving(&chat.db, supplier_id, agent_id).await?;
        let mut conversations = Vec::new();
        for view in
            domain::chat::views::open_conversations_of_agent(&chat.db, supplier_id, agent_id)
                .await?
        {
            conversations.push(summary(&chat.db, view.conversation).await?);
        }
        Ok::<_, DomainError>(AgentServerFrame::Hello {
            version: CHAT_PROTOCOL_VERSION,
            serving,
            conversations,
        })
    }
    .await;
    let hello = hello.unwrap_or_else(|err| error(&err, None));
    let failed = matches!(hello, AgentServerFrame::Error { .. });
    if send_frame(&mut tx, &hello).await.is_err() || failed {
        let _ = tx.close().await;
        return;
    }
    let mut limit = RateLimit::new();
    let mut tick = tokio::time::interval(REVALIDATE_EVERY);
    tick.tick().await;
    let mut heartbeat = Heartbeat::new(chat.limits.ping_every, chat.limits.silent_after);
    loop {
        let outgoing: Vec<AgentServerFrame> = tokio::select! {
            beat = heartbeat.beat() => match beat {
                Beat::Ping => {
                    if send_message(&mut tx, Message::Ping(Default::default())).await.is_err() {
                        return;
                    }
                    continue;
                }
                Beat::Silent => {
                    close_silent(&mut tx).await;
                    return;
                }
            },
            event = events.recv() => match event {
                Ok(delivery) if delivery.is_for(socket) => vec![delivery.frame],
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let _ = send_frame(&mut tx, &AgentServerFrame::Error { message: FELL_BEHIND.into(), client_msg_id: None }).await;
                    break;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            ended = login.recv() => match ended {
                Ok(AccountEvent::LoginEnded(_)) | Err(broadcast::error::RecvError::Closed) => {
                    let _ = send_frame(&mut tx, &AgentServerFrame::Error { message: "登录已结束，请重新登录".into(), client_msg_id: None }).await;
                    break;
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
            },
            _ = tick.tick() => {
                if matches!(chat.auth.session(&token).await, Ok(None)) {
                    let _ = send_frame(&mut tx, &AgentServerFrame::Error { message: "登录已结束，请重新登录".into(), client_msg_id: None }).await;
                    break;
                }
                continue;
            }
            incoming = rx.next() => match classify::<AgentFrame, E>(heartbeat.heard_from(incoming), &mut limit) {
                // Boxed: the loop (and so every idle socket's task) stays small.
                Incoming::Frame(AgentFrame::Open { conversation_id, after_seq }) => match Box::pin(open(&chat, &session, conversation_id, after_seq, &mut tx)).await {
                    Ok(frames) => frames,
                    Err(()) => return,
                },
                Incoming::Frame(frame) => Box::pin(handle(&chat, &session, socket, frame)).await,
                Incoming::Refuse(message, client_msg_id) => vec![AgentServerFrame::Error { message: message.into(), client_msg_id }],
                Incoming::Ignore => continue,
                Incoming::Closed => break,
            },
        };
        for frame in &outgoing {
            if send_frame(&mut tx, frame).await.is_err() {
                return;
            }
        }
    }
    let _ = tx.close().await;
}

/// Answers one frame; returns the frames for this socket.
async fn handle(
    chat: &ChatState,
    session: &Session,
    socket: SocketId,
    frame: AgentFrame,
) -> Vec<AgentServerFrame> {
    let (supplier_id, agent_id) = (session.supplier_id, session.account_id);
    let db = &chat.db;
    match frame {
        AgentFrame::SetServing { serving } => {
            let result = async {
                domain::db::retry_transient("setting 服务中/示忙", |_| {
                    domain::chat::set_serving(db, supplier_id, agent_id, serving, now_ms())
                })
                .await?;
                chat.notifier.status(supplier_id, agent_id, serving, socket);
                if serving {
                    let assigned =
                        domain::chat::assign_waiting_buyers(db, supplier_id, now_ms()).await?;
                    chat.notifier.assigned_all(supplier_id, &assigned).await;
                    if !assigned.is_empty() {
                        chat.notifier.queue_changed(supplier_id);
                    }
                }
                Ok::<_, DomainError>(())
            }
            .await;
            match result {
                Ok(()) => vec![AgentServerFrame::Status { serving }],
                Err(err) => vec![error(&err, None)],
            }
        }
        // Answered by the socket loop, page by page as it is read: see [`open`].
        AgentFrame::Open { .. } => Vec::new(),
        AgentFrame::Older {
            conversation_id,
            before_seq,
        } => {
            let result = async {
                let conversation = domain::chat::conversation_for_agent(
                    db,
                    supplier_id,
                    agent_id,
                    conversation_id,
                )
                .await?;
                older_page(chat, &conversation, before_seq).await
            }
            .await;
            result.map_or_else(|err| vec![error(&err, None)], |frame| vec![frame])
        }
        AgentFrame::Send {
            conversation_id,
            client_msg_id,
            body,
            font_size,
        } => {
            let msg = NewMessage {
                sender: Sender::Agent(agent_id),
                client_msg_id: &client_msg_id,
                kind: message::KIND_TEXT,
                body: &body,
                font_size,
                upload_id: None,
                order_id: None,
            };
            send(chat, session, socket, conversation_id, &msg).await
        }
        AgentFrame::SendImage {
            conversation_id,
            client_msg_id,
            upload_id,
        } => {
            let msg = NewMessage {
                sender: Sender::Agent(agent_id),
                client_msg_id: &client_msg_id,
                kind: message::KIND_IMAGE,
                body: "",
                font_size: domain::chat::FONT_SIZES[0],
                upload_id: Some(upload_id),
                order_id: None,
            };
            send(chat, session, socket, conversation_id, &msg).await
        }
        AgentFrame::SendOrder {
            conversation_id,
            client_msg_id,
            order_id,
        } => {
            let msg = NewMessage {
                sender: Sender::Agent(agent_id),
                client_msg_id: &client_msg_id,
                kind: message::KIND_ORDER,
                body: "",
                font_size: domain::chat::FONT_SIZES[0],
                upload_id: None,
                order_id: Some(order_id),
            };
            send(chat, session, socket, conversation_id, &msg).await
        }
        AgentFrame::Typing { conversation_id } => {
            match domain::chat::conversation_for_agent(db, supplier_id, agent_id, conversation_id)
                .await
            {
                Ok(conversation) if conversation.ended_at.is_none() => {
                    chat.notifier.typing(&conversation, true);
                    Vec::new()
                }
                Ok(_) => Vec::new(),
                Err(err) => vec![error(&err, None)],
            }
        }
        AgentFrame::End { conversation_id } => {
            let result = async {
                domain::chat::conversation_for_agent(db, supplier_id, agent_id, conversation_id)
                    .await?;
                let (conversation, ended) = domain::chat::end_conversation(
                    db,
                    supplier_id,
                    conversation_id,
                    EndReason::Agent,
                    now_ms(),
                )
                .await?;
                Ok::<_, DomainError>((conversation, ended))
            }
            .await;
            match result {
                // Every socket of both sides, this one included, hears it through the hub.
                Ok((conversation, true)) => {
                    chat.notifier
                        .ended(&conversation, EndReason::Agent.as_str());
                    Vec::new()
                }
                Ok((conversation, false)) => vec![AgentServerFrame::Ended {
                    conversation_id,
                    reason: conversation.end_reason.unwrap_or_default(),
                }],
                Err(err) => vec![error(&err, None)],
            }
        }
    }
}

/// `Open`: records 客服进入时间 and sends the newest page on a first open (`after_seq` ≤ 0), else
/// every message after `after_seq`, a page at a time as it is read ([`replay_since`]). Returns
/// the frames still to send; `Err(())` when the socket closed.
async fn open<Tx>(
    chat: &ChatState,
    session: &Session,
    conversation_id: i64,
    after_seq: i32,
    tx: &mut Tx,
) -> Result<Vec<AgentServerFrame>, ()>
where
    Tx: Sink<Message> + Unpin,
{
    let (supplier_id, agent_id) = (session.supplier_id, session.account_id);
    let db = &chat.db;
    let result: Result<Option<AgentServerFrame>, Option<DomainError>> = async {
        domain::chat::conversation_for_agent(db, supplier_id, agent_id, conversation_id).await?;
        // Only the first join counts, so running it again changes nothing.
        let conversation = domain::db::retry_transient("recording the agent's join", |_| {
            domain::chat::mark_agent_joined(db, supplier_id, conversation_id, agent_id, now_ms())
        })
        .await?;
        if after_seq <= 0 {
            // A first open: the newest page; older pages on request.
            return Ok(Some(older_page(chat, &conversation, i32::MAX).await?));
        }
        let frame = |messages| AgentServerFrame::Messages {
            conversation_id,
            messages,
        };
        let open = replay_since(
            db,
            &conversation,
            after_seq,
            HISTORY_CHUNK.min(MAX_PAGE),
            tx,
            frame,
        )
        .await?;
        if open { Ok(None) } else { Err(None) }
    }
    .await;
    match result {
        Ok(first_page) => Ok(first_page.into_iter().collect()),
        Err(Some(err)) => Ok(vec![error(&err, None)]),
        Err(None) => Err(()),
    }
}

/// The page of history just before `before_seq`.
async fn older_page(
    chat: &ChatState,
    conversation: &domain::entity::conversation::Model,
    before_seq: i32,
) -> Result<AgentServerFrame, DomainError> {
    let rows =
        domain::chat::history_before(&chat.db, conversation.id, before_seq, HISTORY_PAGE).await?;
    let has_more = rows.first().is_some_and(|m| m.seq > 1);
    let messages = chat_messages(&chat.db, conversation, rows).await?;
    Ok(AgentServerFrame::Older {
        conversation_id: conversation.id,
        messages,
        has_more,
    })
}

/// Stores one message of the agent (text, picture or order card), tells the others, and answers
/// with the `Ack` (or the refusal, naming the client id).
async fn send(
    chat: &ChatState,
    session: &Session,
    socket: SocketId,
    conversation_id: i64,
    msg: &NewMessage<'_>,
) -> Vec<AgentServerFrame> {
    let db = &chat.db;
    let result = async {
        let conversation =
            domain::chat::conversation_for_agent(db, session.supplier_id, session.account_id, conversation_id).await?;
        let (stored, new) = chat.writer.store(conversation_id, msg, now_ms()).await?;
        let seq = stored.seq;
        if new {
            // Committed: from here on a failure is logged, never the sender's error (its Ack).
            match chat_messages(db, &conversation, vec![stored]).await {
                Ok(rendered) => {
                    if let Some(m) = rendered.into_iter().next() {
                        chat.notifier.message_stored(&conversation, m, Origin::Agent(socket));
                    }
                }
                Err(err) => tracing::error!(error = %err, conversation_id, seq, "telling a stored message failed"),
            }
        }
        Ok::<_, DomainError>(seq)
    }
    .await;
    let client_msg_id = msg.client_msg_id.to_owned();
    match result {
        Ok(seq) => vec![AgentServerFrame::Ack { client_msg_id, seq }],
        Err(err) => vec![error(&err, Some(client_msg_id))],
    }
}
