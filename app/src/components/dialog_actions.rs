use leptos::prelude::*;

/// A dialog's buttons: 取消, then the action's button (disabled while `pending`). Without
/// `on_confirm` the action's button submits the form around it.
#[component]
pub fn DialogActions(
    /// Runs on 取消.
    #[prop(into)]
    on_cancel: Callback<()>,
    /// The action is under way.
    #[prop(into)]
    pending: Signal<bool>,
    /// Runs on the action's button; `None` makes it the form's submit button.
    #[prop(optional, into)]
    on_confirm: Option<Callback<()>>,
    /// The action's button.
    #[prop(default = "确定")]
    label: &'static str,
    /// The action's button in red, for what ends something at once (停用).
    #[prop(optional)]
    danger: bool,
) -> impl IntoView {
    view! {
        <div class="dialog-actions">
            <button type="button" class="btn" on:click=move |_| on_cancel.run(())>"取消"</button>
            <button
                type=if on_confirm.is_some() { "button" } else { "submit" }
                class=if danger { "btn danger" } else { "btn primary" }
                disabled=move || pending.get()
                on:click=move |_| {
                    if let Some(confirm) = on_confirm {
                        confirm.run(());
                    }
                }
            >
                {label}
            </button>
        </div>
    }
}
