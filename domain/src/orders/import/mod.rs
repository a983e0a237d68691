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
//!
//! One file per step: `archive` (the zip checks), `sheet` (streaming the sheet into rows, with
//! `cells` reading one cell and `columns` naming them), `grouping` (rows into orders, every
//! error of each) and `template` (the template workbook).

mod archive;
mod cells;
mod columns;
mod grouping;
mod sheet;
mod template;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::{DatabaseConnection, EntityTrait};
use serde::{Deserialize, Serialize};

pub use template::orders_template_xlsx;

use super::upsert_in;
use crate::DomainError;
use crate::audit;
use crate::db::begin_write;
use crate::entity::{audit_log, supplier};
use columns::COLUMNS;
use grouping::orders_of;
use sheet::read_rows;

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

/// Parses an .xlsx the way [`ImportGate::import_orders_xlsx`] does, without a database: the number of data
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

    /// Imports the orders of an .xlsx file for a supplier, all or nothing, in the supplier's
    /// turn: refused with [`ImportError::Busy`] while another import of theirs runs. Records
    /// 导入订单 in the audit log with the counts. The turn lasts until the sheet is read and the
    /// orders are written, even when the caller gives up waiting (the reading goes on in its
    /// thread).
    pub async fn import_orders_xlsx(
        &self,
        db: &DatabaseConnection,
        supplier_id: i64,
        actor_account_id: i64,
        bytes: &[u8],
        now: i64,
    ) -> Result<ImportReport, ImportError> {
        let permit = Arc::new(self.try_begin(supplier_id)?);
        // Refuse an oversize file before copying it anywhere.
        if bytes.len() > MAX_IMPORT_BYTES {
            return Err(ImportError::TooLarge {
                max_bytes: MAX_IMPORT_BYTES,
            });
        }
        // Unzipping and reading a sheet of thousands of rows is CPU work: keep it off the async
        // workers so other requests are not held up.
        let owned = bytes.to_vec();
        let reading_permit = Arc::clone(&permit);
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
}
