//! 订单导入: the admin uploads an .xlsx, one row per order line; rows with the same 订单编号
//! form one order. Every bad row is reported with its sheet row number and a Chinese reason, and
//! a file with any bad row imports nothing (the orders are written in one transaction). The
//! template ([`orders_template_xlsx`]) has the headers, an example order and a 说明 sheet.
//!
//! Limits hold before any parsing: at most [`MAX_IMPORT_BYTES`], the content must be a zip (an
//! .xlsx by content, not by name), at most [`MAX_IMPORT_ROWS`] data rows.
//!
//! A hostile file must not take the server down: the zip's central directory is checked before
//! calamine opens it (entries, unpacked sizes, compression ratio, and the declared sizes proved
//! by unpacking into nothing), the sheet is streamed cell by cell instead of being built as a
//! range from its declared dimension, cells far below the header are refused, and an
//! [`ImportGate`] lets one import per supplier run at a time.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{Cursor, Read};
use std::sync::{Arc, Mutex, PoisonError};

use calamine::{Data, DataRef, ExcelDateTime, ExcelDateTimeType, Reader, Xlsx};
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};
use sea_orm::{DatabaseConnection, EntityTrait};
use serde::{Deserialize, Serialize};

use super::money::{yuan_number_to_fen, yuan_text_to_fen};
use super::{FieldError, OrderInput, OrderItemInput, upsert_in, validate_order};
use crate::DomainError;
use crate::audit;
use crate::db::begin_write;
use crate::entity::{audit_log, purchase_order, supplier};
use zip::ZipArchive;

/// Largest file accepted (checked before anything is parsed).
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;
/// Most data rows (order lines) in one file.
pub const MAX_IMPORT_ROWS: usize = 5_000;
/// Most bad rows listed in one answer, with all their errors; further bad rows are only counted
/// (另有 N 行错误未列出), so a file where every row is wrong costs no more than this.
pub const MAX_LISTED_BAD_ROWS: usize = 200;
/// The sheet the importer reads (else the first sheet) and the template writes.
pub const ORDERS_SHEET: &str = "订单";
/// Most entries (files) in the .xlsx zip; a workbook of a few sheets has 10–20.
pub const MAX_ZIP_ENTRIES: usize = 64;
/// Largest unpacked size of one entry (a sheet's XML, the shared strings).
pub const MAX_ENTRY_BYTES: u64 = 32 * 1024 * 1024;
/// Largest unpacked size of all entries together.
pub const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;
/// Highest unpacked:packed ratio of an entry over [`RATIO_CHECKED_FROM`] bytes; sheets of real
/// orders pack about 10:1, a zip bomb about 1000:1.
pub const MAX_COMPRESSION_RATIO: u64 = 100;
/// Entries smaller than this are not held to [`MAX_COMPRESSION_RATIO`].
pub const RATIO_CHECKED_FROM: u64 = 1024 * 1024;
/// How many rows below the header a cell may be: the row cap and room for blank rows.
pub const MAX_ROW_SPAN: u32 = MAX_IMPORT_ROWS as u32 + 1_000;
/// A cell's text is kept up to this many bytes: more than any column allows (500 characters),
/// so the column's own length rule still refuses it.
const MAX_CELL_BYTES: usize = 2_048;
/// Most text kept from one sheet; 5000 rows of the longest allowed values fit.
pub const MAX_SHEET_TEXT_BYTES: usize = 32 * 1024 * 1024;

/// A column of the import sheet.
struct Column {
    header: &'static str,
    required: bool,
    /// What goes in it, for the 说明 sheet.
    note: &'static str,
    /// The template's example value for its two rows.
    example: [&'static str; 2],
}

const ORDER_NO: usize = 0;
const BUYER_ID: usize = 1;
const BUYER_NAME: usize = 2;
const BUYER_UNIT: usize = 3;
const STATUS: usize = 4;
const CREATED_AT: usize = 5;
const PAID_AT: usize = 6;
const FREIGHT: usize = 7;
const CONSIGNEE: usize = 8;
const PHONE: usize = 9;
const ADDRESS: usize = 10;
const LOGISTICS: usize = 11;
const TRACKING: usize = 12;
const ITEM_NAME: usize = 13;
const ITEM_SPEC: usize = 14;
const ITEM_PICTURE: usize = 15;
const UNIT_PRICE: usize = 16;
const QUANTITY: usize = 17;

/// Columns up to [`TRACKING`] belong to the order: on the 2nd and later rows of an order they may
/// be left blank; when filled they must match the order's first row.
const COLUMNS: [Column; 18] = [
    Column {
        header: "订单编号",
        required: true,
        note: "必填。商城订单编号，1–64 个字符。同一订单的多个商品各占一行，订单编号相同；已存在的订单编号会被更新（商品整体替换）。建议把此列设为文本格式。",
        example: ["832202611200001", "832202611200001"],
    },
    Column {
        header: "客户编号",
        required: true,
        note: "必填。采购人在商城的客户编号，最多 64 个字符；系统中没有该采购人时自动新增。",
        example: ["CG1001", ""],
    },
    Column {
        header: "客户名称",
        required: true,
        note: "必填。采购人姓名，最多 32 个字符（新增采购人时使用）。",
        example: ["王采购", ""],
    },
    Column {
        header: "单位名称",
        required: false,
        note: "选填。采购人所在预算单位，最多 64 个字符。",
        example: ["某县第一中学", ""],
    },
    Column {
        header: "订单状态",
        required: true,
        note: "必填。待付款、待发货、已发货、待验收、已完成、已取消、售后中 之一。",
        example: ["已发货", ""],
    },
    Column {
        header: "下单时间",
        required: true,
        note: "必填。北京时间，格式 2026-11-20 10:30:00，也可以是 Excel 日期时间单元格。",
        example: ["2026-11-20 10:30:00", ""],
    },
    Column {
        header: "付款时间",
        required: false,
        note: "选填。格式同下单时间。",
        example: ["2026-11-20 10:42:00", ""],
    },
    Column {
        header: "运费(元)",
        required: false,
        note: "选填，默认 0。单位元，最多两位小数。",
        example: ["10", ""],
    },
    Column {
        header: "收货人",
        required: true,
        note: "必填。最多 64 个字符。",
        example: ["王采购", ""],
    },
    Column {
        header: "收货电话",
        required: true,
        note: "必填。最多 32 个字符，只能包含数字、+、-、括号和空格；界面上只显示打码后的号码。",
        example: ["13812345678", ""],
    },
    Column {
        header: "收货地址",
        required: true,
        note: "必填。最多 255 个字符。",
        example: ["某省某县城关镇学府路 1 号", ""],
    },
    Column {
        header: "物流公司",
        required: false,
        note: "选填。最多 64 个字符。",
        example: ["顺丰速运", ""],
    },
    Column {
        header: "物流单号",
        required: false,
        note: "选填。最多 64 个字符。",
        example: ["SF1234567890", ""],
    },
    Column {
        header: "商品名称",
        required: true,
        note: "必填。最多 200 个字符。",
        example: ["高山红富士苹果", "东北五常大米"],
    },
    Column {
        header: "规格",
        required: false,
        note: "选填。最多 200 个字符。",
        example: ["5kg/箱", "10kg/袋"],
    },
    Column {
        header: "商品图片URL",
        required: false,
        note: "选填。http:// 或 https:// 开头的图片地址，最多 500 个字符；其他地址（如 javascript:、data:）会被拒绝。",
        example: ["https://img.example.com/apple.jpg", ""],
    },
    Column {
        header: "单价(元)",
        required: true,
        note: "必填。单位元，最多两位小数，不能为负。",
        example: ["59.90", "88"],
    },
    Column {
        header: "数量",
        required: true,
        note: "必填。1–1000000 的整数。",
        example: ["2", "1"],
    },
];

/// One error of a bad row of an import: the sheet row number (as Excel shows it), the column,
/// and why, in Chinese. The last entry of a capped list is a note instead (see
/// [`RowError::is_note`]): row 0, no column, the reason says how many bad rows are not listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub row: u32,
    pub column: Option<String>,
    pub reason: String,
}

