use leptos::prelude::*;

use super::protocol::{AgentFrame, BuyerFrame, ChatImage, ChatMessage};
use super::socket::hhmm;
use super::upload::picture_src;
use crate::orders::{OrderSummary, format_fen, status_class};

/// A message sent from this page that the server has not acknowledged yet. It stays here, shown
/// as pending, until its `Ack` (or the stored copy) arrives: an `Error` for it only marks it
/// failed, with the reason and 重发, which sends the very same frame again (same client message
/// id, so the server stores it once however often it is sent). Nothing the user wrote is dropped.
///
/// The messages of a conversation go out one at a time ([`take_next`]): the next is sent when
/// the one before is acknowledged, and the ones behind a failed message wait for its 重发, so
/// they are stored in the order they were written even when the database failed in between.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub conversation_id: i64,
    pub client_msg_id: String,
    pub body: String,
    pub font_size: i16,
    pub created_at: i64,
    /// A picture: the local preview while uploading, then the stored picture.
    pub image: Option<ChatImage>,
    /// Set once the picture is uploaded; only then is the message sent (and re-sent).
    pub upload_id: Option<i64>,
    /// An order card (agents only).
    pub order: Option<OrderSummary>,
    /// The server refused or could not store it: the reason shown beside 重发.
    pub failed: Option<String>,
    /// Its frame went out on the current connection and no answer came yet.
    pub sent: bool,
}

impl Pending {
    /// A text message.
    pub fn text(
        conversation_id: i64,
        client_msg_id: String,
        body: String,
        font_size: i16,
        created_at: i64,
    ) -> Self {
        Pending {
            conversation_id,
            client_msg_id,
            body,
            font_size,
            created_at,
            image: None,
            upload_id: None,
            order: None,
            failed: None,
            sent: false,
        }
    }

    /// A picture still uploading, shown from its local preview.
    pub fn picture(
        conversation_id: i64,
        client_msg_id: String,
        preview: String,
        created_at: i64,
    ) -> Self {
        Pending {
            conversation_id,
            client_msg_id,
            body: String::new(),
            font_size: super::DEFAULT_FONT_SIZE,
            created_at,
            image: Some(ChatImage {
                url: preview,
                width: 0,
                height: 0,
            }),
            upload_id: None,
            order: None,
            failed: None,
            sent: false,
        }
    }

    /// An order card (订单发送).
    pub fn order(
        conversation_id: i64,
        client_msg_id: String,
        order: OrderSummary,
        created_at: i64,
    ) -> Self {
        Pending {
            conversation_id,
            client_msg_id,
            body: String::new(),
            font_size: super::DEFAULT_FONT_SIZE,
            created_at,
            image: None,
            upload_id: None,
            order: Some(order),
            failed: None,
            sent: false,
        }
    }

    /// The buyer's frame that sends (or re-sends) this message; `None` while its picture is
    /// still uploading (it is sent when the upload is done).
    pub fn buyer_frame(&self) -> Option<BuyerFrame> {
        let client_msg_id = self.client_msg_id.clone();
        match (self.upload_id, &self.image) {
            (Some(upload_id), _) => Some(BuyerFrame::SendImage {
                client_msg_id,
                upload_id,
            }),
            (None, Some(_)) => None,
            (None, None) => Some(BuyerFrame::Send {
                client_msg_id,
                body: self.body.clone(),
                font_size: self.font_size,
            }),
        }
    }

    /// The agent's frame that sends (or re-sends) this message; `None` while its picture is
    /// still uploading.
    pub fn agent_frame(&self) -> Option<AgentFrame> {
        let (conversation_id, client_msg_id) = (self.conversation_id, self.client_msg_id.clone());
        match (self.upload_id, &self.image, &self.order) {
            (Some(upload_id), _, _) => Some(AgentFrame::SendImage {
                conversation_id,
                client_msg_id,
                upload_id,
            }),
            (None, Some(_), _) => None,
            (None, None, Some(order)) => Some(AgentFrame::SendOrder {
                conversation_id,
                client_msg_id,
                order_id: order.order_id,
            }),
            (None, None, None) => Some(AgentFrame::Send {
                conversation_id,
                client_msg_id,
                body: self.body.clone(),
                font_size: self.font_size,
            }),
        }
    }
}

