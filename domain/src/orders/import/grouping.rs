//! Rows grouped by 订单编号 into orders, each checked against the same rules as the API, with
//! every error of an order reported, not only the first.

use std::collections::HashMap;

use super::Errors;
use super::columns::*;
use super::sheet::SheetRow;
use crate::entity::purchase_order;
use crate::orders::{
    FieldError, MIN_TIME_MS, OrderInput, OrderItemInput, ValidOrder, validate_order,
};

/// The row of an order an error belongs to: its line's row for `items[i].…`, else the first row.
pub(super) fn row_of(field: &FieldError, rows: &[&SheetRow]) -> u32 {
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
pub(super) fn orders_of(rows: &[SheetRow], errors: &mut Errors) -> Vec<ValidOrder> {
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
            created_at: first.created_at.unwrap_or(MIN_TIME_MS),
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
pub(super) fn every_error(
    input: &OrderInput,
    first_error: FieldError,
) -> Vec<(Option<usize>, FieldError)> {
    let mut found: Vec<(Option<usize>, FieldError)> = order_field_errors(input)
        .into_iter()
        .map(|field| (None, field))
        .collect();
    for (i, item) in input.items.iter().enumerate() {
        found.extend(line_errors(item).into_iter().map(|field| (Some(i), field)));
    }
    // `items` alone names a rule of the whole order (how many lines, the total), which no
    // check of one field finds.
    if found.is_empty() || first_error.field == "items" {
        found.push((None, first_error));
    }
    found
}

/// A line that breaks no rule, to check one field of a real line alone.
fn valid_item() -> OrderItemInput {
    OrderItemInput {
        name: "商品".to_owned(),
        spec: String::new(),
        picture_url: None,
        unit_price_fen: 0,
        quantity: 1,
    }
}

/// An order that breaks no rule, to check one field of a real order alone.
fn valid_order() -> OrderInput {
    OrderInput {
        order_no: "NO".to_owned(),
        buyer_id: "ID".to_owned(),
        buyer_name: "名称".to_owned(),
        buyer_unit: String::new(),
        status: purchase_order::STATUSES[0].to_owned(),
        created_at: MIN_TIME_MS,
        paid_at: None,
        freight_fen: 0,
        consignee_name: "收货人".to_owned(),
        consignee_phone: "1".to_owned(),
        consignee_address: "地址".to_owned(),
        logistics_company: None,
        tracking_no: None,
        items: vec![valid_item()],
    }
}

/// How each of the order's own fields (not its lines) is checked alone: a copy of that field of
/// the input into a valid order.
const ORDER_FIELDS: [fn(&mut OrderInput, &OrderInput); 13] = [
    |order, input| order.order_no.clone_from(&input.order_no),
    |order, input| order.buyer_id.clone_from(&input.buyer_id),
    |order, input| order.buyer_name.clone_from(&input.buyer_name),
    |order, input| order.buyer_unit.clone_from(&input.buyer_unit),
    |order, input| order.status.clone_from(&input.status),
    |order, input| order.created_at = input.created_at,
    |order, input| order.paid_at = input.paid_at,
    |order, input| order.freight_fen = input.freight_fen,
    |order, input| order.consignee_name.clone_from(&input.consignee_name),
    |order, input| order.consignee_phone.clone_from(&input.consignee_phone),
    |order, input| order.consignee_address.clone_from(&input.consignee_address),
    |order, input| order.logistics_company.clone_from(&input.logistics_company),
    |order, input| order.tracking_no.clone_from(&input.tracking_no),
];

/// The same for a line's fields, into a valid line.
const LINE_FIELDS: [fn(&mut OrderItemInput, &OrderItemInput); 5] = [
    |line, item| line.name.clone_from(&item.name),
    |line, item| line.spec.clone_from(&item.spec),
    |line, item| line.picture_url.clone_from(&item.picture_url),
    |line, item| line.unit_price_fen = item.unit_price_fen,
    |line, item| line.quantity = item.quantity,
];

/// `valid` with one field of `input` copied in, once per copy in `copies`, in their order.
fn each_field_alone<'a, T: Clone>(
    valid: &'a T,
    input: &'a T,
    copies: &'a [fn(&mut T, &T)],
) -> impl Iterator<Item = T> + 'a {
    copies.iter().map(move |copy_field| {
        let mut alone = valid.clone();
        copy_field(&mut alone, input);
        alone
    })
}

/// The errors of the order's own fields (not its lines), each checked alone.
fn order_field_errors(input: &OrderInput) -> Vec<FieldError> {
    each_field_alone(&valid_order(), input, &ORDER_FIELDS)
        .filter_map(|order| validate_order(&order).err())
        .collect()
}

/// The errors of one line's fields, each checked alone as the only line of a valid order.
fn line_errors(item: &OrderItemInput) -> Vec<FieldError> {
    each_field_alone(&valid_item(), item, &LINE_FIELDS)
        .filter_map(|alone| {
            let order = OrderInput {
                items: vec![alone],
                ..valid_order()
            };
            validate_order(&order).err()
        })
        .map(|mut field| {
            // Checked as the only line, it is "the 1st line"; the row says which it is.
            field.reason = field.reason.replacen("第 1 个商品的", "", 1);
            field
        })
        .collect()
}