impl RowError {
    /// The note closing a list capped at [`MAX_LISTED_BAD_ROWS`] rows.
    fn unlisted(rows: usize) -> Self {
        RowError {
            row: 0,
            column: None,
            reason: format!("另有 {rows} 行错误未列出"),
        }
    }

    /// Whether this is the note about bad rows not listed rather than an error of a row (no
    /// sheet row is numbered 0).
    pub fn is_note(&self) -> bool {
        self.row == 0
    }
}

/// What an import did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub orders_created: u32,
    pub orders_updated: u32,
    /// Order lines written (= data rows).
    pub items: u32,
}

/// Why a file was not imported; [`ImportError::user_message`] is the Chinese text for the admin.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("file too large")]
    TooLarge { max_bytes: usize },
    #[error("empty file")]
    EmptyFile,
    #[error("not an xlsx file")]
    NotXlsx,
    #[error("no data rows")]
    NoRows,
    #[error("too many rows")]
    TooManyRows { max_rows: usize },
    #[error("missing columns: {0:?}")]
    MissingColumns(Vec<String>),
    #[error("{} bad rows", .0.len())]
    BadRows(Vec<RowError>),
    #[error("too many zip entries")]
    TooManyEntries { max_entries: usize },
    #[error("unpacks too large")]
    UnpackedTooLarge { max_bytes: u64 },
    #[error("suspicious compression ratio")]
    SuspiciousCompression,
    #[error("damaged or inconsistent archive")]
    Damaged,
    #[error("content at row {row}, past row {max_row}")]
    RowOutOfRange { row: u32, max_row: u32 },
    #[error("too much text")]
    TooMuchText { max_bytes: usize },
    #[error("another import of this supplier is running")]
    Busy,
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl ImportError {
    /// The Chinese text shown to the admin (per-row reasons are in [`ImportError::BadRows`]).
    pub fn user_message(&self) -> String {
        match self {
            ImportError::TooLarge { max_bytes } => {
                format!("文件过大，最大 {} MB", max_bytes / (1024 * 1024))
            }
            ImportError::EmptyFile => "文件是空的，请选择填好的订单导入模板".to_owned(),
            ImportError::NotXlsx => {
                "文件不是 Excel 工作簿（.xlsx），请下载导入模板填写后再上传".to_owned()
            }
            ImportError::NoRows => "表格中没有订单数据（只有表头或为空）".to_owned(),
            ImportError::TooManyRows { max_rows } => {
                format!("一次最多导入 {max_rows} 行商品，请拆分文件后分批导入")
            }
            ImportError::MissingColumns(columns) => {
                format!("表头缺少以下列：{}，请使用导入模板", columns.join("、"))
            }
            ImportError::BadRows(errors) => {
                let listed = errors
                    .iter()
                    .filter(|e| !e.is_note())
                    .map(|e| e.row)
                    .collect::<BTreeSet<_>>()
                    .len();
                if errors.iter().any(RowError::is_note) {
                    format!(
                        "超过 {listed} 行有错误，未导入任何订单；下面列出前 {listed} 行，请修改后重新上传"
                    )
                } else {
                    format!("有 {listed} 行有错误，未导入任何订单，请修改后重新上传")
                }
            }
            ImportError::TooManyEntries { max_entries } => format!(
                "文件结构异常（压缩包内超过 {max_entries} 个文件），请用 Excel 打开后另存为 .xlsx 再上传"
            ),
            ImportError::UnpackedTooLarge { max_bytes } => format!(
                "文件解压后过大（超过 {} MB），请删除多余的工作表和内容，或拆分文件后分批导入",
                max_bytes / (1024 * 1024)
            ),
            ImportError::SuspiciousCompression => {
                "文件压缩比异常，疑似恶意构造的文件，已拒绝导入；请用导入模板重新填写后上传"
                    .to_owned()
            }
            ImportError::Damaged => {
                "文件已损坏或结构异常，请用 Excel 打开后重新保存为 .xlsx 再上传".to_owned()
            }
            ImportError::RowOutOfRange { row, max_row } => format!(
                "第 {row} 行还有内容，超出了导入范围（最多读到第 {max_row} 行）；请删除表格下方多余的内容，或拆分文件后分批导入"
            ),
            ImportError::TooMuchText { max_bytes } => format!(
                "表格文字内容过多（超过 {} MB），请拆分文件后分批导入",
                max_bytes / (1024 * 1024)
            ),
            ImportError::Busy => "已有一个订单导入正在进行，请等它完成后再试".to_owned(),
            ImportError::Domain(err) => err.user_message(),
        }
    }
}

/// One data row, read but not yet checked as an order.
struct SheetRow {
    row: u32,
    /// The order-level texts ([`ORDER_NO`]..=[`TRACKING`]) as written, blank when empty.
    order_cells: Vec<String>,
    created_at: Option<i64>,
    paid_at: Option<i64>,
    freight_fen: Option<i64>,
    item: OrderItemInput,
}

/// The errors found so far, in bounded memory: every error of the [`MAX_LISTED_BAD_ROWS`] bad
/// rows with the lowest numbers (one per cell), and only the number of every other bad row.
/// Errors come grouped by order, not by row, so a row listed now may make way for a lower one
/// later; a row that made way (or was never listed) is above every listed row from then on,
/// so each listed row keeps all its errors.
#[derive(Default)]
struct Errors {
    /// Listed rows: row → (column, reason), at most one per column.
    listed: BTreeMap<u32, Vec<(usize, String)>>,
    /// Every bad row; at most one per data row, which [`MAX_IMPORT_ROWS`] bounds.
    bad_rows: BTreeSet<u32>,
}

