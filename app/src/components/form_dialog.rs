use leptos::prelude::*;

use super::{ActionStatus, DialogActions, FormError, Modal};

/// A form in a [`Modal`] (新增, 编辑, 修改密码): the fields, the error of the last try, 取消 and
/// the submit button, disabled while the action is under way. Errors keep the dialog open.
#[component]
pub fn FormDialog(
    #[prop(into)] title: String,
    /// The submit button.
    #[prop(default = "确定")]
    submit_label: &'static str,
    status: ActionStatus,
    /// Runs when the form is submitted (button or Enter).
    #[prop(into)]
    on_submit: Callback<()>,
    #[prop(into)] on_close: Callback<()>,
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
                <FormError message=status.error />
                <DialogActions on_cancel=on_close pending=status.pending label=submit_label />
            </form>
        </Modal>
    }
}
