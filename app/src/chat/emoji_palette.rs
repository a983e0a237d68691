use leptos::prelude::*;

/// 表情: a fixed palette of common emoji.
pub const EMOJI: [&str; 40] = [
    "😀", "😁", "😂", "🙂", "😊", "😍", "😘", "😉", "😎", "🤔", "😅", "😭", "😢", "😡", "😮", "😴",
    "🙏", "👍", "👎", "👏", "👌", "🤝", "💪", "✌️", "❤️", "💔", "🌹", "🎉", "🔥", "⭐", "✅", "❌",
    "❓", "💰", "📦", "🚚", "📞", "☕", "🍚", "🌾",
];

/// The 表情 pop-up, while `open`: a click puts the emoji into `text` at the cursor (replacing
/// a selection) and closes the pop-up.
#[component]
pub fn EmojiPalette(text: NodeRef<leptos::html::Textarea>, open: RwSignal<bool>) -> impl IntoView {
    let insert = move |emoji: &'static str| {
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
        open.set(false);
    };
    view! {
        <Show when=move || open.get()>
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
                                on:click=move |_| insert(e)
                            >
                                {e}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
        </Show>
    }
}
