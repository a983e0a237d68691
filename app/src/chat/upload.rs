//! 上传图片 in the browser: a first check of the chosen file (the server checks again, by the
//! bytes), the upload to [`PICTURE_UPLOAD_PATH`], and the address a picture is shown from.

use super::protocol::{PICTURE_UPLOAD_PATH, UploadedPicture};

/// The picture types the file chooser offers (the server decides by the bytes).
pub const PICTURE_ACCEPT: &str = "image/jpeg,image/png,image/gif,image/webp";
/// Largest picture, in bytes (domain `MAX_PICTURE_BYTES`).
pub const MAX_PICTURE_BYTES: u64 = 5 * 1024 * 1024;

/// A chosen file the browser cannot show as a picture (a text file named `.png`, say).
pub const NOT_A_PICTURE: &str = "不是有效的图片文件，请重新选择";

/// The browser's first opinion of a chosen file: `Err` with the Chinese reason.
pub fn check_picture(size: u64, mime: &str) -> Result<(), String> {
    if !PICTURE_ACCEPT.split(',').any(|t| t == mime) {
        return Err("只能发送 JPEG、PNG、GIF 或 WebP 格式的图片".into());
    }
    if size > MAX_PICTURE_BYTES {
        return Err(format!(
            "图片不能超过 {} MB",
            MAX_PICTURE_BYTES / 1024 / 1024
        ));
    }
    if size == 0 {
        return Err("图片已损坏或无法识别".into());
    }
    Ok(())
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Where to upload a picture for a conversation; a buyer passes their token.
pub fn upload_url(conversation_id: i64, token: Option<&str>) -> String {
    match token {
        Some(t) => format!(
            "{PICTURE_UPLOAD_PATH}?conversation_id={conversation_id}&token={}",
            encode(t)
        ),
        None => format!("{PICTURE_UPLOAD_PATH}?conversation_id={conversation_id}"),
    }
}

/// The `src` of a stored picture: a buyer (no cookie) proves who they are with their token.
/// Local previews (`blob:`) are used as they are.
pub fn picture_src(url: &str, token: Option<&str>) -> String {
    match token {
        Some(t) if !url.starts_with("blob:") => format!("{url}?token={}", encode(t)),
        _ => url.to_owned(),
    }
}

/// Uploads the file; `Err` carries the server's Chinese reason.
#[cfg(feature = "hydrate")]
pub async fn upload_picture(url: &str, file: web_sys::File) -> Result<UploadedPicture, String> {
    let failed = || "图片上传失败，请检查网络后重试".to_owned();
    let request = gloo_net::http::Request::post(url)
        .header("Content-Type", &file.type_())
        .body(wasm_bindgen::JsValue::from(file))
        .map_err(|_| failed())?;
    let response = request.send().await.map_err(|_| failed())?;
    if response.ok() {
        return response
            .json::<UploadedPicture>()
            .await
            .map_err(|_| failed());
    }
    let reason = response
        .json::<serde_json::Value>()
        .await
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned));
    Err(reason.unwrap_or_else(failed))
}

/// A `blob:` address showing the file before it is uploaded.
#[cfg(feature = "hydrate")]
pub fn local_preview(file: &web_sys::File) -> Option<String> {
    web_sys::Url::create_object_url_with_blob(file).ok()
}

/// Frees a [`local_preview`] address.
pub fn release_preview(url: &str) {
    #[cfg(feature = "hydrate")]
    if url.starts_with("blob:") {
        let _ = web_sys::Url::revoke_object_url(url);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

/// Sends a chosen picture: `on_added` gets the pending message to show at once from its local
/// preview (上传中…); the upload follows, and `on_done` gets its client message id with the
/// uploaded picture or the server's reason.
pub fn send_picture(
    file: web_sys::File,
    conversation_id: i64,
    token: Option<String>,
    on_added: impl FnOnce(super::Pending),
    on_done: impl FnOnce(String, Result<UploadedPicture, String>) + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        let Some(preview) = local_preview(&file) else {
            return;
        };
        let client_msg_id = super::socket::new_client_msg_id();
        on_added(super::Pending::picture(
            conversation_id,
            client_msg_id.clone(),
            preview.clone(),
            super::socket::now_ms(),
        ));
        let url = upload_url(conversation_id, token.as_deref());
        leptos::task::spawn_local(async move {
            let result = upload_picture(&url, file).await;
            release_preview(&preview);
            on_done(client_msg_id, result);
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (file, conversation_id, token, on_added, on_done);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_refuses_what_the_server_would() {
        assert!(check_picture(1000, "image/png").is_ok());
        assert!(
            check_picture(MAX_PICTURE_BYTES + 1, "image/jpeg")
                .expect_err("refused")
                .contains("5 MB")
        );
        assert!(
            check_picture(1000, "image/svg+xml")
                .expect_err("refused")
                .contains("JPEG")
        );
        assert!(check_picture(0, "image/png").is_err());
    }

    #[test]
    fn buyers_prove_themselves_with_the_token() {
        assert_eq!(
            picture_src("/media/a.jpg", Some("x.y")),
            "/media/a.jpg?token=x%2Ey"
        );
        assert_eq!(picture_src("/media/a.jpg", None), "/media/a.jpg");
        assert_eq!(picture_src("blob:http://x/1", Some("t")), "blob:http://x/1");
        assert_eq!(upload_url(7, None), "/api/chat/pictures?conversation_id=7");
    }
}
