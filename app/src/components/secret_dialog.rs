use leptos::prelude::*;

use super::Modal;

/// Something shown this once (an initial password, an API key) in a [`Modal`], with 复制
/// (which then reads 已复制) and 确定. It does not close on a stray click beside it.
#[component]
pub fn SecretDialog(
    #[prop(into)] title: String,
    /// What 复制 puts on the clipboard.
    copy_text: String,
    #[prop(into)] on_close: Callback<()>,
    /// When set, the body and the buttons sit in a `<div>` of this class.
    #[prop(optional)]
    class: Option<&'static str>,
    /// The secret and what to do with it.
    children: Children,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&copy_text);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &copy_text;
        copied.set(true);
    };
    let body = view! {
        {children()}
        <div class="dialog-actions">
            <button type="button" class="btn" on:click=copy>
                {move || if copied.get() { "已复制" } else { "复制" }}
            </button>
            <button type="button" class="btn primary" on:click=move |_| on_close.run(())>"确定"</button>
        </div>
    };
    let body = match class {
        Some(class) => view! { <div class=class>{body}</div> }.into_any(),
        None => body.into_any(),
    };
    view! { <Modal title on_close=move || on_close.run(())>{body}</Modal> }
}
