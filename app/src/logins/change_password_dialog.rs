use leptos::prelude::*;

use super::ChangePassword;
use crate::components::{ActionStatus, Field, FormDialog, input_value, on_success};

/// 修改密码: 原密码, 新密码, 确认新密码, 保存. Errors keep the dialog open.
#[component]
pub fn ChangePasswordDialog(#[prop(into)] on_close: Callback<bool>) -> impl IntoView {
    let old_password = NodeRef::<leptos::html::Input>::new();
    let new_password = NodeRef::<leptos::html::Input>::new();
    let confirm_password = NodeRef::<leptos::html::Input>::new();
    let action = ServerAction::<ChangePassword>::new();

    on_success(action, move |()| on_close.run(true));
    let submit = move || {
        action.dispatch(ChangePassword {
            old_password: input_value(old_password),
            new_password: input_value(new_password),
            confirm_password: input_value(confirm_password),
        });
    };
    let (current, new) = ("current-password", "new-password");

    view! {
        <FormDialog
            title="修改密码"
            submit_label="保存"
            on_submit=submit
            on_close=move || on_close.run(false)
            status=ActionStatus::of(action)
        >
            <Field id="old-password" label="原密码" kind="password" autocomplete=current maxlength="64" node_ref=old_password />
            <Field id="new-password" label="新密码" kind="password" autocomplete=new maxlength="64" node_ref=new_password />
            <Field id="confirm-password" label="确认新密码" kind="password" autocomplete=new maxlength="64" node_ref=confirm_password />
            <p class="field-hint">"8–64 位，至少包含大写字母、小写字母、数字、符号中的三类，且不能包含账号"</p>
        </FormDialog>
    }
}
