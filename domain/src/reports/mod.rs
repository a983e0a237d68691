//! 在线会话清单 (§3.5): the session report, its column maths and its totals.
//!
//! One function, [`compute_row`], turns a conversation (with its buyer and agent) into a
//! [`ReportRow`]; the paged table ([`report_page`]) and the Excel export
//! ([`crate::reports::export::write_report_xlsx`]) both go through it and through the same filtered,
//! supplier-scoped query, so the two can never disagree. The durations inside it come from one
//! private `Timings::of`. The table's totals line is one aggregate query over the same filtered
//! rows (the private module `sql` writes the same maths as SQL expressions; a test holds it equal
//! to [`TotalsAccumulator`], which the export feeds row by row), so a page over a year of
//! conversations does not read them all.
//!
//! Times: t0 `entered_at` (buyer entered), t1 `agent_joined_at`, r1 `first_agent_reply_at`,
//! t2 `ended_at`, all unix milliseconds (UTC). A report shows them to the second in
//! Asia/Shanghai, and every duration is the difference of the shown times (each time truncated
//! to the second first), so a person who subtracts two shown times gets exactly the duration
//! shown — also in Excel, where the cells are real date-times.

pub mod export;

use std::collections::{BTreeSet, HashMap};

use chrono::{FixedOffset, NaiveDate, TimeZone};
use sea_orm::sea_query::{Condition, Func, LikeExpr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Select, SelectTwo,
};

use crate::DomainError;
use crate::entity::{account, buyer, conversation};

/// Longest time range one report or export may cover.
pub const MAX_RANGE_DAYS: i64 = 366;
/// Largest page of [`report_page`].
pub const MAX_PAGE_SIZE: u64 = 100;
/// Longest 客户编号 a filter may hold (the column is 64 characters).
pub const MAX_BUYER_EXTERNAL_ID_LEN: usize = 64;
/// Number of report columns (see [`columns`]).
pub const COLUMN_COUNT: usize = 15;
/// Asia/Shanghai is UTC+8 all year: China has not observed daylight saving time since 1991, and
/// every timestamp this system stores is later than that, so a fixed offset is exact.
pub const SHANGHAI_OFFSET_SECS: i32 = 8 * 3600;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Conversations read from the database per query when walking every filtered row with its
/// buyer and agent (the export): memory stays flat however many rows match.
pub(crate) const BATCH_SIZE: u64 = 1000;

/// What to report on: buyers who entered in `[from_ms, to_ms)`, optionally the buyers whose
/// 客户编号 starts with a given text (ignoring case) and one agent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// Start of the range (inclusive), unix ms.
    pub from_ms: i64,
    /// End of the range (exclusive), unix ms.
    pub to_ms: i64,
    /// The start of the buyers' 客户编号 (`cg10` finds CG1001 and CG1002; `%`, `_` and `\` are
    /// plain characters); surrounding blanks are ignored and a blank value means every buyer.
    pub buyer_external_id: Option<String>,
    /// An agent account of the same supplier: the conversations it served (or, not served yet,
    /// is assigned); `None` means every agent (and unserved buyers).
    pub agent_id: Option<i64>,
}

impl ReportFilter {
    /// Checks the filter's own rules: a non-empty range of at most [`MAX_RANGE_DAYS`] days and a
    /// 客户编号 of at most [`MAX_BUYER_EXTERNAL_ID_LEN`] characters. Whether the agent belongs to
    /// the supplier is checked by [`report_page`] and the export, which know the supplier.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.from_ms >= self.to_ms {
            return Err(DomainError::validation(
                "to_ms",
                "查询结束时间必须晚于开始时间",
            ));
        }
        if self.to_ms.saturating_sub(self.from_ms) > MAX_RANGE_DAYS * DAY_MS {
            return Err(DomainError::validation(
                "to_ms",
                format!("查询时间范围不能超过 {MAX_RANGE_DAYS} 天"),
            ));
        }
        if let Some(id) = self.buyer_external_id()
            && id.chars().count() > MAX_BUYER_EXTERNAL_ID_LEN
        {
            return Err(DomainError::validation(
                "buyer_external_id",
                format!("客户编号不能超过 {MAX_BUYER_EXTERNAL_ID_LEN} 个字符"),
            ));
        }
        Ok(())
    }

    /// The trimmed 客户编号, or `None` when absent or blank.
    pub fn buyer_external_id(&self) -> Option<&str> {
        self.buyer_external_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
    }
}

