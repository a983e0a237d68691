use leptos::prelude::*;

use super::workbench::Workbench;
use crate::chat::ChatHandle;

/// The chat pane's title: 对话 while none is open, else the buyer (name, unit, 客户编号) with
/// 结束对话, or 已结束.
#[component]
pub fn ChatHead(
    bench: ChatHandle<Workbench>,
    hydrated: ReadSignal<bool>,
    confirm_end: RwSignal<bool>,
) -> impl IntoView {
    let head = Memo::new(move |_| {
        bench
            .state
            .with(|s| s.current().map(|c| (c.summary.clone(), c.ended)))
    });
    move || match head.get() {
        None => view! {
            <h2 class="panel-title">"对话"</h2>
            <div class="empty chat-empty">
                <p>"请在左侧选择采购人开始对话"</p>
            </div>
        }
        .into_any(),
        Some((summary, ended)) => view! {
            <div class="panel-title chat-head">
                <h2>
                    {summary.buyer_name.clone()}
                    <span class="muted chat-unit">{summary.buyer_unit.clone()}</span>
                    <span class="muted mono chat-unit">{summary.buyer_external_id.clone()}</span>
                </h2>
                {if ended {
                    view! { <span class="tag">"已结束"</span> }.into_any()
                } else {
                    view! {
                        <button
                            type="button"
                            class="btn danger small"
                            disabled=move || !hydrated.get()
                            on:click=move |_| confirm_end.set(true)
                        >
                            "结束对话"
                        </button>
                    }
                    .into_any()
                }}
            </div>
        }
        .into_any(),
    }
}
