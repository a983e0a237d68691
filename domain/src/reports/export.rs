//! 导出: the 在线会话清单 as an .xlsx workbook (SPEC §6).
//!
//! The rows come from the same supplier-scoped, filtered query and the same
//! [`compute_row`](crate::reports::compute_row) as the paged table, read in batches of 1000 and
//! written by a constant-memory worksheet (each row goes to a temporary file beside the target as
//! soon as the next one starts), so memory does not grow with the number of rows.
//!
//! Workbook layout: sheet 在线会话清单 with Chinese headers (bold, filled, frozen, with an
//! autofilter over the data), date-times as real Excel date-time cells in Asia/Shanghai,
//! durations and counts as numbers and blanks as empty cells; sheet 说明 with each column's
//! definition, the filter used, the totals and when the file was made.

use std::path::{Path, PathBuf};

use rust_xlsxwriter::{
    Color, ExcelDateTime, Format, FormatAlign, FormatBorder, RowNum, Workbook, Worksheet, XlsxError,
};
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::DomainError;
use crate::accounts::account_label;
use crate::entity::supplier;
use crate::reports::{
    self, COLUMN_COUNT, ReportFilter, ReportRow, ReportTotals, SHANGHAI_OFFSET_SECS,
    TotalsAccumulator, format_shanghai, shanghai,
};

/// Name of the data sheet.
pub const DATA_SHEET: &str = "在线会话清单";
/// Name of the sheet that explains the columns and the filter.
pub const NOTES_SHEET: &str = "说明";
/// Most data rows one worksheet can hold (Excel's 1,048,576 rows less the header).
pub const MAX_EXPORT_ROWS: u64 = 1_048_575;

/// Column widths in Excel character units, wide enough for the Chinese headers plus the
/// autofilter button, and for `yyyy-mm-dd hh:mm:ss` (a CJK character is two units wide).
const COLUMN_WIDTHS: [f64; COLUMN_COUNT] = [
    14.0, // 客户编号
    12.0, // 客户名称
    30.0, // 单位
    12.0, // 客服姓名
    12.0, // 客服工号
    21.0, // 客户进入时间
    21.0, // 客服进入时间
    21.0, // 会话结束时间
    19.0, // 客户等待时长(秒)
    15.0, // 会话时长(秒)
    15.0, // 处理时长(秒)
    19.0, // 首次响应时长(秒)
    14.0, // 人工介入数
    14.0, // 客户消息数
    12.0, // 结束方式
];

const DATETIME_FORMAT: &str = "yyyy-mm-dd hh:mm:ss";

/// What an export wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportSummary {
    /// Data rows written (the header not counted).
    pub rows: u64,
    /// Totals over those rows (also written to the 说明 sheet).
    pub totals: ReportTotals,
}

struct Formats {
    header: Format,
    datetime: Format,
    title: Format,
    wrap: Format,
    average: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new()
                .set_bold()
                .set_background_color(Color::RGB(0xDDEBF7))
                .set_border(FormatBorder::Thin)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter),
            datetime: Format::new().set_num_format(DATETIME_FORMAT),
            title: Format::new().set_bold().set_font_size(14),
            wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
            average: Format::new().set_num_format("0.0"),
        }
    }
}

fn xlsx_error(err: XlsxError) -> DomainError {
    DomainError::Internal(format!("xlsx export: {err}"))
}

/// A unix-ms time as an Excel date-time holding the Asia/Shanghai wall time, to the second.
///
/// Asia/Shanghai has been UTC+8 without daylight saving time since 1991, so adding a fixed
/// eight hours is exact for every time this system stores; Excel date-times carry no zone.
fn excel_time(ms: i64) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_timestamp(ms.div_euclid(1000) + i64::from(SHANGHAI_OFFSET_SECS))
}

fn write_opt_string(
    sheet: &mut Worksheet,
    row: RowNum,
    col: u16,
    value: Option<&str>,
) -> Result<(), XlsxError> {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        sheet.write_string(row, col, value)?;
    }
    Ok(())
}