/// How a conversation ended (`conversation.end_reason`), with the report's Chinese labels
/// ([`EndReason::label`]): the one enum the chat and the report share.
pub use vocab::EndReason;

/// One line of the 在线会话清单: every column of SPEC §6, computed by [`compute_row`] (the
/// browser shows the same type).
pub use vocab::reports::ReportRow;

/// A unix-ms time truncated to the whole second it is shown as.
fn shown_secs(ms: i64) -> i64 {
    ms.div_euclid(1000)
}

/// Whole seconds from `from` to `to` as shown (each truncated to the second), never negative
/// (a clock that stepped back must not produce a negative duration).
fn secs_between(from_ms: i64, to_ms: i64) -> i64 {
    (shown_secs(to_ms) - shown_secs(from_ms)).max(0)
}

/// The four durations of a conversation: the report's maths, in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Timings {
    wait_secs: i64,
    session_secs: Option<i64>,
    handling_secs: Option<i64>,
    first_response_secs: Option<i64>,
}

impl Timings {
    /// From t0, t1, r1 and t2; `now_ms` stands in for t1 while the buyer is still waiting.
    fn of(t0: i64, t1: Option<i64>, r1: Option<i64>, t2: Option<i64>, now_ms: i64) -> Timings {
        let wait_secs = match (t1, t2) {
            (Some(t1), _) => secs_between(t0, t1),
            (None, Some(t2)) => secs_between(t0, t2),
            (None, None) => secs_between(t0, now_ms),
        };
        Timings {
            wait_secs,
            session_secs: t2.map(|t2| secs_between(t0, t2)),
            handling_secs: t1.zip(t2).map(|(t1, t2)| secs_between(t1, t2)),
            first_response_secs: t1.zip(r1).map(|(t1, r1)| secs_between(t1, r1)),
        }
    }
}

/// The one place a report line is computed, for the table and the export alike.
///
/// `agent` is the account of [`reported_agent_id`] (pass `None` when that is empty);
/// `now_ms` is only used for a buyer who is still waiting.
pub fn compute_row(
    conversation: &conversation::Model,
    buyer: &buyer::Model,
    agent: Option<&account::Model>,
    now_ms: i64,
) -> ReportRow {
    let t0 = conversation.entered_at;
    let t1 = conversation.agent_joined_at;
    let t2 = conversation.ended_at;
    let timings = Timings::of(t0, t1, conversation.first_agent_reply_at, t2, now_ms);
    ReportRow {
        conversation_id: conversation.id,
        buyer_external_id: buyer.external_id.clone(),
        buyer_name: buyer.name.clone(),
        buyer_unit: buyer.unit.clone(),
        agent_name: agent.map(|a| a.display_name.clone()),
        agent_login: agent.map(|a| a.login.clone()),
        entered_at: t0,
        agent_joined_at: t1,
        ended_at: t2,
        wait_secs: timings.wait_secs,
        session_secs: timings.session_secs,
        handling_secs: timings.handling_secs,
        first_response_secs: timings.first_response_secs,
        agent_msgs: message_count(conversation.agent_msg_count),
        buyer_msgs: message_count(conversation.buyer_msg_count),
        end_reason: conversation
            .end_reason
            .as_deref()
            .and_then(EndReason::parse),
    }
}

/// The agent a report line names: the one who served the conversation (set with t1 and kept when
/// a kick sends the buyer back to routing), else the one it is assigned to and not yet joined.
pub fn reported_agent_id(conversation: &conversation::Model) -> Option<i64> {
    conversation.served_agent_id.or(conversation.agent_id)
}

