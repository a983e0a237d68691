//! 上传图片 end to end: the real chat routes on a real port and a real SQLite file with the demo
//! data; pictures go up over HTTP and the message over a real WebSocket.

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use app::chat::protocol::{
    AgentFrame, AgentServerFrame, BuyerFrame, BuyerServerFrame, ChatContent, MessageKind,
    UploadedPicture,
};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::chat::{BuyerClaims, sign};
use domain::logins::{Auth, AuthConfig};
use domain::password::PasswordHasher;
use futures::{SinkExt, StreamExt};
use image::{ImageFormat, RgbImage};
use server::chat::ChatState;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tower::ServiceExt;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const SECRET: &[u8] = b"test-secret-shared-with-the-mall";
const SECRET_NOTE: &[u8] = b"GPS 31.2304N 121.4737E secret-comment";

struct Server {
    addr: std::net::SocketAddr,
    auth: Auth,
    router: axum::Router,
    upload_dir: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kefu.db").display());
    let db = domain::db::connect(&url).await.expect("connect");
    domain::db::migrate(&db).await.expect("migrate");
    let hasher = PasswordHasher::new(2);
    domain::demo::seed(&db, &hasher).await.expect("seed");
    let auth = Auth::new(db, hasher, AuthConfig::default());
    let upload_dir = dir.path().join("uploads");
    let chat = ChatState::new(
        auth.clone(),
        Arc::new(domain::bus::InProcessBus::default()),
        SECRET.into(),
    )
    .with_upload_dir(&upload_dir);
    let router: axum::Router = server::chat::routes(chat);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let serving = router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, serving).await;
    });
    Server {
        addr,
        auth,
        router,
        upload_dir,
        _dir: dir,
    }
}

fn token(supplier_id: i64, buyer_id: &str) -> String {
    sign(
        SECRET,
        &BuyerClaims {
            v: 1,
            supplier_id,
            buyer_id: buyer_id.into(),
            name: format!("采购人{buyer_id}"),
            unit: "某县第一中学".into(),
            exp: domain::db::now_ms() / 1000 + 3600,
        },
    )
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn error(&self) -> String {
        let v: serde_json::Value = serde_json::from_slice(&self.body).expect("a JSON error");
        v["error"].as_str().expect("error text").to_owned()
    }
}

impl Server {
    async fn login(&self, login: &str, password: &str) -> String {
        let (token, _) = self
            .auth
            .login(login, password, "127.0.0.1", "test")
            .await
            .expect("logs in");
        token
    }

    async fn call(&self, req: Request<Body>) -> Reply {
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

    /// Uploads as a buyer (token) or an account (cookie); the Content-Type is whatever we claim.
    async fn upload(
        &self,
        conversation_id: i64,
        who: &Who,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Reply {
        let mut uri = format!("/api/chat/pictures?conversation_id={conversation_id}");
        let mut req = Request::post(&uri);
        match who {
            Who::Buyer(t) => {
                uri.push_str(&format!("&token={t}"));
                req = Request::post(&uri);
            }
            Who::Cookie(c) => req = req.header(header::COOKIE, format!("kefu_session={c}")),
            Who::Nobody => {}
        }
        let req = req
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CONTENT_LENGTH, bytes.len())
            .body(Body::from(bytes))
            .expect("request");
        self.call(req).await
    }

    async fn fetch(&self, url: &str, who: &Who) -> Reply {
        let req = match who {
            Who::Buyer(t) => Request::get(format!("{url}?token={t}")),
            Who::Cookie(c) => Request::get(url).header(header::COOKIE, format!("kefu_session={c}")),
            Who::Nobody => Request::get(url),
        };
        self.call(req.body(Body::empty()).expect("request")).await
    }

    async fn agent_socket(&self, cookie: &str) -> Ws {
        let mut req = format!("ws://{}/ws/agent", self.addr)
            .into_client_request()
            .expect("request");
        req.headers_mut().insert(
            "cookie",
            format!("kefu_session={cookie}").parse().expect("header"),
        );
        tokio_tungstenite::connect_async(req)
            .await
            .expect("agent connects")
            .0
    }

    async fn buyer_socket(&self, token: &str) -> Ws {
        tokio_tungstenite::connect_async(format!("ws://{}/ws/buyer?token={token}", self.addr))
            .await
            .expect("buyer connects")
            .0
    }
}

enum Who {
    Buyer(String),
    Cookie(String),
    Nobody,
}

async fn recv<T: serde::de::DeserializeOwned>(ws: &mut Ws) -> T {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s");
        match msg {
            Some(Ok(Message::Text(t))) => {
                return serde_json::from_str(t.as_str()).expect("a frame");
            }
            Some(Ok(_)) => {}
            other => panic!("socket closed: {other:?}"),
        }
    }
}

