use leptos::prelude::*;

use super::{OrderSummary, agent_buyer_orders, format_fen, format_time, status_class};

/// 采购人订单 (SPEC §3): the orders of the current conversation's buyer with this supplier,
/// newest first, a page at a time. 加载更多 appends the next page; the end says 没有更多了.
///
/// When `conversation_id` changes the list is emptied at once and answers still on their way
/// for the previous conversation are dropped, so the previous buyer's orders never show.
/// `on_send` gets the card to send into the chat (发送), offered while `can_send` (an ended
/// conversation takes no more cards: 发送 is disabled and the panel says why); `on_open` gets
/// the order id to show its detail (the picture or 详情), which the caller loads with
/// `agent_order_detail`.
#[component]
pub fn OrdersPanel(
    #[prop(into)] conversation_id: Signal<Option<i64>>,
    #[prop(into)] can_send: Signal<bool>,
    #[prop(into)] on_send: Callback<OrderSummary>,
    #[prop(into)] on_open: Callback<i64>,
) -> impl IntoView {
    let orders = RwSignal::new(Vec::<OrderSummary>::new());
    let has_more = RwSignal::new(false);
    let next_page = RwSignal::new(0u64);
    let loading = RwSignal::new(false);
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // Bumped on every conversation switch; an answer for an older one is ignored.
    let generation = StoredValue::new(0u64);

    let load = move |conversation: i64, page: u64| {
        let this = generation.get_value();
        loading.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = agent_buyer_orders(conversation, page).await;
            if generation.get_value() != this {
                return;
            }
            match result {
                Ok(got) => {
                    orders.update(|list| {
                        for order in got.orders {
                            // A new order between two pages shifts them; never show one twice.
                            if !list.iter().any(|o| o.order_id == order.order_id) {
                                list.push(order);
                            }
                        }
                    });
                    has_more.set(got.has_more);
                    next_page.set(page + 1);
                    loaded.set(true);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            loading.set(false);
        });
    };

    Effect::new(move |_| {
        let current = conversation_id.get();
        generation.update_value(|g| *g += 1);
        orders.set(Vec::new());
        has_more.set(false);
        next_page.set(0);
        loaded.set(false);
        loading.set(false);
        error.set(None);
        if let Some(id) = current {
            load(id, 0);
        }
    });

    let load_more = move |_| {
        if let Some(id) = conversation_id.get_untracked()
            && !loading.get_untracked()
        {
            load(id, next_page.get_untracked());
        }
    };

    view! {
        <aside class="orders-panel" aria-label="采购人订单">
            <h2 class="orders-title">"采购人订单"</h2>
            <Show
                when=move || conversation_id.get().is_some()
                fallback=|| view! { <p class="orders-empty">"打开一个会话后，这里显示该采购人的订单"</p> }
            >
                {move || (!can_send.get()).then(|| view! {
                    <p class="orders-hint" role="note">"本次对话已结束，订单不能再发送给采购人"</p>
                })}
                <ul class="orders-list">
                    <For each=move || orders.get() key=|o| o.order_id let:order>
                        <OrderCard order can_send on_send on_open />
                    </For>
                </ul>
                <div class="orders-footer">
                    {move || {
                        if loading.get() {
                            view! { <p class="orders-loading" role="status">"加载中…"</p> }.into_any()
                        } else if let Some(message) = error.get() {
                            view! {
                                <p class="form-error" role="alert">{message}</p>
                                <button type="button" class="btn small" on:click=load_more>"重试"</button>
                            }
                                .into_any()
                        } else if !loaded.get() {
                            ().into_any()
                        } else if orders.with(Vec::is_empty) {
                            view! { <p class="orders-empty">"暂无订单"</p> }.into_any()
                        } else if has_more.get() {
                            view! {
                                <button type="button" class="btn orders-more" on:click=load_more>
                                    "加载更多"
                                </button>
                            }
                                .into_any()
                        } else {
                            view! { <p class="orders-end">"没有更多了"</p> }.into_any()
                        }
                    }}
                </div>
            </Show>
        </aside>
    }
}

/// One order in the panel: picture (opens the detail), number, time, status, amount, 件数, and
/// 详情 / 发送.
#[component]
fn OrderCard(
    order: OrderSummary,
    can_send: Signal<bool>,
    on_send: Callback<OrderSummary>,
    on_open: Callback<i64>,
) -> impl IntoView {
    let id = order.order_id;
    let for_send = order.clone();
    view! {
        <li class="orders-card" data-order-no=order.order_no.clone()>
            <button
                type="button"
                class="orders-picture"
                title="查看订单详情"
                aria-label=format!("查看订单 {} 的详情", order.order_no)
                on:click=move |_| on_open.run(id)
            >
                {match order.picture_url.clone() {
                    Some(src) => view! { <img src=src alt="" loading="lazy" /> }.into_any(),
                    None => view! { <span class="orders-no-picture">"无图"</span> }.into_any(),
                }}
            </button>
            <div class="orders-info">
                <div class="orders-no">
                    "订单编号：" <span class="mono">{order.order_no.clone()}</span>
                </div>
                <div class="orders-time">"下单时间：" {format_time(order.created_at)}</div>
                <div class="orders-meta">
                    <span class=status_class(&order.status)>{order.status.clone()}</span>
                    <span class="orders-amount">{format_fen(order.total_fen)}</span>
                    <span class="orders-count">"共 " {order.item_count} " 件"</span>
                </div>
                <div class="orders-actions">
                    <button type="button" class="link-btn" on:click=move |_| on_open.run(id)>"详情"</button>
                    <button
                        type="button"
                        class="btn primary small"
                        disabled=move || !can_send.get()
                        title=move || (!can_send.get()).then_some("对话已结束，不能发送")
                        on:click=move |_| {
                            if can_send.get_untracked() {
                                on_send.run(for_send.clone());
                            }
                        }
                    >
                        "发送"
                    </button>
                </div>
            </div>
        </li>
    }
}