fn message_count(stored: i32) -> i64 {
    i64::from(stored.max(0))
}

/// Summary of a set of report rows (all filtered rows, not one page); the browser shows the
/// same type.
pub use vocab::reports::ReportTotals;

/// Builds [`ReportTotals`] one row at a time, so the export never holds every row.
#[derive(Clone, Debug, Default)]
pub struct TotalsAccumulator {
    count: u64,
    served: u64,
    wait: Mean,
    session: Mean,
    handling: Mean,
    first_response: Mean,
    agent_msgs: u64,
    buyer_msgs: u64,
}

#[derive(Clone, Copy, Debug, Default)]
struct Mean {
    sum: i128,
    n: u64,
}

impl Mean {
    fn push(&mut self, value: Option<i64>) {
        if let Some(value) = value {
            self.sum += i128::from(value);
            self.n += 1;
        }
    }

    fn get(self) -> Option<f64> {
        (self.n > 0).then(|| self.sum as f64 / self.n as f64)
    }
}

impl TotalsAccumulator {
    /// Counts one row in.
    pub fn push(&mut self, row: &ReportRow) {
        let timings = Timings {
            wait_secs: row.wait_secs,
            session_secs: row.session_secs,
            handling_secs: row.handling_secs,
            first_response_secs: row.first_response_secs,
        };
        self.push_parts(
            row.agent_joined_at.is_some(),
            timings,
            row.agent_msgs,
            row.buyer_msgs,
        );
    }

    fn push_parts(&mut self, served: bool, timings: Timings, agent_msgs: i64, buyer_msgs: i64) {
        self.count += 1;
        if served {
            self.served += 1;
        }
        self.wait.push(Some(timings.wait_secs));
        self.session.push(timings.session_secs);
        self.handling.push(timings.handling_secs);
        self.first_response.push(timings.first_response_secs);
        self.agent_msgs += agent_msgs.unsigned_abs();
        self.buyer_msgs += buyer_msgs.unsigned_abs();
    }

    /// The totals of the rows pushed so far.
    pub fn totals(&self) -> ReportTotals {
        ReportTotals {
            count: self.count,
            served: self.served,
            avg_wait_secs: self.wait.get(),
            avg_session_secs: self.session.get(),
            avg_handling_secs: self.handling.get(),
            avg_first_response_secs: self.first_response.get(),
            agent_msgs: self.agent_msgs,
            buyer_msgs: self.buyer_msgs,
        }
    }
}

/// The totals of `rows` (the same maths the report and the export use).
pub fn totals<'a>(rows: impl IntoIterator<Item = &'a ReportRow>) -> ReportTotals {
    let mut acc = TotalsAccumulator::default();
    for row in rows {
        acc.push(row);
    }
    acc.totals()
}

const COLUMNS: [(&str, &str); COLUMN_COUNT] = [
    ("客户编号", "采购人在商城的客户编号。"),
    ("客户名称", "采购人姓名。"),
    ("单位", "采购人所在的预算单位。"),
    (
        "客服姓名",
        "接待该会话的在线客服的姓名（客服进入时间所记的客服，其登录之后结束也不变；尚未进入时为分配到的客服）；会话从未分配给客服时为空。",
    ),
    (
        "客服工号",
        "该在线客服的登录账号（工号）；会话从未分配给客服时为空。",
    ),
    (
        "客户进入时间",
        "客户发起会话的时间（北京时间）。查询的时间范围按此时间筛选：含开始时间，不含结束时间。",
    ),
    (
        "客服进入时间",
        "客服第一次打开或回复该会话的时间；客服未接待时为空。",
    ),
    ("会话结束时间", "会话结束的时间；会话仍在进行时为空。"),
    (
        "客户等待时长(秒)",
        "客服进入时间 − 客户进入时间；客服未接待的会话为 会话结束时间 − 客户进入时间；仍在等待的客户为 统计时刻 − 客户进入时间。",
    ),
    (
        "会话时长(秒)",
        "会话结束时间 − 客户进入时间；会话未结束时为空。",
    ),
    (
        "处理时长(秒)",
        "会话结束时间 − 客服进入时间；客服未接待或会话未结束时为空。",
    ),
    (
        "首次响应时长(秒)",
        "客服第一条消息的时间 − 客服进入时间；客服未发过消息时为空。",
    ),
    ("人工介入数", "客服在该会话中发送的消息条数。"),
    ("客户消息数", "客户在该会话中发送的消息条数。"),
    (
        "结束方式",
        "客服结束：客服点击「结束对话」；客户结束：客户结束会话；超时结束：长时间无人发言，系统自动结束；剔除转接：客服登录被剔除，客户转由其他客服接待。会话未结束时为空。",
    ),
];

