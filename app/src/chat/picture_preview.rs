use leptos::prelude::*;

use super::picture_choice::PictureChoice;

/// The chosen picture below the tools: why it cannot be sent, its out-of-sight decode check,
/// then its preview with 取消 and 发送图片 (`on_picture` gets the file).
#[component]
pub fn PicturePreview(
    choice: PictureChoice,
    off: Signal<bool>,
    on_picture: Option<Callback<web_sys::File>>,
) -> impl IntoView {
    let send_picture = move || {
        if let (Some(cb), Some(file)) = (on_picture, choice.file()) {
            cb.run(file);
        }
        choice.drop_picture();
    };
    view! {
        {move || choice.error.get().map(|e| view! { <p class="form-error inline" role="alert">{e}</p> })}
        // Decoded out of sight first: a file that is no picture never gets a preview.
        {move || choice.checking.get().map(|src| {
            let (loaded, failed) = (src.clone(), src.clone());
            view! {
                <img
                    class="visually-hidden"
                    src=src
                    alt=""
                    aria-hidden="true"
                    on:load=move |_| choice.decoded(&loaded, true)
                    on:error=move |_| choice.decoded(&failed, false)
                />
            }
        })}
        {move || choice.preview.get().map(|src| view! {
            <div class="picture-preview" role="group" aria-label="图片预览">
                <img src=src alt="待发送的图片" />
                <div class="picture-preview-actions">
                    <button type="button" class="btn" on:click=move |_| choice.drop_picture()>"取消"</button>
                    <button type="button" class="btn primary" disabled=off on:click=move |_| send_picture()>
                        "发送图片"
                    </button>
                </div>
            </div>
        })}
    }
}
