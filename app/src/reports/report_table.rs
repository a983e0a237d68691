use leptos::prelude::*;

use super::{ReportData, ReportRowView, ReportTotals};
use crate::components::{PageSpan, Pager, rows_or_note};

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

/// A page of 在线会话清单: what it shows (caption), the sessions, 合计 and 平均值 over every
/// filtered session, and the pager.
#[component]
pub fn ReportTable(
    data: ReportData,
    /// Shows another page of the same filter.
    go_page: Callback<u64>,
) -> impl IntoView {
    let span = PageSpan::new(data.total, data.query.page, data.page_size);
    let page = span.page;
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
                    {rows_or_note(data.rows, 15, "该条件下没有会话记录", report_line)}
                </tbody>
                <ReportTotalsRows totals=data.totals />
            </table>
            </div>
            <Pager span go_page />
        </div>
    }
}

/// 合计 and 平均值 under the table, over every filtered session (not only this page).
#[component]
fn ReportTotalsRows(totals: ReportTotals) -> impl IntoView {
    let ReportTotals {
        count,
        served,
        avg_wait_secs,
        avg_session_secs,
        avg_handling_secs,
        avg_first_response_secs,
        agent_msgs,
        buyer_msgs,
    } = totals;
    view! {
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
    }
}

/// One session of the table; an agent never reached shows empty cells, a session still going
/// 进行中.
fn report_line(line: ReportRowView) -> impl IntoView {
    let ReportRowView {
        row,
        entered_at,
        agent_joined_at,
        ended_at,
    } = line;
    let end_reason = row.end_reason.map_or("进行中", |reason| reason.label());
    view! {
        <tr>
            <td class="mono">{row.buyer_external_id}</td>
            <td>{row.buyer_name}</td>
            <td>{row.buyer_unit}</td>
            <td>{row.agent_name.unwrap_or_default()}</td>
            <td class="mono">{row.agent_login.unwrap_or_default()}</td>
            <td>{date_time(entered_at)}</td>
            <td>{date_time(agent_joined_at)}</td>
            <td>{date_time(ended_at)}</td>
            <td class="num">{row.wait_secs}</td>
            <td class="num">{secs(row.session_secs)}</td>
            <td class="num">{secs(row.handling_secs)}</td>
            <td class="num">{secs(row.first_response_secs)}</td>
            <td class="num">{row.agent_msgs}</td>
            <td class="num">{row.buyer_msgs}</td>
            <td>{end_reason}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_durations_are_blank_and_missing_averages_a_dash() {
        assert_eq!(secs(None), "");
        assert_eq!(secs(Some(42)), "42");
        assert_eq!(avg(None), "—");
        assert_eq!(avg(Some(2.26)), "2.3");
    }

    #[test]
    fn messages_average_per_session_and_no_sessions_is_a_dash() {
        assert_eq!(per_row(7, 2), "3.5");
        assert_eq!(per_row(0, 0), "—");
    }
}