/// The report's columns in order: (Chinese header, definition for the 说明 sheet).
///
/// Durations are whole seconds between the times as shown (to the second), never negative.
pub fn columns() -> &'static [(&'static str, &'static str)] {
    &COLUMNS
}

/// The fixed Asia/Shanghai offset (see [`SHANGHAI_OFFSET_SECS`]).
pub fn shanghai() -> FixedOffset {
    const SHANGHAI: FixedOffset = match FixedOffset::east_opt(SHANGHAI_OFFSET_SECS) {
        Some(offset) => offset,
        None => panic!("UTC+8 is a valid offset"),
    };
    SHANGHAI
}

/// A unix-ms time as Asia/Shanghai wall time, `yyyy-mm-dd hh:mm:ss` (how every report shows it).
pub fn format_shanghai(ms: i64) -> String {
    shanghai()
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// Unix ms of 00:00:00 Asia/Shanghai on the given day, e.g. to turn a date picker's
/// `2026-11-01`–`2026-11-25` into `from_ms` = start of the 1st, `to_ms` = start of the 26th.
pub fn shanghai_day_start_ms(date: NaiveDate) -> i64 {
    let midnight_utc_ms = date
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp_millis();
    midnight_utc_ms - i64::from(SHANGHAI_OFFSET_SECS) * 1000
}

/// A filter that passed every check, with the agent it names loaded.
pub(crate) struct ResolvedFilter {
    pub from_ms: i64,
    pub to_ms: i64,
    pub buyer_external_id: Option<String>,
    pub agent: Option<account::Model>,
}

/// Validates `filter` and checks that its agent is an account of `supplier_id`.
pub(crate) async fn resolve_filter<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    filter: &ReportFilter,
) -> Result<ResolvedFilter, DomainError> {
    filter.validate()?;
    let agent = match filter.agent_id {
        None => None,
        Some(agent_id) => Some(
            account::Entity::find_by_id(agent_id)
                .filter(account::Column::SupplierId.eq(supplier_id))
                .one(db)
                .await?
                .ok_or_else(|| DomainError::validation("agent_id", "所选客服不存在"))?,
        ),
    };
    Ok(ResolvedFilter {
        from_ms: filter.from_ms,
        to_ms: filter.to_ms,
        buyer_external_id: filter.buyer_external_id().map(str::to_owned),
        agent,
    })
}

/// `LIKE 'text%'` with `%`, `_` and `\` in `text` taken literally (the escaping of 剔除登录's
/// search): `CG_1` finds `CG_1001`, not `CGX1001`.
fn starts_with_literally(text: &str) -> LikeExpr {
    let mut pattern = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape('\\')
}

