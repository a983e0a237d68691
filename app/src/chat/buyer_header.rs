use leptos::prelude::*;

use super::buyer_state::{BuyerChat, Reception};
use super::socket::ConnState;

/// The widget's header (supplier, who serves the buyer) and the banners under it: the
/// connection lost or refused, and the queue.
#[component]
pub fn BuyerHeader(state: RwSignal<BuyerChat>, conn: RwSignal<ConnState>) -> impl IntoView {
    let reception = Memo::new(move |_| state.with(|s| s.reception.clone()));
    let refused = Memo::new(move |_| state.with(|s| s.refused.clone()));
    let queue_line = Memo::new(move |_| reception.with(Reception::queue_line));
    view! {
        <header class="widget-head">
            <div class="widget-title">
                <span class="logo-mark small">"832"</span>
                <div>
                    <h1 class="widget-supplier">
                        {move || {
                            let n = state.with(|s| s.supplier_name.clone());
                            if n.is_empty() { "在线客服".to_owned() } else { n }
                        }}
                    </h1>
                    <p
                        class="widget-status"
                        class:online=move || reception.with(Reception::online)
                        data-testid="serving-status"
                    >
                        {move || reception.with(Reception::status_line)}
                    </p>
                </div>
            </div>
        </header>
        {move || match conn.get() {
            ConnState::Reconnecting => Some(view! {
                <div class="conn-banner" role="status">"正在重新连接…"</div>
            }.into_any()),
            ConnState::Stopped => refused.get().map(|m| view! {
                <div class="conn-banner refused" role="alert">{m}</div>
            }.into_any()),
            _ => None,
        }}
        {move || queue_line.get().map(|line| view! {
            <div class="queue-banner" role="status" data-testid="queue">{line}</div>
        })}
    }
}
