use leptos::prelude::*;

use super::{KickLogin, LoginRow};
use crate::components::{ActionStatus, ConfirmDialog};

/// Confirms 剔除登录 of one account; `on_confirm` gets its id and its `name (login)` label.
#[component]
pub fn KickDialog(
    row: LoginRow,
    action: ServerAction<KickLogin>,
    on_confirm: Callback<(i64, String)>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let account_id = row.account_id;
    let label = format!("{} ({})", row.display_name, row.login);
    let confirm = {
        let label = label.clone();
        move || on_confirm.run((account_id, label.clone()))
    };
    view! {
        <ConfirmDialog
            title="剔除登录"
            status=ActionStatus::of(action)
            on_close=on_close
            on_confirm=confirm
        >
            <p>"确定要剔除「" {label} "」的登录吗？该账号当前的登录将立即结束。"</p>
        </ConfirmDialog>
    }
}
