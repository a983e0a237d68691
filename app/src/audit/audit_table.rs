use leptos::prelude::*;

use super::AuditPageData;
use crate::components::{PageSpan, Pager, head_row, rows_or_note};

/// A page of 操作日志: 时间, 操作人, 操作, 内容, and the pager.
#[component]
pub fn AuditTable(
    data: AuditPageData,
    /// Shows another page of the same filter.
    go_page: Callback<u64>,
) -> impl IntoView {
    let span = PageSpan::new(data.total, data.page, data.page_size);
    let q = &data.query;
    // What this table shows, for tests waiting for exactly it.
    let shown = format!("{}|{}|{}|{}", q.action, q.from, q.to, data.page);
    view! {
        <table class="data-table audit-table" data-query=shown>
            {head_row(&["时间", "操作人", "操作", "内容"])}
            <tbody>
                {rows_or_note(data.rows, 4, "没有符合条件的操作记录", |r| view! {
                    <tr>
                        <td class="nowrap">{r.time}</td>
                        <td>{r.actor}</td>
                        <td><span class="tag">{r.action}</span></td>
                        <td>{r.detail}</td>
                    </tr>
                })}
            </tbody>
        </table>
        <Pager span go_page />
    }
}
