use leptos::prelude::*;

use super::protocol::ChatImage;
use super::upload::picture_src;

/// A picture in a message: a thumbnail that opens large on click. `on_loaded` runs when it has
/// loaded (its size may change the list's height).
#[component]
pub fn Picture(
    image: ChatImage,
    token: Option<String>,
    #[prop(into)] on_open: Callback<String>,
    #[prop(into)] on_loaded: Callback<()>,
) -> impl IntoView {
    let src = picture_src(&image.url, token.as_deref());
    let open_src = src.clone();
    // Reserve the thumbnail's box (at most 220 × 220) so the list does not jump when it loads.
    let (w, h) = (image.width.max(1) as f64, image.height.max(1) as f64);
    let scale = (220.0 / w).min(220.0 / h).min(1.0);
    let style = if image.width > 0 {
        format!(
            "width: {}px; height: {}px",
            (w * scale).round(),
            (h * scale).round()
        )
    } else {
        String::new()
    };
    view! {
        <button type="button" class="msg-picture" aria-label="查看大图" on:click=move |_| on_open.run(open_src.clone())>
            <img src=src alt="图片" style=style loading="lazy" on:load=move |_| on_loaded.run(()) />
        </button>
    }
}
