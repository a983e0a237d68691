use leptos::prelude::*;

use super::emoji_palette::EmojiPalette;
use super::font_menu::{DEFAULT_FONT_SIZE, FontMenu};
use super::picture_button::PictureButton;
use super::picture_choice::PictureChoice;
use super::picture_preview::PicturePreview;
use super::popup_toggle::PopupToggle;
use super::typing::TypingThrottle;
use crate::use_hydrated;

/// Longest message (domain `MAX_TEXT_CHARS`).
pub const MAX_TEXT_CHARS: usize = 2000;

/// The composer: text (Enter sends, Shift+Enter new line), 表情, 字体, 上传图片 and 发送.
/// `on_send` gets the trimmed text and the chosen font size; `on_picture` (which also shows the
/// 上传图片 button) gets a chosen picture after its preview was confirmed.
#[component]
pub fn Composer(
    #[prop(into)] disabled: Signal<bool>,
    #[prop(into)] on_send: Callback<(String, i16)>,
    #[prop(into, optional)] placeholder: String,
    /// Called while the user types, at most once every
    /// [`TYPING_EVERY_MS`](super::TYPING_EVERY_MS).
    #[prop(into, optional)]
    on_typing: Option<Callback<()>>,
    #[prop(into, optional)] on_picture: Option<Callback<web_sys::File>>,
) -> impl IntoView {
    let choice = PictureChoice::new();
    let typing = StoredValue::new(TypingThrottle::default());
    let hydrated = use_hydrated();
    let text = NodeRef::<leptos::html::Textarea>::new();
    let font_size = RwSignal::new(DEFAULT_FONT_SIZE);
    let palette = RwSignal::new(false);
    let font_menu = RwSignal::new(false);
    let too_long = RwSignal::new(false);
    // 表情 and 字体 close on a click outside them and on Escape.
    let tools = NodeRef::<leptos::html::Div>::new();
    let close_popups = move || {
        if palette.get_untracked() || font_menu.get_untracked() {
            palette.set(false);
            font_menu.set(false);
        }
    };
    crate::components::close_on_escape(close_popups);
    close_on_click_outside(tools, close_popups);
    let off = Signal::derive(move || disabled.get() || !hydrated.get());

    let send = move || {
        if off.get_untracked() {
            return;
        }
        let Some(el) = text.get_untracked() else {
            return;
        };
        let body = el.value().trim().to_owned();
        if body.is_empty() {
            return;
        }
        if body.chars().count() > MAX_TEXT_CHARS {
            too_long.set(true);
            return;
        }
        too_long.set(false);
        on_send.run((body, font_size.get_untracked()));
        // The next keystroke announces typing again at once.
        typing.update_value(TypingThrottle::reset);
        el.set_value("");
        palette.set(false);
        font_menu.set(false);
        let _ = el.focus();
    };

    view! {
        <div class="composer">
            <div class="composer-tools" node_ref=tools>
                <PopupToggle open=palette other=font_menu off>
                    "😊 表情"
                </PopupToggle>
                <PopupToggle open=font_menu other=palette off>
                    "A 字体"
                    <span class="tool-value">{move || format!("{}px", font_size.get())}</span>
                </PopupToggle>
                {on_picture.is_some().then(|| view! {
                    <PictureButton
                        choice
                        off
                        on_click=Callback::new(move |()| {
                            palette.set(false);
                            font_menu.set(false);
                        })
                    />
                })}
                <EmojiPalette text open=palette />
                <FontMenu open=font_menu font_size />
            </div>
            <PicturePreview choice off on_picture />
            <textarea
                class="composer-input"
                aria-label="输入消息"
                rows="3"
                maxlength=MAX_TEXT_CHARS.to_string()
                placeholder=placeholder
                node_ref=text
                disabled=move || disabled.get()
                style=move || format!("font-size: {}px", font_size.get())
                on:input=move |_| {
                    if let Some(cb) = on_typing
                        && typing.try_update_value(|t| t.due(super::socket::now_ms())) == Some(true)
                    {
                        cb.run(());
                    }
                }
                on:keydown=move |ev| {
                    if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                        ev.prevent_default();
                        send();
                    }
                }
            ></textarea>
            <div class="composer-foot">
                <span class="muted composer-hint">"Enter 发送，Shift+Enter 换行"</span>
                {move || too_long.get().then(|| view! {
                    <span class="form-error inline" role="alert">
                        {format!("消息不能超过 {MAX_TEXT_CHARS} 个字符")}
                    </span>
                })}
                <button type="button" class="btn primary" disabled=off on:click=move |_| send()>
                    "发送"
                </button>
            </div>
        </div>
    }
    .into_any()
}

/// Calls `close` on a pointer press outside `inside` (the pop-ups' tool row).
fn close_on_click_outside(inside: NodeRef<leptos::html::Div>, close: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let outside = window_event_listener(leptos::ev::pointerdown, move |ev| {
            let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
            let within = inside
                .get_untracked()
                .is_some_and(|tools| tools.contains(target.as_ref()));
            if !within {
                close();
            }
        });
        on_cleanup(move || outside.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (inside, close);
}
