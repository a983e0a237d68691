//! The 在线会话清单's rows and its totals line: computed by the domain, shown by the browser as
//! they are.

use serde::{Deserialize, Serialize};

use crate::EndReason;

/// One line of the 在线会话清单: every column of SPEC §6, computed by the domain's `compute_row`.
///
/// Times are unix ms (UTC); durations are whole seconds, never negative.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    /// The conversation this line is about (not a report column; a stable key for tables).
    pub conversation_id: i64,
    /// 客户编号.
    pub buyer_external_id: String,
    /// 客户名称.
    pub buyer_name: String,
    /// 单位.
    pub buyer_unit: String,
    /// 客服姓名: the agent who served the conversation (or, not joined yet, it is assigned to);
    /// `None` if it never reached one.
    pub agent_name: Option<String>,
    /// 客服工号 (the agent's login).
    pub agent_login: Option<String>,
    /// 客户进入时间 (t0).
    pub entered_at: i64,
    /// 客服进入时间 (t1).
    pub agent_joined_at: Option<i64>,
    /// 会话结束时间 (t2).
    pub ended_at: Option<i64>,
    /// 客户等待时长: t1 − t0; t2 − t0 if never served; now − t0 while still waiting.
    pub wait_secs: i64,
    /// 会话时长: t2 − t0 (needs t2).
    pub session_secs: Option<i64>,
    /// 处理时长: t2 − t1 (needs both).
    pub handling_secs: Option<i64>,
    /// 首次响应时长: r1 − t1 (needs both).
    pub first_response_secs: Option<i64>,
    /// 人工介入数: messages sent by the agent.
    pub agent_msgs: i64,
    /// 客户消息数: messages sent by the buyer.
    pub buyer_msgs: i64,
    /// 结束方式; `None` while the conversation is still going.
    pub end_reason: Option<EndReason>,
}

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
