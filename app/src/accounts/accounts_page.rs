use leptos::prelude::*;

use super::{AddAgent, AgentRow, EditAgent, NewAgent, SetAgentDisabled, list_agents};
use crate::auth::input_value;
use crate::components::{Modal, Toast};
use crate::use_hydrated;

/// How often 账号新增 asks for its list again while the tab is visible, so that 登录状态
/// follows agents logging in and out.
#[cfg(feature = "hydrate")]
const AGENTS_REFRESH_MS: u64 = 5_000;

/// 账号新增 (manual §3.3): the supplier's agents, 新增, 编辑 and 停用/启用. 登录状态 stays
/// current: the list is looked at every 5 s while the tab is visible and redrawn when it changed.
#[component]
pub fn AccountsPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let add = ServerAction::<AddAgent>::new();
    let edit = ServerAction::<EditAgent>::new();
    let toggle = ServerAction::<SetAgentDisabled>::new();
    // Bumped when a look at the list found it changed (an agent logged in or out).
    let polls = RwSignal::new(0u32);
    let agents = Resource::new(
        move || {
            (
                add.version().get(),
                edit.version().get(),
                toggle.version().get(),
                polls.get(),
            )
        },
        |_| list_agents(),
    );
    #[cfg(feature = "hydrate")]
    {
        // Every few seconds, while the tab is visible, the list is asked for; the table is
        // drawn again only when it changed, so a focused button or a hover is not lost to a
        // redraw of the same rows. A hidden tab asks nothing and catches up once shown.
        let asking = StoredValue::new(false);
        let look = move || {
            if document().hidden() || asking.get_value() {
                return;
            }
            asking.set_value(true);
            leptos::task::spawn_local(async move {
                let fresh = list_agents().await;
                asking.try_set_value(false);
                let changed = fresh.is_ok_and(|rows| {
                    agents
                        .try_with_untracked(|shown| !matches!(shown, Some(Ok(old)) if *old == rows))
                        .unwrap_or(false)
                });
                if changed {
                    polls.try_update(|n| *n = n.wrapping_add(1));
                }
            });
        };
        if let Ok(interval) =
            set_interval_with_handle(look, std::time::Duration::from_millis(AGENTS_REFRESH_MS))
        {
            on_cleanup(move || interval.clear());
        }
    }
    let toggling = RwSignal::new(None::<AgentRow>);
    let adding = RwSignal::new(false);
    let editing = RwSignal::new(None::<AgentRow>);
    let created = RwSignal::new(None::<NewAgent>);
    let saved = RwSignal::new(None::<String>);

    Effect::new(move |_| {
        if let Some(Ok(agent)) = add.value().get() {
            adding.set(false);
            created.set(Some(agent));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = edit.value().get() {
            editing.set(None);
            saved.set(Some("账号信息已保存".to_owned()));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = toggle.value().get() {
            toggling.set(None);
        }
    });

    view! {
        <div class="page-head">
            <h1 class="page-title">"账号新增"</h1>
            <button
                type="button"
                class="btn primary"
                disabled=move || !hydrated.get()
                on:click=move |_| {
                    add.clear();
                    saved.set(None);
                    adding.set(true);
                }
            >
                "新增"
            </button>
        </div>
        <p class="muted page-hint">
            "一个供应商最多可新增 2 个在线客服账号。登录账号（工号）由系统自动分配，规则为 kf + 供应商编号 + 两位序号。"
        </p>
        <Toast message=saved />
        <div class="card table-card">
            <table class="data-table">
                <thead>
                    <tr>
                        <th>"客服名称"</th>
                        <th>"登录账号（工号）"</th>
                        <th>"创建时间"</th>
                        <th>"登录状态"</th>
                        <th>"操作"</th>
                    </tr>
                </thead>
                // Transition, not Suspense: the rows stay while the list is read again.
                <Transition fallback=|| view! { <tbody><tr><td colspan="5" class="empty">"加载中…"</td></tr></tbody> }>
                    {move || Suspend::new(async move {
                        match agents.await {
                            Ok(rows) if rows.is_empty() => view! {
                                <tbody><tr><td colspan="5" class="empty">"还没有在线客服账号，点击「新增」创建"</td></tr></tbody>
                            }.into_any(),
                            Ok(rows) => view! {
                                <tbody>
                                    {rows.into_iter().map(|row| {
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
                                                    } else if row.logged_in {
                                                        view! { <span class="tag ok">"已登录"</span> }.into_any()
                                                    } else {
                                                        view! { <span class="tag">"未登录"</span> }.into_any()
                                                    }}
                                                </td>
                                                <td>
                                                    <button
                                                        type="button"
                                                        class="link-btn"
                                                        disabled=move || !hydrated.get()
                                                        on:click=move |_| {
                                                            edit.clear();
                                                            saved.set(None);
                                                            editing.set(Some(for_edit.clone()));
                                                        }
                                                    >
                                                        "编辑"
                                                    </button>
                                                    <span class="muted">" · "</span>
                                                    <button
                                                        type="button"
                                                        class="link-btn"
                                                        disabled=move || !hydrated.get()
                                                        on:click=move |_| {
                                                            toggle.clear();
                                                            saved.set(None);
                                                            toggling.set(Some(for_toggle.clone()));
                                                        }
                                                    >
                                                        {if disabled { "启用" } else { "停用" }}
                                                    </button>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            }.into_any(),
                            Err(e) => view! {
                                <tbody><tr><td colspan="5" class="form-error" role="alert">{e.to_string()}</td></tr></tbody>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </table>
        </div>
        <Show when=move || adding.get()>
            <AddAgentDialog action=add on_close=move || adding.set(false) />
        </Show>
        {move || editing.get().map(|row| view! { <EditAgentDialog row action=edit on_close=move || editing.set(None) /> })}
        {move || created.get().map(|agent| view! { <CreatedDialog agent on_close=move || created.set(None) /> })}
        {move || toggling.get().map(|row| view! { <ToggleAgentDialog row action=toggle on_close=move || toggling.set(None) /> })}
    }
}

/// Confirms 停用 (the agent's login ends at once, it cannot log in) or 启用.
#[component]
fn ToggleAgentDialog(
    row: AgentRow,
    action: ServerAction<SetAgentDisabled>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let error = move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
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
        <Modal title=title on_close=move || on_close.run(())>
            <p>{question} {label} "」吗？"</p>
            {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <div class="dialog-actions">
                <button type="button" class="btn" on:click=move |_| on_close.run(())>"取消"</button>
                <button
                    type="button"
                    class=if disable { "btn danger" } else { "btn primary" }
                    disabled=move || action.pending().get()
                    on:click=move |_| {
                        action.dispatch(SetAgentDisabled { account_id, disabled: disable });
                    }
                >
                    "确定"
                </button>
            </div>
        </Modal>
    }
}

#[component]
fn AddAgentDialog(
    action: ServerAction<AddAgent>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let name = NodeRef::<leptos::html::Input>::new();
    let error = move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    view! {
        <Modal title="新增客服账号" on_close=move || on_close.run(())>
            <form
                class="form"
                novalidate
                on:submit=move |ev| {
                    ev.prevent_default();
                    action.dispatch(AddAgent { display_name: input_value(name) });
                }
            >
                <label for="agent-name">"用户名称"</label>
                <input id="agent-name" maxlength="32" placeholder="例如：客服小王" node_ref=name />
                <p class="field-hint">"确定后系统自动分配登录账号（工号）和初始密码"</p>
                {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                <div class="dialog-actions">
                    <button type="button" class="btn" on:click=move |_| on_close.run(())>"取消"</button>
                    <button type="submit" class="btn primary" disabled=move || action.pending().get()>"确定"</button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn EditAgentDialog(
    row: AgentRow,
    action: ServerAction<EditAgent>,
    #[prop(into)] on_close: Callback<()>,
) -> impl IntoView {
    let name = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();
    let error = move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    let account_id = row.id;
    view! {
        <Modal title="编辑用户" on_close=move || on_close.run(())>
            <form
                class="form"
                novalidate
                on:submit=move |ev| {
                    ev.prevent_default();
                    action.dispatch(EditAgent {
                        account_id,
                        display_name: input_value(name),
                        new_password: input_value(password),
                    });
                }
            >
                <p class="muted">"登录账号（工号）：" <span class="mono">{row.login.clone()}</span></p>
                <label for="edit-name">"客服名称"</label>
                <input id="edit-name" maxlength="32" value=row.display_name.clone() node_ref=name />
                <label for="edit-password">"新密码"</label>
                <input
                    id="edit-password"
                    type="password"
                    maxlength="64"
                    autocomplete="new-password"
                    placeholder="不修改请留空"
                    node_ref=password
                />
                <p class="field-hint">"设置新密码后，该客服当前的登录将被结束"</p>
                {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                <div class="dialog-actions">
                    <button type="button" class="btn" on:click=move |_| on_close.run(())>"取消"</button>
                    <button type="submit" class="btn primary" disabled=move || action.pending().get()>"确定"</button>
                </div>
            </form>
        </Modal>
    }
}

/// The new account's login and initial password, shown this once, with a copy button.
#[component]
fn CreatedDialog(agent: NewAgent, #[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let copied = RwSignal::new(false);
    let text = format!("登录账号：{}\n初始密码：{}", agent.login, agent.password);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&text);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
        copied.set(true);
    };
    view! {
        <Modal title="客服账号已创建" on_close=move || on_close.run(())>
            <div class="created">
                <p>"已为「" {agent.display_name} "」分配账号，初始密码只显示这一次，请复制后交给该客服："</p>
                <dl class="credentials">
                    <dt>"登录账号"</dt>
                    <dd class="mono" data-testid="new-login">{agent.login}</dd>
                    <dt>"初始密码"</dt>
                    <dd class="mono" data-testid="new-password">{agent.password}</dd>
                </dl>
                <div class="dialog-actions">
                    <button type="button" class="btn" on:click=copy>
                        {move || if copied.get() { "已复制" } else { "复制" }}
                    </button>
                    <button type="button" class="btn primary" on:click=move |_| on_close.run(())>"确定"</button>
                </div>
            </div>
        </Modal>
    }
}
