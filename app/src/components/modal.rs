use leptos::prelude::*;

/// A centred dialog over a dimmed page; Escape or the × closes it, and a click on the dimmed
/// page around it too when `close_on_backdrop` (for dialogs that only show something: a form
/// or a secret shown once must not vanish on a stray click).
#[component]
pub fn Modal(
    #[prop(into)] title: String,
    #[prop(into)] on_close: Callback<()>,
    #[prop(optional)] close_on_backdrop: bool,
    children: Children,
) -> impl IntoView {
    let title_id = "modal-title";
    let dialog = NodeRef::<leptos::html::Div>::new();
    super::close_on_escape(move || on_close.run(()));
    // The dialog takes the focus, unless something in it already has it.
    Effect::new(move |_| {
        if let Some(el) = dialog.get() {
            let inside = document()
                .active_element()
                .is_some_and(|active| el.contains(Some(&active)));
            if !inside {
                let _ = el.focus();
            }
        }
    });
    // A press that started inside the dialog and ended outside (selecting text) is no
    // backdrop click.
    let pressed_on_backdrop = StoredValue::new(false);
    let is_backdrop = |ev: &web_sys::MouseEvent| {
        let target = ev.target();
        target.is_some() && target == ev.current_target()
    };
    view! {
        <div
            class="modal-backdrop"
            on:mousedown=move |ev| pressed_on_backdrop.set_value(is_backdrop(&ev))
            on:click=move |ev| {
                if close_on_backdrop && pressed_on_backdrop.get_value() && is_backdrop(&ev) {
                    on_close.run(());
                }
            }
        >
            <div
                class="modal"
                role="dialog"
                aria-modal="true"
                aria-labelledby=title_id
                tabindex="-1"
                node_ref=dialog
            >
                <header class="modal-header">
                    <h2 id=title_id>{title}</h2>
                    <button type="button" class="icon-btn" aria-label="关闭" on:click=move |_| on_close.run(())>
                        "×"
                    </button>
                </header>
                <div class="modal-body">{children()}</div>
            </div>
        </div>
    }
}