impl Errors {
    fn push(&mut self, row: u32, column: usize, reason: impl Into<String>) {
        self.bad_rows.insert(row);
        if let Some(errors) = self.listed.get_mut(&row) {
            if !errors.iter().any(|(c, _)| *c == column) {
                errors.push((column, reason.into()));
            }
            return;
        }
        if self.listed.len() >= MAX_LISTED_BAD_ROWS {
            match self.listed.last_key_value() {
                Some((&highest, _)) if row < highest => {
                    self.listed.remove(&highest);
                }
                _ => return,
            }
        }
        self.listed.insert(row, vec![(column, reason.into())]);
    }

    fn is_empty(&self) -> bool {
        self.bad_rows.is_empty()
    }

    /// The listed errors by row, then by column as the sheet has them, and the note about the
    /// rows not listed.
    fn into_report(self) -> Vec<RowError> {
        let unlisted = self.bad_rows.len() - self.listed.len();
        let mut report: Vec<RowError> = self
            .listed
            .into_iter()
            .flat_map(|(row, mut errors)| {
                errors.sort_by_key(|(column, _)| *column);
                errors.into_iter().map(move |(column, reason)| RowError {
                    row,
                    column: Some(COLUMNS[column].header.to_owned()),
                    reason,
                })
            })
            .collect();
        if unlisted > 0 {
            report.push(RowError::unlisted(unlisted));
        }
        report
    }
}

fn shanghai() -> FixedOffset {
    // UTC+8 is always a valid offset.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!("UTC+8"))
}

fn is_blank(cell: &Data) -> bool {
    match cell {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// A cell as text. Whole numbers print without `.0` (a 客户编号 typed as a number); numbers of
/// 16 digits or more have already lost digits in Excel and are refused.
fn cell_text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) if f.abs() >= 1e15 => {
            return Err("数字过长，Excel 已丢失精度，请把该列设为文本格式后重新填写".to_owned());
        }
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
        }
        Data::Error(_) => return Err("单元格是错误值（如 #N/A）".to_owned()),
    })
}

/// A yuan cell as fen; `None` when blank.
fn cell_fen(cell: &Data) -> Result<Option<i64>, String> {
    match cell {
        _ if is_blank(cell) => Ok(None),
        Data::Int(i) => {
            if *i < 0 {
                Err("金额不能为负数".to_owned())
            } else {
                i.checked_mul(100)
                    .map(Some)
                    .ok_or_else(|| "金额超出上限".to_owned())
            }
        }
        Data::Float(f) => yuan_number_to_fen(*f).map(Some),
        Data::String(s) => yuan_text_to_fen(s).map(Some),
        _ => Err("金额格式不正确，应为数字，如 12.50".to_owned()),
    }
}

/// A quantity cell: a whole number.
fn cell_quantity(cell: &Data) -> Result<i64, String> {
    let bad = || "数量须为整数".to_owned();
    match cell {
        _ if is_blank(cell) => Err("请填写数量".to_owned()),
        Data::Int(i) => Ok(*i),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Ok(*f as i64),
        Data::String(s) => s.trim().parse::<i64>().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

fn wall_time_ms(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    let naive = NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_opt(h, mi, s)?;
    shanghai()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.timestamp_millis())
}

/// A Beijing-time cell (a date-time cell, an Excel serial number or text) as unix ms; `None`
/// when blank.
fn cell_time(cell: &Data) -> Result<Option<i64>, String> {
    let bad = || "时间格式不正确，应为 2026-11-20 10:30:00".to_owned();
    let from_excel = |dt: &ExcelDateTime| {
        let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
        wall_time_ms(
            i32::from(y),
            u32::from(mo),
            u32::from(d),
            u32::from(h),
            u32::from(mi),
            u32::from(s),
        )
    };
    let ms = match cell {
        _ if is_blank(cell) => return Ok(None),
        Data::DateTime(dt) => from_excel(dt).ok_or_else(bad)?,
        Data::Float(f) if *f > 0.0 && *f < 100_000.0 => {
            from_excel(&ExcelDateTime::new(*f, ExcelDateTimeType::DateTime, false))
                .ok_or_else(bad)?
        }
        Data::Int(i) if *i > 0 && *i < 100_000 => from_excel(&ExcelDateTime::new(
            *i as f64,
            ExcelDateTimeType::DateTime,
            false,
        ))
        .ok_or_else(bad)?,
        Data::String(s) | Data::DateTimeIso(s) => {
            let s = s.trim();
            let parsed = [
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
                "%Y/%m/%d %H:%M:%S",
                "%Y/%m/%d %H:%M",
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%dT%H:%M:%S%.f",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
            .or_else(|| {
                ["%Y-%m-%d", "%Y/%m/%d"]
                    .iter()
                    .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            })
            .ok_or_else(bad)?;
            shanghai()
                .from_local_datetime(&parsed)
                .single()
                .map(|t| t.timestamp_millis())
                .ok_or_else(bad)?
        }
        _ => return Err(bad()),
    };
    if !(super::MIN_TIME_MS..super::MAX_TIME_MS).contains(&ms) {
        return Err("时间须在 2000 年至 2100 年之间".to_owned());
    }
    Ok(Some(ms))
}

/// A header as compared: without a trailing `*`, whitespace and parentheses (half- or
/// full-width), so `单价（元）*` matches `单价(元)`.
fn header_key(text: &str) -> String {
    text.trim()
        .trim_end_matches(['*', '＊'])
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '（' | '）'))
        .collect()
}

/// Whether a streamed cell holds anything (an empty or all-space text is blank). A text longer
/// than [`MAX_CELL_BYTES`] counts as filled without being looked through: a long shared string
/// may be referenced by every cell of the sheet.
fn is_blank_ref(cell: &DataRef<'_>) -> bool {
    match cell {
        DataRef::Empty => true,
        DataRef::String(s) => s.len() <= MAX_CELL_BYTES && s.trim().is_empty(),
        DataRef::SharedString(s) => s.len() <= MAX_CELL_BYTES && s.trim().is_empty(),
        _ => false,
    }
}

