//! 上传图片 end to end: the real chat routes on a real port and a real SQLite file with the demo
//! data; pictures go up over HTTP and the message over a real WebSocket.

mod common;

use std::io::Cursor;

use app::chat::protocol::{AgentServerFrame, BuyerServerFrame, ChatContent, MessageKind};
use axum::body::Body;
use axum::http::{StatusCode, header};
use common::chat::{
    ChatServer, Reply, Who, ack, buyer_token as token, chat_state, png, recv, send_json,
    send_picture,
};
use image::{ImageFormat, RgbImage};

const SECRET_NOTE: &[u8] = b"GPS 31.2304N 121.4737E secret-comment";

type Server = ChatServer;

async fn start() -> Server {
    let common::DemoDb { auth, dir } = common::demo_db().await;
    let chat = chat_state(&auth).with_upload_dir(common::chat::upload_dir(&dir));
    ChatServer::start(auth, dir, chat, false).await
}

/// Uploads as a buyer (token) or an account (cookie); the Content-Type is whatever we claim.
async fn upload(
    server: &Server,
    conversation_id: i64,
    who: &Who,
    content_type: &str,
    bytes: Vec<u8>,
) -> Reply {
    let length = bytes.len();
    let mut req =
        common::chat::picture_request(conversation_id, who, content_type, Body::from(bytes));
    req.headers_mut()
        .insert(header::CONTENT_LENGTH, length.into());
    server.call(req).await
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

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_picture_travels_without_its_metadata_to_those_who_may_see_it() {
    let server = start().await;
    let (mut agent, agent_cookie, mut buyer, buyer_token, cid) = server.conversation("P-1").await;
    let original = jpeg_with_metadata(640, 480);
    assert!(contains(&original, SECRET_NOTE));

    // The buyer uploads (with a lying file type: only the bytes count) and sends it.
    let uploaded = upload(
        &server,
        cid,
        &Who::Buyer(buyer_token.clone()),
        "application/octet-stream",
        original,
    )
    .await
    .picture();
    assert_eq!((uploaded.image.width, uploaded.image.height), (640, 480));
    assert!(uploaded.image.url.starts_with("/media/") && uploaded.image.url.ends_with(".jpg"));

    send_json(&mut buyer, &send_picture("img-1", uploaded.upload_id)).await;
    assert_eq!(
        recv::<BuyerServerFrame>(&mut buyer).await,
        BuyerServerFrame::Ack(ack("img-1", 1))
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
    let admin = server.log_in(domain::demo::ADMIN_LOGIN).await;
    assert_eq!(
        server.fetch(url, &Who::Cookie(admin)).await.status,
        StatusCode::OK
    );

    // Nobody else: another buyer, the other agent, the other supplier's admin, a stranger.
    let other_admin = server.log_in(domain::demo::ADMIN2_LOGIN).await;
    let other_agent = server.log_in("kf102").await;
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
    let files: Vec<_> = std::fs::read_dir(server.upload_dir())
        .expect("dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(format!("/media/{}", files[0].to_string_lossy()), url);
}

#[tokio::test]
async fn bad_pictures_are_refused_with_a_reason_and_nothing_is_kept() {
    let server = start().await;
    let (_agent, agent_cookie, mut buyer, buyer_token, cid) = server.conversation("P-3").await;
    let who = Who::Buyer(buyer_token.clone());

    // HTML (or an SVG) claiming to be a PNG: refused by its bytes.
    let html = b"<html><script>alert(1)</script></html>".to_vec();
    let reply = upload(&server, cid, &who, "image/png", html).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.error(), "只能发送 JPEG、PNG、GIF 或 WebP 格式的图片");
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#.to_vec();
    assert_eq!(
        upload(&server, cid, &who, "image/jpeg", svg).await.status,
        StatusCode::BAD_REQUEST
    );

    // A PNG signature with garbage after it.
    let mut broken = png(10, 10);
    broken.truncate(30);
    let reply = upload(&server, cid, &who, "image/png", broken).await;
    assert_eq!(
        (reply.status, reply.error()),
        (StatusCode::BAD_REQUEST, "图片已损坏或无法识别".to_owned())
    );

    // Over the pixel cap (a small file of a huge, plain picture).
    let reply = upload(&server, cid, &who, "image/png", png(6000, 5000)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.error().contains("图片尺寸过大"), "{}", reply.error());

    // Over the byte cap.
    let huge = vec![0u8; domain::chat::pictures::MAX_PICTURE_BYTES + 1];
    let reply = upload(&server, cid, &who, "image/jpeg", huge).await;
    assert_eq!(
        (reply.status, reply.error()),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "图片不能超过 5 MB".to_owned()
        )
    );

    // No token or cookie; someone else's conversation.
    assert_eq!(
        upload(&server, cid, &Who::Nobody, "image/png", png(4, 4))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // (Answered as for a conversation that does not exist.)
    let stranger = upload(
        &server,
        cid,
        &Who::Buyer(token(1, "P-4")),
        "image/png",
        png(4, 4),
    )
    .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    let other_agent = server.log_in("kf102").await;
    let reply = upload(
        &server,
        cid,
        &Who::Cookie(other_agent),
        "image/png",
        png(4, 4),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // Nothing was written.
    assert!(server.no_pictures_on_disk());

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
    let other = Who::Buyer(other_token);
    let foreign = upload(&server, other_cid, &other, "image/png", png(8, 8)).await;
    let foreign = foreign.picture();
    send_json(&mut buyer, &send_picture("img-x", foreign.upload_id)).await;
    let BuyerServerFrame::Error { client_msg_id, .. } = recv(&mut buyer).await else {
        panic!("refused")
    };
    assert_eq!(client_msg_id.as_deref(), Some("img-x"));
    // A PNG stays a PNG-encoded picture; the agent may upload too.
    let agent = Who::Cookie(agent_cookie);
    let mine = upload(&server, cid, &agent, "image/gif", png(3, 2)).await;
    let mine = mine.picture();
    assert!(mine.image.url.ends_with(".png"));
}
