use leptos::prelude::*;

/// The current text of an input (empty before it is mounted).
pub fn input_value(input: NodeRef<leptos::html::Input>) -> String {
    input
        .get_untracked()
        .map(|el| el.value())
        .unwrap_or_default()
}

/// Sends the browser to another page with a full load, so the server checks the login again.
pub fn go_to(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign(path);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}
