use leptos::prelude::*;

use super::{AgentRow, EditAgent};
use crate::components::{ActionStatus, Field, FormDialog, input_value};

/// 编辑: the agent's 客服名称 and, optionally, a new password.
#[component]
pub fn EditAgentDialog(
    row: AgentRow,
    action: ServerAction<EditAgent>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let name = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();
    let account_id = row.id;
    let submit = move || {
        action.dispatch(EditAgent {
            account_id,
            display_name: input_value(name),
            new_password: input_value(password),
        });
    };
    view! {
        <FormDialog
            title="编辑用户"
            on_submit=submit
            on_close
            status=ActionStatus::of(action)
        >
            <p class="muted">"登录账号（工号）：" <span class="mono">{row.login}</span></p>
            <Field id="edit-name" label="客服名称" maxlength="32" value=row.display_name node_ref=name />
            <Field
                id="edit-password"
                label="新密码"
                kind="password"
                maxlength="64"
                autocomplete="new-password"
                placeholder="不修改请留空"
                node_ref=password
            />
            <p class="field-hint">"设置新密码后，该客服当前的登录将被结束"</p>
        </FormDialog>
    }
}
