//! Pieces every table draws the same way: the head, the rows or the line saying there are none.

use leptos::prelude::*;

/// A table's rows drawn by `row`, or one line across its `width` columns saying `empty` when
/// there are none.
pub fn rows_or_note<T, V>(
    rows: Vec<T>,
    width: usize,
    empty: &'static str,
    row: impl Fn(T) -> V,
) -> AnyView
where
    V: IntoView + 'static,
{
    if rows.is_empty() {
        note_line(width, empty)
    } else {
        rows.into_iter().map(row).collect_view().into_any()
    }
}

/// One line across a table's `width` columns that says something instead of rows.
pub fn note_line(width: usize, text: &'static str) -> AnyView {
    view! {
        <tr>
            <td colspan=width.to_string() class="empty">{text}</td>
        </tr>
    }
    .into_any()
}

/// A table's head of plain column names.
pub fn head_row(columns: &[&'static str]) -> impl IntoView + use<> {
    let names = columns.to_vec();
    view! {
        <thead>
            <tr>{names.into_iter().map(|name| view! { <th>{name}</th> }).collect_view()}</tr>
        </thead>
    }
}