/// An `Error` named this pending message: it stays, marked failed with `reason` (shown with
/// 重发). Returns whether it was pending here.
pub fn mark_failed(pending: &mut [Pending], client_msg_id: &str, reason: &str) -> bool {
    match pending
        .iter_mut()
        .find(|p| p.client_msg_id == client_msg_id)
    {
        Some(p) => {
            p.failed = Some(reason.to_owned());
            p.sent = false;
            true
        }
        None => false,
    }
}

/// 重发: the failed message is pending again (发送中…) and goes out at the next [`take_next`];
/// returns it (for its conversation).
pub fn mark_resending(pending: &mut [Pending], client_msg_id: &str) -> Option<Pending> {
    let p = pending
        .iter_mut()
        .find(|p| p.client_msg_id == client_msg_id)?;
    p.failed = None;
    Some(p.clone())
}

/// A new connection: nothing is on its way any more, and every pending message, the failed
/// ones too, goes again (one at a time, in order, with the same ids).
pub fn reset_for_reconnect(pending: &mut [Pending]) {
    for p in pending.iter_mut() {
        p.failed = None;
        p.sent = false;
    }
}

/// The next message of a conversation (`None`: of any, for the buyer's single conversation) to
/// send, marked sent; `None` while one is on its way or one failed (the ones behind it wait for
/// its 重发). A picture still uploading is passed over; it goes once uploaded.
pub fn take_next(pending: &mut [Pending], conversation_id: Option<i64>) -> Option<Pending> {
    for p in pending
        .iter_mut()
        .filter(|p| conversation_id.is_none_or(|c| c == p.conversation_id))
    {
        if p.sent || p.failed.is_some() {
            return None;
        }
        if p.image.is_some() && p.upload_id.is_none() {
            continue;
        }
        p.sent = true;
        return Some(p.clone());
    }
    None
}

/// How a message reads in the conversation list.
pub fn preview_text(m: &ChatMessage) -> String {
    match m.kind.as_str() {
        "image" => "[图片]".to_owned(),
        "order" => "[订单]".to_owned(),
        _ => m.body.clone(),
    }
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
        kind: if p.image.is_some() {
            "image"
        } else if p.order.is_some() {
            "order"
        } else {
            "text"
        }
        .into(),
        body: p.body.clone(),
        font_size: p.font_size,
        client_msg_id: p.client_msg_id.clone(),
        created_at: p.created_at,
        image: p.image.clone(),
        order: p.order.clone(),
    }
}

/// A picture in a message: a thumbnail that opens large on click. `on_loaded` runs when it has
/// loaded (its size may change the list's height).
#[component]
fn Picture(
    image: ChatImage,
    token: Option<String>,
    #[prop(into)] on_open: Callback<String>,
    #[prop(into)] on_loaded: Callback<()>,
) -> impl IntoView {
    let src = picture_src(&image.url, token.as_deref());
    let open_src = src.clone();
    // Reserve the thumbnail's box (at most 220 × 220) so the list does not jump when it loads.
    let (w, h) = (image.width.max(1) as f64, image.height.max(1) as f64);
    let scale = (220.0 / w).min(220.0 / h).min(1.0);
    let style = if image.width > 0 {
        format!(
            "width: {}px; height: {}px",
            (w * scale).round(),
            (h * scale).round()
        )
    } else {
        String::new()
    };
    view! {
        <button type="button" class="msg-picture" aria-label="查看大图" on:click=move |_| on_open.run(open_src.clone())>
            <img src=src alt="图片" style=style loading="lazy" on:load=move |_| on_loaded.run(()) />
        </button>
    }
}

/// An order card in the chat: picture, number, status, amount; a click opens its detail.
#[component]
fn OrderCard(
    order: OrderSummary,
    on_open: Option<Callback<i64>>,
    #[prop(into)] on_loaded: Callback<()>,
) -> impl IntoView {
    let id = order.order_id;
    let picture = order.picture_url.clone();
    view! {
        <button
            type="button"
            class="order-card"
            data-testid="order-card"
            aria-label=format!("订单 {} 详情", order.order_no)
            disabled=on_open.is_none()
            on:click=move |_| {
                if let Some(cb) = on_open {
                    cb.run(id);
                }
            }
        >
            {match picture {
                Some(src) => view! {
                    <img class="order-card-pic" src=src alt="" on:load=move |_| on_loaded.run(()) />
                }
                .into_any(),
                None => view! { <span class="order-card-pic empty">"无图"</span> }.into_any(),
            }}
            <span class="order-card-info">
                <span class="order-card-no">{format!("订单号 {}", order.order_no)}</span>
                <span class=status_class(&order.status)>{order.status.clone()}</span>
                <span class="order-card-amount">{format_fen(order.total_fen)}</span>
                <span class="order-card-count">{format!("共 {} 件", order.item_count)}</span>
            </span>
        </button>
    }
}

