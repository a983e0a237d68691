use leptos::prelude::*;

use super::{AgentRow, SetAgentDisabled};
use crate::components::{ActionStatus, ConfirmDialog};

/// Confirms 停用 (the agent's login ends at once, it cannot log in) or 启用.
#[component]
pub fn ToggleAgentDialog(
    row: AgentRow,
    action: ServerAction<SetAgentDisabled>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let account_id = row.id;
    let disable = !row.disabled;
    let (title, question) = if disable {
        (
            "停用账号",
            "停用后该客服当前的登录将立即结束，且无法再登录，直到重新启用。确定要停用「",
        )
    } else {
        ("启用账号", "启用后该客服可以重新登录。确定要启用「")
    };
    let label = format!("{} ({})", row.display_name, row.login);
    view! {
        <ConfirmDialog
            title=title
            danger=disable
            status=ActionStatus::of(action)
            on_close=on_close
            on_confirm=move || {
                action.dispatch(SetAgentDisabled { account_id, disabled: disable });
            }
        >
            <p>{question} {label} "」吗？"</p>
        </ConfirmDialog>
    }
}
