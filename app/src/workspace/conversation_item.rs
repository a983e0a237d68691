use leptos::prelude::*;

use super::workbench::{Conversation, Workbench};
use crate::chat::ChatHandle;

/// One buyer in the list: name, unit, unread count, the newest message and how long they wait.
#[component]
pub fn ConversationItem(
    cid: i64,
    bench: ChatHandle<Workbench>,
    now: RwSignal<i64>,
    hydrated: ReadSignal<bool>,
) -> impl IntoView {
    let state = bench.state;
    let conv = Memo::new(move |_| state.with(|s| s.conversation(cid).cloned()));
    let field =
        move |f: fn(&Conversation) -> String| conv.with(|c| c.as_ref().map(f).unwrap_or_default());
    let selected = Memo::new(move |_| state.with(|s| s.selected == Some(cid)));
    view! {
        <li>
            <button
                type="button"
                class="conv-item"
                class:active=move || selected.get()
                class:ended=move || conv.with(|c| c.as_ref().is_some_and(|c| c.ended))
                disabled=move || !hydrated.get()
                on:click=move |_| {
                    bench.act(|s| s.open(cid));
                }
            >
                <span class="conv-top">
                    <span class="conv-name">{move || field(|c| c.summary.buyer_name.clone())}</span>
                    <span class="conv-unit">{move || field(|c| c.summary.buyer_unit.clone())}</span>
                    {move || {
                        let n = conv.with(|c| c.as_ref().map_or(0, |c| c.unread));
                        (n > 0).then(|| view! {
                            <span class="unread" aria-label=format!("{n} 条未读")>{n}</span>
                        })
                    }}
                </span>
                <span class="conv-last">{move || field(Conversation::last_line)}</span>
                // Since the buyer's first unanswered message; nothing once the agent has answered.
                <span class="conv-wait">{move || conv.with(|c| c.as_ref().map(|c| c.wait_line(now.get())).unwrap_or_default())}</span>
            </button>
        </li>
    }
}