/// A piece of a message's text: plain text, or a web address shown as a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextPiece<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Characters a web address in a message runs on with: printable ASCII except the ones that
/// end it in running text (quotes, angle brackets and the like). Chinese text often follows an
/// address without a space, so any other character ends it too.
fn in_address(c: char) -> bool {
    c.is_ascii_graphic()
        && !matches!(
            c,
            '<' | '>' | '"' | '\'' | '`' | '{' | '}' | '|' | '\\' | '^'
        )
}

/// Splits a message's text into plain text and `http://` / `https://` addresses. Nothing else
/// (`javascript:`, `data:`, `ftp:` …) becomes a link. Punctuation right after an address
/// (`。`, `,`, `.`, an unmatched `)`) stays text.
pub fn text_pieces(text: &str) -> Vec<TextPiece<'_>> {
    // ASCII lowercase keeps every byte offset of `text`.
    let lower = text.to_ascii_lowercase();
    let mut pieces = Vec::new();
    let (mut plain_from, mut from) = (0, 0);
    while from < text.len() {
        let Some(start) = ["http://", "https://"]
            .iter()
            .filter_map(|scheme| lower[from..].find(scheme).map(|i| from + i))
            .min()
        else {
            break;
        };
        let scheme_len = if lower[start..].starts_with("https://") {
            8
        } else {
            7
        };
        let mut end = text[start..]
            .find(|c: char| !in_address(c))
            .map_or(text.len(), |i| start + i);
        while end > start + scheme_len {
            let last = text[..end].chars().next_back().unwrap_or(' ');
            let unmatched_paren = last == ')'
                && text[start..end].matches('(').count() < text[start..end].matches(')').count();
            if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | ']' | '}') || unmatched_paren {
                end -= 1;
            } else {
                break;
            }
        }
        // Not glued to a word before it ("xhttp://"), and a host after the scheme.
        let glued = text[..start]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let has_host = text[start + scheme_len..end]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '[');
        if glued || !has_host {
            from = start + scheme_len;
            continue;
        }
        if plain_from < start {
            pieces.push(TextPiece::Text(&text[plain_from..start]));
        }
        pieces.push(TextPiece::Link(&text[start..end]));
        plain_from = end;
        from = end;
    }
    if plain_from < text.len() {
        pieces.push(TextPiece::Text(&text[plain_from..]));
    }
    pieces
}

/// A message's text as text nodes, its web addresses as links that open in a new tab. Built as
/// nodes: the text is never parsed as HTML.
fn linked_text(text: &str) -> AnyView {
    text_pieces(text)
        .into_iter()
        .map(|piece| match piece {
            TextPiece::Text(t) => t.to_owned().into_any(),
            TextPiece::Link(url) => view! {
                <a href=url.to_owned() target="_blank" rel="noopener noreferrer">{url.to_owned()}</a>
            }
            .into_any(),
        })
        .collect_view()
        .into_any()
}

/// The bubble of a message: its picture, its order card, or its text in its font size.
/// `on_loaded` runs when a picture in it has loaded.
fn message_body(
    m: &ChatMessage,
    token: Option<String>,
    open_picture: Callback<String>,
    on_order: Option<Callback<i64>>,
    on_loaded: Callback<()>,
) -> AnyView {
    match (m.image.clone(), m.order.clone()) {
        (Some(image), _) => view! {
            <div class="msg-body picture">
                <Picture image=image token=token on_open=open_picture on_loaded=on_loaded />
            </div>
        }
        .into_any(),
        (None, Some(order)) => view! {
            <div class="msg-body order">
                <OrderCard order=order on_open=on_order on_loaded=on_loaded />
            </div>
        }
        .into_any(),
        (None, None) if m.kind == "order" => {
            view! { <div class="msg-body">"[订单已不可查看]"</div> }.into_any()
        }
        (None, None) => view! {
            <div class="msg-body" style=format!("font-size: {}px", m.font_size)>
                {linked_text(&m.body)}
            </div>
        }
        .into_any(),
    }
}

