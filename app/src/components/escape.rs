/// Runs `close` when Escape is pressed anywhere on the page while the calling component lives
/// (the opener often keeps the focus after a click, so a listener on the dialog itself would
/// miss it). The listener goes with the component.
pub fn close_on_escape(close: impl Fn() + Send + Sync + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::prelude::*;
        let escape = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" {
                close();
            }
        });
        on_cleanup(move || escape.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    drop(close);
}
