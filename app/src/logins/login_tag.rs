use leptos::prelude::*;

/// 登录状态 as a tag: 已登录 (green) or 未登录.
#[component]
pub fn LoginTag(logged_in: bool) -> impl IntoView {
    if logged_in {
        view! { <span class="tag ok">"已登录"</span> }.into_any()
    } else {
        view! { <span class="tag">"未登录"</span> }.into_any()
    }
}
