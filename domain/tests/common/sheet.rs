//! The import sheet as the tests write it: its headers, a good order line, and a workbook's zip
//! packed again with entries changed.

use std::io::{Cursor, Read, Write};

use domain::orders::import::ORDERS_SHEET;
use rust_xlsxwriter::{Workbook, Worksheet};
use zip::write::SimpleFileOptions;
use zip::{ZipArchive, ZipWriter};

/// The headers of the 订单 sheet, in the template's order.
pub const HEADERS: [&str; 18] = [
    "订单编号",
    "客户编号",
    "客户名称",
    "单位名称",
    "订单状态",
    "下单时间",
    "付款时间",
    "运费(元)",
    "收货人",
    "收货电话",
    "收货地址",
    "物流公司",
    "物流单号",
    "商品名称",
    "规格",
    "商品图片URL",
    "单价(元)",
    "数量",
];

/// An .xlsx whose 订单 sheet holds the headers in row 1 and what `write_rows` writes below.
pub fn orders_workbook(write_rows: impl FnOnce(&mut Worksheet)) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(ORDERS_SHEET).expect("name");
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).expect("header");
    }
    write_rows(sheet);
    workbook.save_to_buffer().expect("xlsx")
}

/// A good first line of order `order_no`: every order column filled, one item.
pub fn good_row(order_no: &str) -> [String; 18] {
    [
        order_no,
        "CG1",
        "王采购",
        "某县第一中学",
        "待发货",
        "2026-11-20 10:30:00",
        "",
        "10",
        "王采购",
        "13812345678",
        "某省某县学府路 1 号",
        "",
        "",
        "苹果",
        "5kg/箱",
        "",
        "59.90",
        "2",
    ]
    .map(str::to_owned)
}

/// Rewrites a zip entry by entry (deflated), letting `change` replace any entry's content.
pub fn rebuild_zip(zip: &[u8], mut change: impl FnMut(&str, Vec<u8>) -> Vec<u8>) -> Vec<u8> {
    let mut archive = ZipArchive::new(Cursor::new(zip)).expect("zip");
    let mut out = ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("entry");
        let name = entry.name().expect("name").into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read");
        drop(entry);
        let data = change(&name, data);
        out.start_file(name, SimpleFileOptions::default())
            .expect("start");
        out.write_all(&data).expect("write");
    }
    out.finish().expect("finish").into_inner()
}
