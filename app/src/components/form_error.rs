use leptos::prelude::*;

/// A form's or a dialog's error line (`role="alert"`), there while `message` is `Some`. Errors
/// stay until the user acts; success goes to a [`Toast`](super::Toast).
#[component]
pub fn FormError(
    /// The message to show, e.g. an [`ActionStatus`](super::ActionStatus)'s error.
    #[prop(into)]
    message: Signal<Option<String>>,
) -> impl IntoView {
    move || {
        message
            .get()
            .map(|e| view! { <p class="form-error" role="alert">{e}</p> })
    }
}
