use leptos::prelude::*;

use super::add_agent_dialog::AddAgentDialog;
use super::agent_line::AgentLine;
use super::created_dialog::CreatedDialog;
use super::edit_agent_dialog::EditAgentDialog;
use super::toggle_agent_dialog::ToggleAgentDialog;
use super::{AddAgent, AgentRow, EditAgent, NewAgent, SetAgentDisabled, list_agents};
use crate::components::{DataTable, PageHead, Toast, on_success};
use crate::error::AppError;
use crate::use_hydrated;

/// How often 账号新增 asks for its list again while the tab is visible, so that 登录状态
/// follows agents logging in and out.
#[cfg(feature = "hydrate")]
const AGENTS_REFRESH_MS: u64 = 5_000;

/// 账号新增's columns.
const COLUMNS: [&str; 5] = [
    "客服名称",
    "登录账号（工号）",
    "创建时间",
    "登录状态",
    "操作",
];

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
    follow_logins(agents, polls);
    let toggling = RwSignal::new(None::<AgentRow>);
    let adding = RwSignal::new(false);
    let editing = RwSignal::new(None::<AgentRow>);
    let created = RwSignal::new(None::<NewAgent>);
    let saved = RwSignal::new(None::<String>);

    on_success(add, move |agent| {
        adding.set(false);
        created.set(Some(agent));
    });
    on_success(edit, move |()| {
        editing.set(None);
        saved.set(Some("账号信息已保存".to_owned()));
    });
    on_success(toggle, move |()| toggling.set(None));
    let on_edit = Callback::new(move |row: AgentRow| {
        edit.clear();
        saved.set(None);
        editing.set(Some(row));
    });
    let on_toggle = Callback::new(move |row: AgentRow| {
        toggle.clear();
        saved.set(None);
        toggling.set(Some(row));
    });
    let open_add = move |_| {
        add.clear();
        saved.set(None);
        adding.set(true);
    };

    view! {
        <PageHead
            title="账号新增"
            hint="一个供应商最多可新增 2 个在线客服账号。登录账号（工号）由系统自动分配，规则为 kf + 供应商编号 + 两位序号。"
        >
            <button type="button" class="btn primary" disabled=move || !hydrated.get() on:click=open_add>
                "新增"
            </button>
        </PageHead>
        <Toast message=saved />
        <DataTable
            columns=&COLUMNS
            rows=agents
            empty="还没有在线客服账号，点击「新增」创建"
            row=move |row| view! { <AgentLine row on_edit on_toggle /> }.into_any()
        />
        <Show when=move || adding.get()>
            <AddAgentDialog action=add on_close=move || adding.set(false) />
        </Show>
        {move || editing.get().map(|row| view! { <EditAgentDialog row action=edit on_close=move || editing.set(None) /> })}
        {move || created.get().map(|agent| view! { <CreatedDialog agent on_close=move || created.set(None) /> })}
        {move || toggling.get().map(|row| view! { <ToggleAgentDialog row action=toggle on_close=move || toggling.set(None) /> })}
    }
}

/// Every few seconds, while the tab is visible, the list is asked for; the table is drawn again
/// (`polls` bumped) only when it changed, so a focused button or a hover is not lost to a redraw
/// of the same rows. A hidden tab asks nothing and catches up once shown.
fn follow_logins(agents: Resource<Result<Vec<AgentRow>, AppError>>, polls: RwSignal<u32>) {
    #[cfg(feature = "hydrate")]
    {
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
    #[cfg(not(feature = "hydrate"))]
    let _ = (agents, polls);
}
