use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::error::AppError;

/// A form's or a dialog's error line (`role="alert"`), there while `message` is `Some`. Errors
/// stay until the user acts; success goes to a [`Toast`](super::Toast).
#[component]
pub fn FormError(
    /// The message to show, e.g. [`action_error`] of the form's action.
    #[prop(into)]
    message: Signal<Option<String>>,
) -> impl IntoView {
    move || {
        message
            .get()
            .map(|e| view! { <p class="form-error" role="alert">{e}</p> })
    }
}

/// The error of a server action's last answer (`None` before it answers and after a success).
pub fn action_error<S>(action: ServerAction<S>) -> Signal<Option<String>>
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    })
}
