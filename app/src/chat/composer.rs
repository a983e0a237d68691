use leptos::prelude::*;

use super::upload::PICTURE_ACCEPT;
use crate::use_hydrated;

/// 字体: the sizes (px) a message can be sent in; 14 is the default (domain `FONT_SIZES`).
pub const FONT_SIZES: [i16; 5] = [12, 14, 16, 18, 20];
pub const DEFAULT_FONT_SIZE: i16 = 14;
/// Longest message (domain `MAX_TEXT_CHARS`).
pub const MAX_TEXT_CHARS: usize = 2000;

/// 表情: a fixed palette of common emoji.
pub const EMOJI: [&str; 40] = [
    "😀", "😁", "😂", "🙂", "😊", "😍", "😘", "😉", "😎", "🤔", "😅", "😭", "😢", "😡", "😮", "😴",
    "🙏", "👍", "👎", "👏", "👌", "🤝", "💪", "✌️", "❤️", "💔", "🌹", "🎉", "🔥", "⭐", "✅", "❌",
    "❓", "💰", "📦", "🚚", "📞", "☕", "🍚", "🌾",
];

/// How often "is typing" is told to the other side while the user types.
pub const TYPING_EVERY_MS: i64 = 2_000;
/// How long "对方正在输入…" shows after the last typing notice.
pub const TYPING_SHOWS_MS: u32 = 4_000;