/// The first [`MAX_CELL_BYTES`] of a text (cut on a character boundary), copied.
fn clipped(text: &str) -> String {
    let mut end = text.len().min(MAX_CELL_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// A streamed cell as an owned value, its text clipped to [`MAX_CELL_BYTES`]: a shared string
/// referenced by thousands of cells is copied only that far each time.
fn owned_cell(cell: &DataRef<'_>) -> Data {
    match cell {
        DataRef::SharedString(s) => Data::String(clipped(s)),
        DataRef::String(s) => Data::String(clipped(s)),
        DataRef::DateTimeIso(s) => Data::DateTimeIso(clipped(s)),
        DataRef::DurationIso(s) => Data::DurationIso(clipped(s)),
        other => Data::from(other.clone()),
    }
}

/// Opens the .xlsx as a zip and refuses it from its central directory before calamine reads a
/// byte of it: too many entries, an entry or the whole unpacking to more than the caps, or a
/// big entry packed suspiciously well (a zip bomb). The declared sizes may lie, so every entry
/// is then unpacked once into nothing, never past its declared size plus one byte: what calamine
/// reads afterwards is at most what was declared.
fn check_archive(bytes: &[u8]) -> Result<(), ImportError> {
    let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(|_| ImportError::NotXlsx)?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(ImportError::TooManyEntries {
            max_entries: MAX_ZIP_ENTRIES,
        });
    }
    let too_large = ImportError::UnpackedTooLarge {
        max_bytes: MAX_UNPACKED_BYTES,
    };
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|_| ImportError::NotXlsx)?;
        let size = entry.size();
        if size > MAX_ENTRY_BYTES {
            return Err(too_large);
        }
        total = total.saturating_add(size);
        if total > MAX_UNPACKED_BYTES {
            return Err(too_large);
        }
    }
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|_| ImportError::NotXlsx)?;
        let size = entry.size();
        if size > RATIO_CHECKED_FROM
            && size / entry.compressed_size().max(1) > MAX_COMPRESSION_RATIO
        {
            return Err(ImportError::SuspiciousCompression);
        }
    }
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|_| ImportError::NotXlsx)?;
        let declared = entry.size();
        let shared_strings = entry
            .name()
            .is_ok_and(|n| n.to_ascii_lowercase().ends_with("sharedstrings.xml"));
        let mut limited = (&mut entry).take(declared.saturating_add(1));
        let (unpacked, unique_count) =
            unpack_counting(&mut limited, shared_strings).map_err(|_| ImportError::Damaged)?;
        if unpacked > declared {
            return Err(ImportError::Damaged);
        }
        // calamine reserves room for `uniqueCount` strings before reading one: a made-up count
        // would have it ask for terabytes. A real `<si>` takes at least 5 bytes.
        if unique_count > (declared / 4).max(MIN_UNIQUE_COUNT_ALLOWED) {
            return Err(ImportError::Damaged);
        }
    }
    Ok(())
}

/// Any shared strings table may declare this many strings, whatever its size.
const MIN_UNIQUE_COUNT_ALLOWED: u64 = 2_000_000;

/// Reads an entry to its end into nothing: the bytes read and, when `find_count`, the largest
/// number written after any `uniqueCount` attribute in it (saturating), wherever the chunks
/// happen to be cut.
fn unpack_counting(reader: &mut impl Read, find_count: bool) -> std::io::Result<(u64, u64)> {
    const NAME: &[u8; 11] = b"uniqueCount";
    let mut chunk = vec![0u8; 64 * 1024];
    let mut total: u64 = 0;
    // The last bytes seen, the number being read after the name, or the `="` between.
    let mut last = [0u8; 11];
    let mut after_name = false;
    let mut value: Option<u64> = None;
    let mut largest: u64 = 0;
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        total += n as u64;
        if !find_count {
            continue;
        }
        for &b in &chunk[..n] {
            if let Some(v) = value {
                if b.is_ascii_digit() {
                    value = Some(v.saturating_mul(10).saturating_add(u64::from(b - b'0')));
                    continue;
                }
                largest = largest.max(v);
                value = None;
            } else if after_name {
                if b.is_ascii_digit() {
                    value = Some(u64::from(b - b'0'));
                    after_name = false;
                    continue;
                }
                if !(b.is_ascii_whitespace() || matches!(b, b'=' | b'"' | b'\'')) {
                    after_name = false;
                }
            }
            last.copy_within(1.., 0);
            last[10] = b;
            if &last == NAME {
                after_name = true;
            }
        }
    }
    if let Some(v) = value {
        largest = largest.max(v);
    }
    Ok((total, largest))
}

/// Builds the rows of the orders sheet from its cells as calamine streams them (row by row, left
/// to right). Only the [`COLUMNS`] found in the header row are kept, so memory follows the real
/// rows, never the sheet's declared dimension or its farthest cell.
struct SheetReader {
    /// [`header_key`] of each of [`COLUMNS`].
    header_keys: [String; COLUMNS.len()],
    /// The header row (0-based) once its first cell is seen.
    header_row: Option<u32>,
    /// The sheet column of each [`COLUMNS`] entry, filled while the header row is read.
    columns: [Option<u32>; COLUMNS.len()],
    /// Set when the header row is complete (and has every required column).
    header_done: bool,
    /// The row being read (0-based) and its cells by [`COLUMNS`] index.
    current: Option<u32>,
    cells: [Data; COLUMNS.len()],
    /// Text kept so far, against [`MAX_SHEET_TEXT_BYTES`].
    text_bytes: usize,
    rows: Vec<SheetRow>,
    errors: Errors,
}

impl SheetReader {
    fn new() -> Self {
        SheetReader {
            header_keys: std::array::from_fn(|i| header_key(COLUMNS[i].header)),
            header_row: None,
            columns: [None; COLUMNS.len()],
            header_done: false,
            current: None,
            cells: std::array::from_fn(|_| Data::Empty),
            text_bytes: 0,
            rows: Vec::new(),
            errors: Errors::default(),
        }
    }

    /// Takes the next cell of the stream.
    fn push(&mut self, (row, column): (u32, u32), value: &DataRef<'_>) -> Result<(), ImportError> {
        if is_blank_ref(value) {
            return Ok(());
        }
        match self.current {
            // Excel writes rows in order; a file that goes back was not made by a spreadsheet.
            Some(current) if row < current => return Err(ImportError::Damaged),
            Some(current) if row > current => self.end_row()?,
            _ => {}
        }
        self.current = Some(row);
        let header_row = *self.header_row.get_or_insert(row);
        if row == header_row {
            let key = header_key(&cell_text(&owned_cell(value)).unwrap_or_default());
            if let Some(i) = self.header_keys.iter().position(|k| *k == key)
                && self.columns[i].is_none()
            {
                self.columns[i] = Some(column);
            }
            return Ok(());
        }
        if row - header_row > MAX_ROW_SPAN {
            return Err(ImportError::RowOutOfRange {
                row: row.saturating_add(1),
                max_row: header_row.saturating_add(MAX_ROW_SPAN).saturating_add(1),
            });
        }
        if let Some(i) = self.columns.iter().position(|c| *c == Some(column)) {
            let cell = owned_cell(value);
            if let Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) = &cell {
                self.text_bytes += s.len();
                if self.text_bytes > MAX_SHEET_TEXT_BYTES {
                    return Err(ImportError::TooMuchText {
                        max_bytes: MAX_SHEET_TEXT_BYTES,
                    });
                }
            }
            self.cells[i] = cell;
        }
        Ok(())
    }

    /// Closes the current row: the header's columns are checked, a data row is read.
    fn end_row(&mut self) -> Result<(), ImportError> {
        let Some(row) = self.current.take() else {
            return Ok(());
        };
        if !self.header_done {
            let missing: Vec<String> = COLUMNS
                .iter()
                .zip(&self.columns)
                .filter(|(c, m)| c.required && m.is_none())
                .map(|(c, _)| c.header.to_owned())
                .collect();
            if !missing.is_empty() {
                return Err(ImportError::MissingColumns(missing));
            }
            self.header_done = true;
            return Ok(());
        }
        if self.rows.len() >= MAX_IMPORT_ROWS {
            return Err(ImportError::TooManyRows {
                max_rows: MAX_IMPORT_ROWS,
            });
        }
        let cells = std::mem::replace(&mut self.cells, std::array::from_fn(|_| Data::Empty));
        // As Excel numbers rows: 1-based.
        let read = sheet_row(row.saturating_add(1), &cells, &mut self.errors);
        self.rows.push(read);
        Ok(())
    }

    fn finish(mut self) -> Result<(Vec<SheetRow>, Errors), ImportError> {
        self.end_row()?;
        if self.rows.is_empty() && self.errors.is_empty() {
            return Err(ImportError::NoRows);
        }
        Ok((self.rows, self.errors))
    }
}

