use leptos::prelude::*;

use super::{ActionStatus, DialogActions, FormError, Modal};

/// A question with 取消 and 确定 in a [`Modal`]. 确定 runs `on_confirm` and is disabled while
/// the action is under way; the error of its last try stays above the buttons.
#[component]
pub fn ConfirmDialog(
    #[prop(into)] title: String,
    /// 确定 in red, for what ends something at once (停用).
    #[prop(optional)]
    danger: bool,
    status: ActionStatus,
    /// Runs on 确定.
    #[prop(into)]
    on_confirm: Callback<()>,
    /// Runs on 取消, ×, Escape.
    #[prop(into)]
    on_close: Callback<()>,
    /// The question.
    children: Children,
) -> impl IntoView {
    view! {
        <Modal title on_close>
            {children()}
            <FormError message=status.error />
            <DialogActions on_cancel=on_close pending=status.pending on_confirm danger />
        </Modal>
    }
}
