use std::future::Future;

use leptos::prelude::*;

use crate::components::Modal;
use crate::orders::{OrderDetail, OrderDetailView};

/// 订单详情 in a dialog: `None` closed, `Some(None)` loading, then the detail or why not.
pub type DetailState = Option<Option<Result<OrderDetail, String>>>;

/// Opens the dialog and shows what `load` answers (dropped if the dialog was closed meanwhile).
pub fn load_order_detail<E: std::fmt::Display>(
    detail: RwSignal<DetailState>,
    load: impl Future<Output = Result<OrderDetail, E>> + 'static,
) {
    detail.set(Some(None));
    leptos::task::spawn_local(async move {
        let result = load.await.map_err(|e| e.to_string());
        if detail.get_untracked().is_some() {
            detail.set(Some(Some(result)));
        }
    });
}

/// The 订单详情 dialog of an order card, while `detail` is open.
#[component]
pub fn OrderDetailDialog(detail: RwSignal<DetailState>) -> impl IntoView {
    move || {
        detail.get().map(|state| view! {
            <Modal title="订单详情" on_close=move || detail.set(None) close_on_backdrop=true>
                {match state {
                    None => view! { <p class="muted" role="status">"加载中…"</p> }.into_any(),
                    Some(Ok(d)) => view! { <OrderDetailView detail=d /> }.into_any(),
                    Some(Err(e)) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
                }}
            </Modal>
        })
    }
}
