use leptos::prelude::*;

use super::date_field::DateField;
use super::report::{ReportData, ReportQuery, ReportTotalsView};
use super::{list_agents, session_report};
use crate::auth::input_value;
use crate::use_hydrated;

/// 在线会话清单 (manual §3.5): filter by time, 客户编号 and agent; paged table; 导出.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let query = RwSignal::new(ReportQuery {
        preset: "7d".into(),
        page: 1,
        ..Default::default()
    });
    let report = Resource::new(move || query.get(), session_report);
    let agents = Resource::new(|| (), |_| list_agents());
    let from = NodeRef::<leptos::html::Input>::new();
    let to = NodeRef::<leptos::html::Input>::new();
    let buyer = NodeRef::<leptos::html::Input>::new();
    let agent = NodeRef::<leptos::html::Select>::new();
    // The filter as the server applied it: the form shows it and 导出 downloads exactly it.
    let applied = RwSignal::new(None::<ReportQuery>);
    Effect::new(move |_| {
        if let Some(Ok(data)) = report.get() {
            applied.set(Some(data.query));
        }
    });

    let selected_agent = move || agent.get_untracked().map(|s| s.value()).unwrap_or_default();
    let search = move |preset: &str| {
        query.set(ReportQuery {
            preset: preset.into(),
            from: input_value(from),
            to: input_value(to),
            buyer: input_value(buyer),
            agent: selected_agent(),
            page: 1,
        });
    };
    let go_page = move |page: u64| {
        if let Some(mut q) = applied.get_untracked() {
            q.page = page;
            query.set(q);
        }
    };

    view! {
        <h1 class="page-title">"在线会话清单"</h1>
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
        <Transition fallback=|| view! { <p class="empty">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(data) => view! { <ReportTable data go_page /> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn secs(v: Option<i64>) -> String {
    v.map(|s| s.to_string()).unwrap_or_default()
}

fn avg(v: Option<f64>) -> String {
    v.map(|s| format!("{s:.1}")).unwrap_or_else(|| "—".into())
}

/// Mean of a sum over `count` rows, as the 平均值 line shows it.
fn per_row(sum: u64, count: u64) -> String {
    avg((count > 0).then(|| sum as f64 / count as f64))
}

/// A `yyyy-mm-dd hh:mm:ss` time on two lines (date, then time), so the column stays narrow.
fn date_time(text: String) -> impl IntoView {
    match text.split_once(' ') {
        Some((date, time)) => view! {
            <span class="dt">{date.to_owned()}</span>
            " "
            <span class="dt">{time.to_owned()}</span>
        }
        .into_any(),
        None => text.into_any(),
    }
}

#[component]
fn ReportTable(
    data: ReportData,
    go_page: impl Fn(u64) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let page = data.query.page.max(1);
    let applied = &data.query;
    // What this table shows, for people (the caption) and for tests waiting for exactly it.
    let caption = if applied.buyer.is_empty() {
        format!("客户进入时间 {} 至 {}", applied.from, applied.to)
    } else {
        format!(
            "客户进入时间 {} 至 {}，客户编号以 {} 开头",
            applied.from, applied.to, applied.buyer
        )
    };
    let shown = format!(
        "{}|{}|{}|{}|{page}",
        applied.from, applied.to, applied.buyer, applied.agent
    );
    let pages = data.total.div_ceil(data.page_size).max(1);
    let ReportTotalsView {
        count,
        served,
        avg_wait_secs,
        avg_session_secs,
        avg_handling_secs,
        avg_first_response_secs,
        agent_msgs,
        buyer_msgs,
    } = data.totals;
    view! {
        // Long headers break where a person would (the cell text stays the column's name).
        <div class="card table-card report-table" data-query=shown>
            <p class="report-caption muted">{caption}</p>
            <div class="report-scroll">
            <table class="data-table">
                <thead>
                    <tr>
                        <th>"客户编号"</th>
                        <th>"客户名称"</th>
                        <th>"单位"</th>
                        <th>"客服姓名"</th>
                        <th>"客服工号"</th>
                        <th>"客户进入"<br />"时间"</th>
                        <th>"客服进入"<br />"时间"</th>
                        <th>"会话结束"<br />"时间"</th>
                        <th class="num">"客户等待时长"<br />"(秒)"</th>
                        <th class="num">"会话时长"<br />"(秒)"</th>
                        <th class="num">"处理时长"<br />"(秒)"</th>
                        <th class="num">"首次响应"<br />"时长(秒)"</th>
                        <th class="num">"人工"<br />"介入数"</th>
                        <th class="num">"客户"<br />"消息数"</th>
                        <th>"结束方式"</th>
                    </tr>
                </thead>
                <tbody>
                    {if data.rows.is_empty() {
                        view! { <tr><td colspan="15" class="empty">"该条件下没有会话记录"</td></tr> }.into_any()
                    } else {
                        data.rows.into_iter().map(|r| view! {
                            <tr>
                                <td class="mono">{r.buyer_external_id}</td>
                                <td>{r.buyer_name}</td>
                                <td>{r.buyer_unit}</td>
                                <td>{r.agent_name}</td>
                                <td class="mono">{r.agent_login}</td>
                                <td>{date_time(r.entered_at)}</td>
                                <td>{date_time(r.agent_joined_at)}</td>
                                <td>{date_time(r.ended_at)}</td>
                                <td class="num">{r.wait_secs}</td>
                                <td class="num">{secs(r.session_secs)}</td>
                                <td class="num">{secs(r.handling_secs)}</td>
                                <td class="num">{secs(r.first_response_secs)}</td>
                                <td class="num">{r.agent_msgs}</td>
                                <td class="num">{r.buyer_msgs}</td>
                                <td>{r.end_reason}</td>
                            </tr>
                        }).collect_view().into_any()
                    }}
                </tbody>
                <tfoot>
                    <tr class="totals">
                        <th scope="row">"合计"</th>
                        <td colspan="7">{format!("{count} 个会话，已接待 {served} 个")}</td>
                        <td colspan="4" class="muted">"时长不合计"</td>
                        <td class="num">{agent_msgs}</td>
                        <td class="num">{buyer_msgs}</td>
                        <td></td>
                    </tr>
                    <tr class="averages">
                        <th scope="row">"平均值"</th>
                        <td colspan="7" class="muted">"时长按有该项的会话平均，消息数按每个会话平均"</td>
                        <td class="num">{avg(avg_wait_secs)}</td>
                        <td class="num">{avg(avg_session_secs)}</td>
                        <td class="num">{avg(avg_handling_secs)}</td>
                        <td class="num">{avg(avg_first_response_secs)}</td>
                        <td class="num">{per_row(agent_msgs, count)}</td>
                        <td class="num">{per_row(buyer_msgs, count)}</td>
                        <td></td>
                    </tr>
                </tfoot>
            </table>
            </div>
            <div class="pager">
                <span class="muted">{format!("共 {} 条，第 {page} / {pages} 页", data.total)}</span>
                <button type="button" class="btn small" disabled=move || !hydrated.get() || (page <= 1) on:click=move |_| go_page(page - 1)>
                    "上一页"
                </button>
                <button type="button" class="btn small" disabled=move || !hydrated.get() || (page >= pages) on:click=move |_| go_page(page + 1)>
                    "下一页"
                </button>
            </div>
        </div>
    }
}
