use leptos::prelude::*;

use super::ReportQuery;
use crate::accounts::list_agents;
use crate::components::{DateField, input_value};
use crate::use_hydrated;

/// 在线会话清单's filter: 统计时间 (typed, or 今天, 近7天, 近30天), 客户编号, 客服, 搜索 and
/// 导出 of the filter as the server applied it. Every search starts at page 1.
#[component]
pub fn ReportFilterForm(
    /// The filter the server applied last, once it answered.
    applied: RwSignal<Option<ReportQuery>>,
    /// Runs with the filter to search.
    #[prop(into)]
    on_search: Callback<ReportQuery>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let agents = Resource::new(|| (), |_| list_agents());
    let from = NodeRef::<leptos::html::Input>::new();
    let to = NodeRef::<leptos::html::Input>::new();
    let buyer = NodeRef::<leptos::html::Input>::new();
    let agent = NodeRef::<leptos::html::Select>::new();
    let selected_agent = move || agent.get_untracked().map(|s| s.value()).unwrap_or_default();
    let search = move |preset: &str| {
        on_search.run(ReportQuery {
            preset: preset.into(),
            from: input_value(from),
            to: input_value(to),
            buyer: input_value(buyer),
            agent: selected_agent(),
            page: 1,
        });
    };
    view! {
        <form
            class="filter-card card"
            on:submit=move |ev| {
                ev.prevent_default();
                search("");
            }
        >
            <div class="filter-row">
                <label class="inline-label" for="report-from">"统计时间"</label>
                <DateField
                    id="report-from"
                    value=Signal::derive(move || applied.get().map(|q| q.from).unwrap_or_default())
                    node_ref=from
                />
                <span class="muted">"至"</span>
                <DateField
                    id="report-to"
                    aria_label="结束日期"
                    value=Signal::derive(move || applied.get().map(|q| q.to).unwrap_or_default())
                    node_ref=to
                />
                <div class="presets">
                    <button type="button" class="btn small" disabled=move || !hydrated.get() on:click=move |_| search("today")>"今天"</button>
                    <button type="button" class="btn small" disabled=move || !hydrated.get() on:click=move |_| search("7d")>"近7天"</button>
                    <button type="button" class="btn small" disabled=move || !hydrated.get() on:click=move |_| search("30d")>"近30天"</button>
                </div>
            </div>
            <div class="filter-row">
                <label class="inline-label" for="report-buyer">"客户编号"</label>
                <input
                    id="report-buyer"
                    maxlength="64"
                    placeholder="编号开头即可"
                    title="按客户编号开头查找，不区分大小写"
                    node_ref=buyer
                />
                <label class="inline-label" for="report-agent">"客服"</label>
                <select id="report-agent" node_ref=agent>
                    <option value="">"全部客服"</option>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            agents
                                .await
                                .unwrap_or_default()
                                .into_iter()
                                .map(|a| view! { <option value=a.id.to_string()>{format!("{} ({})", a.display_name, a.login)}</option> })
                                .collect_view()
                        })}
                    </Suspense>
                </select>
                <button type="submit" class="btn primary" disabled=move || !hydrated.get()>"搜索"</button>
                {move || applied.get().map(|q| view! {
                    <a class="btn" href=q.export_href() download>"导出"</a>
                })}
            </div>
        </form>
    }
}
