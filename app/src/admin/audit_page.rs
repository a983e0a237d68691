use leptos::prelude::*;

use super::audit_log;
use crate::use_hydrated;

/// 操作日志: the admin actions of this supplier, newest first.
#[component]
pub fn AuditPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let page = RwSignal::new(1u64);
    let data = Resource::new(move || page.get(), audit_log);

    view! {
        <h1 class="page-title">"操作日志"</h1>
        <div class="card table-card">
            <Suspense fallback=|| view! { <p class="empty">"加载中…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(d) => {
                            let pages = d.total.div_ceil(d.page_size).max(1);
                            let current = d.page;
                            view! {
                                <table class="data-table">
                                    <thead>
                                        <tr>
                                            <th>"时间"</th>
                                            <th>"操作人"</th>
                                            <th>"操作"</th>
                                            <th>"内容"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {if d.rows.is_empty() {
                                            view! { <tr><td colspan="4" class="empty">"暂无操作记录"</td></tr> }.into_any()
                                        } else {
                                            d.rows.into_iter().map(|r| view! {
                                                <tr>
                                                    <td class="nowrap">{r.time}</td>
                                                    <td>{r.actor}</td>
                                                    <td><span class="tag">{r.action}</span></td>
                                                    <td>{r.detail}</td>
                                                </tr>
                                            }).collect_view().into_any()
                                        }}
                                    </tbody>
                                </table>
                                <div class="pager">
                                    <span class="muted">{format!("共 {} 条，第 {current} / {pages} 页", d.total)}</span>
                                    <button
                                        type="button"
                                        class="btn small"
                                        disabled=move || !hydrated.get() || (current <= 1)
                                        on:click=move |_| page.set(current - 1)
                                    >
                                        "上一页"
                                    </button>
                                    <button
                                        type="button"
                                        class="btn small"
                                        disabled=move || !hydrated.get() || (current >= pages)
                                        on:click=move |_| page.set(current + 1)
                                    >
                                        "下一页"
                                    </button>
                                </div>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </div>
    }
}
