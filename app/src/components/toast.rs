use std::time::Duration;

use leptos::prelude::*;

/// How long a toast stays before it goes away by itself.
pub const TOAST_MS: u64 = 4_000;

/// A short success message (密码已修改, 账号信息已保存, …) that goes away by itself after
/// [`TOAST_MS`]. Each new message shows again for the full time, also when it is the same text
/// set again. The timer ends with the component, so a page left early leaves nothing running.
/// Errors are not toasts: they stay until the user acts.
#[component]
pub fn Toast(
    /// The message to show; `None` hides the toast at once.
    #[prop(into)]
    message: Signal<Option<String>>,
    /// Extra classes beside `toast`.
    #[prop(optional, into)]
    class: String,
) -> impl IntoView {
    // Shown from the start when there is a message (also in the server's HTML), so a message
    // present on load is not lost before the timer starts.
    let shown = RwSignal::new(message.with_untracked(Option::is_some));
    let timer = StoredValue::new(None::<TimeoutHandle>);
    let stop_timer = move || {
        if let Some(handle) = timer.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    };
    // Effects run only in the browser: every change of the message (re)starts the timer.
    Effect::new(move |_| {
        let present = message.with(Option::is_some);
        stop_timer();
        shown.set(present);
        if present {
            let handle = set_timeout_with_handle(
                move || {
                    timer.try_set_value(None);
                    shown.try_set(false);
                },
                Duration::from_millis(TOAST_MS),
            );
            timer.set_value(handle.ok());
        }
    });
    on_cleanup(stop_timer);
    let class = if class.is_empty() {
        "toast".to_owned()
    } else {
        format!("toast {class}")
    };
    view! {
        <Show when=move || shown.get()>
            <div class=class.clone() role="status">
                {move || message.get()}
            </div>
        </Show>
    }
}
