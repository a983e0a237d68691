//! `/ws/agent`: the agent workbench's socket. The agent is the cookie's login; only agents.

use app::chat::protocol::{AgentFrame, AgentServerFrame, CHAT_PROTOCOL_VERSION, HISTORY_PAGE};
use app::state::token_from_headers;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{Extensions, HeaderMap};
use axum::response::Response;
use domain::DomainError;
use domain::bus::AccountEvent;
use domain::chat::{Content, MAX_PAGE, NewMessage, Sender};
use domain::db::now_ms;
use domain::logins::{Role, Session};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::broadcast;

use super::actions;
use super::hub::SocketId;
use super::limits::{SlotKey, TOO_MANY_ADDR_SOCKETS, TOO_MANY_AGENT_SOCKETS};
use super::notify::{chat_messages, replay_since, summary};
use super::socket::{self, Side, Step};
use super::{
    ChatState, HISTORY_CHUNK, REVALIDATE_EVERY, configure, refuse_over_limit, refuse_socket,
    send_frame,
};
use domain::chat::Member;

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
            return refuse_over_limit::<AgentSocket, _>(&mut tx, TOO_MANY_ADDR_SOCKETS).await;
        };
        let (session, token) = match (session, token) {
            (Some(session), Some(token)) if session.role == Role::Agent => (session, token),
            (Some(_), Some(_)) => {
                let refusal = AgentSocket::refusal("只有在线客服可以使用客服工作台".into(), None);
                return refuse_socket(&mut tx, &refusal, None).await;
            }
            _ => {
                let refusal = AgentSocket::refusal("登录已失效，请重新登录".into(), None);
                return refuse_socket(&mut tx, &refusal, None).await;
            }
        };
        let key = SlotKey::Agent(session.supplier_id, session.account_id);
        let Some(agent_slot) = chat.sockets.try_acquire(key, chat.limits.sockets_per_agent) else {
            return refuse_over_limit::<AgentSocket, _>(&mut tx, TOO_MANY_AGENT_SOCKETS).await;
        };
        run_agent_socket(chat, session, token, &mut tx, &mut rx).await;
        // The slots are free before the connection itself goes.
        drop(agent_slot);
        drop(address_slot);
    })
}

/// Told when the agent's login ends while the workbench is open.
const LOGIN_ENDED: &str = "登录已结束，请重新登录";

/// One agent socket, until it closes or the login ends.
pub async fn run_agent_socket<Tx, Rx, E>(
    chat: ChatState,
    session: Session,
    token: String,
    mut tx: Tx,
    rx: Rx,
) where
    Tx: Sink<Message> + Unpin,
    Rx: Stream<Item = Result<Message, E>> + Unpin,
{
    let socket = chat.socket_id();
    let (supplier_id, agent_id) = (session.supplier_id, session.account_id);
    // Subscribe before reading the state, so nothing between the two is missed.
    let events = chat.notifier.hub.subscribe_agent(supplier_id, agent_id);
    let login = chat.bus.subscribe(agent_id);
    let _present = chat
        .presence
        .enter(chat.notifier.clone(), supplier_id, agent_id, socket);
    // Boxed like the loop's work: only the loop stays in an idle socket's task.
    let hello = Box::pin(hello(&chat, &session))
        .await
        .unwrap_or_else(|err| AgentSocket::error(&err, None));
    if matches!(hello, AgentServerFrame::Error { .. }) {
        return refuse_socket(&mut tx, &hello, None).await;
    }
    if send_frame(&mut tx, &hello).await.is_err() {
        let _ = tx.close().await;
        return;
    }
    let mut revalidate = tokio::time::interval(REVALIDATE_EVERY);
    revalidate.tick().await;
    let heartbeat = chat.heartbeat();
    let side = AgentSocket {
        chat,
        session,
        token,
        socket,
        login,
        revalidate,
    };
    socket::run(side, socket, events, heartbeat, tx, rx).await;
}

/// The workbench's first frame: 服务中 or 示忙, and the agent's open conversations.
async fn hello(chat: &ChatState, session: &Session) -> Result<AgentServerFrame, DomainError> {
    let (supplier_id, agent_id) = (session.supplier_id, session.account_id);
    let serving = domain::chat::views::is_serving(&chat.db, supplier_id, agent_id).await?;
    let mut conversations = Vec::new();
    for view in
        domain::chat::views::open_conversations_of_agent(&chat.db, supplier_id, agent_id).await?
    {
        conversations.push(summary(&chat.db, view.conversation).await?);
    }
    Ok(AgentServerFrame::Hello {
        version: CHAT_PROTOCOL_VERSION,
        serving,
        conversations,
    })
}

/// One open agent socket as the shared loop sees it: who it is, and its events besides the hub.
struct AgentSocket {
    chat: ChatState,
    session: Session,
    /// The login's token, re-checked every [`REVALIDATE_EVERY`].
    token: String,
    socket: SocketId,
    /// The login ends (剔除登录, a new password, 退出系统).
    login: broadcast::Receiver<AccountEvent>,
    revalidate: tokio::time::Interval,
}

