use leptos::prelude::*;

use super::message_body::message_body;
use super::outbox::Pending;
use super::protocol::Sender;
use super::socket::hhmm;

/// One message of this page not stored yet: 上传中…, 发送中… or 发送失败 with the reason and
/// 重发 (when `on_resend` is given).
#[component]
pub fn PendingBubble(
    p: Pending,
    token: Option<String>,
    open_large: Callback<String>,
    on_loaded: Callback<()>,
    on_resend: Option<Callback<String>>,
) -> impl IntoView {
    let state = match &p.failed {
        Some(_) => "发送失败",
        None if p.uploading() => "上传中…",
        None => "发送中…",
    };
    // Shown as it will be once stored; its card does not open yet.
    let body = message_body(
        &p.acked(0, Sender::Agent, "我"),
        token,
        open_large,
        None,
        on_loaded,
    );
    let id = p.client_msg_id.clone();
    let failed = p.failed.clone().map(|reason| {
        view! {
            <div class="msg-failed" role="alert">
                <span class="msg-failed-reason">{reason}</span>
                {on_resend.map(|resend| view! {
                    <button
                        type="button"
                        class="btn small resend-btn"
                        on:click=move |_| resend.run(id.clone())
                    >
                        "重发"
                    </button>
                })}
            </div>
        }
    });
    view! {
        <div class="msg mine pending" class:failed=p.failed.is_some() data-client-msg-id=p.client_msg_id.clone()>
            <div class="msg-meta">
                <span class="msg-sender">"我"</span>
                <span class="msg-time">{hhmm(p.created_at)}</span>
                <span class="msg-state">{state}</span>
            </div>
            {body}
            {failed}
        </div>
    }
}
