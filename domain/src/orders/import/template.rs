//! The import template: the 订单 sheet with its headers and an example order, and a 说明 sheet.

use rust_xlsxwriter::{Format, FormatAlign, Workbook, XlsxError};

use super::ORDERS_SHEET;
use super::columns::*;
use crate::DomainError;

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
