use leptos::prelude::*;

/// The 832 mark with a page's title and subtitle, at the top of the login and demo pages.
/// `inline_mark` draws the mark as a `<span>` (the demo card) instead of a `<div>`.
#[component]
pub fn Brand(
    title: &'static str,
    subtitle: &'static str,
    #[prop(optional)] inline_mark: bool,
) -> impl IntoView {
    let mark = match inline_mark {
        true => view! { <span class="logo-mark">"832"</span> }.into_any(),
        false => view! { <div class="logo-mark">"832"</div> }.into_any(),
    };
    view! {
        <div class="login-brand">
            {mark}
            <div>
                <h1>{title}</h1>
                <p class="subtitle">{subtitle}</p>
            </div>
        </div>
    }
}
