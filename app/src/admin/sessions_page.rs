use leptos::prelude::*;

/// 在线会话清单 (manual §3.5).
#[component]
pub fn SessionsPage() -> impl IntoView {
    view! {
        <h1 class="page-title">"在线会话清单"</h1>
    }
}
