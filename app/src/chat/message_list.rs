use leptos::prelude::*;

use super::follow::{FOLLOW_SLACK_PX, Follow, Tail, follow};
use super::lightbox::Lightbox;
use super::message::picture_of;
use super::message_bubble::MessageBubble;
use super::outbox::Pending;
use super::pending_bubble::PendingBubble;
use super::protocol::ChatMessage;

/// The messages of one conversation; `mine` is the sender this page speaks as (`agent` or
/// `buyer`), and its own messages read 我. Text is always rendered as text (web addresses as
/// links). A buyer's page passes `token`, which its picture addresses carry. `on_older` shows
/// 查看更早的消息 while `has_older` is true.
///
/// The list follows new messages while the reader is at the bottom; a reader who scrolled up
/// stays where they are and gets a "N 条新消息 ↓" button that jumps down.
#[component]
pub fn MessageList(
    messages: Signal<Vec<ChatMessage>>,
    pending: Signal<Vec<Pending>>,
    #[prop(into)] mine: String,
    #[prop(optional, into)] token: Option<String>,
    #[prop(optional, into)] has_older: Option<Signal<bool>>,
    #[prop(optional, into)] on_older: Option<Callback<()>>,
    /// Opens an order card's detail (by order id).
    #[prop(optional, into)]
    on_order: Option<Callback<i64>>,
    /// 重发 of a failed pending message (by client message id).
    #[prop(optional, into)]
    on_resend: Option<Callback<String>>,
) -> impl IntoView {
    let scroller = NodeRef::<leptos::html::Div>::new();
    // The reader is at (or near) the bottom: new messages are followed. Updated by scrolling
    // only, so it still tells where the reader was when the list grows.
    let at_bottom = StoredValue::new(true);
    let unseen = RwSignal::new(0usize);
    let tail = StoredValue::new(Tail::default());
    let to_bottom = move || {
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
        at_bottom.set_value(true);
        if unseen.get_untracked() > 0 {
            unseen.set(0);
        }
    };
    let mine_for_follow = mine.clone();
    Effect::new(move |_| {
        let before = tail.get_value();
        let pending_count = pending.with(Vec::len);
        let (now, from_others) =
            messages.with(|list| Tail::of(list, pending_count, before.last_seq, &mine_for_follow));
        tail.set_value(now);
        match follow(before, now, from_others, at_bottom.get_value()) {
            Follow::Bottom => {
                at_bottom.set_value(true);
                // After the new rows are in the page and laid out.
                request_animation_frame(to_bottom);
            }
            Follow::Unseen(n) if n > 0 => unseen.update(|u| *u += n),
            Follow::Unseen(_) | Follow::Stay => {}
        }
    });
    // A picture that loads grows its message: still show the newest if the reader was there.
    let on_loaded = Callback::new(move |()| {
        if at_bottom.get_value() {
            to_bottom();
        }
    });
    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            let near = el.scroll_height() - el.scroll_top() - el.client_height() <= FOLLOW_SLACK_PX;
            at_bottom.set_value(near);
            if near && unseen.get_untracked() > 0 {
                unseen.set(0);
            }
        }
    };
    // The agent's own name: the server names an agent's messages by the agent, and this
    // agent's own read 我 (a conversation handed on also holds another agent's messages).
    let my_name = (mine == "agent").then(|| {
        LocalResource::new(|| async { crate::logins::me().await.ok().map(|a| a.display_name) })
    });
    let large = RwSignal::new(None::<String>);
    let open_large = Callback::new(move |src: String| large.set(Some(src)));
    let pending_token = token.clone();
    view! {
        <div class="messages-wrap">
            <div class="messages" node_ref=scroller aria-live="polite" on:scroll=on_scroll>
                {move || {
                    let more = has_older.is_some_and(|h| h.get());
                    on_older.filter(|_| more).map(|cb| view! {
                        <button type="button" class="btn small older-btn" on:click=move |_| cb.run(())>
                            "查看更早的消息"
                        </button>
                    })
                }}
                <For
                    each=move || messages.get()
                    key=|m| (m.seq, m.sender_name.clone(), m.created_at, picture_of(m).map(|i| i.url.clone()))
                    children=move |m| view! {
                        <MessageBubble
                            m
                            mine=mine.clone()
                            my_name
                            token=token.clone()
                            open_large
                            on_order
                            on_loaded
                        />
                    }
                />
                <For
                    each=move || pending.get()
                    key=|p| (p.client_msg_id.clone(), p.upload_id, p.failed.clone())
                    children=move |p| view! {
                        <PendingBubble p token=pending_token.clone() open_large on_loaded on_resend />
                    }
                />
            </div>
            {move || {
                let n = unseen.get();
                (n > 0).then(|| view! {
                    <button type="button" class="new-msgs-pill" on:click=move |_| to_bottom()>
                        {format!("{n} 条新消息 ↓")}
                    </button>
                })
            }}
        </div>
        {move || large.get().map(|src| view! { <Lightbox src=src on_close=move || large.set(None) /> })}
    }
    .into_any()
}
