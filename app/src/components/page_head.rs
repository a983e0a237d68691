use leptos::prelude::*;

/// A page's title with its actions (the children) beside it, and the hint under it.
#[component]
pub fn PageHead(
    title: &'static str,
    hint: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="page-head">
            <h1 class="page-title">{title}</h1>
            {children.map(|actions| actions())}
        </div>
        <p class="muted page-hint">{hint}</p>
    }
}
