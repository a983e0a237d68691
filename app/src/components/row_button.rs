use leptos::prelude::*;

use crate::use_hydrated;

/// A button in a table row (编辑, 停用, 剔除登录), disabled until the page is hydrated so an
/// early click is not lost.
#[component]
pub fn RowButton(
    /// `link-btn`, or `btn …` classes.
    class: &'static str,
    #[prop(into)] on_click: Callback<()>,
    /// The label.
    children: Children,
) -> impl IntoView {
    let hydrated = use_hydrated();
    view! {
        <button
            type="button"
            class=class
            disabled=move || !hydrated.get()
            on:click=move |_| on_click.run(())
        >
            {children()}
        </button>
    }
}
