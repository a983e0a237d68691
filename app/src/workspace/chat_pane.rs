use leptos::prelude::*;

use super::chat_head::ChatHead;
use super::workbench::Workbench;
use crate::chat::protocol::AgentFrame;
use crate::chat::socket::{new_client_msg_id, now_ms};
use crate::chat::{ChatHandle, Composer, MessageList, Pending};

/// The middle of the workbench: the open conversation's title, messages, typing notice,
/// errors and the composer.
#[component]
pub fn ChatPane(
    bench: ChatHandle<Workbench>,
    hydrated: ReadSignal<bool>,
    confirm_end: RwSignal<bool>,
    current_ended: Memo<bool>,
    on_order: Callback<i64>,
) -> impl IntoView {
    let state = bench.state;
    let is_open = Memo::new(move |_| state.with(|s| s.current().is_some()));
    let messages = Memo::new(move |_| {
        state.with(|s| s.current().map(|c| c.messages.clone()).unwrap_or_default())
    });
    let pending = Memo::new(move |_| state.with(Workbench::current_pending));
    let has_older = Memo::new(move |_| state.with(|s| s.current().is_some_and(|c| c.has_older)));
    let typing = Memo::new(move |_| state.with(Workbench::buyer_typing));
    let error = Memo::new(move |_| state.with(|s| s.outbox.error.clone()));
    let send = move |(body, font_size): (String, i16)| {
        let client_msg_id = new_client_msg_id();
        bench.act(|s| s.send(|cid| Pending::text(cid, client_msg_id, body, font_size, now_ms())));
    };
    // 重发: the same frame, the same client message id.
    let resend = Callback::new(move |client_msg_id: String| {
        bench.act(|s| s.resend(&client_msg_id));
    });
    let load_older = Callback::new(move |()| {
        if let Some(frame) = state.with_untracked(Workbench::older) {
            bench.send(&frame);
        }
    });
    let send_picture = move |file: web_sys::File| {
        let Some(cid) = state.with_untracked(|s| s.selected) else {
            return;
        };
        state.update(|s| s.outbox.error = None);
        crate::chat::upload::send_picture(
            file,
            cid,
            None,
            move |p| state.update(|s| s.outbox.push(p)),
            // Uploaded: it goes in its turn.
            move |id, result| {
                bench.act(|s| s.uploaded(&id, result));
            },
        );
    };
    let on_typing = Callback::new(move |()| {
        if let Some(conversation_id) = state.with_untracked(|s| s.selected) {
            bench.send(&AgentFrame::Typing { conversation_id });
        }
    });
    view! {
        <section class="panel chat">
            <ChatHead bench hydrated confirm_end />
            <Show when=move || is_open.get()>
                <MessageList
                    messages=messages.into()
                    pending=pending.into()
                    mine="agent"
                    has_older=has_older
                    on_older=load_older
                    on_order=on_order
                    on_resend=resend
                />
                {move || typing.get().then(|| view! { <p class="typing-note">"对方正在输入…"</p> })}
                {move || error.get().map(|e| view! { <p class="form-error chat-error" role="alert">{e}</p> })}
                {move || current_ended.get().then(|| view! {
                    <p class="ended-note">"本次对话已结束"</p>
                })}
                <Composer
                    disabled=current_ended
                    on_send=send
                    placeholder="输入回复内容"
                    on_picture=send_picture
                    on_typing=on_typing
                />
            </Show>
        </section>
    }
}
