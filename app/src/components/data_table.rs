use leptos::prelude::*;

use super::table_parts::{head_row, note_line, rows_or_note};
use crate::error::AppError;

/// A table with a fixed head whose rows the server gives: 加载中… until the first answer, a
/// note when there are no rows, the error as an alert, else one `row` (a `<tr>`) a line.
/// A reload keeps the rows on screen unless `blank_while_reloading`.
#[component]
pub fn DataTable<T>(
    /// The column names.
    columns: &'static [&'static str],
    /// The rows as the server answered.
    rows: Resource<Result<Vec<T>, AppError>>,
    /// What the table says when there are no rows.
    empty: &'static str,
    /// Draws one row.
    #[prop(into)]
    row: Callback<T, AnyView>,
    /// Show 加载中… again while the rows are read again (a search), instead of the old rows.
    #[prop(optional)]
    blank_while_reloading: bool,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    let width = columns.len();
    let body = move || {
        Suspend::new(async move {
            match rows.await {
                Ok(list) => view! { <tbody>{rows_or_note(list, width, empty, |r| row.run(r))}</tbody> }
                    .into_any(),
                Err(e) => view! {
                    <tbody>
                        <tr>
                            <td colspan=width.to_string() class="form-error" role="alert">{e.to_string()}</td>
                        </tr>
                    </tbody>
                }
                .into_any(),
            }
        })
    };
    let loading = move || view! { <tbody>{note_line(width, "加载中…")}</tbody> };
    let body = if blank_while_reloading {
        view! { <Suspense fallback=loading>{body}</Suspense> }.into_any()
    } else {
        view! { <Transition fallback=loading>{body}</Transition> }.into_any()
    };
    view! {
        <div class="card table-card">
            <table class="data-table">
                {head_row(columns)}
                {body}
            </table>
        </div>
    }
}
