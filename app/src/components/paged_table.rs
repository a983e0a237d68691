use leptos::prelude::*;

use super::FormError;
use crate::error::AppError;

/// A page of a table the server gives: 加载中… until the first answer, then `table` drawn from
/// it (kept on screen while another page is read), or the error as an alert. `table` draws the
/// table and its [`Pager`](super::Pager), where the page wants them.
#[component]
pub fn PagedTable<T>(
    /// The page as the server answered.
    data: Resource<Result<T, AppError>>,
    /// Draws the table from an answer.
    #[prop(into)]
    table: Callback<T, AnyView>,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    view! {
        <Transition fallback=|| view! { <p class="empty">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => table.run(page),
                    Err(e) => view! { <FormError message=Some(e.to_string()) /> }.into_any(),
                }
            })}
        </Transition>
    }
}
