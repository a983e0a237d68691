use leptos::prelude::*;

/// A centred dialog over a dimmed page; Escape or the × closes it.
#[component]
pub fn Modal(
    #[prop(into)] title: String,
    #[prop(into)] on_close: Callback<()>,
    children: Children,
) -> impl IntoView {
    let title_id = "modal-title";
    view! {
        <div class="modal-backdrop">
            <div
                class="modal"
                role="dialog"
                aria-modal="true"
                aria-labelledby=title_id
                on:keydown=move |ev| {
                    if ev.key() == "Escape" {
                        on_close.run(());
                    }
                }
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
