use leptos::prelude::*;

/// A composer tool button that opens or closes its pop-up (`open`), closing the other one.
#[component]
pub fn PopupToggle(
    open: RwSignal<bool>,
    other: RwSignal<bool>,
    off: Signal<bool>,
    children: Children,
) -> impl IntoView {
    view! {
        <button
            type="button"
            class="tool-btn"
            aria-expanded=move || open.get().to_string()
            disabled=off
            on:click=move |_| {
                other.set(false);
                open.update(|p| *p = !*p);
            }
        >
            {children()}
        </button>
    }
}
