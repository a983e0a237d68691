use leptos::prelude::*;

/// A date typed or picked as `2026-12-01`, whatever the browser's language.
///
/// A native `<input type="date">` shows its value in the browser's locale (`12/01/2026` in an
/// English Chrome), so the date lives in a text field we format ourselves; the calendar button
/// beside it is a transparent native date input (its picker still opens on click) that only
/// copies the picked day into the text field.
#[component]
pub fn DateField(
    /// The text field's id (for its `<label for>`).
    id: &'static str,
    /// Its accessible name when no visible label names it.
    #[prop(optional)]
    aria_label: Option<&'static str>,
    /// The value to show, e.g. the range the server applied.
    #[prop(into)]
    value: Signal<String>,
    /// The text field, read by the page when it searches.
    node_ref: NodeRef<leptos::html::Input>,
) -> impl IntoView {
    let pick = move |ev: leptos::ev::Event| {
        let picked = event_target_value(&ev);
        if let Some(field) = node_ref.get_untracked()
            && !picked.is_empty()
        {
            field.set_value(&picked);
        }
    };
    view! {
        <span class="date-field">
            <input
                id=id
                type="text"
                inputmode="numeric"
                autocomplete="off"
                maxlength="10"
                placeholder="年-月-日"
                aria-label=aria_label
                prop:value=move || value.get()
                node_ref=node_ref
            />
            <span class="date-picker" title="选择日期">
                <svg viewBox="0 0 16 16" aria-hidden="true">
                    <rect x="2" y="3" width="12" height="11" rx="1.5" fill="none" stroke="currentColor" />
                    <path d="M2 6.5h12M5 1.5v3M11 1.5v3" stroke="currentColor" />
                </svg>
                <input
                    type="date"
                    tabindex="-1"
                    aria-hidden="true"
                    prop:value=move || value.get()
                    on:change=pick
                />
            </span>
        </span>
    }
}