/// The supplier's conversations matching `filter` (no order, no joins). Every value is a bound
/// parameter; the 客户编号 is matched through a sub-select on the supplier's own buyers, as a
/// prefix of `LOWER(external_id)` (PostgreSQL's LIKE minds case, SQLite's does not: lowering
/// both sides makes them agree).
fn scoped(supplier_id: i64, filter: &ResolvedFilter) -> Select<conversation::Entity> {
    // Scoped here: its `max` would shadow the integers' elsewhere in this module.
    use sea_orm::sea_query::ExprTrait;
    conversation::Entity::find()
        .filter(conversation::Column::SupplierId.eq(supplier_id))
        .filter(conversation::Column::EnteredAt.gte(filter.from_ms))
        .filter(conversation::Column::EnteredAt.lt(filter.to_ms))
        .apply_if(filter.agent.as_ref().map(|a| a.id), |q, agent_id| {
            // The agent of the line (see `reported_agent_id`), spelled exactly as the index
            // `ix_conversation_supplier_agent_entered` is, so that the database uses it.
            q.filter(sql::reported_agent().eq(agent_id))
        })
        .apply_if(filter.buyer_external_id.clone(), |q, external_id| {
            q.filter(
                conversation::Column::BuyerId.in_subquery(
                    Query::select()
                        .column(buyer::Column::Id)
                        .from(buyer::Entity)
                        .and_where(buyer::Column::SupplierId.eq(supplier_id))
                        .and_where(
                            Func::lower(sea_orm::sea_query::Expr::col((
                                buyer::Entity,
                                buyer::Column::ExternalId,
                            )))
                            .like(starts_with_literally(&external_id.to_lowercase())),
                        )
                        .to_owned(),
                ),
            )
        })
}

/// Report order: newest entry first, then newest conversation.
fn in_report_order<Q: QueryOrder>(query: Q) -> Q {
    query
        .order_by_desc(conversation::Column::EnteredAt)
        .order_by_desc(conversation::Column::Id)
}

/// Keyset pagination: the rows after `(entered_at, id)` in report order. `entered_at <= ?` on
/// its own lets the database seek the (supplier_id, entered_at) index; the OR then drops the
/// rows of that instant already visited.
fn after<Q: QueryFilter>(query: Q, (entered_at, id): (i64, i64)) -> Q {
    query
        .filter(conversation::Column::EnteredAt.lte(entered_at))
        .filter(
            Condition::any()
                .add(conversation::Column::EnteredAt.lt(entered_at))
                .add(conversation::Column::Id.lt(id)),
        )
}

/// The filtered conversations with their buyer, in report order.
fn filtered_query(
    supplier_id: i64,
    filter: &ResolvedFilter,
) -> SelectTwo<conversation::Entity, buyer::Entity> {
    in_report_order(scoped(supplier_id, filter).find_also_related(buyer::Entity))
}

type Joined = (conversation::Model, Option<buyer::Model>);

/// The report lines of a batch of conversations: their agents (see [`reported_agent_id`]) are
/// read in one query, from the supplier's own accounts.
async fn to_rows<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    batch: Vec<Joined>,
    now_ms: i64,
) -> Result<Vec<ReportRow>, DomainError> {
    let ids: BTreeSet<i64> = batch
        .iter()
        .filter_map(|(conversation, _)| reported_agent_id(conversation))
        .collect();
    let agents: HashMap<i64, account::Model> = if ids.is_empty() {
        HashMap::new()
    } else {
        account::Entity::find()
            .filter(account::Column::SupplierId.eq(supplier_id))
            .filter(account::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|agent| (agent.id, agent))
            .collect()
    };
    batch
        .into_iter()
        .map(|(conversation, buyer)| {
            let buyer = buyer.ok_or_else(|| {
                DomainError::Internal(format!("conversation {} has no buyer row", conversation.id))
            })?;
            let agent = reported_agent_id(&conversation).and_then(|id| agents.get(&id));
            Ok(compute_row(&conversation, &buyer, agent, now_ms))
        })
        .collect()
}

