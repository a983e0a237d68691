use leptos::prelude::*;

/// A picture shown large over the page; a click anywhere, × or Escape closes it.
#[component]
pub fn Lightbox(src: String, #[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let close_button = NodeRef::<leptos::html::Button>::new();
    crate::components::close_on_escape(move || on_close.run(()));
    // Keyboard users land on ×.
    Effect::new(move |_| {
        if let Some(button) = close_button.get() {
            let _ = button.focus();
        }
    });
    view! {
        <div
            class="lightbox"
            role="dialog"
            aria-modal="true"
            aria-label="查看大图"
            on:click=move |_| on_close.run(())
        >
            <img src=src alt="大图" />
            <button type="button" class="icon-btn lightbox-close" aria-label="关闭" node_ref=close_button>
                "×"
            </button>
        </div>
    }
}
