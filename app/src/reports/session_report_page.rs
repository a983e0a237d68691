use leptos::prelude::*;

use super::report_filter::ReportFilterForm;
use super::report_table::ReportTable;
use super::{ReportData, ReportQuery, session_report};
use crate::components::PagedTable;

/// 在线会话清单 (manual §3.5): filter by time, 客户编号 and agent; paged table; 导出.
#[component]
pub fn SessionReportPage() -> impl IntoView {
    let query = RwSignal::new(ReportQuery {
        preset: "7d".into(),
        page: 1,
        ..Default::default()
    });
    let report = Resource::new(move || query.get(), session_report);
    // The filter as the server applied it: the form shows it and 导出 downloads exactly it.
    let applied = RwSignal::new(None::<ReportQuery>);
    Effect::new(move |_| {
        if let Some(Ok(data)) = report.get() {
            applied.set(Some(data.query));
        }
    });
    let go_page = Callback::new(move |page: u64| {
        if let Some(mut q) = applied.get_untracked() {
            q.page = page;
            query.set(q);
        }
    });

    view! {
        <h1 class="page-title">"在线会话清单"</h1>
        <ReportFilterForm applied on_search=move |q| query.set(q) />
        <PagedTable data=report table=move |data: ReportData| view! { <ReportTable data go_page /> }.into_any() />
    }
}
