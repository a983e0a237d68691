use serde::{Deserialize, Serialize};

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

#[cfg(feature = "ssr")]
pub use resolve::{parse_day, resolve_query};

#[cfg(feature = "ssr")]
mod resolve {
    use chrono::{Days, NaiveDate};
    use domain::reports::{ReportFilter, shanghai, shanghai_day_start_ms};

    use super::ReportQuery;
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
}
