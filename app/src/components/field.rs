use leptos::prelude::*;

/// A labelled text input: `<label for=id>` and the `<input>`, read through `node_ref`. The
/// optional attributes are left out when not given.
#[component]
pub fn Field(
    /// The input's id, which the label points at.
    id: &'static str,
    label: &'static str,
    node_ref: NodeRef<leptos::html::Input>,
    maxlength: &'static str,
    /// The input's `type` (`password`); a text input when not given.
    #[prop(optional)]
    kind: Option<&'static str>,
    #[prop(optional)] name: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] placeholder: Option<&'static str>,
    /// The text it starts with.
    #[prop(optional)]
    value: Option<String>,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <input
            id=id
            name=name
            type=kind
            autocomplete=autocomplete
            maxlength=maxlength
            placeholder=placeholder
            value=value
            node_ref=node_ref
        />
    }
}
