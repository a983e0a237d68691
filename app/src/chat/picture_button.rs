use leptos::prelude::*;

use super::picture_choice::PictureChoice;
use super::upload::PICTURE_ACCEPT;

/// 上传图片: the button (it closes the pop-ups in `on_click`) and the hidden file input it opens.
#[component]
pub fn PictureButton(
    choice: PictureChoice,
    off: Signal<bool>,
    on_click: Callback<()>,
) -> impl IntoView {
    view! {
        <button
            type="button"
            class="tool-btn"
            disabled=off
            on:click=move |_| {
                on_click.run(());
                if let Some(input) = choice.input.get_untracked() {
                    input.click();
                }
            }
        >
            "🖼 上传图片"
        </button>
        <input
            type="file"
            class="visually-hidden"
            accept=PICTURE_ACCEPT
            aria-label="选择图片"
            data-testid="picture-input"
            node_ref=choice.input
            on:change=move |_| choice.chosen()
        />
    }
}