/// Walks every row matching `filter`, in report order, [`BATCH_SIZE`] conversations per query
/// (keyset pagination on `(entered_at, id)`, so rows inserted meanwhile neither repeat nor
/// shift the walk). Returns the number of rows visited.
pub(crate) async fn for_each_row<C, F>(
    db: &C,
    supplier_id: i64,
    filter: &ResolvedFilter,
    now_ms: i64,
    mut visit: F,
) -> Result<u64, DomainError>
where
    C: ConnectionTrait,
    F: FnMut(ReportRow) -> Result<(), DomainError>,
{
    let mut last: Option<(i64, i64)> = None;
    let mut visited = 0;
    loop {
        let batch = filtered_query(supplier_id, filter)
            .apply_if(last, after)
            .limit(BATCH_SIZE)
            .all(db)
            .await?;
        let full = batch.len() as u64 == BATCH_SIZE;
        if let Some((conversation, _)) = batch.last() {
            last = Some((conversation.entered_at, conversation.id));
        }
        for row in to_rows(db, supplier_id, batch, now_ms).await? {
            visit(row)?;
            visited += 1;
        }
        if !full {
            return Ok(visited);
        }
    }
}

/// The SQL of the report's maths, for the aggregate that gives the totals line. Each function
/// mirrors its Rust twin above, and `domain/tests/report_totals.rs` holds them equal.
mod sql {
    // Scoped here: its `max` would shadow the integers' elsewhere in this module.
    use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Func};

    use crate::entity::conversation::{Column, Entity};

    pub(super) fn col(column: Column) -> Expr {
        Expr::col((Entity, column))
    }

    /// [`super::reported_agent_id`]: `COALESCE(served_agent_id, agent_id)`.
    pub(super) fn reported_agent() -> Expr {
        Func::coalesce([col(Column::ServedAgentId), col(Column::AgentId)]).into()
    }

    /// Added to every time before dividing by 1000: it makes the time positive, so SQL's `/`
    /// (which truncates towards zero) rounds down as [`super::shown_secs`] does, for any time
    /// within 31,000 years of 1970; and, a multiple of 1000, it cancels in every difference.
    /// One addition instead of a `CASE` on the sign: the aggregate computes this per row.
    const SHIFT_MS: i64 = 1_000_000_000_000_000;

    /// [`super::shown_secs`] plus a constant (see [`SHIFT_MS`]); NULL stays NULL.
    fn shifted_secs(ms: Expr) -> Expr {
        ms.add(SHIFT_MS).div(1000)
    }

    /// [`super::secs_between`], to be summed: never negative. Where either time is NULL it is
    /// NULL on SQLite (its two-argument `MAX`) and 0 on PostgreSQL (`GREATEST` skips NULLs):
    /// the same to `SUM`. How many values a mean divides by is counted apart, from the columns
    /// (see [`present`]), which is also cheaper than a second pass over this expression.
    pub(super) fn secs_between(from: Expr, to: Expr) -> Expr {
        Func::greatest([shifted_secs(to).sub(shifted_secs(from)), Expr::val(0)]).into()
    }

    /// NULL when either time is NULL: `COUNT` of it counts the rows where both are present,
    /// i.e. where [`super::Timings`] has a value for the duration between them.
    pub(super) fn present(a: Expr, b: Expr) -> Expr {
        b.sub(a)
    }

    /// [`super::message_count`], to be summed: a stored count, never negative.
    pub(super) fn message_count(column: Column) -> Expr {
        Func::greatest([col(column), Expr::val(0)]).into()
    }

    /// `SUM` as a 64-bit integer on both databases (PostgreSQL's `SUM(bigint)` is `numeric`);
    /// NULL over no values.
    pub(super) fn sum(value: Expr) -> Expr {
        Func::cast_as(Func::sum(value), Alias::new("BIGINT")).into()
    }

    pub(super) fn count(value: Expr) -> Expr {
        Func::count(value).into()
    }

    pub(super) fn count_rows() -> Expr {
        Func::count(Expr::col(Asterisk)).into()
    }

    /// `COALESCE(a, b, …)`.
    pub(super) fn first_present(values: impl IntoIterator<Item = Expr>) -> Expr {
        Func::coalesce(values).into()
    }

    pub(super) fn value(ms: i64) -> Expr {
        Expr::val(ms)
    }
}

