//! 在线会话清单 (manual §3.5), the session report: its wire types, the server function that
//! reads a page of it, and the page. The form's text becomes a domain filter in one place
//! ([`resolve_query`]), shared by the table and the 导出 download.

mod query;
mod report_filter;
mod report_table;
mod session_report_page;

pub use query::ReportQuery;
#[cfg(feature = "ssr")]
pub use query::{parse_day, resolve_query};
pub use session_report_page::SessionReportPage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Rows per page of the report table.
pub const REPORT_PAGE_SIZE: u64 = 20;

/// One row of the table: the domain's row, with its times as Beijing time text (the browser
/// has no time zone database).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRowView {
    /// Every column as the domain computed it.
    pub row: ReportRow,
    /// 客户进入时间, `yyyy-mm-dd hh:mm:ss`.
    pub entered_at: String,
    /// 客服进入时间; empty when no agent joined.
    pub agent_joined_at: String,
    /// 会话结束时间; empty while the conversation goes on.
    pub ended_at: String,
}

/// A report row and the totals/averages line over every filtered row: the domain's own types.
pub use vocab::reports::{ReportRow, ReportTotals};

/// A page of the report, with the filter actually applied (so the form can show it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportData {
    pub query: ReportQuery,
    pub rows: Vec<ReportRowView>,
    pub total: u64,
    pub page_size: u64,
    pub totals: ReportTotals,
}

/// 在线会话清单: one page of the report with totals over every filtered row.
#[server(prefix = "/api", endpoint = "admin/session_report")]
pub async fn session_report(query: ReportQuery) -> Result<ReportData, AppError> {
    let (session, state) = crate::state::admin_context().await?;
    let now = domain::db::now_ms();
    let (filter, applied) = resolve_query(&query, now)?;
    let (db, supplier_id, page) = (&state.auth.db, session.supplier_id, applied.page);
    let found =
        domain::reports::report_page(db, supplier_id, &filter, page, REPORT_PAGE_SIZE, now).await?;
    Ok(report_data(applied, found))
}

#[cfg(feature = "ssr")]
use convert::report_data;

#[cfg(feature = "ssr")]
mod convert {
    use domain::reports::format_shanghai;

    use super::*;

    /// The report page as the browser gets it, from the domain's (rows, total, totals).
    pub fn report_data(
        query: ReportQuery,
        (rows, total, totals): (Vec<ReportRow>, u64, ReportTotals),
    ) -> ReportData {
        ReportData {
            query,
            rows: rows.into_iter().map(row_view).collect(),
            total,
            page_size: REPORT_PAGE_SIZE,
            totals,
        }
    }

    fn row_view(row: ReportRow) -> ReportRowView {
        let time = |ms: Option<i64>| ms.map(format_shanghai).unwrap_or_default();
        ReportRowView {
            entered_at: format_shanghai(row.entered_at),
            agent_joined_at: time(row.agent_joined_at),
            ended_at: time(row.ended_at),
            row,
        }
    }
}
