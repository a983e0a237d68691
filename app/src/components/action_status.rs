use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::error::AppError;

/// What a dialog shows of its server action: whether it is under way, and why its last try
/// failed (`None` before it answers and after a success).
#[derive(Clone, Copy)]
pub struct ActionStatus {
    pub pending: Signal<bool>,
    pub error: Signal<Option<String>>,
}

impl ActionStatus {
    /// The status of `action`.
    pub fn of<S>(action: ServerAction<S>) -> Self
    where
        S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
        S::Output: Clone + Send + Sync + 'static,
    {
        let error = move || {
            action
                .value()
                .get()
                .and_then(Result::err)
                .map(|e| e.to_string())
        };
        ActionStatus {
            pending: action.pending().into(),
            error: Signal::derive(error),
        }
    }
}

/// Runs `done` with the answer each time `action` succeeds: close the dialog, show the notice.
pub fn on_success<S>(action: ServerAction<S>, done: impl Fn(S::Output) + 'static)
where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| {
        if let Some(Ok(answer)) = action.value().get() {
            done(answer);
        }
    });
}
