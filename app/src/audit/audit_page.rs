use leptos::prelude::*;

use super::audit_filter::AuditFilter;
use super::audit_log;
use super::audit_table::AuditTable;
use super::{AuditPageData, AuditQuery};
use crate::components::PagedTable;

/// 操作日志: the admin actions of this supplier, newest first, filtered by action and day.
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = RwSignal::new(AuditQuery {
        page: 1,
        ..Default::default()
    });
    let data = Resource::new(move || query.get(), audit_log);
    // The filter the server applied and the actions it offers: the form shows them.
    let applied = RwSignal::new(AuditQuery::default());
    let actions = RwSignal::new(Vec::<(String, String)>::new());
    Effect::new(move |_| {
        if let Some(Ok(d)) = data.get() {
            applied.set(d.query);
            actions.set(d.actions);
        }
    });
    let go_page = Callback::new(move |page: u64| {
        let mut q = applied.get_untracked();
        q.page = page;
        query.set(q);
    });

    view! {
        <h1 class="page-title">"操作日志"</h1>
        <AuditFilter applied actions on_search=move |q| query.set(q) />
        <div class="card table-card">
            <PagedTable data table=move |d: AuditPageData| view! { <AuditTable data=d go_page /> }.into_any() />
        </div>
    }
}
