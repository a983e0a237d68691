//! The totals line of the 在线会话清单: computed by the domain, shown by the browser as it is.

use serde::{Deserialize, Serialize};

/// Summary of a set of report rows (all filtered rows, not one page).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportTotals {
    /// Number of conversations.
    pub count: u64,
    /// Conversations an agent joined (客服进入时间 present).
    pub served: u64,
    /// Mean 客户等待时长 in seconds, over every row.
    pub avg_wait_secs: Option<f64>,
    /// Mean 会话时长 over the rows that have one (ended).
    pub avg_session_secs: Option<f64>,
    /// Mean 处理时长 over the rows that have one (served and ended).
    pub avg_handling_secs: Option<f64>,
    /// Mean 首次响应时长 over the rows that have one (the agent wrote).
    pub avg_first_response_secs: Option<f64>,
    /// Sum of 人工介入数.
    pub agent_msgs: u64,
    /// Sum of 客户消息数.
    pub buyer_msgs: u64,
}
