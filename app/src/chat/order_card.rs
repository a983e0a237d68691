use leptos::prelude::*;

use crate::orders::{OrderSummary, format_fen, status_class};

/// An order card in the chat: picture, number, status, amount; a click opens its detail.
#[component]
pub fn OrderCard(
    order: OrderSummary,
    on_open: Option<Callback<i64>>,
    #[prop(into)] on_loaded: Callback<()>,
) -> impl IntoView {
    let id = order.order_id;
    let picture = order.picture_url.clone();
    view! {
        <button
            type="button"
            class="order-card"
            data-testid="order-card"
            aria-label=format!("订单 {} 详情", order.order_no)
            disabled=on_open.is_none()
            on:click=move |_| {
                if let Some(cb) = on_open {
                    cb.run(id);
                }
            }
        >
            {match picture {
                Some(src) => view! {
                    <img class="order-card-pic" src=src alt="" on:load=move |_| on_loaded.run(()) />
                }
                .into_any(),
                None => view! { <span class="order-card-pic empty">"无图"</span> }.into_any(),
            }}
            <span class="order-card-info">
                <span class="order-card-no">{format!("订单号 {}", order.order_no)}</span>
                <span class=status_class(&order.status)>{order.status.clone()}</span>
                <span class="order-card-amount">{format_fen(order.total_fen)}</span>
                <span class="order-card-count">{format!("共 {} 件", order.item_count)}</span>
            </span>
        </button>
    }
}
