use leptos::prelude::*;

use super::{KickLogin, LoginRow, search_logins};
use crate::auth::input_value;
use crate::components::{Modal, Toast};
use crate::use_hydrated;

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

    Effect::new(move |_| {
        if let Some(Ok(_)) = kick.value().get() {
            confirming.set(None);
            if let Some(label) = kicking.get_untracked() {
                kicked_notice.set(Some(format!("已剔除 {label} 的登录")));
            }
        }
    });
    let kick_error = move || {
        kick.value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };

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
        <div class="card table-card">
            <table class="data-table">
                <thead>
                    <tr>
                        <th>"用户名称"</th>
                        <th>"登录账号"</th>
                        <th>"角色"</th>
                        <th>"登录状态"</th>
                        <th>"登录时间"</th>
                        <th>"登录地址"</th>
                        <th>"操作"</th>
                    </tr>
                </thead>
                <Suspense fallback=|| view! { <tbody><tr><td colspan="7" class="empty">"加载中…"</td></tr></tbody> }>
                    {move || Suspend::new(async move {
                        match results.await {
                            Ok(rows) if rows.is_empty() => view! {
                                <tbody><tr><td colspan="7" class="empty">"没有找到匹配的账号"</td></tr></tbody>
                            }.into_any(),
                            Ok(rows) => view! {
                                <tbody>
                                    {rows.into_iter().map(|row| {
                                        let for_kick = row.clone();
                                        let logged_in = row.since.is_some();
                                        view! {
                                            <tr>
                                                <td>{row.display_name}</td>
                                                <td class="mono">{row.login}</td>
                                                <td>{row.role_label}</td>
                                                <td>
                                                    {if logged_in {
                                                        view! { <span class="tag ok">"已登录"</span> }.into_any()
                                                    } else {
                                                        view! { <span class="tag">"未登录"</span> }.into_any()
                                                    }}
                                                </td>
                                                <td>{row.since.unwrap_or_else(|| "—".into())}</td>
                                                <td class="mono">{row.client_addr.unwrap_or_else(|| "—".into())}</td>
                                                <td>
                                                    <Show when=move || logged_in fallback=|| view! { <span class="muted">"—"</span> }>
                                                        {
                                                            let for_kick = for_kick.clone();
                                                            view! {
                                                                <button
                                                                    type="button"
                                                                    class="btn danger small"
                                                                    disabled=move || !hydrated.get()
                                                                    on:click=move |_| {
                                                                        kick.clear();
                                                                        confirming.set(Some(for_kick.clone()));
                                                                    }
                                                                >
                                                                    "剔除登录"
                                                                </button>
                                                            }
                                                        }
                                                    </Show>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            }.into_any(),
                            Err(e) => view! {
                                <tbody><tr><td colspan="7" class="form-error" role="alert">{e.to_string()}</td></tr></tbody>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </table>
        </div>
        {move || confirming.get().map(|row| {
            let account_id = row.account_id;
            let label = format!("{} ({})", row.display_name, row.login);
            view! {
                <Modal title="剔除登录" on_close=move || confirming.set(None)>
                    <p>"确定要剔除「" {label.clone()} "」的登录吗？该账号当前的登录将立即结束。"</p>
                    {move || kick_error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                    <div class="dialog-actions">
                        <button type="button" class="btn" on:click=move |_| confirming.set(None)>"取消"</button>
                        <button
                            type="button"
                            class="btn primary"
                            disabled=move || kick.pending().get()
                            on:click={
                                let label = label.clone();
                                move |_| {
                                    kicked_notice.set(None);
                                    kicking.set(Some(label.clone()));
                                    kick.dispatch(KickLogin { account_id });
                                }
                            }
                        >
                            "确定"
                        </button>
                    </div>
                </Modal>
            }
        })}
    }
}
