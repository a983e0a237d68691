use leptos::prelude::*;

use super::AddAgent;
use crate::components::{ActionStatus, Field, FormDialog, input_value};

/// 新增: the new agent's 用户名称; the system assigns the 工号 and an initial password.
#[component]
pub fn AddAgentDialog(
    action: ServerAction<AddAgent>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let name = NodeRef::<leptos::html::Input>::new();
    view! {
        <FormDialog
            title="新增客服账号"
            on_submit=move || {
                action.dispatch(AddAgent { display_name: input_value(name) });
            }
            on_close
            status=ActionStatus::of(action)
        >
            <Field id="agent-name" label="用户名称" maxlength="32" placeholder="例如：客服小王" node_ref=name />
            <p class="field-hint">"确定后系统自动分配登录账号（工号）和初始密码"</p>
        </FormDialog>
    }
}