async fn send_json<T: serde::Serialize>(ws: &mut Ws, frame: &T) {
    ws.send(Message::Text(
        serde_json::to_string(frame).expect("json").into(),
    ))
    .await
    .expect("send");
}

/// A photo-like JPEG carrying a comment segment (where cameras put notes; EXIF GPS is the same
/// kind of metadata) right after the start marker.
fn jpeg_with_metadata(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg).expect("encode");
    let plain = out.into_inner();
    let mut with = plain[..2].to_vec();
    let len = (SECRET_NOTE.len() + 2) as u16;
    with.extend_from_slice(&[0xFF, 0xFE]);
    with.extend_from_slice(&len.to_be_bytes());
    with.extend_from_slice(SECRET_NOTE);
    with.extend_from_slice(&plain[2..]);
    with
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::new(width, height);
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).expect("encode");
    out.into_inner()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// kf101 serves, buyer `buyer_id` enters; returns both sockets, the agent's cookie, the
/// buyer's token and the conversation.
async fn conversation(server: &Server, buyer_id: &str) -> (Ws, Ws, String, String, i64) {
    let cookie = server.login("kf101", domain::demo::AGENT_PASSWORD).await;
    let mut agent = server.agent_socket(&cookie).await;
    let _hello: AgentServerFrame = recv(&mut agent).await;
    send_json(&mut agent, &AgentFrame::SetServing { serving: true }).await;
    let _status: AgentServerFrame = recv(&mut agent).await;
    let token = token(1, buyer_id);
    let mut buyer = server.buyer_socket(&token).await;
    let BuyerServerFrame::Hello {
        conversation_id, ..
    } = recv(&mut buyer).await
    else {
        panic!("Hello")
    };
    let _assigned: BuyerServerFrame = recv(&mut buyer).await;
    let _assigned: AgentServerFrame = recv(&mut agent).await;
    (agent, buyer, cookie, token, conversation_id)
}

