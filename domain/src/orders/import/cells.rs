//! One cell of the sheet read as text, fen, a quantity or a time, with a Chinese reason when it
//! cannot be.

use calamine::{Data, DataRef, ExcelDateTime, ExcelDateTimeType};
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, TimeZone};

use super::MAX_CELL_BYTES;
use crate::orders::money::{yuan_number_to_fen, yuan_text_to_fen};
use crate::orders::{MAX_TIME_MS, MIN_TIME_MS};

pub(super) fn shanghai() -> FixedOffset {
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
pub(super) fn cell_text(cell: &Data) -> Result<String, String> {
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
pub(super) fn cell_fen(cell: &Data) -> Result<Option<i64>, String> {
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
pub(super) fn cell_quantity(cell: &Data) -> Result<i64, String> {
    let bad = || "数量须为整数".to_owned();
    match cell {
        _ if is_blank(cell) => Err("请填写数量".to_owned()),
        Data::Int(i) => Ok(*i),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Ok(*f as i64),
        Data::String(s) => s.trim().parse::<i64>().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

pub(super) fn wall_time_ms(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    let naive = NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_opt(h, mi, s)?;
    shanghai()
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.timestamp_millis())
}

/// A Beijing-time cell (a date-time cell, an Excel serial number or text) as unix ms; `None`
/// when blank.
pub(super) fn cell_time(cell: &Data) -> Result<Option<i64>, String> {
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
    if !(MIN_TIME_MS..MAX_TIME_MS).contains(&ms) {
        return Err("时间须在 2000 年至 2100 年之间".to_owned());
    }
    Ok(Some(ms))
}

/// Whether a streamed cell holds anything (an empty or all-space text is blank). A text longer
/// than [`MAX_CELL_BYTES`] counts as filled without being looked through: a long shared string
/// may be referenced by every cell of the sheet.
pub(super) fn is_blank_ref(cell: &DataRef<'_>) -> bool {
    match cell {
        DataRef::Empty => true,
        DataRef::String(s) => s.len() <= MAX_CELL_BYTES && s.trim().is_empty(),
        DataRef::SharedString(s) => s.len() <= MAX_CELL_BYTES && s.trim().is_empty(),
        _ => false,
    }
}

/// The first [`MAX_CELL_BYTES`] of a text (cut on a character boundary), copied.
pub(super) fn clipped(text: &str) -> String {
    let mut end = text.len().min(MAX_CELL_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// A streamed cell as an owned value, its text clipped to [`MAX_CELL_BYTES`]: a shared string
/// referenced by thousands of cells is copied only that far each time.
pub(super) fn owned_cell(cell: &DataRef<'_>) -> Data {
    match cell {
        DataRef::SharedString(s) => Data::String(clipped(s)),
        DataRef::String(s) => Data::String(clipped(s)),
        DataRef::DateTimeIso(s) => Data::DateTimeIso(clipped(s)),
        DataRef::DurationIso(s) => Data::DurationIso(clipped(s)),
        other => Data::from(other.clone()),
    }
}
