//! Chat setup shared by the chat tests: the chat routes over a demo database on a real port,
//! buyer tokens, agent and buyer sockets, reading and sending frames, and the two openings of
//! almost every conversation (an agent starts serving, a buyer enters).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::chat::protocol::{
    AgentFrame, AgentServerFrame, BuyerFrame, BuyerServerFrame, CHAT_PROTOCOL_VERSION, ChatMessage,
    ConversationEnded, EndReason, MessageAck, UploadedPicture,
};
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use domain::chat::{BuyerClaims, sign};
use domain::logins::{Auth, Session};
use futures::{SinkExt, StreamExt};
use server::chat::ChatState;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tower::ServiceExt;

/// A client's WebSocket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The secret the mall signs buyer tokens with.
pub const SECRET: &[u8] = b"test-secret-shared-with-the-mall";
/// How long a test waits for a frame: a safety net against a hang, never a synchronisation.
pub const FRAME_WAIT: Duration = Duration::from_secs(10);

/// A chat state over `auth` with an in-process bus and [`SECRET`].
pub fn chat_state(auth: &Auth) -> ChatState {
    ChatState::new(
        auth.clone(),
        Arc::new(domain::bus::InProcessBus::default()),
        SECRET.into(),
    )
}

/// The chat routes of `chat` on a real port.
pub struct ChatServer {
    pub addr: SocketAddr,
    pub auth: Auth,
    pub chat: ChatState,
    pub router: axum::Router,
    /// Where the database file (and anything else on disk) lives.
    pub dir: tempfile::TempDir,
}

impl ChatServer {
    /// Serves `chat`'s routes; with `peer` the peer address reaches them, as `server serve` does.
    pub async fn start(
        auth: Auth,
        dir: tempfile::TempDir,
        chat: ChatState,
        peer: bool,
    ) -> ChatServer {
        let router: axum::Router = server::chat::routes(chat.clone());
        let addr = if peer {
            super::serve_with_peer(router.clone()).await
        } else {
            super::serve(router.clone()).await
        };
        ChatServer {
            addr,
            auth,
            chat,
            router,
            dir,
        }
    }

    /// The chat routes over a fresh demo database; `configure` adjusts the chat state.
    pub async fn demo(configure: impl FnOnce(ChatState) -> ChatState, peer: bool) -> ChatServer {
        let super::DemoDb { auth, dir } = super::demo_db().await;
        let chat = configure(chat_state(&auth));
        ChatServer::start(auth, dir, chat, peer).await
    }

    /// Where uploaded pictures go when the chat state was given [`ChatServer::upload_dir`].
    pub fn upload_dir(&self) -> std::path::PathBuf {
        upload_dir(&self.dir)
    }

    /// No picture was written to the upload folder.
    pub fn no_pictures_on_disk(&self) -> bool {
        let dir = self.upload_dir();
        !dir.exists() || std::fs::read_dir(&dir).expect("dir").next().is_none()
    }

    /// A demo account logs in (agents with the agents' password, admins with the admins'): its
    /// session cookie.
    pub async fn log_in(&self, login: &str) -> String {
        let password = if login.starts_with("kf") {
            domain::demo::AGENT_PASSWORD
        } else {
            domain::demo::ADMIN_PASSWORD
        };
        super::log_in(&self.auth, login, password).await
    }

    /// kf101 serves and `buyer_id` of the first demo supplier enters: the agent's socket and
    /// cookie, the buyer's socket and token, and the conversation.
    pub async fn conversation(&self, buyer_id: &str) -> (Ws, String, Ws, String, i64) {
        let cookie = self.log_in("kf101").await;
        let mut agent = self.agent_socket(&cookie).await;
        start_serving(&mut agent).await;
        let token = buyer_token(1, buyer_id);
        let mut buyer = self.buyer_socket(&token).await;
        let conversation_id = enters_assigned(&mut buyer, &mut agent, buyer_id).await;
        (agent, cookie, buyer, token, conversation_id)
    }

