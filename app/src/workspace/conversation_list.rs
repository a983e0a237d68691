use leptos::prelude::*;

use super::conversation_item::ConversationItem;
use super::workbench::Workbench;
use crate::chat::ChatHandle;

/// 会话列表: the agent's conversations in the order they came; a click opens one.
#[component]
pub fn ConversationList(
    bench: ChatHandle<Workbench>,
    now: RwSignal<i64>,
    hydrated: ReadSignal<bool>,
) -> impl IntoView {
    let ids = Memo::new(move |_| bench.state.with(Workbench::conversation_ids));
    view! {
        <section class="panel conversations">
            <h2 class="panel-title">"会话列表"</h2>
            <Show
                when=move || ids.with(|c| !c.is_empty())
                fallback=|| view! { <p class="empty">"暂无采购人接入"</p> }
            >
                <ul class="conv-list">
                    <For
                        each=move || ids.get()
                        key=|cid| *cid
                        children=move |cid| view! { <ConversationItem cid bench now hydrated /> }
                    />
                </ul>
            </Show>
        </section>
    }
}
