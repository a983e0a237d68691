use leptos::prelude::*;

use super::message::{from_system, kind_name, sent_by};
use super::message_body::message_body;
use super::protocol::ChatMessage;
use super::socket::hhmm;

/// One stored message: sender (我 for this page's own), time and body. `mine` is the side this
/// page speaks as; `my_name` the agent's own name (another agent's messages keep their name).
#[component]
pub fn MessageBubble(
    m: ChatMessage,
    mine: String,
    my_name: Option<LocalResource<Option<String>>>,
    token: Option<String>,
    open_large: Callback<String>,
    on_order: Option<Callback<i64>>,
    on_loaded: Callback<()>,
) -> impl IntoView {
    let own = sent_by(&m, &mine);
    let side = if from_system(&m) {
        "msg system"
    } else if own {
        "msg mine"
    } else {
        "msg theirs"
    };
    let name = m.sender_name.clone();
    let sender = move || {
        let me = own
            && my_name
                .is_none_or(|mine| name == "我" || mine.get().flatten().is_some_and(|n| n == name));
        if me { "我".to_owned() } else { name.clone() }
    };
    let body = message_body(&m, token, open_large, on_order, on_loaded);
    view! {
        <div class=side data-seq=m.seq data-kind=kind_name(&m)>
            <div class="msg-meta">
                <span class="msg-sender">{sender}</span>
                <span class="msg-time">{hhmm(m.created_at)}</span>
            </div>
            {body}
        </div>
    }
}