/// The composer: text (Enter sends, Shift+Enter new line), 表情, 字体, 上传图片 and 发送.
/// `on_send` gets the trimmed text and the chosen font size; `on_picture` (which also shows the
/// 上传图片 button) gets a chosen picture after its preview was confirmed.
#[component]
pub fn Composer(
    #[prop(into)] disabled: Signal<bool>,
    #[prop(into)] on_send: Callback<(String, i16)>,
    #[prop(into, optional)] placeholder: String,
    /// Called while the user types, at most once every [`TYPING_EVERY_MS`].
    #[prop(into, optional)]
    on_typing: Option<Callback<()>>,
    #[prop(into, optional)] on_picture: Option<Callback<web_sys::File>>,
) -> impl IntoView {
    let file_input = NodeRef::<leptos::html::Input>::new();
    // The chosen picture's local address while the browser tries to decode it; only a picture
    // it can show gets a preview (and 发送图片).
    let checking = RwSignal::new(None::<String>);
    // The chosen picture's local preview, until it is sent or dropped.
    let preview = RwSignal::new(None::<String>);
    let picture_error = RwSignal::new(None::<String>);
    let drop_picture = move || {
        for url in [checking.get_untracked(), preview.get_untracked()]
            .into_iter()
            .flatten()
        {
            super::upload::release_preview(&url);
        }
        checking.set(None);
        preview.set(None);
        if let Some(input) = file_input.get_untracked() {
            input.set_value("");
        }
    };
    let chosen = move || -> Option<web_sys::File> { file_input.get_untracked()?.files()?.get(0) };
    // Without the browser code the early return is the last statement.
    #[allow(clippy::needless_return)]
    let on_chosen = move || {
        picture_error.set(None);
        let Some(file) = chosen() else { return };
        if let Err(reason) = super::upload::check_picture(file.size() as u64, &file.type_()) {
            picture_error.set(Some(reason));
            drop_picture();
            return;
        }
        #[cfg(feature = "hydrate")]
        {
            for url in [checking.get_untracked(), preview.get_untracked()]
                .into_iter()
                .flatten()
            {
                super::upload::release_preview(&url);
            }
            preview.set(None);
            checking.set(super::upload::local_preview(&file));
        }
    };
    // The decode check's verdict for `url` (a later choice may have replaced it meanwhile).
    let decoded = move |url: &str, ok: bool| {
        if checking.get_untracked().as_deref() != Some(url) {
            return;
        }
        if ok {
            checking.set(None);
            preview.set(Some(url.to_owned()));
        } else {
            drop_picture();
            picture_error.set(Some(super::upload::NOT_A_PICTURE.to_owned()));
        }
    };
    let send_picture = move || {
        if let (Some(cb), Some(file)) = (on_picture, chosen()) {
            cb.run(file);
        }
        drop_picture();
    };
    let last_typing = StoredValue::new(0i64);
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
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let outside = window_event_listener(leptos::ev::pointerdown, move |ev| {
            let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
            let inside = tools
                .get_untracked()
                .is_some_and(|tools| tools.contains(target.as_ref()));
            if !inside {
                close_popups();
            }
        });
        on_cleanup(move || outside.remove());
    }
    let off = move || disabled.get() || !hydrated.get();

    let send = move || {
        if off() {
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
        last_typing.set_value(0);
        el.set_value("");
        palette.set(false);
        font_menu.set(false);
        let _ = el.focus();
    };

    let insert_emoji = move |emoji: &'static str| {
        let Some(el) = text.get_untracked() else {
            return;
        };
        let value: Vec<u16> = el.value().encode_utf16().collect();
        let len = value.len() as u32;
        let start = el.selection_start().ok().flatten().unwrap_or(len).min(len) as usize;
        let end = el.selection_end().ok().flatten().unwrap_or(len).min(len) as usize;
        let (start, end) = (start.min(end), end.max(start));
        let inserted: Vec<u16> = emoji.encode_utf16().collect();
        let mut next = value[..start].to_vec();
        next.extend_from_slice(&inserted);
        next.extend_from_slice(&value[end..]);
        el.set_value(&String::from_utf16_lossy(&next));
        let cursor = (start + inserted.len()) as u32;
        let _ = el.set_selection_range(cursor, cursor);
        let _ = el.focus();
        palette.set(false);
    };

    view! {
        <div class="composer">
            <div class="composer-tools" node_ref=tools>
                <button
                    type="button"
                    class="tool-btn"
                    aria-expanded=move || palette.get().to_string()
                    disabled=off
                    on:click=move |_| {
                        font_menu.set(false);
                        palette.update(|p| *p = !*p);
                    }
                >
                    "😊 表情"
                </button>
                <button
                    type="button"
                    class="tool-btn"
                    aria-expanded=move || font_menu.get().to_string()
                    disabled=off
                    on:click=move |_| {
                        palette.set(false);
                        font_menu.update(|p| *p = !*p);
                    }
                >
                    "A 字体"
                    <span class="tool-value">{move || format!("{}px", font_size.get())}</span>
                </button>
                {on_picture.is_some().then(|| view! {
                    <button
                        type="button"
                        class="tool-btn"
                        disabled=off
                        on:click=move |_| {
                            palette.set(false);
                            font_menu.set(false);
                            if let Some(input) = file_input.get_untracked() {
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
                        node_ref=file_input
                        on:change=move |_| on_chosen()
                    />
                })}
                <Show when=move || palette.get()>
                    <div class="emoji-palette" role="listbox" aria-label="表情">
                        {EMOJI
                            .iter()
                            .map(|e| {
                                let e: &'static str = e;
                                view! {
                                    <button
                                        type="button"
                                        class="emoji"
                                        role="option"
                                        aria-label=e
                                        on:click=move |_| insert_emoji(e)
                                    >
                                        {e}
                                    </button>
                                }
                            })
                            .collect_view()}
                    </div>
                </Show>
                <Show when=move || font_menu.get()>
                    <div class="font-menu" role="listbox" aria-label="字体">
                        {FONT_SIZES
                            .iter()
                            .map(|&size| {
                                view! {
                                    <button
                                        type="button"
                                        role="option"
                                        class="font-option"
                                        aria-selected=move || (font_size.get() == size).to_string()
                                        style=format!("font-size: {size}px")
                                        on:click=move |_| {
                                            font_size.set(size);
                                            font_menu.set(false);
                                        }
                                    >
                                        {format!("{size}px")}
                                    </button>
                                }
                            })
                            .collect_view()}
                    </div>
                </Show>
            </div>
            {move || picture_error.get().map(|e| view! { <p class="form-error inline" role="alert">{e}</p> })}
            // Decoded out of sight first: a file that is no picture never gets a preview.
            {move || checking.get().map(|src| {
                let (loaded, failed) = (src.clone(), src.clone());
                view! {
                    <img
                        class="visually-hidden"
                        src=src
                        alt=""
                        aria-hidden="true"
                        on:load=move |_| decoded(&loaded, true)
                        on:error=move |_| decoded(&failed, false)
                    />
                }
            })}
            {move || preview.get().map(|src| view! {
                <div class="picture-preview" role="group" aria-label="图片预览">
                    <img src=src alt="待发送的图片" />
                    <div class="picture-preview-actions">
                        <button type="button" class="btn" on:click=move |_| drop_picture()>"取消"</button>
                        <button type="button" class="btn primary" disabled=off on:click=move |_| send_picture()>
                            "发送图片"
                        </button>
                    </div>
                </div>
            })}
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
                    let now = crate::chat::socket::now_ms();
                    if let Some(cb) = on_typing
                        && now - last_typing.get_value() >= TYPING_EVERY_MS
                    {
                        last_typing.set_value(now);
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
