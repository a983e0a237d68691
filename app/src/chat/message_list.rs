use leptos::prelude::*;

use super::protocol::ChatMessage;
use super::socket::hhmm;

/// A message sent from this page that the server has not acknowledged yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub conversation_id: i64,
    pub client_msg_id: String,
    pub body: String,
    pub font_size: i16,
    pub created_at: i64,
}

/// Adds messages in seq order, replacing one already there with the same seq (so a reconnect or
/// an echo never shows a message twice). Returns the messages that were new.
pub fn merge_messages(list: &mut Vec<ChatMessage>, incoming: Vec<ChatMessage>) -> Vec<ChatMessage> {
    let mut added = Vec::new();
    for m in incoming {
        match list.binary_search_by_key(&m.seq, |x| x.seq) {
            Ok(i) => list[i] = m,
            Err(i) => {
                added.push(m.clone());
                list.insert(i, m);
            }
        }
    }
    added
}

/// The stored message an `Ack` stands for, until the server's own copy replaces it.
pub fn acked(p: &Pending, seq: i32, sender: &str, sender_name: &str) -> ChatMessage {
    ChatMessage {
        conversation_id: p.conversation_id,
        seq,
        sender: sender.into(),
        sender_name: sender_name.into(),
        kind: "text".into(),
        body: p.body.clone(),
        font_size: p.font_size,
        client_msg_id: p.client_msg_id.clone(),
        created_at: p.created_at,
        image: None,
    }
}

/// The messages of one conversation; `mine` is the sender this page speaks as (`agent` or
/// `buyer`). Text is always rendered as text.
#[component]
pub fn MessageList(
    messages: Signal<Vec<ChatMessage>>,
    pending: Signal<Vec<Pending>>,
    #[prop(into)] mine: String,
) -> impl IntoView {
    let scroller = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let _ = (messages.with(Vec::len), pending.with(Vec::len));
        if let Some(el) = scroller.get() {
            el.set_scroll_top(el.scroll_height());
        }
    });
    let mine_for_list = mine.clone();
    view! {
        <div class="messages" node_ref=scroller aria-live="polite">
            <For
                each=move || messages.get()
                key=|m| (m.seq, m.sender_name.clone(), m.created_at)
                children=move |m| {
                    let side = if m.sender == "system" {
                        "msg system"
                    } else if m.sender == mine_for_list {
                        "msg mine"
                    } else {
                        "msg theirs"
                    };
                    view! {
                        <div class=side data-seq=m.seq>
                            <div class="msg-meta">
                                <span class="msg-sender">{m.sender_name.clone()}</span>
                                <span class="msg-time">{hhmm(m.created_at)}</span>
                            </div>
                            <div class="msg-body" style=format!("font-size: {}px", m.font_size)>
                                {m.body.clone()}
                            </div>
                        </div>
                    }
                }
            />
            <For
                each=move || pending.get()
                key=|p| p.client_msg_id.clone()
                children=move |p| {
                    view! {
                        <div class="msg mine pending">
                            <div class="msg-meta">
                                <span class="msg-sender">"我"</span>
                                <span class="msg-time">{hhmm(p.created_at)}</span>
                                <span class="msg-state">"发送中…"</span>
                            </div>
                            <div class="msg-body" style=format!("font-size: {}px", p.font_size)>
                                {p.body.clone()}
                            </div>
                        </div>
                    }
                }
            />
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: i32, body: &str) -> ChatMessage {
        ChatMessage {
            conversation_id: 1,
            seq,
            sender: "buyer".into(),
            sender_name: "王采购".into(),
            kind: "text".into(),
            body: body.into(),
            font_size: 14,
            client_msg_id: format!("c{seq}"),
            created_at: 0,
            image: None,
        }
    }

    #[test]
    fn merge_keeps_seq_order_and_never_duplicates() {
        let mut list = vec![msg(1, "a"), msg(3, "c")];
        let added = merge_messages(&mut list, vec![msg(2, "b"), msg(3, "c2"), msg(4, "d")]);
        assert_eq!(added.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![2, 4]);
        assert_eq!(list.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
        assert_eq!(list[2].body, "c2");
    }
}