    /// One request to the chat routes, without a socket.
    pub async fn call(&self, req: Request<Body>) -> Reply {
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router answers");
        let status = res.status();
        let headers = res.headers().clone();
        let body = axum::body::to_bytes(res.into_body(), 64 * 1024 * 1024)
            .await
            .expect("body")
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// GET of a picture (`/media/…`) as `who`.
    pub async fn fetch(&self, url: &str, who: &Who) -> Reply {
        let req = match who {
            Who::Buyer(t) => Request::get(format!("{url}?token={t}")),
            Who::Cookie(c) => Request::get(url).header(header::COOKIE, format!("kefu_session={c}")),
            Who::Nobody => Request::get(url),
        };
        self.call(req.body(Body::empty()).expect("request")).await
    }

    /// A socket of the account logged in with `cookie`.
    pub async fn agent_socket(&self, cookie: &str) -> Ws {
        agent_socket(self.addr, cookie).await
    }

    /// A buyer socket with this token.
    pub async fn buyer_socket(&self, token: &str) -> Ws {
        buyer_socket(self.addr, token).await
    }

    /// A socket of `buyer_id` of the supplier, with a token valid for an hour.
    pub async fn buyer(&self, supplier_id: i64, buyer_id: &str) -> Ws {
        self.buyer_socket(&buyer_token(supplier_id, buyer_id)).await
    }

    /// `login` (a demo agent) logs in and connects: its socket and session.
    pub async fn agent(&self, login: &str) -> (Ws, Session) {
        let (token, session) = self
            .auth
            .login(login, domain::demo::AGENT_PASSWORD, "127.0.0.1", "test")
            .await
            .expect("agent logs in");
        (self.agent_socket(&token).await, session)
    }

    /// `login` connects, is greeted not serving, and starts serving.
    pub async fn serving_agent(&self, login: &str) -> (Ws, Session) {
        let (mut agent, session) = self.agent(login).await;
        start_serving(&mut agent).await;
        (agent, session)
    }

    /// A buyer enters while `agent` serves: both learn of each other. The conversation.
    pub async fn buyer_enters(
        &self,
        agent: &mut Ws,
        supplier_id: i64,
        buyer_id: &str,
    ) -> (Ws, i64) {
        let mut buyer = self.buyer(supplier_id, buyer_id).await;
        let conversation_id = enters_assigned(&mut buyer, agent, buyer_id).await;
        (buyer, conversation_id)
    }
}

/// The upload folder of a chat server whose files live in `dir`.
pub fn upload_dir(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join("uploads")
}

/// Who makes a request: a buyer (its token), an account (its session cookie), or nobody.
pub enum Who {
    Buyer(String),
    Cookie(String),
    Nobody,
}

/// An answer of the chat routes.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The `error` of a JSON error body.
    pub fn error(&self) -> String {
        let v: serde_json::Value = serde_json::from_slice(&self.body).expect("a JSON error");
        v["error"].as_str().expect("error text").to_owned()
    }

    /// The picture of an upload that succeeded.
    pub fn picture(&self) -> UploadedPicture {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        serde_json::from_slice(&self.body).expect("UploadedPicture")
    }
}

/// A picture upload to the conversation as `who`, claiming `content_type`.
pub fn picture_request(
    conversation_id: i64,
    who: &Who,
    content_type: &str,
    body: Body,
) -> Request<Body> {
    let uri = format!("/api/chat/pictures?conversation_id={conversation_id}");
    match who {
        Who::Buyer(t) => Request::post(format!("{uri}&token={t}")),
        Who::Cookie(c) => Request::post(uri).header(header::COOKIE, format!("kefu_session={c}")),
        Who::Nobody => Request::post(uri),
    }
    .header(header::CONTENT_TYPE, content_type)
    .body(body)
    .expect("request")
}

/// A plain PNG of this size.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::new(width, height);
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode");
    out.into_inner()
}

/// The buyer sends an uploaded picture.
pub fn send_picture(client_msg_id: &str, upload_id: i64) -> BuyerFrame {
    BuyerFrame::SendImage {
        client_msg_id: client_msg_id.into(),
        upload_id,
    }
}

/// Asserts the agent's greeting (not serving yet) and starts serving.
pub async fn start_serving(agent: &mut Ws) {
    assert!(matches!(
        agent_recv(agent).await,
        AgentServerFrame::Hello {
            version: CHAT_PROTOCOL_VERSION,
            serving: false,
            ..
        }
    ));
    send_json(agent, &AgentFrame::SetServing { serving: true }).await;
    assert_eq!(
        agent_recv(agent).await,
        AgentServerFrame::Status { serving: true }
    );
}

