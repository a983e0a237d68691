use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::audit_log;
use super::date_field::DateField;
use crate::auth::input_value;
use crate::use_hydrated;

/// 操作日志's filter as the browser sends it: an action code (blank for all) and a range of
/// days `YYYY-MM-DD` (Asia/Shanghai, both included; either may be blank).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub page: u64,
}

/// Turns the form into a domain filter and the query as applied (trimmed, page at least 1).
#[cfg(feature = "ssr")]
pub(super) fn resolve_audit_query(
    query: &AuditQuery,
) -> Result<(domain::audit::AuditFilter, AuditQuery), crate::error::AppError> {
    use chrono::Days;
    use domain::report::shanghai_day_start_ms;

    use super::report::parse_day;
    use crate::error::AppError;

    let from = parse_day(&query.from, "开始日期", "from")?;
    let to = parse_day(&query.to, "结束日期", "to")?;
    if let (Some(from), Some(to)) = (from, to)
        && to < from
    {
        return Err(AppError::invalid(Some("to"), "结束日期不能早于开始日期"));
    }
    let end = match to {
        Some(to) => Some(
            to.checked_add_days(Days::new(1))
                .ok_or(AppError::Internal)?,
        ),
        None => None,
    };
    let action = query.action.trim().to_owned();
    let filter = domain::audit::AuditFilter {
        action: (!action.is_empty()).then(|| action.clone()),
        from_ms: from.map(shanghai_day_start_ms),
        to_ms: end.map(shanghai_day_start_ms),
    };
    filter.validate()?;
    let day = |d: Option<chrono::NaiveDate>| {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let applied = AuditQuery {
        action,
        from: day(from),
        to: day(to),
        page: query.page.clamp(1, 100_000),
    };
    Ok((filter, applied))
}

/// 操作日志: the admin actions of this supplier, newest first, filtered by action and day.
#[component]
pub fn AuditPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let query = RwSignal::new(AuditQuery {
        page: 1,
        ..Default::default()
    });
    let data = Resource::new(move || query.get(), audit_log);
    let action = NodeRef::<leptos::html::Select>::new();
    let from = NodeRef::<leptos::html::Input>::new();
    let to = NodeRef::<leptos::html::Input>::new();
    // The filter the server applied and the actions it offers: the form shows them.
    let applied = RwSignal::new(AuditQuery::default());
    let actions = RwSignal::new(Vec::<(String, String)>::new());
    Effect::new(move |_| {
        if let Some(Ok(d)) = data.get() {
            applied.set(d.query);
            actions.set(d.actions);
        }
    });
    let search = move || {
        query.set(AuditQuery {
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
    let go_page = move |page: u64| {
        let mut q = applied.get_untracked();
        q.page = page;
        query.set(q);
    };

    view! {
        <h1 class="page-title">"操作日志"</h1>
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
        <div class="card table-card">
            <Transition fallback=|| view! { <p class="empty">"加载中…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => {
                            let pages = d.total.div_ceil(d.page_size).max(1);
                            let current = d.page;
                            // What this table shows, for tests waiting for exactly it.
                            let shown = format!(
                                "{}|{}|{}|{current}",
                                d.query.action, d.query.from, d.query.to
                            );
                            view! {
                                <table class="data-table audit-table" data-query=shown>
                                    <thead>
                                        <tr>
                                            <th>"时间"</th>
                                            <th>"操作人"</th>
                                            <th>"操作"</th>
                                            <th>"内容"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {if d.rows.is_empty() {
                                            view! { <tr><td colspan="4" class="empty">"没有符合条件的操作记录"</td></tr> }.into_any()
                                        } else {
                                            d.rows.into_iter().map(|r| view! {
                                                <tr>
                                                    <td class="nowrap">{r.time}</td>
                                                    <td>{r.actor}</td>
                                                    <td><span class="tag">{r.action}</span></td>
                                                    <td>{r.detail}</td>
                                                </tr>
                                            }).collect_view().into_any()
                                        }}
                                    </tbody>
                                </table>
                                <div class="pager">
                                    <span class="muted">{format!("共 {} 条，第 {current} / {pages} 页", d.total)}</span>
                                    <button
                                        type="button"
                                        class="btn small"
                                        disabled=move || !hydrated.get() || (current <= 1)
                                        on:click=move |_| go_page(current - 1)
                                    >
                                        "上一页"
                                    </button>
                                    <button
                                        type="button"
                                        class="btn small"
                                        disabled=move || !hydrated.get() || (current >= pages)
                                        on:click=move |_| go_page(current + 1)
                                    >
                                        "下一页"
                                    </button>
                                </div>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}
