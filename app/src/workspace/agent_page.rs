use leptos::prelude::*;
use leptos_meta::Title;

use super::Frame;
use super::chat_pane::ChatPane;
use super::conversation_list::ConversationList;
use super::end_conversation_dialog::EndConversationDialog;
use super::status_bar::StatusBar;
use super::workbench::Workbench;
use crate::chat::socket::{ConnState, new_client_msg_id, now_ms};
use crate::chat::{ChatHandle, DetailState, OrderDetailDialog, load_order_detail};
use crate::orders::{OrderSummary, OrdersPanel};
use crate::use_hydrated;

/// Agent workbench `/agent` (manual §2.3): conversations left, chat middle, orders right.
#[component]
pub fn AgentPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let conn = RwSignal::new(ConnState::Connecting);
    let bench = ChatHandle::new(Workbench::default());
    let state = bench.state;
    // The clock for "等待 x 分钟".
    let now = RwSignal::new(now_ms());
    let confirm_end = RwSignal::new(false);

    #[cfg(feature = "hydrate")]
    Effect::new(move |prev: Option<()>| {
        if prev.is_some() {
            return;
        }
        gloo_timers::callback::Interval::new(30_000, move || now.set(now_ms())).forget();
        now.set(now_ms());
        bench.connect(crate::chat::protocol::AGENT_CHAT_PATH.to_owned(), conn);
    });

    let selected = Memo::new(move |_| state.with(|s| s.selected));
    let current_ended = Memo::new(move |_| state.with(Workbench::current_ended));
    let send_order = Callback::new(move |order: OrderSummary| {
        let client_msg_id = new_client_msg_id();
        bench.act(|s| s.send_order(order, client_msg_id, now_ms()));
    });
    let detail = RwSignal::new(DetailState::None);
    let open_order = Callback::new(move |order_id: i64| {
        if let Some(cid) = selected.get_untracked() {
            load_order_detail(detail, crate::orders::agent_order_detail(cid, order_id));
        }
    });

    view! {
        <Title text=move || match state.with(Workbench::badge) {
            0 => "832 在线客服系统".to_owned(),
            n => format!("({n}) 832 在线客服系统"),
        } />
        <Frame area="客服前台">
            <div class="workbench-wrap">
                <StatusBar bench conn hydrated />
                <div class="workbench">
                    <ConversationList bench now hydrated />
                    <ChatPane bench hydrated confirm_end current_ended on_order=open_order />
                    <section class="panel orders">
                        <OrdersPanel
                            conversation_id=selected
                            can_send=Signal::derive(move || !current_ended.get())
                            on_send=send_order
                            on_open=open_order
                        />
                    </section>
                </div>
            </div>
            <OrderDetailDialog detail />
            <EndConversationDialog bench open=confirm_end />
        </Frame>
    }
    .into_any()
}
