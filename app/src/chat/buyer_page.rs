use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::composer::Composer;
use super::message_list::{MessageList, Pending, mark_resending, take_next};
#[cfg(feature = "hydrate")]
use super::message_list::{acked, mark_failed, merge_messages, reset_for_reconnect};
#[cfg(feature = "hydrate")]
use super::protocol::{BUYER_CHAT_PATH, BuyerServerFrame};
use super::protocol::{BuyerFrame, ChatMessage};
use super::socket::{ConnState, Outbox, new_client_msg_id, now_ms};
use crate::use_hydrated;

/// Who is looking after the buyer: the one state both the header and the queue banner read, so
/// they never disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum Reception {
    /// Before the server's Hello.
    Connecting,
    /// No agent yet. `anyone_serving` as the server last said (`None`: not known since the
    /// buyer was handed back to the queue); `position` in the queue when queued.
    Waiting {
        anyone_serving: Option<bool>,
        position: Option<u64>,
    },
    /// An agent is assigned.
    Served { agent: String },
    /// The conversation ended.
    Ended,
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
impl Reception {
    /// Hello (on every connection): a new conversation starts waiting; a buyer already served
    /// stays so until the server says otherwise (it follows Hello with Assigned or Queued).
    pub fn hello(&self, anyone_serving: bool, new_conversation: bool) -> Reception {
        match self {
            Reception::Served { .. } if !new_conversation => self.clone(),
            _ => Reception::Waiting {
                anyone_serving: Some(anyone_serving),
                position: None,
            },
        }
    }

    /// Queued at `position`: whoever served the buyer no longer does.
    pub fn queued(&self, position: u64) -> Reception {
        let anyone_serving = match self {
            Reception::Waiting { anyone_serving, .. } => *anyone_serving,
            _ => None,
        };
        Reception::Waiting {
            anyone_serving,
            position: Some(position),
        }
    }

    /// The header's line.
    pub fn status_line(&self) -> String {
        match self {
            Reception::Connecting => "正在连接…".to_owned(),
            Reception::Served { agent } => format!("客服在线 · {agent} 为您服务"),
            Reception::Waiting {
                anyone_serving: Some(false),
                ..
            } => "暂无客服在线，您可以先留言".to_owned(),
            Reception::Waiting {
                anyone_serving: Some(true),
                position: None,
            } => "客服在线".to_owned(),
            Reception::Waiting {
                anyone_serving: Some(true),
                position: Some(_),
            } => "客服在线 · 正在为您排队".to_owned(),
            Reception::Waiting {
                anyone_serving: None,
                ..
            } => "正在为您安排客服，请稍候".to_owned(),
            Reception::Ended => "会话已结束".to_owned(),
        }
    }

    /// The header shows the online colour.
    pub fn online(&self) -> bool {
        matches!(
            self,
            Reception::Served { .. }
                | Reception::Waiting {
                    anyone_serving: Some(true),
                    ..
                }
        )
    }

    /// The queue banner's line, while queued.
    pub fn queue_line(&self) -> Option<String> {
        match self {
            Reception::Waiting {
                position: Some(n), ..
            } => Some(format!("正在排队，您前面还有 {} 位", n.saturating_sub(1))),
            _ => None,
        }
    }
}