/// How near the bottom (px) the reader still counts as reading the newest messages.
const FOLLOW_SLACK_PX: i32 = 48;

/// The end of the list as it was last shown: whose conversation, its newest seq, and how many
/// messages of this page were still pending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tail {
    conversation_id: Option<i64>,
    last_seq: i32,
    pending: usize,
}

/// How the list moves after its messages changed.
#[derive(Debug, PartialEq, Eq)]
enum Follow {
    /// Show the newest message.
    Bottom,
    /// Stay where the reader is; this many new messages arrived below (the 条新消息 pill).
    Unseen(usize),
    /// Nothing new at the end (older messages loaded above, or a message replaced).
    Stay,
}

/// Another conversation (or the first load) opens at its newest message, and so does a
/// message this page just sent. New messages at the end are followed while the reader is at
/// the bottom; a reader who scrolled up to read stays there and is told how many arrived
/// (`from_others`: the new ones the other side wrote).
fn follow(before: Tail, now: Tail, from_others: usize, at_bottom: bool) -> Follow {
    if before.conversation_id != now.conversation_id || now.pending > before.pending {
        Follow::Bottom
    } else if now.last_seq > before.last_seq {
        if at_bottom {
            Follow::Bottom
        } else {
            Follow::Unseen(from_others)
        }
    } else {
        Follow::Stay
    }
}

/// A picture shown large over the page; a click anywhere, × or Escape closes it.
#[component]
fn Lightbox(src: String, #[prop(into)] on_close: Callback<()>) -> impl IntoView {
    let close_button = NodeRef::<leptos::html::Button>::new();
    crate::components::close_on_escape(move || on_close.run(()));
    // Keyboard users land on ×.
    Effect::new(move |_| {
        if let Some(button) = close_button.get() {
            let _ = button.focus();
        }
    });
    view! {
        <div
            class="lightbox"
            role="dialog"
            aria-modal="true"
            aria-label="查看大图"
            on:click=move |_| on_close.run(())
        >
            <img src=src alt="大图" />
            <button type="button" class="icon-btn lightbox-close" aria-label="关闭" node_ref=close_button>
                "×"
            </button>
        </div>
    }
}

