use serde::{Deserialize, Serialize};

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
    use domain::reports::shanghai_day_start_ms;

    use crate::error::AppError;
    use crate::reports::parse_day;

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