/// Reads one data row, collecting the errors of each cell.
fn sheet_row(row: u32, cells: &[Data; COLUMNS.len()], errors: &mut Errors) -> SheetRow {
    let mut text_of = |column: usize| match cell_text(&cells[column]) {
        Ok(text) => text,
        Err(reason) => {
            errors.push(row, column, reason);
            String::new()
        }
    };
    let order_cells: Vec<String> = (ORDER_NO..=TRACKING).map(&mut text_of).collect();
    let name = text_of(ITEM_NAME);
    let spec = text_of(ITEM_SPEC);
    let picture = text_of(ITEM_PICTURE);
    let mut value_of = |column: usize, parsed: Result<Option<i64>, String>| match parsed {
        Ok(v) => v,
        Err(reason) => {
            errors.push(row, column, reason);
            None
        }
    };
    let created_at = value_of(CREATED_AT, cell_time(&cells[CREATED_AT]));
    let paid_at = value_of(PAID_AT, cell_time(&cells[PAID_AT]));
    let freight_fen = value_of(FREIGHT, cell_fen(&cells[FREIGHT]));
    let unit_price_fen = match cell_fen(&cells[UNIT_PRICE]) {
        Ok(Some(fen)) => fen,
        Ok(None) => {
            errors.push(row, UNIT_PRICE, "请填写单价");
            0
        }
        Err(reason) => {
            errors.push(row, UNIT_PRICE, reason);
            0
        }
    };
    let quantity = match cell_quantity(&cells[QUANTITY]) {
        Ok(q) => q,
        Err(reason) => {
            errors.push(row, QUANTITY, reason);
            1
        }
    };
    SheetRow {
        row,
        order_cells,
        created_at,
        paid_at,
        freight_fen,
        item: OrderItemInput {
            name,
            spec,
            picture_url: (!picture.is_empty()).then_some(picture),
            unit_price_fen,
            quantity,
        },
    }
}

/// Reads every data row of the file, collecting the errors of each cell. The archive is checked
/// first ([`check_archive`]); the orders sheet is then streamed cell by cell, never built as a
/// whole range.
fn read_rows(bytes: &[u8]) -> Result<(Vec<SheetRow>, Errors), ImportError> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge {
            max_bytes: MAX_IMPORT_BYTES,
        });
    }
    if bytes.is_empty() {
        return Err(ImportError::EmptyFile);
    }
    // An .xlsx is a zip archive: check the content, not the name.
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(ImportError::NotXlsx);
    }
    check_archive(bytes)?;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| ImportError::NotXlsx)?;
    let names = workbook.sheet_names();
    let sheet = names
        .iter()
        .find(|n| n.as_str() == ORDERS_SHEET)
        .or_else(|| names.first())
        .cloned()
        .ok_or(ImportError::NotXlsx)?;
    let mut cells = match workbook.worksheet_cells_reader(&sheet) {
        Ok(cells) => cells,
        // A chart sheet has no cells.
        Err(calamine::XlsxError::NotAWorksheet(_)) => return Err(ImportError::NoRows),
        Err(_) => return Err(ImportError::NotXlsx),
    };
    let mut reader = SheetReader::new();
    while let Some(cell) = cells.next_cell().map_err(|_| ImportError::NotXlsx)? {
        reader.push(cell.get_position(), cell.get_value())?;
    }
    reader.finish()
}

/// Parses an .xlsx the way [`import_orders_xlsx`] does, without a database: the number of data
/// rows read, or why the file is refused (bad rows included). For tests that throw arbitrary
/// bytes at the parser.
#[doc(hidden)]
pub fn parse_orders_xlsx(bytes: &[u8]) -> Result<usize, ImportError> {
    let (rows, mut errors) = read_rows(bytes)?;
    let orders = orders_of(&rows, &mut errors);
    if !errors.is_empty() {
        return Err(ImportError::BadRows(errors.into_report()));
    }
    Ok(orders.iter().map(|o| o.items.len()).sum())
}

/// The sheet column an order field error points at.
fn column_of(field: &str) -> usize {
    let name = field.rsplit('.').next().unwrap_or(field);
    match name {
        "order_no" => ORDER_NO,
        "buyer_id" => BUYER_ID,
        "buyer_name" => BUYER_NAME,
        "buyer_unit" => BUYER_UNIT,
        "status" => STATUS,
        "created_at" => CREATED_AT,
        "paid_at" => PAID_AT,
        "freight_fen" => FREIGHT,
        "consignee_name" => CONSIGNEE,
        "consignee_phone" => PHONE,
        "consignee_address" => ADDRESS,
        "logistics_company" => LOGISTICS,
        "tracking_no" => TRACKING,
        "spec" => ITEM_SPEC,
        "picture_url" => ITEM_PICTURE,
        "unit_price_fen" => UNIT_PRICE,
        "quantity" => QUANTITY,
        _ => ITEM_NAME,
    }
}

/// The row of an order an error belongs to: its line's row for `items[i].…`, else the first row.
fn row_of(field: &FieldError, rows: &[&SheetRow]) -> u32 {
    field
        .field
        .strip_prefix("items[")
        .and_then(|rest| rest.split(']').next())
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| rows.get(i))
        .or_else(|| rows.first())
        .map(|r| r.row)
        .unwrap_or(0)
}

