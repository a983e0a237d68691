use leptos::prelude::*;

use super::{ChangePassword, input_value};
use crate::components::Modal;

/// 修改密码: 原密码, 新密码, 确认新密码, 保存. Errors keep the dialog open.
#[component]
pub fn ChangePasswordDialog(#[prop(into)] on_close: Callback<bool>) -> impl IntoView {
    let old_password = NodeRef::<leptos::html::Input>::new();
    let new_password = NodeRef::<leptos::html::Input>::new();
    let confirm_password = NodeRef::<leptos::html::Input>::new();
    let action = ServerAction::<ChangePassword>::new();

    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            on_close.run(true);
        }
    });
    let error = move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(ChangePassword {
            old_password: input_value(old_password),
            new_password: input_value(new_password),
            confirm_password: input_value(confirm_password),
        });
    };

    view! {
        <Modal title="修改密码" on_close=move || on_close.run(false)>
            <form class="form" on:submit=on_submit novalidate>
                <label for="old-password">"原密码"</label>
                <input
                    id="old-password"
                    type="password"
                    autocomplete="current-password"
                    maxlength="64"
                    node_ref=old_password
                />
                <label for="new-password">"新密码"</label>
                <input
                    id="new-password"
                    type="password"
                    autocomplete="new-password"
                    maxlength="64"
                    node_ref=new_password
                />
                <label for="confirm-password">"确认新密码"</label>
                <input
                    id="confirm-password"
                    type="password"
                    autocomplete="new-password"
                    maxlength="64"
                    node_ref=confirm_password
                />
                <p class="field-hint">"8–64 位，至少包含大写字母、小写字母、数字、符号中的三类，且不能包含账号"</p>
                {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                <div class="dialog-actions">
                    <button type="button" class="btn" on:click=move |_| on_close.run(false)>
                        "取消"
                    </button>
                    <button type="submit" class="btn primary" disabled=move || action.pending().get()>
                        "保存"
                    </button>
                </div>
            </form>
        </Modal>
    }
}
