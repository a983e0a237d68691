//! Domain-free building blocks: the brand header, dialogs, tables, the pager, the error line, the toast, the
//! date field and small browser helpers.

mod action_status;
mod brand;
mod confirm_dialog;
mod data_table;
mod date_field;
mod dialog_actions;
mod dom;
mod escape;
mod field;
mod form_dialog;
mod form_error;
mod modal;
mod page_head;
mod paged_table;
mod pager;
mod row_button;
mod secret_dialog;
mod table_parts;
mod toast;

pub use action_status::{ActionStatus, on_success};
pub use brand::Brand;
pub use confirm_dialog::ConfirmDialog;
pub use data_table::DataTable;
pub use date_field::DateField;
pub use dialog_actions::DialogActions;
pub use dom::{go_to, input_value};
pub use escape::close_on_escape;
pub use field::Field;
pub use form_dialog::FormDialog;
pub use form_error::FormError;
pub use modal::Modal;
pub use page_head::PageHead;
pub use paged_table::PagedTable;
pub use pager::{PageSpan, Pager};
pub use row_button::RowButton;
pub use secret_dialog::SecretDialog;
pub use table_parts::{head_row, note_line, rows_or_note};
pub use toast::{TOAST_MS, Toast};