/// Groups rows by 订单编号 (in the order first seen) into orders, checking that the order
/// columns agree, and each order against the same rules as the API.
fn orders_of(rows: &[SheetRow], errors: &mut Errors) -> Vec<super::ValidOrder> {
    let mut groups: Vec<(String, Vec<&SheetRow>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let order_no = row.order_cells[ORDER_NO].clone();
        if order_no.is_empty() {
            errors.push(row.row, ORDER_NO, "请填写订单编号");
            continue;
        }
        match index.get(&order_no) {
            Some(&i) => groups[i].1.push(row),
            None => {
                index.insert(order_no.clone(), groups.len());
                groups.push((order_no, vec![row]));
            }
        }
    }
    let mut orders = Vec::new();
    for (order_no, rows) in groups {
        let first = rows[0];
        for row in &rows[1..] {
            for (column, value) in row.order_cells.iter().enumerate().skip(BUYER_ID) {
                if !value.is_empty() && *value != first.order_cells[column] {
                    errors.push(
                        row.row,
                        column,
                        format!(
                            "与订单 {order_no} 第一行（第 {} 行）的{}不一致；同一订单的其他行可留空",
                            first.row, COLUMNS[column].header
                        ),
                    );
                }
            }
        }
        // A blank or unreadable 下单时间 is already an error of the row; the order's other
        // fields are still checked, with a stand-in time.
        if first.created_at.is_none() && first.order_cells[CREATED_AT].is_empty() {
            errors.push(first.row, CREATED_AT, "请填写下单时间");
        }
        let optional = |s: &String| (!s.is_empty()).then(|| s.clone());
        let input = OrderInput {
            order_no,
            buyer_id: first.order_cells[BUYER_ID].clone(),
            buyer_name: first.order_cells[BUYER_NAME].clone(),
            buyer_unit: first.order_cells[BUYER_UNIT].clone(),
            status: first.order_cells[STATUS].clone(),
            created_at: first.created_at.unwrap_or(super::MIN_TIME_MS),
            paid_at: first.paid_at,
            freight_fen: first.freight_fen.unwrap_or(0),
            consignee_name: first.order_cells[CONSIGNEE].clone(),
            consignee_phone: first.order_cells[PHONE].clone(),
            consignee_address: first.order_cells[ADDRESS].clone(),
            logistics_company: optional(&first.order_cells[LOGISTICS]),
            tracking_no: optional(&first.order_cells[TRACKING]),
            items: rows.iter().map(|r| r.item.clone()).collect(),
        };
        match validate_order(&input) {
            Ok(order) => orders.push(order),
            Err(first_error) => {
                for (item, field) in every_error(&input, first_error) {
                    let row = item
                        .and_then(|i| rows.get(i))
                        .map(|r| r.row)
                        .unwrap_or_else(|| row_of(&field, &rows));
                    errors.push(row, column_of(&field.field), field.reason);
                }
            }
        }
    }
    orders
}

/// Every rule an order breaks, not only the first that [`validate_order`] returns: each field
/// (and each field of each line) is checked alone in an order that is otherwise valid, so one
/// bad cell never hides another. A line's errors come with its index. When no field is wrong
/// alone, or the first error is about the whole order (too many lines, total too large), that is
/// reported too.
fn every_error(input: &OrderInput, first_error: FieldError) -> Vec<(Option<usize>, FieldError)> {
    let valid_item = OrderItemInput {
        name: "商品".to_owned(),
        spec: String::new(),
        picture_url: None,
        unit_price_fen: 0,
        quantity: 1,
    };
    let valid = OrderInput {
        order_no: "NO".to_owned(),
        buyer_id: "ID".to_owned(),
        buyer_name: "名称".to_owned(),
        buyer_unit: String::new(),
        status: purchase_order::STATUSES[0].to_owned(),
        created_at: super::MIN_TIME_MS,
        paid_at: None,
        freight_fen: 0,
        consignee_name: "收货人".to_owned(),
        consignee_phone: "1".to_owned(),
        consignee_address: "地址".to_owned(),
        logistics_company: None,
        tracking_no: None,
        items: vec![valid_item.clone()],
    };
    let mut found = Vec::new();
    let order_checks = [
        OrderInput {
            order_no: input.order_no.clone(),
            ..valid.clone()
        },
        OrderInput {
            buyer_id: input.buyer_id.clone(),
            ..valid.clone()
        },
        OrderInput {
            buyer_name: input.buyer_name.clone(),
            ..valid.clone()
        },
        OrderInput {
            buyer_unit: input.buyer_unit.clone(),
            ..valid.clone()
        },
        OrderInput {
            status: input.status.clone(),
            ..valid.clone()
        },
        OrderInput {
            created_at: input.created_at,
            ..valid.clone()
        },
        OrderInput {
            paid_at: input.paid_at,
            ..valid.clone()
        },
        OrderInput {
            freight_fen: input.freight_fen,
            ..valid.clone()
        },
        OrderInput {
            consignee_name: input.consignee_name.clone(),
            ..valid.clone()
        },
        OrderInput {
            consignee_phone: input.consignee_phone.clone(),
            ..valid.clone()
        },
        OrderInput {
            consignee_address: input.consignee_address.clone(),
            ..valid.clone()
        },
        OrderInput {
            logistics_company: input.logistics_company.clone(),
            ..valid.clone()
        },
        OrderInput {
            tracking_no: input.tracking_no.clone(),
            ..valid.clone()
        },
    ];
    for order in &order_checks {
        if let Err(field) = validate_order(order) {
            found.push((None, field));
        }
    }
    for (i, item) in input.items.iter().enumerate() {
        let item_checks = [
            OrderItemInput {
                name: item.name.clone(),
                ..valid_item.clone()
            },
            OrderItemInput {
                spec: item.spec.clone(),
                ..valid_item.clone()
            },
            OrderItemInput {
                picture_url: item.picture_url.clone(),
                ..valid_item.clone()
            },
            OrderItemInput {
                unit_price_fen: item.unit_price_fen,
                ..valid_item.clone()
            },
            OrderItemInput {
                quantity: item.quantity,
                ..valid_item.clone()
            },
        ];
        for alone in item_checks {
            let order = OrderInput {
                items: vec![alone],
                ..valid.clone()
            };
            if let Err(mut field) = validate_order(&order) {
                // Checked as the only line, it is "the 1st line"; the row says which it is.
                field.reason = field.reason.replacen("第 1 个商品的", "", 1);
                found.push((Some(i), field));
            }
        }
    }
    // `items` alone names a rule of the whole order (how many lines, the total), which no
    // check of one field finds.
    if found.is_empty() || first_error.field == "items" {
        found.push((None, first_error));
    }
    found
}

/// At most one import per supplier at a time in this process: a second upload while the first
/// is still being read or written is refused ([`ImportError::Busy`]) rather than queued, so one
/// supplier cannot multiply the work, and another supplier is never held up. Clones share the
/// same set of running imports.
#[derive(Clone, Debug, Default)]
pub struct ImportGate {
    running: Arc<Mutex<HashSet<i64>>>,
}

/// A supplier's turn to import; the turn ends when this is dropped.
#[derive(Debug)]
pub struct ImportPermit {
    supplier_id: i64,
    running: Arc<Mutex<HashSet<i64>>>,
}

impl Drop for ImportPermit {
    fn drop(&mut self) {
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.supplier_id);
    }
}

impl ImportGate {
    pub fn new() -> Self {
        Self::default()
    }

