//! 在线会话清单's wire types and the one place that turns the form's text into a domain filter,
//! shared by the table's server function and the export download.

use serde::{Deserialize, Serialize};

/// Rows per page of the report table.
pub const REPORT_PAGE_SIZE: u64 = 20;

/// The report form as the browser sends it (dates as `YYYY-MM-DD`, Asia/Shanghai).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportQuery {
    /// `today`, `7d` or `30d` picks the range and ignores `from`/`to`; empty uses them.
    #[serde(default)]
    pub preset: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// The start of the 客户编号 (any case), blank for all.
    #[serde(default)]
    pub buyer: String,
    /// Agent account id, blank for all.
    #[serde(default)]
    pub agent: String,
    #[serde(default)]
    pub page: u64,
}

impl ReportQuery {
    /// The export download's query string for this filter (all pages).
    pub fn export_href(&self) -> String {
        use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
        let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        format!(
            "/admin/sessions/export?from={}&to={}&buyer={}&agent={}",
            enc(&self.from),
            enc(&self.to),
            enc(&self.buyer),
            enc(&self.agent)
        )
    }
}

/// One row of the table, formatted for display; durations in whole seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRowView {
    pub id: i64,
    pub buyer_external_id: String,
    pub buyer_name: String,
    pub buyer_unit: String,
    pub agent_name: String,
    pub agent_login: String,
    pub entered_at: String,
    pub agent_joined_at: String,
    pub ended_at: String,
    pub wait_secs: i64,
    pub session_secs: Option<i64>,
    pub handling_secs: Option<i64>,
    pub first_response_secs: Option<i64>,
    pub agent_msgs: i64,
    pub buyer_msgs: i64,
    pub end_reason: String,
}

/// The totals/averages line over every filtered row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportTotalsView {
    pub count: u64,
    pub served: u64,
    pub avg_wait_secs: Option<f64>,
    pub avg_session_secs: Option<f64>,
    pub avg_handling_secs: Option<f64>,
    pub avg_first_response_secs: Option<f64>,
    pub agent_msgs: u64,
    pub buyer_msgs: u64,
}

/// A page of the report, with the filter actually applied (so the form can show it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    pub query: ReportQuery,
    pub rows: Vec<ReportRowView>,
    pub total: u64,
    pub page_size: u64,
    pub totals: ReportTotalsView,
}

#[cfg(feature = "ssr")]
pub use server::*;

#[cfg(feature = "ssr")]
mod server {
    use chrono::{Days, NaiveDate};
    use domain::report::{
        ReportFilter, ReportRow, ReportTotals, format_shanghai, shanghai, shanghai_day_start_ms,
    };

    use super::*;
    use crate::error::AppError;

    /// A day typed as `2026-12-01` (also `2026/12/01`, `2026.12.1` or `2026年12月1日`), Asia/Shanghai;
    /// `None` when blank. `field` names the form field an error points at.
    pub fn parse_day(
        text: &str,
        what: &str,
        field: &'static str,
    ) -> Result<Option<NaiveDate>, AppError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let normalized: String = text
            .trim_end_matches('日')
            .chars()
            .map(|c| {
                if matches!(c, '/' | '.' | '年' | '月') {
                    '-'
                } else {
                    c
                }
            })
            .collect();
        NaiveDate::parse_from_str(&normalized, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                AppError::invalid(
                    Some(field),
                    format!("{what}格式不正确，应为 年-月-日，例如 2026-12-01"),
                )
            })
    }

    /// Resolves the form into a domain filter and the query as applied (dates filled in).
    /// Every value is checked here or in the domain; nothing reaches SQL as text.
    pub fn resolve_query(
        query: &ReportQuery,
        now_ms: i64,
    ) -> Result<(ReportFilter, ReportQuery), AppError> {
        let today = chrono::DateTime::from_timestamp_millis(now_ms)
            .ok_or(AppError::Internal)?
            .with_timezone(&shanghai())
            .date_naive();
        let back = |days: u64| {
            today
                .checked_sub_days(Days::new(days))
                .ok_or(AppError::Internal)
        };
        let parse = |text: &str, what: &str, field: &'static str| {
            parse_day(text, what, field)?.ok_or_else(|| {
                AppError::invalid(Some(field), format!("请填写{what}，例如 2026-12-01"))
            })
        };
        let (from, to) = match query.preset.as_str() {
            "today" => (today, today),
            "7d" => (back(6)?, today),
            "30d" => (back(29)?, today),
            "" if query.from.trim().is_empty() && query.to.trim().is_empty() => (back(6)?, today),
            "" => (
                parse(&query.from, "开始日期", "from")?,
                parse(&query.to, "结束日期", "to")?,
            ),
            _ => return Err(AppError::invalid(Some("preset"), "未知的时间范围")),
        };
        if to < from {
            return Err(AppError::invalid(Some("to"), "结束日期不能早于开始日期"));
        }
        let end = to
            .checked_add_days(Days::new(1))
            .ok_or(AppError::Internal)?;
        let buyer = query.buyer.trim().to_owned();
        let agent_id = match query.agent.trim() {
            "" => None,
            id => Some(
                id.parse::<i64>()
                    .map_err(|_| AppError::invalid(Some("agent"), "客服选择无效"))?,
            ),
        };
        let filter = ReportFilter {
            from_ms: shanghai_day_start_ms(from),
            to_ms: shanghai_day_start_ms(end),
            buyer_external_id: (!buyer.is_empty()).then(|| buyer.clone()),
            agent_id,
        };
        filter.validate()?;
        let applied = ReportQuery {
            preset: String::new(),
            from: from.format("%Y-%m-%d").to_string(),
            to: to.format("%Y-%m-%d").to_string(),
            buyer,
            agent: agent_id.map(|a| a.to_string()).unwrap_or_default(),
            page: query.page.max(1),
        };
        Ok((filter, applied))
    }

    pub fn row_view(row: ReportRow) -> ReportRowView {
        let time = |ms: Option<i64>| ms.map(format_shanghai).unwrap_or_default();
        ReportRowView {
            id: row.conversation_id,
            buyer_external_id: row.buyer_external_id,
            buyer_name: row.buyer_name,
            buyer_unit: row.buyer_unit,
            agent_name: row.agent_name.unwrap_or_default(),
            agent_login: row.agent_login.unwrap_or_default(),
            entered_at: format_shanghai(row.entered_at),
            agent_joined_at: time(row.agent_joined_at),
            ended_at: time(row.ended_at),
            wait_secs: row.wait_secs,
            session_secs: row.session_secs,
            handling_secs: row.handling_secs,
            first_response_secs: row.first_response_secs,
            agent_msgs: row.agent_msgs,
            buyer_msgs: row.buyer_msgs,
            end_reason: row
                .end_reason
                .map(|r| r.label().to_owned())
                .unwrap_or_else(|| "进行中".into()),
        }
    }

    pub fn totals_view(t: ReportTotals) -> ReportTotalsView {
        ReportTotalsView {
            count: t.count,
            served: t.served,
            avg_wait_secs: t.avg_wait_secs,
            avg_session_secs: t.avg_session_secs,
            avg_handling_secs: t.avg_handling_secs,
            avg_first_response_secs: t.avg_first_response_secs,
            agent_msgs: t.agent_msgs,
            buyer_msgs: t.buyer_msgs,
        }
    }
}
