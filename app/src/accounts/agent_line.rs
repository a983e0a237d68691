use leptos::prelude::*;

use super::AgentRow;
use crate::components::RowButton;
use crate::logins::LoginTag;

/// One agent in 账号新增's table: name, 工号, 创建时间, 登录状态, and 编辑 · 停用/启用.
#[component]
pub fn AgentLine(
    row: AgentRow,
    /// 编辑 was pressed.
    on_edit: Callback<AgentRow>,
    /// 停用 or 启用 was pressed.
    on_toggle: Callback<AgentRow>,
) -> impl IntoView {
    let for_edit = row.clone();
    let for_toggle = row.clone();
    let disabled = row.disabled;
    view! {
        <tr>
            <td>{row.display_name}</td>
            <td class="mono">{row.login}</td>
            <td>{row.created_at}</td>
            <td>
                {if row.disabled {
                    view! { <span class="tag">"已停用"</span> }.into_any()
                } else {
                    view! { <LoginTag logged_in=row.logged_in /> }.into_any()
                }}
            </td>
            <td>
                <RowButton class="link-btn" on_click=move || on_edit.run(for_edit.clone())>
                    "编辑"
                </RowButton>
                <span class="muted">" · "</span>
                <RowButton class="link-btn" on_click=move || on_toggle.run(for_toggle.clone())>
                    {if disabled { "启用" } else { "停用" }}
                </RowButton>
            </td>
        </tr>
    }
}