/// A freshly connected buyer is greeted by the demo supplier, which is served, and assigned to
/// 客服小童, who hears of it: the conversation.
pub async fn enters_assigned(buyer: &mut Ws, agent: &mut Ws, buyer_id: &str) -> i64 {
    let BuyerServerFrame::Hello {
        conversation_id,
        anyone_serving,
        supplier_name,
        ..
    } = buyer_recv(buyer).await
    else {
        panic!("Hello first");
    };
    assert!(anyone_serving);
    assert_eq!(supplier_name, domain::demo::SUPPLIER_NAME);
    assert_eq!(
        buyer_recv(buyer).await,
        BuyerServerFrame::Assigned {
            agent_name: "客服小童".into()
        }
    );
    let AgentServerFrame::Assigned { conversation } = agent_recv(agent).await else {
        panic!("Assigned")
    };
    assert_eq!(conversation.conversation_id, conversation_id);
    assert_eq!(conversation.buyer_external_id, buyer_id);
    conversation_id
}

/// What the mall puts in a buyer's token.
pub fn claims(supplier_id: i64, buyer_id: &str, exp: i64) -> BuyerClaims {
    BuyerClaims {
        v: 1,
        supplier_id,
        buyer_id: buyer_id.into(),
        name: format!("采购人{buyer_id}"),
        unit: "某县第一中学".into(),
        exp,
    }
}

/// A token for `buyer_id` of the supplier, valid for an hour.
pub fn buyer_token(supplier_id: i64, buyer_id: &str) -> String {
    sign(
        SECRET,
        &claims(supplier_id, buyer_id, domain::db::now_ms() / 1000 + 3600),
    )
}

/// The opening request of an agent socket with the session cookie.
pub fn agent_request(
    addr: SocketAddr,
    cookie: &str,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut req = format!("ws://{addr}/ws/agent")
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "cookie",
        format!("kefu_session={cookie}").parse().expect("header"),
    );
    req
}

/// An agent socket with the session cookie.
pub async fn agent_socket(addr: SocketAddr, cookie: &str) -> Ws {
    tokio_tungstenite::connect_async(agent_request(addr, cookie))
        .await
        .expect("agent connects")
        .0
}

/// A buyer socket with the token.
pub async fn buyer_socket(addr: SocketAddr, token: &str) -> Ws {
    tokio_tungstenite::connect_async(format!("ws://{addr}/ws/buyer?token={token}"))
        .await
        .expect("buyer connects")
        .0
}

/// What came next on a socket.
#[derive(Debug, PartialEq)]
pub enum Next {
    Text(String),
    /// The socket closed, with the close frame's code and reason if there was one.
    Closed(Option<(CloseCode, String)>),
    /// Nothing came in time.
    Silent,
}

/// The next text frame within `wait` (pings and the like are skipped).
pub async fn next_within(ws: &mut Ws, wait: Duration) -> Next {
    loop {
        let Ok(msg) = tokio::time::timeout(wait, ws.next()).await else {
            return Next::Silent;
        };
        match msg {
            Some(Ok(Message::Text(t))) => return Next::Text(t.to_string()),
            Some(Ok(Message::Close(frame))) => {
                return Next::Closed(frame.map(|f| (f.code, f.reason.to_string())));
            }
            Some(Err(_)) | None => return Next::Closed(None),
            Some(Ok(_)) => {}
        }
    }
}

/// The next text frame, or `None` when the socket closed; panics when nothing comes in time.
pub async fn next_text(ws: &mut Ws) -> Option<String> {
    match next_within(ws, FRAME_WAIT).await {
        Next::Text(text) => Some(text),
        Next::Closed(_) => None,
        Next::Silent => panic!("a frame within {FRAME_WAIT:?}"),
    }
}

/// The next frame within `wait`; panics when the socket closes or stays silent.
pub async fn recv_within<T: serde::de::DeserializeOwned>(ws: &mut Ws, wait: Duration) -> T {
    match next_within(ws, wait).await {
        Next::Text(text) => serde_json::from_str(&text).expect("a frame"),
        other => panic!("expected a frame within {wait:?}, got {other:?}"),
    }
}

/// The next frame; panics when the socket closes or stays silent.
pub async fn recv<T: serde::de::DeserializeOwned>(ws: &mut Ws) -> T {
    recv_within(ws, FRAME_WAIT).await
}

/// The agent's next frame.
pub async fn agent_recv(ws: &mut Ws) -> AgentServerFrame {
    recv(ws).await
}

/// The buyer's next frame.
pub async fn buyer_recv(ws: &mut Ws) -> BuyerServerFrame {
    recv(ws).await
}

