use leptos::prelude::*;

use super::{DialogActions, FormError, Modal};

/// A question with 取消 and 确定 in a [`Modal`]. 确定 runs `on_confirm` and is disabled while
/// `pending`; the error of the last try stays above the buttons until the dialog closes.
#[component]
pub fn ConfirmDialog(
    #[prop(into)] title: String,
    /// Runs on 确定.
    #[prop(into)]
    on_confirm: Callback<()>,
    /// Runs on 取消, ×, Escape.
    #[prop(into)]
    on_close: Callback<()>,
    /// The confirmed action is under way.
    #[prop(into)]
    pending: Signal<bool>,
    /// Why the last try failed.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// 确定 in red, for what ends something at once (停用).
    #[prop(optional)]
    danger: bool,
    /// The question.
    children: Children,
) -> impl IntoView {
    view! {
        <Modal title on_close>
            {children()}
            <FormError message=error />
            <DialogActions on_cancel=on_close pending on_confirm danger />
        </Modal>
    }
}