    /// The supplier's turn, or [`ImportError::Busy`] while another import of theirs runs.
    pub fn try_begin(&self, supplier_id: i64) -> Result<ImportPermit, ImportError> {
        let fresh = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(supplier_id);
        if fresh {
            Ok(ImportPermit {
                supplier_id,
                running: Arc::clone(&self.running),
            })
        } else {
            Err(ImportError::Busy)
        }
    }

    /// [`import_orders_xlsx`] in the supplier's turn: refused with [`ImportError::Busy`] while
    /// another import of theirs runs. The turn lasts until the sheet is read and the orders are
    /// written, even when the caller gives up waiting (the reading goes on in its thread).
    pub async fn import_orders_xlsx(
        &self,
        db: &DatabaseConnection,
        supplier_id: i64,
        actor_account_id: i64,
        bytes: &[u8],
        now: i64,
    ) -> Result<ImportReport, ImportError> {
        let permit = Arc::new(self.try_begin(supplier_id)?);
        import_in_turn(Some(permit), db, supplier_id, actor_account_id, bytes, now).await
    }
}

/// Imports the orders of an .xlsx file for a supplier: all or nothing. Records 导入订单 in the
/// audit log with the counts. A server goes through [`ImportGate::import_orders_xlsx`] so a
/// supplier runs one import at a time.
pub async fn import_orders_xlsx(
    db: &DatabaseConnection,
    supplier_id: i64,
    actor_account_id: i64,
    bytes: &[u8],
    now: i64,
) -> Result<ImportReport, ImportError> {
    import_in_turn(None, db, supplier_id, actor_account_id, bytes, now).await
}

async fn import_in_turn(
    permit: Option<Arc<ImportPermit>>,
    db: &DatabaseConnection,
    supplier_id: i64,
    actor_account_id: i64,
    bytes: &[u8],
    now: i64,
) -> Result<ImportReport, ImportError> {
    // Refuse an oversize file before copying it anywhere.
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge {
            max_bytes: MAX_IMPORT_BYTES,
        });
    }
    // Unzipping and reading a sheet of thousands of rows is CPU work: keep it off the async
    // workers so other requests are not held up.
    let owned = bytes.to_vec();
    let reading_permit = permit.clone();
    let (orders, errors) = tokio::task::spawn_blocking(move || {
        // The turn is held by the reading thread too: it runs on if the request is dropped.
        let _turn = reading_permit;
        read_rows(&owned).map(|(rows, mut errors)| {
            let orders = orders_of(&rows, &mut errors);
            (orders, errors)
        })
    })
    .await
    .map_err(|err| DomainError::Internal(format!("import worker: {err}")))??;
    if !errors.is_empty() {
        return Err(ImportError::BadRows(errors.into_report()));
    }

    let txn = begin_write(db).await?;
    supplier::Entity::find_by_id(supplier_id)
        .one(&txn)
        .await
        .map_err(DomainError::from)?
        .ok_or(DomainError::NotFound)?;
    let mut report = ImportReport {
        orders_created: 0,
        orders_updated: 0,
        items: 0,
    };
    for order in &orders {
        let outcome = upsert_in(&txn, supplier_id, order, now).await?;
        if outcome.created {
            report.orders_created += 1;
        } else {
            report.orders_updated += 1;
        }
        report.items += order.items.len() as u32;
    }
    audit::record(
        &txn,
        supplier_id,
        Some(actor_account_id),
        audit_log::ACTION_ORDERS_IMPORTED,
        &format!(
            "导入订单：新增 {} 个，更新 {} 个，共 {} 行商品",
            report.orders_created, report.orders_updated, report.items
        ),
    )
    .await?;
    txn.commit().await.map_err(DomainError::from)?;
    drop(permit);
    Ok(report)
}

fn template_error(err: XlsxError) -> DomainError {
    DomainError::Internal(format!("orders template: {err}"))
}

/// The import template: the 订单 sheet with the headers (required ones bold red), an example
/// order of two lines, and a 说明 sheet describing every column.
pub fn orders_template_xlsx() -> Result<Vec<u8>, DomainError> {
    let mut workbook = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color("#F2F2F2")
        .set_align(FormatAlign::Center);
    let required = header.clone().set_font_color("#C00000");
    let text = Format::new().set_num_format("@");

    let sheet = workbook.add_worksheet();
    sheet.set_name(ORDERS_SHEET).map_err(template_error)?;
    for (c, column) in COLUMNS.iter().enumerate() {
        let c = c as u16;
        let format = if column.required { &required } else { &header };
        sheet
            .write_string_with_format(0, c, column.header, format)
            .map_err(template_error)?;
        let width = (column.header.chars().count() * 2 + 4).max(12) as f64;
        sheet.set_column_width(c, width).map_err(template_error)?;
        // Text columns stay text when people type long numbers into them.
        if !matches!(c as usize, FREIGHT | UNIT_PRICE | QUANTITY) {
            sheet.set_column_format(c, &text).map_err(template_error)?;
        }
        for (r, example) in column.example.iter().enumerate() {
            if example.is_empty() {
                continue;
            }
            let r = r as u32 + 1;
            match c as usize {
                FREIGHT | UNIT_PRICE | QUANTITY => {
                    let n: f64 = example.parse().unwrap_or(0.0);
                    sheet.write_number(r, c, n).map_err(template_error)?
                }
                _ => sheet
                    .write_string_with_format(r, c, *example, &text)
                    .map_err(template_error)?,
            };
        }
    }
    sheet
        .set_column_width(ORDER_NO as u16, 20)
        .map_err(template_error)?;
    sheet
        .set_column_width(ADDRESS as u16, 30)
        .map_err(template_error)?;
    sheet
        .set_column_width(ITEM_PICTURE as u16, 36)
        .map_err(template_error)?;
    sheet.set_freeze_panes(1, 0).map_err(template_error)?;

    let notes = workbook.add_worksheet();
    notes.set_name("说明").map_err(template_error)?;
    notes
        .write_string_with_format(0, 0, "列名", &header)
        .map_err(template_error)?;
    notes
        .write_string_with_format(0, 1, "说明", &header)
        .map_err(template_error)?;
    for (r, column) in COLUMNS.iter().enumerate() {
        let r = r as u32 + 1;
        notes
            .write_string(r, 0, column.header)
            .map_err(template_error)?;
        notes
            .write_string(r, 1, column.note)
            .map_err(template_error)?;
    }
    let end = COLUMNS.len() as u32 + 2;
    for (i, line) in [
        "每行是订单中的一个商品；同一订单编号的多行合并为一个订单，订单信息写在第一行即可。",
        "金额单位为元，最多两位小数；订单总额 = 各商品单价 × 数量之和 + 运费，由系统计算。",
        "任何一行有错误时整个文件都不会导入，页面会列出出错的行号和原因。",
        "文件最大 5 MB，最多 5000 行商品。",
    ]
    .iter()
    .enumerate()
    {
        notes
            .write_string(end + i as u32, 0, *line)
            .map_err(template_error)?;
    }
    notes.set_column_width(0, 16).map_err(template_error)?;
    notes.set_column_width(1, 90).map_err(template_error)?;

    workbook.save_to_buffer().map_err(template_error)
}

