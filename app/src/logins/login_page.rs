use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::Login;
use crate::components::{ActionStatus, Brand, Field, FormError, go_to, input_value, on_success};
use crate::use_hydrated;

/// The one login page for admins and agents (manual §一).
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let notice = move || {
        query.with(|q| match q.get("reason").as_deref() {
            Some("expired") => Some("登录已失效，请重新登录"),
            Some("kicked") => Some("您的登录已被客服管理员剔除，请重新登录"),
            Some("disabled") => Some("您的账号已被客服管理员停用，请联系客服管理员"),
            Some("logout") => Some("您已退出系统"),
            Some("password_reset") => Some("客服管理员已为您设置新密码，请使用新密码登录"),
            _ => None,
        })
    };
    let hydrated = use_hydrated();
    // Read from the inputs themselves on submit: text typed before hydration is kept.
    let login_input = NodeRef::<leptos::html::Input>::new();
    let password_input = NodeRef::<leptos::html::Input>::new();
    let action = ServerAction::<Login>::new();

    on_success(action, move |target| go_to(&target));
    let busy = move || !hydrated.get() || action.pending().get();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Login {
            login: input_value(login_input),
            password: input_value(password_input),
        });
    };

    view! {
        <main class="login-page">
            <Brand title="832 平台在线客服系统" subtitle="供应商版 · 脱贫地区农副产品网络销售平台" />
            <form class="login-card" on:submit=on_submit novalidate>
                <h2>"登录"</h2>
                {move || notice().map(|n| view! { <p class="notice">{n}</p> })}
                <Field
                    id="login"
                    label="账号"
                    name="login"
                    autocomplete="username"
                    maxlength="32"
                    placeholder="请输入账号"
                    node_ref=login_input
                />
                <Field
                    id="password"
                    label="密码"
                    name="password"
                    kind="password"
                    autocomplete="current-password"
                    maxlength="64"
                    placeholder="请输入密码"
                    node_ref=password_input
                />
                <FormError message=ActionStatus::of(action).error />
                <button type="submit" class="btn primary block" disabled=busy>
                    {move || if action.pending().get() { "登录中…" } else { "登录" }}
                </button>
                <p class="hint">"供应商客服管理员和在线客服均通过此页面登录"</p>
            </form>
            <footer class="login-footer">"消费帮扶 · 政采同行"</footer>
        </main>
    }
}