/// Sends `frame` as JSON text.
pub async fn send_json<T: serde::Serialize>(ws: &mut Ws, frame: &T) {
    let text = serde_json::to_string(frame).expect("json");
    ws.send(Message::Text(text.into())).await.expect("send");
}

/// Nothing arrives for a moment.
pub async fn quiet(ws: &mut Ws) {
    let got = tokio::time::timeout(Duration::from_millis(300), ws.next()).await;
    assert!(got.is_err(), "expected no frame, got {got:?}");
}

/// Messages as (seq, sender, body).
pub fn bodies(messages: &[ChatMessage]) -> Vec<(i32, &str, &str)> {
    messages
        .iter()
        .map(|m| (m.seq, m.sender.as_str(), m.body.as_str()))
        .collect()
}

/// The buyer's text message in 14 px.
pub fn buyer_says(client_msg_id: &str, body: &str) -> BuyerFrame {
    BuyerFrame::Send {
        client_msg_id: client_msg_id.into(),
        body: body.into(),
        font_size: 14,
    }
}

/// The agent's text message in 14 px.
pub fn agent_says(conversation_id: i64, client_msg_id: &str, body: &str) -> AgentFrame {
    AgentFrame::Send {
        conversation_id,
        client_msg_id: client_msg_id.into(),
        body: body.into(),
        font_size: 14,
    }
}

/// The agent opens a conversation, having seen it up to `after_seq`.
pub fn open(conversation_id: i64, after_seq: i32) -> AgentFrame {
    AgentFrame::Open {
        conversation_id,
        after_seq,
    }
}

/// The agent asks for the page before `before_seq`.
pub fn older(conversation_id: i64, before_seq: i32) -> AgentFrame {
    AgentFrame::Older {
        conversation_id,
        before_seq,
    }
}

/// The buyer says `body` as `client_msg_id` and it is acknowledged as `seq`.
pub async fn buyer_said(buyer: &mut Ws, client_msg_id: &str, body: &str, seq: i32) {
    send_json(buyer, &buyer_says(client_msg_id, body)).await;
    buyer_acked(buyer, client_msg_id, seq).await;
}

/// The `Ack` either side gets when `client_msg_id` is stored as `seq`.
pub fn ack(client_msg_id: &str, seq: i32) -> MessageAck {
    MessageAck {
        client_msg_id: client_msg_id.into(),
        seq,
    }
}

/// The `Ended` either side gets when the conversation ended, this way.
pub fn ended(conversation_id: i64, reason: EndReason) -> ConversationEnded {
    ConversationEnded {
        conversation_id,
        reason,
    }
}

/// The buyer's next frame acknowledges `client_msg_id` as `seq`.
pub async fn buyer_acked(buyer: &mut Ws, client_msg_id: &str, seq: i32) {
    let acked = BuyerServerFrame::Ack(ack(client_msg_id, seq));
    assert_eq!(buyer_recv(buyer).await, acked);
}

/// The agent's next frame acknowledges `client_msg_id` as `seq`.
pub async fn agent_acked(agent: &mut Ws, client_msg_id: &str, seq: i32) {
    let acked = AgentServerFrame::Ack(ack(client_msg_id, seq));
    assert_eq!(agent_recv(agent).await, acked);
}

/// The agent says `body` in the conversation as `client_msg_id`, acknowledged as `seq`.
pub async fn agent_said(
    agent: &mut Ws,
    conversation_id: i64,
    client_msg_id: &str,
    body: &str,
    seq: i32,
) {
    send_json(agent, &agent_says(conversation_id, client_msg_id, body)).await;
    agent_acked(agent, client_msg_id, seq).await;
}

/// The buyer's next frame brings exactly these messages, as (seq, sender, body).
pub async fn buyer_sees(buyer: &mut Ws, expected: &[(i32, &str, &str)]) {
    let BuyerServerFrame::Messages { messages, .. } = buyer_recv(buyer).await else {
        panic!("Messages")
    };
    assert_eq!(bodies(&messages), expected);
}

/// The agent's next frame brings exactly these messages, as (seq, sender, body).
pub async fn agent_sees(agent: &mut Ws, expected: &[(i32, &str, &str)]) {
    let AgentServerFrame::Messages { messages, .. } = agent_recv(agent).await else {
        panic!("Messages")
    };
    assert_eq!(bodies(&messages), expected);
}