fn write_opt_time(
    sheet: &mut Worksheet,
    row: RowNum,
    col: u16,
    ms: Option<i64>,
    formats: &Formats,
) -> Result<(), XlsxError> {
    if let Some(ms) = ms {
        sheet.write_datetime_with_format(row, col, excel_time(ms)?, &formats.datetime)?;
    }
    Ok(())
}

fn write_opt_number(
    sheet: &mut Worksheet,
    row: RowNum,
    col: u16,
    value: Option<i64>,
) -> Result<(), XlsxError> {
    if let Some(value) = value {
        // Exact: durations and counts are far below 2^53.
        sheet.write_number(row, col, value as f64)?;
    }
    Ok(())
}

/// Writes one report line; the cells follow [`reports::columns`] one for one.
fn write_data_row(
    sheet: &mut Worksheet,
    r: RowNum,
    row: &ReportRow,
    formats: &Formats,
) -> Result<(), XlsxError> {
    write_opt_string(sheet, r, 0, Some(&row.buyer_external_id))?;
    write_opt_string(sheet, r, 1, Some(&row.buyer_name))?;
    write_opt_string(sheet, r, 2, Some(&row.buyer_unit))?;
    write_opt_string(sheet, r, 3, row.agent_name.as_deref())?;
    write_opt_string(sheet, r, 4, row.agent_login.as_deref())?;
    write_opt_time(sheet, r, 5, Some(row.entered_at), formats)?;
    write_opt_time(sheet, r, 6, row.agent_joined_at, formats)?;
    write_opt_time(sheet, r, 7, row.ended_at, formats)?;
    write_opt_number(sheet, r, 8, Some(row.wait_secs))?;
    write_opt_number(sheet, r, 9, row.session_secs)?;
    write_opt_number(sheet, r, 10, row.handling_secs)?;
    write_opt_number(sheet, r, 11, row.first_response_secs)?;
    write_opt_number(sheet, r, 12, Some(row.agent_msgs))?;
    write_opt_number(sheet, r, 13, Some(row.buyer_msgs))?;
    write_opt_string(sheet, r, 14, row.end_reason.map(|reason| reason.label()))?;
    Ok(())
}

