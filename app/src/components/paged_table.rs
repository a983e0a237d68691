use leptos::prelude::*;

use super::FormError;
use crate::error::AppError;

/// A page of a table the server gives: 加载中… until the first answer, then `table` drawn from
/// it (kept on screen while another page is read), or the error as an alert. `table` draws the
/// table and its [`Pager`](super::Pager), where the page wants them.
#[component]
pub fn PagedTable<T, F, V>(
    /// The page as the server answered.
    data: Resource<Result<T, AppError>>,
    /// Draws the table from an answer.
    table: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=|| view! { <p class="empty">"加载中…"</p> }>
            {move || {
                let table = table.clone();
                Suspend::new(async move {
                    match data.await {
                        Ok(page) => table(page).into_any(),
                        Err(e) => view! { <FormError message=Some(e.to_string()) /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}
