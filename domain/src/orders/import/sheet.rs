//! The orders sheet streamed cell by cell into rows, never built as a whole range.

use std::io::Cursor;

use calamine::{Data, DataRef, Reader, Xlsx};

use super::archive::check_archive;
use super::cells::{cell_fen, cell_quantity, cell_text, cell_time, is_blank_ref, owned_cell};
use super::columns::*;
use super::{
    Errors, ImportError, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, MAX_ROW_SPAN, MAX_SHEET_TEXT_BYTES,
    ORDERS_SHEET,
};
use crate::orders::OrderItemInput;

/// One data row, read but not yet checked as an order.
pub(super) struct SheetRow {
    pub(super) row: u32,
    /// The order-level texts ([`ORDER_NO`]..=[`TRACKING`]) as written, blank when empty.
    pub(super) order_cells: Vec<String>,
    pub(super) created_at: Option<i64>,
    pub(super) paid_at: Option<i64>,
    pub(super) freight_fen: Option<i64>,
    pub(super) item: OrderItemInput,
}

/// Builds the rows of the orders sheet from its cells as calamine streams them (row by row, left
/// to right). Only the [`COLUMNS`] found in the header row are kept, so memory follows the real
/// rows, never the sheet's declared dimension or its farthest cell.
pub(super) struct SheetReader {
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
pub(super) fn sheet_row(row: u32, cells: &[Data; COLUMNS.len()], errors: &mut Errors) -> SheetRow {
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
pub(super) fn read_rows(bytes: &[u8]) -> Result<(Vec<SheetRow>, Errors), ImportError> {
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
    // calamine can still panic on a damaged sheet (0.38: an overflow in `get_dimension` on a
    // malformed `<dimension ref>`); such a file is refused like any other that is not an .xlsx,
    // never a panic in the caller.
    std::panic::catch_unwind(|| stream_sheet(bytes)).unwrap_or(Err(ImportError::NotXlsx))
}

/// The orders sheet (or the first one) of a checked archive, streamed cell by cell.
fn stream_sheet(bytes: &[u8]) -> Result<(Vec<SheetRow>, Errors), ImportError> {
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

/// Property tests of the cell readers and the row builder on arbitrary values: they never panic,
/// and what they accept is in range.
#[cfg(test)]
mod prop {
    use calamine::{CellErrorType, ExcelDateTime, ExcelDateTimeType};
    use proptest::prelude::*;

    use super::super::MAX_CELL_BYTES;
    use super::super::cells::clipped;
    use super::super::grouping::orders_of;
    use super::*;

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
                prop_assert!((crate::orders::MIN_TIME_MS..crate::orders::MAX_TIME_MS).contains(&ms));
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
