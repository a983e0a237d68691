use leptos::prelude::*;

use super::workbench::Workbench;
use crate::chat::ChatHandle;
use crate::chat::protocol::AgentFrame;
use crate::chat::socket::{ConnState, ask_alert_permission};

/// The bar above the workbench: 示忙 / 服务中, the status line and the connection.
#[component]
pub fn StatusBar(
    bench: ChatHandle<Workbench>,
    conn: RwSignal<ConnState>,
    hydrated: ReadSignal<bool>,
) -> impl IntoView {
    let serving = Memo::new(move |_| bench.state.with(|s| s.serving));
    let set_serving = move |serving: bool| {
        if serving {
            ask_alert_permission();
        }
        bench.send(&AgentFrame::SetServing { serving });
    };
    let toggle_off = move || !hydrated.get() || conn.get() != ConnState::Online;
    view! {
        <div class="workbench-bar">
            <div class="status-toggle" role="group" aria-label="接待状态">
                <button
                    type="button"
                    class="status-btn busy"
                    aria-pressed=move || (!serving.get()).to_string()
                    disabled=toggle_off
                    on:click=move |_| set_serving(false)
                >
                    "示忙"
                </button>
                <button
                    type="button"
                    class="status-btn serving"
                    aria-pressed=move || serving.get().to_string()
                    disabled=toggle_off
                    on:click=move |_| set_serving(true)
                >
                    "服务中"
                </button>
            </div>
            <span class="status-text" data-testid="agent-status">
                {move || if serving.get() { "当前状态：服务中，新的采购人会分配给您" } else { "当前状态：示忙，不接待新的采购人" }}
            </span>
            {move || match conn.get() {
                ConnState::Online => view! { <span class="conn-dot online">"已连接"</span> }.into_any(),
                ConnState::Connecting => view! { <span class="conn-dot">"正在连接…"</span> }.into_any(),
                _ => view! { <span class="conn-dot lost" role="status">"正在重新连接…"</span> }.into_any(),
            }}
        </div>
    }
}