enum AgentEvent {
    Login(Result<AccountEvent, broadcast::error::RecvError>),
    Revalidate,
}

impl Side for AgentSocket {
    type In = AgentFrame;
    type Out = AgentServerFrame;
    type Event = AgentEvent;
    const NAME: &'static str = "agent";

    fn refusal(message: String, client_msg_id: Option<String>) -> AgentServerFrame {
        AgentServerFrame::Error {
            message,
            client_msg_id,
        }
    }

    async fn next_event(&mut self) -> AgentEvent {
        tokio::select! {
            ended = self.login.recv() => AgentEvent::Login(ended),
            _ = self.revalidate.tick() => AgentEvent::Revalidate,
        }
    }

    async fn on_event(&mut self, event: AgentEvent) -> Step<AgentServerFrame> {
        let ended = match event {
            AgentEvent::Login(Ok(AccountEvent::LoginEnded(_))) => true,
            AgentEvent::Login(Err(broadcast::error::RecvError::Closed)) => true,
            AgentEvent::Login(Err(broadcast::error::RecvError::Lagged(_))) => false,
            AgentEvent::Revalidate => {
                matches!(self.chat.auth.session(&self.token).await, Ok(None))
            }
        };
        if ended {
            Step::Close(Some(Self::refusal(LOGIN_ENDED.into(), None)))
        } else {
            Step::nothing()
        }
    }

    async fn on_frame<Tx>(&mut self, frame: AgentFrame, tx: &mut Tx) -> Step<AgentServerFrame>
    where
        Tx: Sink<Message> + Unpin,
    {
        let (chat, session) = (&self.chat, &self.session);
        match frame {
            AgentFrame::Open {
                conversation_id,
                after_seq,
            } => match open(chat, session, conversation_id, after_seq, tx).await {
                Ok(frames) => Step::Answer(frames),
                Err(()) => Step::Gone,
            },
            frame => Step::Answer(handle(chat, session, self.socket, frame).await),
        }
    }
}

actions::answers_with!(AgentSocket, AgentServerFrame);

/// Answers one frame; returns the frames for this socket.
async fn handle(
    chat: &ChatState,
    session: &Session,
    socket: SocketId,
    frame: AgentFrame,
) -> Vec<AgentServerFrame> {
    let (supplier_id, agent_id) = (session.supplier_id, session.account_id);
    let db = &chat.db;
    let sender = Sender::Agent(agent_id);
    let member = Member::Agent {
        supplier_id,
        agent_id,
    };
    match frame {
        AgentFrame::SetServing { serving } => set_serving(chat, session, socket, serving).await,
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
            result.map_or_else(
                |err| vec![AgentSocket::error(&err, None)],
                |frame| vec![frame],
            )
        }
        AgentFrame::Send {
            conversation_id,
            client_msg_id,
            body,
            font_size,
        } => {
            let content = Content::Text { font_size };
            let msg = NewMessage::of(sender, &client_msg_id, content).with_body(&body);
            actions::send::<AgentSocket>(chat, (member, None), socket, conversation_id, &msg).await
        }
        AgentFrame::SendImage {
            conversation_id,
            client_msg_id,
            upload_id,
        } => {
            let msg = NewMessage::of(
                sender,
                &client_msg_id,
                Content::Image { picture: upload_id },
            );
            actions::send::<AgentSocket>(chat, (member, None), socket, conversation_id, &msg).await
        }
        AgentFrame::SendOrder {
            conversation_id,
            client_msg_id,
            order_id,
        } => {
            let msg = NewMessage::of(sender, &client_msg_id, Content::Order { order: order_id });
            actions::send::<AgentSocket>(chat, (member, None), socket, conversation_id, &msg).await
        }
        AgentFrame::Typing { conversation_id } => {
            actions::typing::<AgentSocket>(chat, member, conversation_id).await
        }
        AgentFrame::End { conversation_id } => {
            actions::end::<AgentSocket>(chat, member, conversation_id).await
        }
    }
}

/// 服务中 or 示忙: recorded, told to the agent's other sockets; switching on takes the waiting
/// buyers first come first served.
async fn set_serving(
    chat: &ChatState,
    session: &Session,
    socket: SocketId,
    serving: bool,
) -> Vec<AgentServerFrame> {
    let (supplier_id, agent_id) = (session.supplier_id, session.account_id);
    let db = &chat.db;
    let result = async {
        domain::db::retry_transient("setting 服务中/示忙", |_| {
            domain::chat::set_serving(db, supplier_id, agent_id, serving, now_ms())
        })
        .await?;
        chat.notifier.status(supplier_id, agent_id, serving, socket);
        if serving {
            let assigned = domain::chat::assign_waiting_buyers(db, supplier_id, now_ms()).await?;
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
        Err(err) => vec![AgentSocket::error(&err, None)],
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
        Err(Some(err)) => Ok(vec![AgentSocket::error(&err, None)]),
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