/// The messages of one conversation; `mine` is the sender this page speaks as (`agent` or
/// `buyer`), and its own messages read 我. Text is always rendered as text (web addresses as
/// links). A buyer's page passes `token`, which its picture addresses carry. `on_older` shows
/// 查看更早的消息 while `has_older` is true.
///
/// The list follows new messages while the reader is at the bottom; a reader who scrolled up
/// stays where they are and gets a "N 条新消息 ↓" button that jumps down.
#[component]
pub fn MessageList(
    messages: Signal<Vec<ChatMessage>>,
    pending: Signal<Vec<Pending>>,
    #[prop(into)] mine: String,
    #[prop(optional, into)] token: Option<String>,
    #[prop(optional, into)] has_older: Option<Signal<bool>>,
    #[prop(optional, into)] on_older: Option<Callback<()>>,
    /// Opens an order card's detail (by order id).
    #[prop(optional, into)]
    on_order: Option<Callback<i64>>,
    /// 重发 of a failed pending message (by client message id).
    #[prop(optional, into)]
    on_resend: Option<Callback<String>>,
) -> impl IntoView {
    let scroller = NodeRef::<leptos::html::Div>::new();
    // The reader is at (or near) the bottom: new messages are followed. Updated by scrolling
    // only, so it still tells where the reader was when the list grows.
    let at_bottom = StoredValue::new(true);
    let unseen = RwSignal::new(0usize);
    let tail = StoredValue::new(Tail::default());
    let to_bottom = move || {
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
        at_bottom.set_value(true);
        if unseen.get_untracked() > 0 {
            unseen.set(0);
        }
    };
    let mine_for_follow = mine.clone();
    Effect::new(move |_| {
        let before = tail.get_value();
        let pending_count = pending.with(Vec::len);
        let (now, from_others) = messages.with(|list| {
            let now = Tail {
                conversation_id: list.last().map(|m| m.conversation_id),
                last_seq: list.last().map_or(0, |m| m.seq),
                pending: pending_count,
            };
            let from_others = list
                .iter()
                .rev()
                .take_while(|m| m.seq > before.last_seq)
                .filter(|m| m.sender != mine_for_follow)
                .count();
            (now, from_others)
        });
        tail.set_value(now);
        match follow(before, now, from_others, at_bottom.get_value()) {
            Follow::Bottom => {
                at_bottom.set_value(true);
                // After the new rows are in the page and laid out.
                request_animation_frame(to_bottom);
            }
            Follow::Unseen(n) if n > 0 => unseen.update(|u| *u += n),
            Follow::Unseen(_) | Follow::Stay => {}
        }
    });
    // A picture that loads grows its message: still show the newest if the reader was there.
    let on_loaded = Callback::new(move |()| {
        if at_bottom.get_value() {
            to_bottom();
        }
    });
    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            let near = el.scroll_height() - el.scroll_top() - el.client_height() <= FOLLOW_SLACK_PX;
            at_bottom.set_value(near);
            if near && unseen.get_untracked() > 0 {
                unseen.set(0);
            }
        }
    };
    // The agent's own name: the server names an agent's messages by the agent, and this
    // agent's own read 我 (a conversation handed on also holds another agent's messages).
    let my_name = (mine == "agent").then(|| {
        LocalResource::new(|| async { crate::logins::me().await.ok().map(|a| a.display_name) })
    });
    let large = RwSignal::new(None::<String>);
    let open_large = Callback::new(move |src: String| large.set(Some(src)));
    let mine_for_list = mine.clone();
    let token_for_list = token.clone();
    view! {
        <div class="messages-wrap">
            <div class="messages" node_ref=scroller aria-live="polite" on:scroll=on_scroll>
                {move || {
                    let more = has_older.is_some_and(|h| h.get());
                    on_older.filter(|_| more).map(|cb| view! {
                        <button type="button" class="btn small older-btn" on:click=move |_| cb.run(())>
                            "查看更早的消息"
                        </button>
                    })
                }}
                <For
                    each=move || messages.get()
                    key=|m| (m.seq, m.sender_name.clone(), m.created_at, m.image.as_ref().map(|i| i.url.clone()))
                    children=move |m| {
                        let own = m.sender == mine_for_list;
                        let side = if m.sender == "system" {
                            "msg system"
                        } else if own {
                            "msg mine"
                        } else {
                            "msg theirs"
                        };
                        let name = m.sender_name.clone();
                        let sender = move || {
                            let me = own
                                && my_name.is_none_or(|mine| {
                                    name == "我" || mine.get().flatten().is_some_and(|n| n == name)
                                });
                            if me { "我".to_owned() } else { name.clone() }
                        };
                        let body = message_body(&m, token_for_list.clone(), open_large, on_order, on_loaded);
                        view! {
                            <div class=side data-seq=m.seq data-kind=m.kind.clone()>
                                <div class="msg-meta">
                                    <span class="msg-sender">{sender}</span>
                                    <span class="msg-time">{hhmm(m.created_at)}</span>
                                </div>
                                {body}
                            </div>
                        }
                    }
                />
                <For
                    each=move || pending.get()
                    key=|p| (p.client_msg_id.clone(), p.upload_id, p.failed.clone())
                    children=move |p| {
                        let state = match &p.failed {
                            Some(_) => "发送失败",
                            None if p.image.is_some() && p.upload_id.is_none() => "上传中…",
                            None => "发送中…",
                        };
                        // Shown as it will be once stored; its card does not open yet.
                        let body = message_body(&acked(&p, 0, "agent", "我"), token.clone(), open_large, None, on_loaded);
                        let id = p.client_msg_id.clone();
                        let failed = p.failed.clone().map(|reason| view! {
                            <div class="msg-failed" role="alert">
                                <span class="msg-failed-reason">{reason}</span>
                                {on_resend.map(|resend| view! {
                                    <button
                                        type="button"
                                        class="btn small resend-btn"
                                        on:click=move |_| resend.run(id.clone())
                                    >
                                        "重发"
                                    </button>
                                })}
                            </div>
                        });
                        view! {
                            <div class="msg mine pending" class:failed=p.failed.is_some() data-client-msg-id=p.client_msg_id.clone()>
                                <div class="msg-meta">
                                    <span class="msg-sender">"我"</span>
                                    <span class="msg-time">{hhmm(p.created_at)}</span>
                                    <span class="msg-state">{state}</span>
                                </div>
                                {body}
                                {failed}
                            </div>
                        }
                    }
                />
            </div>
            {move || {
                let n = unseen.get();
                (n > 0).then(|| view! {
                    <button type="button" class="new-msgs-pill" on:click=move |_| to_bottom()>
                        {format!("{n} 条新消息 ↓")}
                    </button>
                })
            }}
        </div>
        {move || large.get().map(|src| view! { <Lightbox src=src on_close=move || large.set(None) /> })}
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
            order: None,
        }
    }

    #[test]
    fn a_failed_message_stays_pending_and_is_resent_with_the_same_id() {
        let mut pending = vec![
            Pending::text(7, "c1".into(), "你好".into(), 16, 0),
            Pending::text(7, "c2".into(), "在吗".into(), 14, 0),
        ];
        assert!(mark_failed(
            &mut pending,
            "c1",
            "服务器内部错误，请稍后再试"
        ));
        assert!(!mark_failed(&mut pending, "unknown", "x"));
        assert_eq!(pending.len(), 2, "nothing is dropped");
        assert_eq!(
            pending[0].failed.as_deref(),
            Some("服务器内部错误，请稍后再试")
        );
        assert_eq!(pending[1].failed, None);

        let again = mark_resending(&mut pending, "c1").expect("still pending");
        assert_eq!(pending[0].failed, None, "sending again");
        assert_eq!(
            again.buyer_frame(),
            Some(BuyerFrame::Send {
                client_msg_id: "c1".into(),
                body: "你好".into(),
                font_size: 16
            })
        );
        assert_eq!(
            again.agent_frame(),
            Some(AgentFrame::Send {
                conversation_id: 7,
                client_msg_id: "c1".into(),
                body: "你好".into(),
                font_size: 16
            })
        );
        assert!(mark_resending(&mut pending, "unknown").is_none());
    }

    #[test]
    fn messages_go_one_at_a_time_and_wait_behind_a_failed_one() {
        let text = |id: &str| Pending::text(7, id.into(), id.into(), 14, 0);
        let mut pending = vec![text("c1"), text("c2"), text("c3")];
        assert_eq!(
            take_next(&mut pending, Some(7)).map(|p| p.client_msg_id),
            Some("c1".into())
        );
        assert_eq!(take_next(&mut pending, Some(7)), None, "c1 is on its way");
        // c1 fails: c2 and c3 wait for its 重发, so nothing overtakes it.
        mark_failed(&mut pending, "c1", "服务器内部错误，请稍后再试");
        assert_eq!(take_next(&mut pending, Some(7)), None);
        mark_resending(&mut pending, "c1");
        assert_eq!(
            take_next(&mut pending, Some(7)).map(|p| p.client_msg_id),
            Some("c1".into())
        );
        // Its Ack removes it; then c2.
        pending.retain(|p| p.client_msg_id != "c1");
        assert_eq!(
            take_next(&mut pending, Some(7)).map(|p| p.client_msg_id),
            Some("c2".into())
        );
        // Another conversation is not held up; the buyer's `None` means any.
        pending.push(Pending::text(8, "d1".into(), "d1".into(), 14, 0));
        assert_eq!(
            take_next(&mut pending, Some(8)).map(|p| p.client_msg_id),
            Some("d1".into())
        );
        assert_eq!(take_next(&mut pending, None), None, "c2 is on its way");
        // A reconnect sends again from the first one not stored.
        reset_for_reconnect(&mut pending);
        assert_eq!(
            take_next(&mut pending, None).map(|p| p.client_msg_id),
            Some("c2".into())
        );
        // A picture still uploading is passed over.
        let mut pending = vec![
            Pending::picture(7, "p1".into(), "blob:x".into(), 0),
            text("c4"),
        ];
        assert_eq!(
            take_next(&mut pending, Some(7)).map(|p| p.client_msg_id),
            Some("c4".into())
        );
    }

    #[test]
    fn pictures_and_order_cards_are_resent_as_what_they_are() {
        let mut picture = Pending::picture(7, "p1".into(), "blob:x".into(), 0);
        assert_eq!(
            picture.buyer_frame(),
            None,
            "still uploading: sent when the upload is done"
        );
        assert_eq!(picture.agent_frame(), None);
        picture.upload_id = Some(42);
        assert_eq!(
            picture.buyer_frame(),
            Some(BuyerFrame::SendImage {
                client_msg_id: "p1".into(),
                upload_id: 42
            })
        );
        assert_eq!(
            picture.agent_frame(),
            Some(AgentFrame::SendImage {
                conversation_id: 7,
                client_msg_id: "p1".into(),
                upload_id: 42
            })
        );
        // An order card goes again as the card, never as a blank text.
        let order = OrderSummary {
            order_id: 9,
            order_no: "832202611200001".into(),
            status: "已发货".into(),
            created_at: 0,
            total_fen: 100,
            item_count: 1,
            picture_url: None,
        };
        let card = Pending::order(7, "o1".into(), order, 0);
        assert_eq!(
            card.agent_frame(),
            Some(AgentFrame::SendOrder {
                conversation_id: 7,
                client_msg_id: "o1".into(),
                order_id: 9
            })
        );
    }

    #[test]
    fn merge_keeps_seq_order_and_never_duplicates() {
        let mut list = vec![msg(1, "a"), msg(3, "c")];
        let added = merge_messages(&mut list, vec![msg(2, "b"), msg(3, "c2"), msg(4, "d")]);
        assert_eq!(added.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![2, 4]);
        assert_eq!(
            list.iter().map(|m| m.seq).collect::<Vec<_>>(),
            vec![1, 2, 3, 4]
        );
        assert_eq!(list[2].body, "c2");
    }
    #[test]
    fn only_http_and_https_addresses_become_links() {
        use TextPiece::{Link, Text};
        assert_eq!(
            text_pieces("看这里 https://example.com/a?b=1&c=(2)。谢谢"),
            vec![
                Text("看这里 "),
                Link("https://example.com/a?b=1&c=(2)"),
                Text("。谢谢")
            ]
        );
        assert_eq!(
            text_pieces("HTTP://X.CN/p, 和 http://a.b."),
            vec![
                Link("HTTP://X.CN/p"),
                Text(", 和 "),
                Link("http://a.b"),
                Text(".")
            ]
        );
        assert_eq!(
            text_pieces("(见 https://a.cn/x)"),
            vec![Text("(见 "), Link("https://a.cn/x"), Text(")")]
        );
        // Everything else stays text, and markup around an address never joins it.
        for plain in [
            "javascript:alert(1)",
            "data:text/html,<b>hi</b>",
            "ftp://files.example.com/a",
            "xhttp://glued.example.com",
            "http://",
            "https:// 空的",
            "",
        ] {
            assert_eq!(
                text_pieces(plain),
                if plain.is_empty() {
                    vec![]
                } else {
                    vec![Text(plain)]
                },
                "{plain}"
            );
        }
        assert_eq!(
            text_pieces("<a href=\"https://e.cn/x\">链接</a>"),
            vec![
                Text("<a href=\""),
                Link("https://e.cn/x"),
                Text("\">链接</a>")
            ]
        );
    }

    #[test]
    fn the_list_follows_new_messages_only_while_the_reader_is_at_the_bottom() {
        let tail = |conversation_id, last_seq, pending| Tail {
            conversation_id: Some(conversation_id),
            last_seq,
            pending,
        };
        // First load and another conversation open at the newest message.
        assert_eq!(
            follow(Tail::default(), tail(1, 30, 0), 30, false),
            Follow::Bottom
        );
        assert_eq!(
            follow(tail(1, 30, 0), tail(2, 5, 0), 5, false),
            Follow::Bottom
        );
        // New at the end: followed at the bottom, counted when scrolled up.
        assert_eq!(
            follow(tail(1, 30, 0), tail(1, 31, 0), 1, true),
            Follow::Bottom
        );
        assert_eq!(
            follow(tail(1, 30, 0), tail(1, 32, 0), 2, false),
            Follow::Unseen(2)
        );
        // What this page sends always shows.
        assert_eq!(
            follow(tail(1, 30, 0), tail(1, 30, 1), 0, false),
            Follow::Bottom
        );
        // Older messages loaded above: the view stays.
        assert_eq!(
            follow(tail(1, 30, 0), tail(1, 30, 0), 0, true),
            Follow::Stay
        );
    }
}
