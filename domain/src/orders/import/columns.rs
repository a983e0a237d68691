//! The columns of the import sheet: their headers, which are required, and the 说明 and the
//! template's example for each.

/// A column of the import sheet.
pub(super) struct Column {
    pub(super) header: &'static str,
    pub(super) required: bool,
    /// What goes in it, for the 说明 sheet.
    pub(super) note: &'static str,
    /// The template's example value for its two rows.
    pub(super) example: [&'static str; 2],
}

pub(super) const ORDER_NO: usize = 0;
pub(super) const BUYER_ID: usize = 1;
pub(super) const BUYER_NAME: usize = 2;
pub(super) const BUYER_UNIT: usize = 3;
pub(super) const STATUS: usize = 4;
pub(super) const CREATED_AT: usize = 5;
pub(super) const PAID_AT: usize = 6;
pub(super) const FREIGHT: usize = 7;
pub(super) const CONSIGNEE: usize = 8;
pub(super) const PHONE: usize = 9;
pub(super) const ADDRESS: usize = 10;
pub(super) const LOGISTICS: usize = 11;
pub(super) const TRACKING: usize = 12;
pub(super) const ITEM_NAME: usize = 13;
pub(super) const ITEM_SPEC: usize = 14;
pub(super) const ITEM_PICTURE: usize = 15;
pub(super) const UNIT_PRICE: usize = 16;
pub(super) const QUANTITY: usize = 17;

/// Columns up to [`TRACKING`] belong to the order: on the 2nd and later rows of an order they may
/// be left blank; when filled they must match the order's first row.
pub(super) const COLUMNS: [Column; 18] = [
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

/// A header as compared: without a trailing `*`, whitespace and parentheses (half- or
/// full-width), so `单价（元）*` matches `单价(元)`.
pub(super) fn header_key(text: &str) -> String {
    text.trim()
        .trim_end_matches(['*', '＊'])
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '（' | '）'))
        .collect()
}

/// The sheet column an order field error points at.
pub(super) fn column_of(field: &str) -> usize {
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
