use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::buyer_header::BuyerHeader;
use super::buyer_state::BuyerChat;
use super::composer::Composer;
use super::effect::ChatHandle;
use super::message_list::MessageList;
use super::order_detail_dialog::{DetailState, OrderDetailDialog, load_order_detail};
use super::outbox::Pending;
use super::socket::{ConnState, new_client_msg_id, now_ms};
use crate::use_hydrated;

/// The buyer's chat widget `/chat?token=…`: no login, the mall's signed token says who the buyer
/// is. Built for a phone-width iframe.
#[component]
pub fn BuyerChatPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let query = use_query_map();
    let token = query.with_untracked(|q| q.get("token").unwrap_or_default());
    let conn = RwSignal::new(ConnState::Connecting);
    let chat = ChatHandle::new(BuyerChat::default());
    let state = chat.state;

    #[cfg(feature = "hydrate")]
    {
        let token = token.clone();
        Effect::new(move |prev: Option<()>| {
            if prev.is_some() {
                return;
            }
            if token.trim().is_empty() {
                state.update(BuyerChat::no_token);
                conn.set(ConnState::Stopped);
                return;
            }
            let path = format!(
                "{}?token={}",
                super::protocol::BUYER_CHAT_PATH,
                percent_encoding::utf8_percent_encode(&token, percent_encoding::NON_ALPHANUMERIC)
            );
            chat.connect(path, conn);
        });
    }

    let send = move |(body, font_size): (String, i16)| {
        let client_msg_id = new_client_msg_id();
        chat.act(|s| s.send(|cid| Pending::text(cid, client_msg_id, body, font_size, now_ms())));
    };
    let resend = Callback::new(move |client_msg_id: String| {
        chat.act(|s| s.resend(&client_msg_id));
    });
    let picture_token = token.clone();
    let send_picture = Callback::new(move |file: web_sys::File| {
        state.update(|s| s.outbox.error = None);
        super::upload::send_picture(
            file,
            state.with_untracked(|s| s.conversation_id),
            Some(picture_token.clone()),
            move |p| state.update(|s| s.outbox.push(p)),
            // Uploaded: it goes in its turn.
            move |id, result| {
                chat.act(|s| s.uploaded(&id, result));
            },
        );
    });
    // Only the buyer's own orders open.
    let detail = RwSignal::new(DetailState::None);
    let detail_token = token.clone();
    let open_order = Callback::new(move |order_id: i64| {
        let load = crate::orders::buyer_order_detail(detail_token.clone(), order_id);
        load_order_detail(detail, load);
    });
    let messages = Memo::new(move |_| state.with(|s| s.messages.clone()));
    let pending = Memo::new(move |_| state.with(|s| s.outbox.pending().to_vec()));
    let ended = Memo::new(move |_| state.with(|s| s.ended));
    let typing = Memo::new(move |_| state.with(|s| s.typing.shown().is_some()));
    let error = Memo::new(move |_| state.with(|s| s.outbox.error.clone()));
    let refused = Memo::new(move |_| state.with(|s| s.refused.is_some()));

    view! {
        <Title text=move || {
            let name = state.with(|s| s.supplier_name.clone());
            if name.is_empty() { "在线客服".to_owned() } else { format!("{name} - 在线客服") }
        } />
        <div class="widget">
            <BuyerHeader state conn />
            <MessageList messages=messages.into() pending=pending.into() mine="buyer" token=token on_order=open_order on_resend=resend />
            <OrderDetailDialog detail />
            <Show
                when=move || !ended.get()
                fallback=move || view! {
                    <div class="ended-box">
                        <p>"本次会话已结束"</p>
                        <button
                            type="button"
                            class="btn primary"
                            disabled=move || !hydrated.get() || conn.get() != ConnState::Online
                            on:click=move |_| {
                                chat.act(BuyerChat::restart);
                            }
                        >
                            "重新咨询"
                        </button>
                    </div>
                }
            >
                {move || typing.get().then(|| view! { <p class="typing-note">"客服正在输入…"</p> })}
                {move || error.get().map(|e| view! { <p class="form-error chat-error" role="alert">{e}</p> })}
                <Composer
                    disabled=refused
                    on_send=send
                    placeholder="请输入您要咨询的问题"
                    on_picture=send_picture
                    on_typing=Callback::new(move |()| {
                        if let Some(frame) = state.with_untracked(BuyerChat::typing_frame) {
                            chat.send(&frame);
                        }
                    })
                />
            </Show>
        </div>
    }
    .into_any()
}
