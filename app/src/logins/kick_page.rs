use leptos::prelude::*;

use super::kick_dialog::KickDialog;
use super::login_line::LoginLine;
use super::{KickLogin, LoginRow, search_logins};
use crate::components::{DataTable, Toast, input_value, on_success};
use crate::use_hydrated;

/// 剔除登录's columns.
const COLUMNS: [&str; 7] = [
    "用户名称",
    "登录账号",
    "角色",
    "登录状态",
    "登录时间",
    "登录地址",
    "操作",
];

/// 剔除登录 (manual §3.4): find a hung login and end it.
#[component]
pub fn KickPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let query_input = NodeRef::<leptos::html::Input>::new();
    let query = RwSignal::new(String::new());
    let kick = ServerAction::<KickLogin>::new();
    let results = Resource::new(
        move || (query.get(), kick.version().get()),
        |(q, _)| search_logins(q),
    );
    let confirming = RwSignal::new(None::<LoginRow>);
    // The account being kicked; named in 已剔除… once the server has said it is done.
    let kicking = RwSignal::new(None::<String>);
    let kicked_notice = RwSignal::new(None::<String>);

    on_success(kick, move |_| {
        confirming.set(None);
        if let Some(label) = kicking.get_untracked() {
            kicked_notice.set(Some(format!("已剔除 {label} 的登录")));
        }
    });
    let on_kick = Callback::new(move |row: LoginRow| {
        kick.clear();
        confirming.set(Some(row));
    });
    let on_confirm = Callback::new(move |(account_id, label): (i64, String)| {
        kicked_notice.set(None);
        kicking.set(Some(label));
        kick.dispatch(KickLogin { account_id });
    });

    view! {
        <h1 class="page-title">"剔除登录"</h1>
        <p class="muted page-hint">"客服因未正常退出导致账号挂死无法登录时，可在此剔除其登录，剔除后该账号即可重新登录。"</p>
        <form
            class="search-bar"
            on:submit=move |ev| {
                ev.prevent_default();
                kicked_notice.set(None);
                query.set(input_value(query_input));
            }
        >
            <label for="kick-query" class="inline-label">"用户名称"</label>
            <input id="kick-query" maxlength="32" placeholder="输入客服名称或登录账号" node_ref=query_input />
            <button type="submit" class="btn primary" disabled=move || !hydrated.get()>"搜索"</button>
        </form>
        <Toast message=kicked_notice />
        <DataTable
            columns=&COLUMNS
            rows=results
            empty="没有找到匹配的账号"
            row=move |row| view! { <LoginLine row on_kick /> }.into_any()
            blank_while_reloading=true
        />
        {move || confirming.get().map(|row| view! {
            <KickDialog row action=kick on_confirm on_close=move || confirming.set(None) />
        })}
    }
}
