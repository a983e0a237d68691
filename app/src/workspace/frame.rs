use leptos::prelude::*;

use crate::components::go_to;
use crate::error::AppError;
use crate::logins::{AccountMenu, me};

/// How often an open page tells the server it is still there (single-login heartbeat).
#[cfg(feature = "hydrate")]
const HEARTBEAT_MS: u32 = 60_000;

/// The frame of every signed-in page: the header with the system name, the area name and the
/// account top-right, plus the heartbeat that keeps the login alive while the page is open.
#[component]
pub fn Frame(#[prop(into)] area: String, children: ChildrenFn) -> impl IntoView {
    let account = Resource::new_blocking(|| (), |_| me());

    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        // Told at once when the login ends (剔除登录, new password, 退出系统 elsewhere).
        crate::realtime::connect_account_channel();
        // A plain heartbeat too, for networks that block WebSockets.
        let interval = gloo_timers::callback::Interval::new(HEARTBEAT_MS, move || {
            leptos::task::spawn_local(async move {
                if let Err(AppError::Unauthenticated) = me().await {
                    go_to("/login?reason=expired");
                }
            });
        });
        // Lives as long as the page.
        interval.forget();
    });

    view! {
        <div class="frame">
            <header class="topbar">
                <div class="brand">
                    <span class="logo-mark small">"832"</span>
                    <span class="brand-name">"在线客服系统"</span>
                    <span class="area-name">{area}</span>
                </div>
                <Suspense fallback=|| view! { <span class="account placeholder">"…"</span> }>
                    {move || Suspend::new(async move {
                        match account.await {
                            Ok(acc) => {
                                let supplier = acc.supplier_name.clone();
                                view! {
                                    <span class="supplier-name">{supplier}</span>
                                    <AccountMenu account=acc />
                                }
                                    .into_any()
                            }
                            Err(AppError::Unauthenticated) => {
                                go_to("/login?reason=expired");
                                view! { <span class="account placeholder">"登录已失效"</span> }.into_any()
                            }
                            Err(e) => view! { <span class="form-error">{e.to_string()}</span> }.into_any(),
                        }
                    })}
                </Suspense>
            </header>
            <div class="frame-body">{children()}</div>
        </div>
    }
}