/// Property tests of the cell readers and the row builder on arbitrary values: they never panic,
/// and what they accept is in range.
#[cfg(test)]
mod prop {
    use super::*;
    use calamine::{CellErrorType, ExcelDateTimeType};
    use proptest::prelude::*;

    fn any_data() -> impl Strategy<Value = Data> {
        prop_oneof![
            Just(Data::Empty),
            any::<String>().prop_map(Data::String),
            "[ 0-9,.¥￥+eE-]{0,24}".prop_map(Data::String),
            "[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}([ T][0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?)?"
                .prop_map(Data::String),
            any::<i64>().prop_map(Data::Int),
            any::<f64>().prop_map(Data::Float),
            (-1e6f64..1e6).prop_map(Data::Float),
            any::<bool>().prop_map(Data::Bool),
            (any::<f64>(), any::<bool>(), any::<bool>()).prop_map(|(v, duration, is_1904)| {
                let kind = if duration {
                    ExcelDateTimeType::TimeDelta
                } else {
                    ExcelDateTimeType::DateTime
                };
                Data::DateTime(ExcelDateTime::new(v, kind, is_1904))
            }),
            (0f64..80_000.0).prop_map(|v| Data::DateTime(ExcelDateTime::new(
                v,
                ExcelDateTimeType::DateTime,
                false
            ))),
            any::<String>().prop_map(Data::DateTimeIso),
            any::<String>().prop_map(Data::DurationIso),
            Just(Data::Error(CellErrorType::NA)),
        ]
    }

    fn any_data_ref() -> impl Strategy<Value = DataRef<'static>> {
        any_data().prop_map(|d| match d {
            Data::Empty => DataRef::Empty,
            Data::String(s) => DataRef::String(s),
            Data::Int(i) => DataRef::Int(i),
            Data::Float(f) => DataRef::Float(f),
            Data::Bool(b) => DataRef::Bool(b),
            Data::DateTime(dt) => DataRef::DateTime(dt),
            Data::DateTimeIso(s) => DataRef::DateTimeIso(s),
            Data::DurationIso(s) => DataRef::DurationIso(s),
            Data::Error(e) => DataRef::Error(e),
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn cell_readers_never_panic_and_stay_in_range(cell in any_data()) {
            let _ = cell_text(&cell);
            if let Ok(Some(fen)) = cell_fen(&cell) {
                prop_assert!(fen >= 0, "{cell:?} → {fen}");
            }
            let _ = cell_quantity(&cell);
            if let Ok(Some(ms)) = cell_time(&cell) {
                prop_assert!((super::super::MIN_TIME_MS..super::super::MAX_TIME_MS).contains(&ms));
            }
        }

        #[test]
        fn clipped_text_is_short_and_a_prefix(text in ".{0,1200}") {
            let long = text.repeat(4);
            let kept = clipped(&long);
            prop_assert!(kept.len() <= MAX_CELL_BYTES);
            prop_assert!(long.starts_with(&kept));
            if long.len() <= MAX_CELL_BYTES {
                prop_assert_eq!(kept, long);
            }
        }

        /// Any stream of cells (any positions, any order, any values) is read or refused without
        /// a panic, and never keeps more than the row cap.
        #[test]
        fn sheet_reader_takes_any_cell_stream(
            cells in proptest::collection::vec(
                ((0u32..40, prop_oneof![0u32..20, any::<u32>()]), any_data_ref()),
                0..200,
            ),
            far in prop_oneof![Just(None), any::<u32>().prop_map(Some)],
        ) {
            let mut reader = SheetReader::new();
            let mut outcome = Ok(());
            for (position, value) in &cells {
                outcome = reader.push(*position, value);
                if outcome.is_err() {
                    break;
                }
            }
            if outcome.is_ok() && let Some(row) = far {
                outcome = reader.push((row, 0), &DataRef::String("x".to_owned()));
            }
            if outcome.is_ok() && let Ok((rows, mut errors)) = reader.finish() {
                prop_assert!(rows.len() <= MAX_IMPORT_ROWS);
                let _ = orders_of(&rows, &mut errors);
            }
        }

        /// A header row then data rows in order: every non-blank row is read, numbered as
        /// Excel numbers it.
        #[test]
        fn rows_are_numbered_as_excel_does(
            header_row in 0u32..1000,
            gaps in proptest::collection::vec(1u32..5, 1..30),
        ) {
            let mut reader = SheetReader::new();
            for (c, column) in COLUMNS.iter().enumerate() {
                reader
                    .push((header_row, c as u32), &DataRef::String(column.header.to_owned()))
                    .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            }
            let mut row = header_row;
            let mut expected = Vec::new();
            for gap in &gaps {
                row += gap;
                expected.push(row + 1);
                reader
                    .push((row, ORDER_NO as u32), &DataRef::String(format!("NO-{row}")))
                    .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
                reader
                    .push((row, 40), &DataRef::String("不在表头里的列".to_owned()))
                    .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            }
            let (rows, _) = reader.finish().map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            let numbers: Vec<u32> = rows.iter().map(|r| r.row).collect();
            prop_assert_eq!(numbers, expected);
        }
    }

    #[test]
    fn a_cell_far_below_the_header_is_refused_without_reading_the_gap() {
        let mut reader = SheetReader::new();
        for (c, column) in COLUMNS.iter().enumerate() {
            reader
                .push((0, c as u32), &DataRef::String(column.header.to_owned()))
                .expect("header");
        }
        reader
            .push((1, 0), &DataRef::String("NO-1".to_owned()))
            .expect("row");
        match reader.push((1_048_575, 16_383), &DataRef::String("x".to_owned())) {
            Err(err @ ImportError::RowOutOfRange { row: 1_048_576, .. }) => {
                assert!(err.user_message().contains("第 1048576 行"))
            }
            other => panic!("{other:?}"),
        }
    }
}

#[cfg(test)]
mod unique_count {
    use super::unpack_counting;

    /// The count is found however the reads cut the text, and with spaces around `=`.
    #[test]
    fn found_across_any_cut() {
        let text = format!(
            "<?xml?>{}<sst count=\"3\" uniqueCount  =  '98765432100'>uniqueCoun<si/>",
            " ".repeat(70_000)
        );
        for cut in [1usize, 7, 11, 64 * 1024 - 5, text.len()] {
            struct Cut<'a>(&'a [u8], usize);
            impl std::io::Read for Cut<'_> {
                fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                    let n = self.0.len().min(self.1).min(buf.len());
                    buf[..n].copy_from_slice(&self.0[..n]);
                    self.0 = &self.0[n..];
                    Ok(n)
                }
            }
            let (total, count) =
                unpack_counting(&mut Cut(text.as_bytes(), cut), true).expect("read");
            assert_eq!(total, text.len() as u64);
            assert_eq!(count, 98_765_432_100, "cut {cut}");
        }
    }
}
