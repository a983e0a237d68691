use leptos::prelude::*;

use super::{LoginRow, LoginTag};
use crate::components::RowButton;

/// One account in 剔除登录's results: who, 角色, whether and since when and from where it is
/// logged in, and 剔除登录 when it is.
#[component]
pub fn LoginLine(
    row: LoginRow,
    /// 剔除登录 was pressed.
    on_kick: Callback<LoginRow>,
) -> impl IntoView {
    let for_kick = row.clone();
    let logged_in = row.since.is_some();
    view! {
        <tr>
            <td>{row.display_name}</td>
            <td class="mono">{row.login}</td>
            <td>{row.role_label}</td>
            <td><LoginTag logged_in /></td>
            <td>{row.since.unwrap_or_else(|| "—".into())}</td>
            <td class="mono">{row.client_addr.unwrap_or_else(|| "—".into())}</td>
            <td>
                <Show when=move || logged_in fallback=|| view! { <span class="muted">"—"</span> }>
                    {
                        let for_kick = for_kick.clone();
                        view! {
                            <RowButton class="btn danger small" on_click=move || on_kick.run(for_kick.clone())>
                                "剔除登录"
                            </RowButton>
                        }
                    }
                </Show>
            </td>
        </tr>
    }
}