#[tokio::test]
async fn a_picture_travels_without_its_metadata_to_those_who_may_see_it() {
    let server = start().await;
    let (mut agent, mut buyer, agent_cookie, buyer_token, cid) = conversation(&server, "P-1").await;
    let original = jpeg_with_metadata(640, 480);
    assert!(contains(&original, SECRET_NOTE));

    // The buyer uploads (with a lying file type: only the bytes count) and sends it.
    let reply = server
        .upload(
            cid,
            &Who::Buyer(buyer_token.clone()),
            "application/octet-stream",
            original,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let uploaded: UploadedPicture = serde_json::from_slice(&reply.body).expect("UploadedPicture");
    assert_eq!((uploaded.image.width, uploaded.image.height), (640, 480));
    assert!(uploaded.image.url.starts_with("/media/") && uploaded.image.url.ends_with(".jpg"));

    send_json(
        &mut buyer,
        &BuyerFrame::SendImage {
            client_msg_id: "img-1".into(),
            upload_id: uploaded.upload_id,
        },
    )
    .await;
    assert_eq!(
        recv::<BuyerServerFrame>(&mut buyer).await,
        BuyerServerFrame::Ack {
            client_msg_id: "img-1".into(),
            seq: 1
        }
    );
    let AgentServerFrame::Messages { messages, .. } = recv(&mut agent).await else {
        panic!("Messages")
    };
    assert_eq!(messages[0].content.kind(), MessageKind::Image);
    assert_eq!(
        messages[0].content,
        ChatContent::Image {
            picture: Some(uploaded.image.clone())
        }
    );

    // The agent holding the conversation and the buyer see it; the stored file has no metadata.
    let url = uploaded.image.url.as_str();
    for who in [
        Who::Cookie(agent_cookie.clone()),
        Who::Buyer(buyer_token.clone()),
    ] {
        let got = server.fetch(url, &who).await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.headers[header::CONTENT_TYPE], "image/jpeg");
        assert_eq!(got.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(
            !contains(&got.body, SECRET_NOTE),
            "metadata must be stripped"
        );
        let decoded = image::load_from_memory(&got.body).expect("a picture");
        assert_eq!((decoded.width(), decoded.height()), (640, 480));
    }
    // The supplier's admin sees it too.
    let admin = server
        .login(domain::demo::ADMIN_LOGIN, domain::demo::ADMIN_PASSWORD)
        .await;
    assert_eq!(
        server.fetch(url, &Who::Cookie(admin)).await.status,
        StatusCode::OK
    );

    // Nobody else: another buyer, the other agent, the other supplier's admin, a stranger.
    let other_admin = server
        .login(domain::demo::ADMIN2_LOGIN, domain::demo::ADMIN_PASSWORD)
        .await;
    let other_agent = server.login("kf102", domain::demo::AGENT_PASSWORD).await;
    for who in [
        Who::Buyer(token(1, "P-2")),
        Who::Cookie(other_agent),
        Who::Cookie(other_admin),
    ] {
        assert_eq!(server.fetch(url, &who).await.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        server.fetch(url, &Who::Nobody).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Names are checked before the disk is touched.
    let traversal = server
        .fetch("/media/..%2Fkefu.db", &Who::Buyer(buyer_token.clone()))
        .await;
    assert_eq!(traversal.status, StatusCode::NOT_FOUND);

    // One file on disk, under the server's own name.
    let files: Vec<_> = std::fs::read_dir(&server.upload_dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(format!("/media/{}", files[0].to_string_lossy()), url);
}

#[tokio::test]
async fn bad_pictures_are_refused_with_a_reason_and_nothing_is_kept() {
    let server = start().await;
    let (_agent, mut buyer, agent_cookie, buyer_token, cid) = conversation(&server, "P-3").await;
    let who = Who::Buyer(buyer_token.clone());

    // HTML (or an SVG) claiming to be a PNG: refused by its bytes.
    let html = b"<html><script>alert(1)</script></html>".to_vec();
    let reply = server.upload(cid, &who, "image/png", html).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "只能发送 JPEG、PNG、GIF 或 WebP 格式的图片");
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    assert_eq!(
        server.upload(cid, &who, "image/jpeg", svg).await.status,
        StatusCode::BAD_REQUEST
    );

    // A PNG signature with garbage after it.
    let mut broken = png(10, 10);
    broken.truncate(30);
    let reply = server.upload(cid, &who, "image/png", broken).await;
    assert_eq!(
        (reply.status, reply.error()),
        (StatusCode::BAD_REQUEST, "图片已损坏或无法识别".to_owned())
    );

    // Over the pixel cap (a small file of a huge, plain picture).
    let reply = server.upload(cid, &who, "image/png", png(6000, 5000)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error().contains("图片尺寸过大"), "{}", reply.error());

    // Over the byte cap.
    let huge = vec![0u8; domain::chat::pictures::MAX_PICTURE_BYTES + 1];
    let reply = server.upload(cid, &who, "image/jpeg", huge).await;
    assert_eq!(
        (reply.status, reply.error()),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "图片不能超过 5 MB".to_owned()
        )
    );

    // No token or cookie; someone else's conversation.
    assert_eq!(
        server
            .upload(cid, &Who::Nobody, "image/png", png(4, 4))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // (Answered as for a conversation that does not exist.)
    let stranger = server
        .upload(cid, &Who::Buyer(token(1, "P-4")), "image/png", png(4, 4))
        .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    let other_agent = server.login("kf102", domain::demo::AGENT_PASSWORD).await;
    let reply = server
        .upload(cid, &Who::Cookie(other_agent), "image/png", png(4, 4))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // Nothing was written.
    assert!(
        !server.upload_dir.exists()
            || std::fs::read_dir(&server.upload_dir)
                .expect("dir")
                .next()
                .is_none()
    );

    // A picture uploaded to another conversation cannot be sent in this one.
    let (_a2, _b2, _c2, other_token, other_cid) = {
        let token2 = token(1, "P-5");
        let mut b2 = server.buyer_socket(&token2).await;
        let BuyerServerFrame::Hello {
            conversation_id, ..
        } = recv(&mut b2).await
        else {
            panic!("Hello")
        };
        ((), b2, (), token2, conversation_id)
    };
    let reply = server
        .upload(other_cid, &Who::Buyer(other_token), "image/png", png(8, 8))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let foreign: UploadedPicture = serde_json::from_slice(&reply.body).expect("UploadedPicture");
    send_json(
        &mut buyer,
        &BuyerFrame::SendImage {
            client_msg_id: "img-x".into(),
            upload_id: foreign.upload_id,
        },
    )
    .await;
    let BuyerServerFrame::Error { client_msg_id, .. } = recv(&mut buyer).await else {
        panic!("refused")
    };
    assert_eq!(client_msg_id.as_deref(), Some("img-x"));
    // A PNG stays a PNG-encoded picture; the agent may upload too.
    let reply = server
        .upload(cid, &Who::Cookie(agent_cookie), "image/gif", png(3, 2))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let mine: UploadedPicture = serde_json::from_slice(&reply.body).expect("UploadedPicture");
    assert!(mine.image.url.ends_with(".png"));
}