/// Writes the supplier's 在线会话清单 rows matching `filter` to an .xlsx file at `path`
/// (created or replaced), and returns how many rows it wrote.
///
/// Exactly the rows [`report_page`](crate::reports::report_page) would list for the same
/// arguments, in the same order (newest entry first). The filter is checked the same way
/// (`Validation` for a bad range, 客户编号 or an agent of another supplier); more than
/// [`MAX_EXPORT_ROWS`] rows is refused. `now_ms` is the generation time shown in 说明 and the
/// "now" of buyers still waiting. Temporary files go in `path`'s directory.
pub async fn write_report_xlsx<C: ConnectionTrait>(
    db: &C,
    supplier_id: i64,
    filter: &ReportFilter,
    now_ms: i64,
    path: &Path,
) -> Result<ExportSummary, DomainError> {
    let resolved = reports::resolve_filter(db, supplier_id, filter).await?;
    let supplier = supplier::Entity::find_by_id(supplier_id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;

    let formats = Formats::new();
    let mut workbook = Workbook::new();
    // Beside the target rather than in /tmp, which may be a RAM disk.
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    workbook.set_tempdir(&dir).map_err(xlsx_error)?;

    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(xlsx_error)?;
    sheet.set_name(DATA_SHEET).map_err(xlsx_error)?;
    for (col, ((header, _), width)) in reports::columns().iter().zip(COLUMN_WIDTHS).enumerate() {
        let col = col as u16;
        sheet.set_column_width(col, width).map_err(xlsx_error)?;
        sheet
            .write_string_with_format(0, col, *header, &formats.header)
            .map_err(xlsx_error)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;

    let mut totals = TotalsAccumulator::default();
    let mut last_row: RowNum = 0;
    let rows = reports::for_each_row(db, supplier_id, &resolved, now_ms, |row| {
        if u64::from(last_row) >= MAX_EXPORT_ROWS {
            return Err(DomainError::validation(
                "to_ms",
                "导出行数超过 Excel 的上限，请缩小查询时间范围",
            ));
        }
        last_row += 1;
        write_data_row(sheet, last_row, &row, &formats).map_err(xlsx_error)?;
        totals.push(&row);
        Ok(())
    })
    .await?;
    sheet
        .autofilter(0, 0, last_row, (COLUMN_COUNT - 1) as u16)
        .map_err(xlsx_error)?;

    let totals = totals.totals();
    write_notes(
        workbook.add_worksheet(),
        &supplier.name,
        &resolved,
        rows,
        &totals,
        now_ms,
        &formats,
    )
    .map_err(xlsx_error)?;
    workbook
        .worksheet_from_index(0)
        .map_err(xlsx_error)?
        .set_active(true);

    // Zipping the parts is blocking file work: keep it off the async workers.
    let target = path.to_path_buf();
    tokio::task::spawn_blocking(move || workbook.save(&target))
        .await
        .map_err(|err| DomainError::Internal(format!("xlsx export task: {err}")))?
        .map_err(xlsx_error)?;
    Ok(ExportSummary { rows, totals })
}

/// The 说明 sheet: column definitions, the filter used, totals and generation time.
fn write_notes(
    sheet: &mut Worksheet,
    supplier_name: &str,
    filter: &reports::ResolvedFilter,
    rows: u64,
    totals: &ReportTotals,
    now_ms: i64,
    formats: &Formats,
) -> Result<(), XlsxError> {
    sheet.set_name(NOTES_SHEET)?;
    sheet.set_column_width(0, 22)?;
    sheet.set_column_width(1, 90)?;
    sheet.write_string_with_format(0, 0, "在线会话清单 说明", &formats.title)?;

    let mut r: RowNum = 2;
    header_row(sheet, r, ["列名", "说明"], formats)?;
    for (header, definition) in reports::columns() {
        r += 1;
        sheet.write_string(r, 0, *header)?;
        sheet.write_string_with_format(r, 1, *definition, &formats.wrap)?;
    }
    r += 1;
    sheet.write_string_with_format(
        r,
        1,
        "所有时间均为北京时间（UTC+8）；时长单位为秒，取显示到秒的两个时间之差。",
        &formats.wrap,
    )?;

    r += 2;
    header_row(sheet, r, ["筛选条件", ""], formats)?;
    let range = format!(
        "{} 至 {}（含开始时间，不含结束时间）",
        format_shanghai(filter.from_ms),
        format_shanghai(filter.to_ms)
    );
    let agent = filter
        .agent
        .as_ref()
        .map(account_label)
        .unwrap_or_else(|| "全部".to_owned());
    let lines: [(&str, String); 5] = [
        ("供应商", supplier_name.to_owned()),
        ("客户进入时间", range),
        (
            "客户编号",
            filter
                .buyer_external_id
                .as_ref()
                .map(|id| format!("以 {id} 开头（不区分大小写）"))
                .unwrap_or_else(|| "全部".to_owned()),
        ),
        ("客服", agent),
        ("导出时间", format_shanghai(now_ms)),
    ];
    for (label, value) in lines {
        r += 1;
        sheet.write_string(r, 0, label)?;
        sheet.write_string(r, 1, value)?;
    }

    let counts = [
        ("会话数", rows),
        ("已接待会话数", totals.served),
        ("人工介入数合计", totals.agent_msgs),
        ("客户消息数合计", totals.buyer_msgs),
    ]
    .map(|(label, value)| (label, Some(value as f64)));
    r = number_section(sheet, r, "合计", counts, None, formats)?;
    // Averages are not totals: their own section, so nobody reads them as sums.
    let averages = [
        ("平均客户等待时长(秒)", totals.avg_wait_secs),
        ("平均会话时长(秒)", totals.avg_session_secs),
        ("平均处理时长(秒)", totals.avg_handling_secs),
        ("平均首次响应时长(秒)", totals.avg_first_response_secs),
    ];
    number_section(
        sheet,
        r,
        "平均值",
        averages,
        Some(&formats.average),
        formats,
    )?;
    Ok(())
}

/// A section of the 说明 sheet two rows below row `r`: its header row `title`, then a row per
/// label with its number (in `format`, or plain; left empty when there is none). Returns the
/// section's last row.
fn number_section<const N: usize>(
    sheet: &mut Worksheet,
    mut r: RowNum,
    title: &str,
    rows: [(&str, Option<f64>); N],
    format: Option<&Format>,
    formats: &Formats,
) -> Result<RowNum, XlsxError> {
    r += 2;
    header_row(sheet, r, [title, ""], formats)?;
    for (label, value) in rows {
        r += 1;
        sheet.write_string(r, 0, label)?;
        match (value, format) {
            (Some(value), Some(format)) => {
                sheet.write_number_with_format(r, 1, value, format)?;
            }
            (Some(value), None) => {
                sheet.write_number(r, 1, value)?;
            }
            (None, _) => {}
        }
    }
    Ok(r)
}

/// A section's header row on the 说明 sheet: two cells in the header format.
fn header_row(
    sheet: &mut Worksheet,
    r: RowNum,
    cells: [&str; 2],
    formats: &Formats,
) -> Result<(), XlsxError> {
    for (c, text) in (0..).zip(cells) {
        sheet.write_string_with_format(r, c, text, &formats.header)?;
    }
    Ok(())
}

/// Characters Windows, macOS or Linux refuse (or treat specially) in a file name.
fn allowed_in_file_name(c: char) -> bool {
    !c.is_control() && !matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
}

/// The download name of an export, e.g. `在线会话清单_示例农产品供应商_20261101-20261125.xlsx`.
///
/// The dates are the first and last Shanghai day of `[from_ms, to_ms)` (the end is exclusive, so
/// a range ending at midnight ends on the day before). Characters not allowed in file names are
/// dropped from the supplier name.
pub fn export_file_name(supplier_name: &str, from_ms: i64, to_ms: i64) -> String {
    let name: String = supplier_name
        .chars()
        .filter(|c| allowed_in_file_name(*c))
        .collect();
    // Windows also refuses names ending in a dot or a space.
    let name = name.trim().trim_end_matches('.').trim();
    let day = |ms: i64| {
        use chrono::TimeZone;
        shanghai()
            .timestamp_millis_opt(ms)
            .single()
            .map(|t| t.format("%Y%m%d").to_string())
            .unwrap_or_default()
    };
    let last_ms = to_ms.saturating_sub(1).max(from_ms);
    let (from, to) = (day(from_ms), day(last_ms));
    if name.is_empty() {
        format!("在线会话清单_{from}-{to}.xlsx")
    } else {
        format!("在线会话清单_{name}_{from}-{to}.xlsx")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn day(y: i32, m: u32, d: u32) -> i64 {
        reports::shanghai_day_start_ms(NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default())
    }

    #[test]
    fn file_name_uses_the_last_included_day() {
        assert_eq!(
            export_file_name("示例农产品供应商", day(2026, 11, 1), day(2026, 11, 26)),
            "在线会话清单_示例农产品供应商_20261101-20261125.xlsx"
        );
        assert_eq!(
            export_file_name(
                " a/b\\c:d*e?f\"g<h>i|j\u{7}k. ",
                day(2026, 11, 1),
                day(2026, 11, 1) + 1
            ),
            "在线会话清单_abcdefghijk_20261101-20261101.xlsx"
        );
        assert_eq!(
            export_file_name("/:*", day(2026, 1, 1), day(2026, 2, 1)),
            "在线会话清单_20260101-20260131.xlsx"
        );
    }

    #[test]
    fn excel_times_are_shanghai_wall_time() {
        // 2026-11-20 16:00:00.999 UTC = 2026-11-21 00:00:00 in Shanghai (milliseconds dropped).
        let ms = day(2026, 11, 21) + 999;
        let expected = ExcelDateTime::from_ymd(2026, 11, 21)
            .and_then(|d| d.and_hms(0, 0, 0))
            .map(|d| d.to_excel())
            .ok();
        assert_eq!(excel_time(ms).map(|t| t.to_excel()).ok(), expected);
        assert!(expected.is_some());
    }

    #[test]
    fn widths_cover_the_headers() {
        for ((header, _), width) in reports::columns().iter().zip(COLUMN_WIDTHS) {
            let units: usize = header
                .chars()
                .map(|c| if c.is_ascii() { 1 } else { 2 })
                .sum();
            // Room for the autofilter button (about two units).
            assert!(
                width >= units as f64 + 2.0,
                "{header} needs more than {width}"
            );
        }
    }
}