/// What the totals aggregate returns: the counts and the sums behind each mean.
#[derive(Debug, sea_orm::FromQueryResult)]
struct TotalsSums {
    count: i64,
    served: i64,
    wait_sum: Option<i64>,
    session_sum: Option<i64>,
    session_n: i64,
    handling_sum: Option<i64>,
    handling_n: i64,
    first_response_sum: Option<i64>,
    first_response_n: i64,
    agent_msgs: Option<i64>,
    buyer_msgs: Option<i64>,
}

impl Mean {
    fn of(sum: Option<i64>, n: i64) -> Mean {
        Mean {
            sum: i128::from(sum.unwrap_or(0)),
            n: u64::try_from(n).unwrap_or(0),
        }
    }
}

impl TotalsSums {
    fn totals(&self) -> ReportTotals {
        let whole = |n: Option<i64>| u64::try_from(n.unwrap_or(0)).unwrap_or(0);
        ReportTotals {
            count: whole(Some(self.count)),
            served: whole(Some(self.served)),
            avg_wait_secs: Mean::of(self.wait_sum, self.count).get(),
            avg_session_secs: Mean::of(self.session_sum, self.session_n).get(),
            avg_handling_secs: Mean::of(self.handling_sum, self.handling_n).get(),
            avg_first_response_secs: Mean::of(self.first_response_sum, self.first_response_n).get(),
            agent_msgs: whole(self.agent_msgs),
            buyer_msgs: whole(self.buyer_msgs),
        }
    }
}

/// The totals over every row matching `filter`, in one aggregate query: the same numbers as a
/// [`TotalsAccumulator`] fed every row by [`compute_row`] (the durations from the times as
/// shown, a waiting buyer measured to `now_ms`, a mean over the rows that have the value), but
/// the database reads the rows where they lie and sends back one line, whatever their number.
async fn filtered_totals<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    filter: &ResolvedFilter,
    now_ms: i64,
) -> Result<ReportTotals, DomainError> {
    use conversation::Column::{AgentJoinedAt, EndedAt, EnteredAt, FirstAgentReplyAt};
    let (t0, t1, r1, t2) = (
        sql::col(EnteredAt),
        sql::col(AgentJoinedAt),
        sql::col(FirstAgentReplyAt),
        sql::col(EndedAt),
    );
    // `Timings::of`: the wait runs to t1, else t2, else now.
    let wait = sql::secs_between(
        t0.clone(),
        sql::first_present([t1.clone(), t2.clone(), sql::value(now_ms)]),
    );
    let session = sql::secs_between(t0, t2.clone());
    let handling = sql::secs_between(t1.clone(), t2.clone());
    let first_response = sql::secs_between(t1.clone(), r1.clone());
    let sums = scoped(supplier_id, filter)
        .select_only()
        .expr_as(sql::count_rows(), "count")
        .expr_as(sql::count(t1.clone()), "served")
        .expr_as(sql::sum(wait), "wait_sum")
        .expr_as(sql::sum(session), "session_sum")
        .expr_as(sql::count(t2.clone()), "session_n")
        .expr_as(sql::sum(handling), "handling_sum")
        .expr_as(sql::count(sql::present(t1.clone(), t2)), "handling_n")
        .expr_as(sql::sum(first_response), "first_response_sum")
        .expr_as(sql::count(sql::present(t1, r1)), "first_response_n")
        .expr_as(
            sql::sum(sql::message_count(conversation::Column::AgentMsgCount)),
            "agent_msgs",
        )
        .expr_as(
            sql::sum(sql::message_count(conversation::Column::BuyerMsgCount)),
            "buyer_msgs",
        )
        .into_model::<TotalsSums>()
        .one(db)
        .await?
        .ok_or_else(|| DomainError::Internal("the totals query returned no row".to_owned()))?;
    Ok(sums.totals())
}

