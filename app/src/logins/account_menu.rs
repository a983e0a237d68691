use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{AccountView, ChangePasswordDialog, Logout, reload_after_password_change};
use crate::components::{Toast, go_to};
use crate::use_hydrated;

/// The account top-right; hovering it opens 修改密码 and 退出系统 (manual §2.1, §2.2).
#[component]
pub fn AccountMenu(account: AccountView) -> impl IntoView {
    let hydrated = use_hydrated();
    let dialog_open = RwSignal::new(false);
    // Set after the reload that follows 修改密码 (see `reload_after_password_change`).
    let changed =
        use_query_map().with_untracked(|q| q.get("notice").as_deref() == Some("password_changed"));
    let saved_notice = RwSignal::new(changed.then(|| "密码已修改".to_owned()));
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        // Whatever the server said, the login is gone for this browser: back to the login page.
        if logout.value().get().is_some() {
            go_to("/login?reason=logout");
        }
    });
    let label = format!("{} ({})", account.display_name, account.login);

    view! {
        <div class="account" tabindex="0">
            <span class="avatar">{account.display_name.chars().next().unwrap_or('客').to_string()}</span>
            <span class="account-name">{label}</span>
            <span class="caret">"▾"</span>
            <div class="account-menu" role="menu">
                <button
                    type="button"
                    role="menuitem"
                    disabled=move || !hydrated.get()
                    on:click=move |_| {
                        saved_notice.set(None);
                        dialog_open.set(true);
                    }
                >
                    "修改密码"
                </button>
                <button
                    type="button"
                    role="menuitem"
                    disabled=move || !hydrated.get() || logout.pending().get()
                    on:click=move |_| {
                        logout.dispatch(Logout {});
                    }
                >
                    "退出系统"
                </button>
            </div>
        </div>
        <Show when=move || dialog_open.get()>
            <ChangePasswordDialog
                on_close=move |saved: bool| {
                    dialog_open.set(false);
                    if saved {
                        // The open sockets hold the old token: reload so that they reconnect
                        // with the new cookie; the reloaded page says 密码已修改.
                        reload_after_password_change();
                    }
                }
            />
        </Show>
        <Toast message=saved_notice />
    }
}
