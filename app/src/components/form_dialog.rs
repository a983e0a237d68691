use leptos::prelude::*;

use super::{DialogActions, FormError, Modal};

/// A form in a [`Modal`] (新增, 编辑, 修改密码): the fields, the error of the last try, 取消 and
/// the submit button, disabled while `pending`. Errors keep the dialog open.
#[component]
pub fn FormDialog(
    #[prop(into)] title: String,
    /// Runs when the form is submitted (button or Enter).
    #[prop(into)]
    on_submit: Callback<()>,
    /// Runs on 取消, ×, Escape.
    #[prop(into)]
    on_close: Callback<()>,
    /// The submitted action is under way.
    #[prop(into)]
    pending: Signal<bool>,
    /// Why the last try failed.
    #[prop(into)]
    error: Signal<Option<String>>,
    /// The submit button.
    #[prop(default = "确定")]
    submit_label: &'static str,
    /// The fields.
    children: Children,
) -> impl IntoView {
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_submit.run(());
    };
    view! {
        <Modal title on_close>
            <form class="form" novalidate on:submit=submit>
                {children()}
                <FormError message=error />
                <DialogActions on_cancel=on_close pending label=submit_label />
            </form>
        </Modal>
    }
}