/// One page of the supplier's 在线会话清单: the rows of `page` (1-based, `page_size` of
/// 1..=[`MAX_PAGE_SIZE`]), newest entry first; the number of rows matching `filter`; and the
/// totals over all of them (not just this page). A page past the end is empty.
///
/// Refused with `Validation` when the filter breaks a rule (see [`ReportFilter::validate`]),
/// names an agent of another supplier, or the paging is out of range.
pub async fn report_page<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    filter: &ReportFilter,
    page: u64,
    page_size: u64,
    now_ms: i64,
) -> Result<(Vec<ReportRow>, u64, ReportTotals), DomainError> {
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(DomainError::validation(
            "page_size",
            format!("每页条数必须在 1 到 {MAX_PAGE_SIZE} 之间"),
        ));
    }
    let offset = page
        .checked_sub(1)
        .and_then(|p| p.checked_mul(page_size))
        .ok_or_else(|| DomainError::validation("page", "页码无效"))?;
    let filter = resolve_filter(db, supplier_id, filter).await?;
    let totals = filtered_totals(db, supplier_id, &filter, now_ms).await?;
    let total_rows = totals.count;

    let rows = if offset >= total_rows {
        Vec::new()
    } else {
        let batch = filtered_query(supplier_id, &filter)
            .offset(offset)
            .limit(page_size)
            .all(db)
            .await?;
        to_rows(db, supplier_id, batch, now_ms).await?
    };
    Ok((rows, total_rows, totals))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(from_ms: i64, to_ms: i64) -> ReportFilter {
        ReportFilter {
            from_ms,
            to_ms,
            ..Default::default()
        }
    }

    #[test]
    fn range_rules() {
        assert!(filter(0, 1).validate().is_ok());
        assert!(filter(0, MAX_RANGE_DAYS * DAY_MS).validate().is_ok());
        let err = filter(0, MAX_RANGE_DAYS * DAY_MS + 1)
            .validate()
            .expect_err("367 days");
        assert_eq!(err.user_message(), "查询时间范围不能超过 366 天");
        assert!(filter(5, 5).validate().is_err());
        assert!(filter(6, 5).validate().is_err());
        assert!(filter(i64::MIN, i64::MAX).validate().is_err());
    }

    #[test]
    fn buyer_id_is_trimmed_and_blank_means_all() {
        let mut f = filter(0, 1);
        f.buyer_external_id = Some("  CG1001 ".into());
        assert_eq!(f.buyer_external_id(), Some("CG1001"));
        f.buyer_external_id = Some("   ".into());
        assert_eq!(f.buyer_external_id(), None);
        f.buyer_external_id = Some(format!(" {} ", "编".repeat(64)));
        assert!(f.validate().is_ok());
        f.buyer_external_id = Some("编".repeat(65));
        assert!(f.validate().is_err());
    }

    #[test]
    fn durations_use_the_shown_seconds() {
        // 10:00:00.900 → 10:00:02.100 is shown as 10:00:00 → 10:00:02: 2 s, not 1.
        assert_eq!(secs_between(900, 2_100), 2);
        assert_eq!(secs_between(2_100, 900), 0);
        assert_eq!(secs_between(-1, 0), 1);
    }

    #[test]
    fn shanghai_wall_time() {
        // 2026-11-20 15:30:00 UTC is 23:30 in Shanghai.
        let ms = chrono::DateTime::parse_from_rfc3339("2026-11-20T15:30:00Z")
            .map(|t| t.timestamp_millis())
            .unwrap_or_default();
        assert_eq!(format_shanghai(ms), "2026-11-20 23:30:00");
        let day = NaiveDate::from_ymd_opt(2026, 11, 21).unwrap_or_default();
        assert_eq!(
            format_shanghai(shanghai_day_start_ms(day)),
            "2026-11-21 00:00:00"
        );
    }

    #[test]
    fn end_reason_codes_round_trip() {
        for reason in EndReason::ALL {
            assert_eq!(EndReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(EndReason::parse("other"), None);
        let labels: Vec<_> = EndReason::ALL.iter().map(|r| r.label()).collect();
        assert_eq!(labels, ["客服结束", "客户结束", "超时结束", "剔除转接"]);
    }
}