/// The buyer's chat widget `/chat?token=…`: no login, the mall's signed token says who the buyer
/// is. Built for a phone-width iframe.
#[component]
pub fn BuyerChatPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let query = use_query_map();
    let token = query.with_untracked(|q| q.get("token").unwrap_or_default());
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    let socket_token = token.clone();

    let conn = RwSignal::new(ConnState::Connecting);
    let supplier_name = RwSignal::new(String::new());
    let conversation_id = RwSignal::new(0i64);
    let reception = RwSignal::new(Reception::Connecting);
    let messages = RwSignal::new(Vec::<ChatMessage>::new());
    let pending = RwSignal::new(Vec::<Pending>::new());
    let ended = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let refused = RwSignal::new(None::<String>);
    let outbox = StoredValue::new(Outbox::default());
    // The agent is typing (a stamp, so an old timeout does not hide a newer notice).
    let typing = RwSignal::new(None::<u32>);
    // Sends the next pending message if none is on its way (one at a time, in order).
    let pump = move || {
        let mut next = None;
        pending.update(|p| next = take_next(p, None));
        if let Some(frame) = next.and_then(|p| p.buyer_frame()) {
            outbox.with_value(|o| o.send(&frame));
        }
    };

    #[cfg(feature = "hydrate")]
    Effect::new(move |prev: Option<()>| {
        if prev.is_some() {
            return;
        }
        if socket_token.trim().is_empty() {
            refused.set(Some("缺少买家身份令牌，请从商城重新进入在线客服".into()));
            conn.set(ConnState::Stopped);
            return;
        }
        let path = format!(
            "{BUYER_CHAT_PATH}?token={}",
            percent_encoding::utf8_percent_encode(
                &socket_token,
                percent_encoding::NON_ALPHANUMERIC
            )
        );
        let mut greeted = false;
        let handle = move |text: &str| -> super::socket::Flow {
            use super::socket::Flow;
            let Ok(frame) = serde_json::from_str::<BuyerServerFrame>(text) else {
                return Flow::Continue;
            };
            match frame {
                BuyerServerFrame::Hello {
                    supplier_name: name,
                    conversation_id: cid,
                    anyone_serving: serving,
                    ..
                } => {
                    greeted = true;
                    supplier_name.set(name);
                    let new_conversation = conversation_id.get_untracked() != cid;
                    reception.update(|r| *r = r.hello(serving, new_conversation));
                    if new_conversation {
                        conversation_id.set(cid);
                        messages.set(Vec::new());
                        ended.set(false);
                    }
                    let after_seq = messages.with_untracked(|m| m.last().map_or(0, |m| m.seq));
                    let out = outbox.get_value();
                    out.send(&BuyerFrame::Resume { after_seq });
                    // Everything not yet stored goes again, the failed ones too (same ids).
                    pending.update(|p| reset_for_reconnect(p));
                    pump();
                    return Flow::Greeted;
                }
                BuyerServerFrame::Queued { position } => {
                    reception.update(|r| *r = r.queued(position));
                }
                BuyerServerFrame::Assigned { agent_name: name } => {
                    reception.set(Reception::Served { agent: name });
                }
                BuyerServerFrame::Typing => {
                    let stamp = typing.get_untracked().map_or(0, |s| s.wrapping_add(1));
                    typing.set(Some(stamp));
                    gloo_timers::callback::Timeout::new(
                        super::composer::TYPING_SHOWS_MS,
                        move || {
                            if typing.get_untracked() == Some(stamp) {
                                typing.set(None);
                            }
                        },
                    )
                    .forget();
                }
                BuyerServerFrame::Messages {
                    conversation_id: cid,
                    messages: incoming,
                } => {
                    if incoming.iter().any(|m| m.sender == "agent") {
                        typing.set(None);
                    }
                    let current = conversation_id.get_untracked();
                    if cid < current {
                        return Flow::Continue;
                    }
                    if cid > current {
                        // A new conversation (after 重新咨询).
                        conversation_id.set(cid);
                        messages.set(Vec::new());
                        ended.set(false);
                    }
                    let ids: Vec<String> =
                        incoming.iter().map(|m| m.client_msg_id.clone()).collect();
                    pending.update(|p| p.retain(|p| !ids.contains(&p.client_msg_id)));
                    messages.update(|list| {
                        merge_messages(list, incoming);
                    });
                    pump();
                }
                BuyerServerFrame::Ack { client_msg_id, seq } => {
                    let mut done = None;
                    pending.update(|p| {
                        if let Some(i) = p.iter().position(|p| p.client_msg_id == client_msg_id) {
                            done = Some(p.remove(i));
                        }
                    });
                    if let Some(p) = done {
                        messages.update(|list| {
                            if !list.iter().any(|m| m.seq == seq) {
                                merge_messages(list, vec![acked(&p, seq, "buyer", "我")]);
                            }
                        });
                    }
                    pump();
                }
                BuyerServerFrame::Ended {
                    conversation_id: cid,
                    ..
                } => {
                    if cid >= conversation_id.get_untracked() {
                        ended.set(true);
                        reception.set(Reception::Ended);
                    }
                }
                BuyerServerFrame::Error {
                    message,
                    client_msg_id,
                } => {
                    if !greeted {
                        // Refused before Hello: the token is bad; trying again cannot help.
                        refused.set(Some(message));
                        return Flow::Stop;
                    }
                    // The message stays, failed, with 重发: never dropped. Its bubble shows the
                    // reason; the page-wide error is for refusals that belong to no message.
                    let on_bubble = client_msg_id.is_some_and(|id| {
                        let mut found = false;
                        pending.update(|p| found = mark_failed(p, &id, &message));
                        found
                    });
                    if !on_bubble {
                        error.set(Some(message));
                    }
                }
            }
            Flow::Continue
        };
        outbox.set_value(super::socket::spawn_socket(path, conn, handle));
    });

    let send = move |(body, font_size): (String, i16)| {
        let client_msg_id = new_client_msg_id();
        error.set(None);
        pending.update(|p| {
            p.push(Pending::text(
                conversation_id.get_untracked(),
                client_msg_id,
                body,
                font_size,
                now_ms(),
            ))
        });
        pump();
    };
    // 重发: the same frame, the same client message id.
    let resend = Callback::new(move |client_msg_id: String| {
        error.set(None);
        pending.update(|p| {
            mark_resending(p, &client_msg_id);
        });
        pump();
    });
    let picture_token = token.clone();
    let send_picture = Callback::new(move |file: web_sys::File| {
        error.set(None);
        super::upload::send_picture(
            file,
            conversation_id.get_untracked(),
            Some(picture_token.clone()),
            pending,
            error,
            // Uploaded: it goes in its turn.
            move |_| pump(),
        );
    });
    let list_token = token.clone();
    // 订单详情 of a card: `None` closed, `Some(None)` loading. Only the buyer's own orders open.
    let detail = RwSignal::new(None::<Option<Result<crate::orders::OrderDetail, String>>>);
    let detail_token = token.clone();
    let open_order = Callback::new(move |order_id: i64| {
        detail.set(Some(None));
        let token = detail_token.clone();
        leptos::task::spawn_local(async move {
            let result = crate::orders::buyer_order_detail(token, order_id)
                .await
                .map_err(|e| e.to_string());
            if detail.get_untracked().is_some() {
                detail.set(Some(Some(result)));
            }
        });
    });
    let restart = move |_| {
        error.set(None);
        ended.set(false);
        messages.set(Vec::new());
        outbox.with_value(|o| o.send(&BuyerFrame::Restart));
    };

    let status_line = move || reception.with(Reception::status_line);

    view! {
        <Title text=move || {
            let name = supplier_name.get();
            if name.is_empty() { "在线客服".to_owned() } else { format!("{name} - 在线客服") }
        } />
        <div class="widget">
            <header class="widget-head">
                <div class="widget-title">
                    <span class="logo-mark small">"832"</span>
                    <div>
                        <h1 class="widget-supplier">
                            {move || {
                                let n = supplier_name.get();
                                if n.is_empty() { "在线客服".to_owned() } else { n }
                            }}
                        </h1>
                        <p
                            class="widget-status"
                            class:online=move || reception.with(Reception::online)
                            data-testid="serving-status"
                        >
                            {status_line}
                        </p>
                    </div>
                </div>
            </header>
            {move || match conn.get() {
                ConnState::Reconnecting => Some(view! {
                    <div class="conn-banner" role="status">"正在重新连接…"</div>
                }.into_any()),
                ConnState::Stopped => refused.get().map(|m| view! {
                    <div class="conn-banner refused" role="alert">{m}</div>
                }.into_any()),
                _ => None,
            }}
            {move || reception.with(Reception::queue_line).map(|line| view! {
                <div class="queue-banner" role="status" data-testid="queue">{line}</div>
            })}
            <MessageList messages=messages.into() pending=pending.into() mine="buyer" token=list_token on_order=open_order on_resend=resend />
            {move || detail.get().map(|state| view! {
                <crate::components::Modal title="订单详情" on_close=move || detail.set(None) close_on_backdrop=true>
                    {match state {
                        None => view! { <p class="muted" role="status">"加载中…"</p> }.into_any(),
                        Some(Ok(d)) => view! { <crate::orders::OrderDetailView detail=d /> }.into_any(),
                        Some(Err(e)) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
                    }}
                </crate::components::Modal>
            })}
            <Show
                when=move || !ended.get()
                fallback=move || view! {
                    <div class="ended-box">
                        <p>"本次会话已结束"</p>
                        <button
                            type="button"
                            class="btn primary"
                            disabled=move || !hydrated.get() || conn.get() != ConnState::Online
                            on:click=restart
                        >
                            "重新咨询"
                        </button>
                    </div>
                }
            >
                {move || typing.get().map(|_| view! { <p class="typing-note">"客服正在输入…"</p> })}
                {move || error.get().map(|e| view! { <p class="form-error chat-error" role="alert">{e}</p> })}
                <Composer
                    disabled=Signal::derive(move || refused.get().is_some())
                    on_send=send
                    placeholder="请输入您要咨询的问题"
                    on_picture=send_picture
                    on_typing=Callback::new(move |()| {
                        if !ended.get_untracked() {
                            outbox.with_value(|o| o.send(&BuyerFrame::Typing));
                        }
                    })
                />
            </Show>
        </div>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::Reception;

    #[test]
    fn header_and_queue_banner_come_from_one_state() {
        let hello = Reception::Connecting.hello(false, true);
        assert_eq!(hello.status_line(), "暂无客服在线，您可以先留言");
        let queued = hello.queued(3);
        assert_eq!(
            queued.queue_line().as_deref(),
            Some("正在排队，您前面还有 2 位")
        );
        let served = Reception::Served {
            agent: "客服小李".into(),
        };
        assert_eq!(served.status_line(), "客服在线 · 客服小李 为您服务");
        assert_eq!(served.queue_line(), None);
        // The agent's login ended and the buyer is queued again: the header no longer names
        // that agent while the banner counts the queue.
        let requeued = served.queued(2);
        assert!(!requeued.status_line().contains("客服小李"), "{requeued:?}");
        assert!(!requeued.online());
        assert_eq!(
            requeued.queue_line().as_deref(),
            Some("正在排队，您前面还有 1 位")
        );
        // A reconnect's Hello keeps the agent (Assigned or Queued follows); a new
        // conversation starts over.
        assert_eq!(served.hello(true, false), served);
        assert_eq!(
            served.hello(true, true),
            Reception::Waiting {
                anyone_serving: Some(true),
                position: None
            }
        );
        assert_eq!(Reception::Ended.queue_line(), None);
    }
}
