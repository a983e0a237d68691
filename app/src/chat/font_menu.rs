use leptos::prelude::*;

/// 字体: the sizes (px) a message can be sent in; 14 is the default (domain `FONT_SIZES`).
pub const FONT_SIZES: [i16; 5] = [12, 14, 16, 18, 20];
/// The size a message is sent in until the user picks another.
pub const DEFAULT_FONT_SIZE: i16 = 14;

/// The 字体 pop-up, while `open`: a click picks the size and closes it.
#[component]
pub fn FontMenu(open: RwSignal<bool>, font_size: RwSignal<i16>) -> impl IntoView {
    view! {
        <Show when=move || open.get()>
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
                                    open.set(false);
                                }
                            >
                                {format!("{size}px")}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
        </Show>
    }
}
