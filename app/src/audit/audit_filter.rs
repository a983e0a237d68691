use leptos::prelude::*;

use super::AuditQuery;
use crate::components::{DateField, input_value};
use crate::use_hydrated;

/// 操作日志's filter: 操作 and a range of days, 查询 and 清空. It shows the filter as the server
/// applied it and searches from page 1.
#[component]
pub fn AuditFilter(
    /// The filter the server applied last.
    applied: RwSignal<AuditQuery>,
    /// The 操作 choices: (code, Chinese name).
    actions: RwSignal<Vec<(String, String)>>,
    /// Runs with the filter to search.
    #[prop(into)]
    on_search: Callback<AuditQuery>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let action = NodeRef::<leptos::html::Select>::new();
    let from = NodeRef::<leptos::html::Input>::new();
    let to = NodeRef::<leptos::html::Input>::new();
    let search = move || {
        on_search.run(AuditQuery {
            action: action
                .get_untracked()
                .map(|s| s.value())
                .unwrap_or_default(),
            from: input_value(from),
            to: input_value(to),
            page: 1,
        });
    };
    let clear = move || {
        if let Some(field) = from.get_untracked() {
            field.set_value("");
        }
        if let Some(field) = to.get_untracked() {
            field.set_value("");
        }
        if let Some(select) = action.get_untracked() {
            select.set_value("");
        }
        search();
    };
    view! {
        <form
            class="filter-card card"
            on:submit=move |ev| {
                ev.prevent_default();
                search();
            }
        >
            <div class="filter-row">
                <label class="inline-label" for="audit-action">"操作"</label>
                <select id="audit-action" node_ref=action prop:value=move || applied.get().action>
                    <option value="">"全部操作"</option>
                    <For each=move || actions.get() key=|(code, _)| code.clone() let((code, label))>
                        <option value=code>{label}</option>
                    </For>
                </select>
                <label class="inline-label" for="audit-from">"时间"</label>
                <DateField
                    id="audit-from"
                    value=Signal::derive(move || applied.get().from)
                    node_ref=from
                />
                <span class="muted">"至"</span>
                <DateField
                    id="audit-to"
                    aria_label="结束日期"
                    value=Signal::derive(move || applied.get().to)
                    node_ref=to
                />
                <button type="submit" class="btn primary" disabled=move || !hydrated.get()>"查询"</button>
                <button type="button" class="btn" disabled=move || !hydrated.get() on:click=move |_| clear()>
                    "清空"
                </button>
            </div>
        </form>
    }
}
