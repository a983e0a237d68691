//! Orders beside the chat (§7): a buyer's orders with a supplier, a page at a time, an order's
//! detail with the consignee's phone masked, and the two ways orders come in (the mall's HTTP
//! API through [`upsert_order`], and the admin's .xlsx [`import`]).
//!
//! Every read is scoped by supplier AND buyer: an order of another supplier or another buyer is
//! [`DomainError::NotFound`], exactly like one that does not exist. Amounts are integer fen (分)
//! everywhere; the only place yuan appear is the .xlsx sheet, parsed as decimal text in
//! [`money`].

//!
//! One file per topic: `buyer_orders` (the panel's pages, the chat's order cards, an order's
//! detail), `validate` (the rules of an order from the mall), `upsert` (writing it), `import`
//! (the .xlsx sheet), `api_key` (the mall's key) and `money` (yuan text to fen).

pub mod api_key;
mod buyer_orders;
pub mod import;
pub mod money;
mod upsert;
mod validate;

pub use api_key::{ApiKeyStatus, api_key_status, rotate_api_key, supplier_for_api_key};
pub use buyer_orders::{
    OrderDetailRow, OrderItemRow, OrderSummaryRow, OrdersPage, buyer_id_by_external, detail,
    list_for_buyer, mask_phone, summaries_by_ids,
};
pub use import::{ImportError, ImportGate, ImportReport, RowError, orders_template_xlsx};
pub(crate) use upsert::upsert_in;
pub use upsert::{UpsertOutcome, upsert_order};
pub use validate::{
    FieldError, OrderInput, OrderItemInput, ValidItem, ValidOrder, safe_picture_url, validate_order,
};

/// Orders per page of the agent's 采购人订单 panel.
pub const ORDERS_PAGE_SIZE: u64 = 5;
/// Highest page index [`list_for_buyer`] accepts (keeps offsets sane).
pub const MAX_PAGE: u64 = 10_000;
/// Most ids [`summaries_by_ids`] looks up at once.
pub const MAX_SUMMARY_IDS: usize = 200;
/// Longest picture URL kept (the `order_item.picture_url` column).
pub const MAX_PICTURE_URL_LEN: usize = 500;
/// Longest order number (the mall's 订单编号).
pub const MAX_ORDER_NO_CHARS: usize = 64;
/// Most items (lines) in one order.
pub const MAX_ITEMS: usize = 100;
/// Most pieces of one line.
pub const MAX_QUANTITY: i64 = 1_000_000;
/// Highest unit price or freight: 1 亿元 in fen.
pub const MAX_AMOUNT_FEN: i64 = 10_000_000_000;
/// Highest order total: 100 亿元 in fen (far inside i64 even at the item maxima).
pub const MAX_TOTAL_FEN: i64 = 1_000_000_000_000;
/// Item name length (the column is 200).
pub const MAX_ITEM_NAME_CHARS: usize = 200;
/// Item spec length (the column is 200).
pub const MAX_ITEM_SPEC_CHARS: usize = 200;
/// Longest 客户编号 (as in the buyer token).
pub const MAX_BUYER_ID_CHARS: usize = 64;
/// Longest buyer name (as in the buyer token).
pub const MAX_BUYER_NAME_CHARS: usize = 32;
/// Longest budget unit (as in the buyer token).
pub const MAX_BUYER_UNIT_CHARS: usize = 64;
/// Consignee name length (the column is 64).
pub const MAX_CONSIGNEE_NAME_CHARS: usize = 64;
/// Consignee phone length (the column is 32).
pub const MAX_PHONE_CHARS: usize = 32;
/// Address length (the column is 255).
pub const MAX_ADDRESS_CHARS: usize = 255;
/// Logistics company and tracking number length (the columns are 64).
pub const MAX_LOGISTICS_CHARS: usize = 64;
/// Earliest accepted time: 2000-01-01 UTC, in ms.
pub const MIN_TIME_MS: i64 = 946_684_800_000;
/// Latest accepted time: 2100-01-01 UTC, in ms.
pub const MAX_TIME_MS: i64 = 4_102_444_800_000;
