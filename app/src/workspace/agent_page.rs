use leptos::prelude::*;
use leptos_meta::Title;

use super::Frame;
#[cfg(feature = "hydrate")]
use crate::chat::protocol::{AGENT_CHAT_PATH, AgentServerFrame};
use crate::chat::protocol::{AgentFrame, ChatMessage, ConversationSummary};
use crate::chat::socket::{ConnState, Outbox, ask_alert_permission, new_client_msg_id, now_ms};
use crate::chat::{Composer, MessageList, Pending};
#[cfg(feature = "hydrate")]
use crate::chat::{acked, merge_messages, preview_text};
use crate::components::Modal;
use crate::use_hydrated;

/// One conversation as the workbench holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    pub summary: ConversationSummary,
    pub messages: Vec<ChatMessage>,
    /// Buyer messages not yet seen.
    pub unread: u32,
    /// Opened at least once (a new buyer counts in the title badge until then).
    pub opened: bool,
    pub ended: bool,
    /// Older messages exist on the server (查看更早的消息).
    pub has_older: bool,
}

impl Conversation {
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn new(summary: ConversationSummary) -> Self {
        Conversation {
            // The buyer's unanswered messages, those left while queued included.
            unread: summary.unread,
            summary,
            messages: Vec::new(),
            opened: false,
            ended: false,
            has_older: false,
        }
    }

    /// Follows the waiting clock through new messages (in seq order): the buyer's first
    /// unanswered message starts it, an agent's answer stops it.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn note_waiting(&mut self, added: &[ChatMessage]) {
        for m in added {
            match m.sender.as_str() {
                "buyer" if self.summary.waiting_since.is_none() => {
                    self.summary.waiting_since = Some(m.created_at);
                }
                "agent" => self.summary.waiting_since = None,
                _ => {}
            }
        }
    }

    /// Last seq this page has seen, for `Open { after_seq }`.
    pub fn last_seq(&self) -> i32 {
        self.messages.last().map_or(0, |m| m.seq)
    }
}

/// Minutes between two unix-ms instants, never negative.
fn minutes_between(from: i64, to: i64) -> i64 {
    ((to - from) / 60_000).max(0)
}

/// Agent workbench `/agent` (manual §2.3): conversations left, chat middle, orders right.
#[component]
pub fn AgentPage() -> impl IntoView {
    let hydrated = use_hydrated();
    let conn = RwSignal::new(ConnState::Connecting);
    let serving = RwSignal::new(false);
    let conversations = RwSignal::new(Vec::<Conversation>::new());
    let selected = RwSignal::new(None::<i64>);
    let pending = RwSignal::new(Vec::<Pending>::new());
    let error = RwSignal::new(None::<String>);
    let confirm_end = RwSignal::new(false);
    let now = RwSignal::new(now_ms());
    let outbox = StoredValue::new(Outbox::default());
    // The conversation whose buyer is typing, with a stamp so an old timeout does not hide a
    // newer notice.
    let typing = RwSignal::new(None::<(i64, u32)>);
    // Sends the conversation's next pending message if none is on its way (one at a time, in
    // order).
    let pump = move |conversation_id: i64| {
        let mut next = None;
        pending.update(|p| next = crate::chat::take_next(p, Some(conversation_id)));
        if let Some(frame) = next.and_then(|p| p.agent_frame()) {
            outbox.with_value(|o| o.send(&frame));
        }
    };

    #[cfg(feature = "hydrate")]
    Effect::new(move |prev: Option<()>| {
        if prev.is_some() {
            return;
        }
        // The clock for "等待 x 分钟".
        gloo_timers::callback::Interval::new(30_000, move || now.set(now_ms())).forget();
        now.set(now_ms());

        let handle = move |text: &str| -> crate::chat::socket::Flow {
            use crate::chat::socket::{Flow, beep, notify};
            let Ok(frame) = serde_json::from_str::<AgentServerFrame>(text) else {
                return Flow::Continue;
            };
            match frame {
                AgentServerFrame::Hello {
                    serving: s,
                    conversations: list,
                    ..
                } => {
                    serving.set(s);
                    conversations.update(|convs| {
                        for c in convs.iter_mut() {
                            if !list
                                .iter()
                                .any(|s| s.conversation_id == c.summary.conversation_id)
                            {
                                // Ended or handed on while we were away.
                                c.ended = true;
                            }
                        }
                        for summary in list {
                            match convs
                                .iter_mut()
                                .find(|c| c.summary.conversation_id == summary.conversation_id)
                            {
                                Some(c) => c.summary = summary,
                                None => convs.push(Conversation::new(summary)),
                            }
                        }
                    });
                    let out = outbox.get_value();
                    if let Some(cid) = selected.get_untracked() {
                        let after_seq = conversations.with_untracked(|cs| {
                            cs.iter()
                                .find(|c| c.summary.conversation_id == cid)
                                .map_or(0, Conversation::last_seq)
                        });
                        out.send(&AgentFrame::Open {
                            conversation_id: cid,
                            after_seq,
                        });
                    }
                    // Everything not yet stored goes again, the failed ones too (same ids).
                    pending.update(|p| crate::chat::reset_for_reconnect(p));
                    let mut waiting: Vec<i64> =
                        pending.with_untracked(|p| p.iter().map(|p| p.conversation_id).collect());
                    waiting.dedup();
                    for cid in waiting {
                        pump(cid);
                    }
                    return Flow::Greeted;
                }
                AgentServerFrame::Status { serving: s } => serving.set(s),
                AgentServerFrame::Assigned { conversation } => {
                    let mut is_new = false;
                    let (name, unit) = (
                        conversation.buyer_name.clone(),
                        conversation.buyer_unit.clone(),
                    );
                    conversations.update(|convs| {
                        match convs
                            .iter_mut()
                            .find(|c| c.summary.conversation_id == conversation.conversation_id)
                        {
                            Some(c) => {
                                c.summary = conversation;
                                c.ended = false;
                            }
                            None => {
                                is_new = true;
                                convs.push(Conversation::new(conversation));
                            }
                        }
                    });
                    if is_new {
                        beep();
                        notify("新的采购人咨询", &format!("{name}（{unit}）"));
                    }
                }
                AgentServerFrame::Messages {
                    conversation_id,
                    messages,
                } => {
                    if messages.iter().any(|m| m.sender == "buyer")
                        && typing
                            .get_untracked()
                            .is_some_and(|(c, _)| c == conversation_id)
                    {
                        typing.set(None);
                    }
                    let ids: Vec<String> =
                        messages.iter().map(|m| m.client_msg_id.clone()).collect();
                    pending.update(|p| p.retain(|p| !ids.contains(&p.client_msg_id)));
                    pump(conversation_id);
                    let is_open = selected.get_untracked() == Some(conversation_id);
                    let mut buyer_wrote = false;
                    conversations.update(|convs| {
                        if let Some(c) = convs
                            .iter_mut()
                            .find(|c| c.summary.conversation_id == conversation_id)
                        {
                            let added = merge_messages(&mut c.messages, messages);
                            c.note_waiting(&added);
                            let from_buyer =
                                added.iter().filter(|m| m.sender == "buyer").count() as u32;
                            if !is_open {
                                c.unread += from_buyer;
                                buyer_wrote = from_buyer > 0;
                            }
                            if let Some(last) = c.messages.last() {
                                c.summary.last_message = Some(preview_text(last));
                                c.summary.last_seq = last.seq;
                            }
                        }
                    });
                    if buyer_wrote {
                        beep();
                    }
                }
                AgentServerFrame::Older {
                    conversation_id,
                    messages,
                    has_more,
                } => {
                    conversations.update(|convs| {
                        if let Some(c) = convs
                            .iter_mut()
                            .find(|c| c.summary.conversation_id == conversation_id)
                        {
                            merge_messages(&mut c.messages, messages);
                            c.has_older = has_more;
                        }
                    });
                }
                AgentServerFrame::Ack { client_msg_id, seq } => {
                    let mut done = None;
                    pending.update(|p| {
                        if let Some(i) = p.iter().position(|p| p.client_msg_id == client_msg_id) {
                            done = Some(p.remove(i));
                        }
                    });
                    if let Some(p) = done {
                        conversations.update(|convs| {
                            if let Some(c) = convs
                                .iter_mut()
                                .find(|c| c.summary.conversation_id == p.conversation_id)
                                && !c.messages.iter().any(|m| m.seq == seq)
                            {
                                let message = acked(&p, seq, "agent", "我");
                                c.summary.last_message = Some(preview_text(&message));
                                c.summary.waiting_since = None;
                                merge_messages(&mut c.messages, vec![message]);
                            }
                        });
                        pump(p.conversation_id);
                    }
                }
                AgentServerFrame::Ended {
                    conversation_id, ..
                } => {
                    conversations.update(|convs| {
                        if let Some(c) = convs
                            .iter_mut()
                            .find(|c| c.summary.conversation_id == conversation_id)
                        {
                            c.ended = true;
                        }
                    });
                    pending.update(|p| p.retain(|p| p.conversation_id != conversation_id));
                }
                AgentServerFrame::Typing { conversation_id } => {
                    let stamp = typing.get_untracked().map_or(0, |(_, s)| s.wrapping_add(1));
                    typing.set(Some((conversation_id, stamp)));
                    gloo_timers::callback::Timeout::new(crate::chat::TYPING_SHOWS_MS, move || {
                        if typing.get_untracked() == Some((conversation_id, stamp)) {
                            typing.set(None);
                        }
                    })
                    .forget();
                }
                AgentServerFrame::Error {
                    message,
                    client_msg_id,
                } => {
                    // The message stays, failed, with 重发: never dropped. Its bubble shows the
                    // reason; the page-wide error is for refusals that belong to no message.
                    let on_bubble = client_msg_id.is_some_and(|id| {
                        let mut found = false;
                        pending.update(|p| found = crate::chat::mark_failed(p, &id, &message));
                        found
                    });
                    if !on_bubble {
                        error.set(Some(message));
                    }
                }
            }
            Flow::Continue
        };
        outbox.set_value(crate::chat::socket::spawn_socket(
            AGENT_CHAT_PATH.to_owned(),
            conn,
            handle,
        ));
    });

    let open = move |cid: i64| {
        error.set(None);
        selected.set(Some(cid));
        let mut after_seq = 0;
        conversations.update(|convs| {
            if let Some(c) = convs.iter_mut().find(|c| c.summary.conversation_id == cid) {
                c.unread = 0;
                c.opened = true;
                after_seq = c.last_seq();
            }
        });
        outbox.with_value(|o| {
            o.send(&AgentFrame::Open {
                conversation_id: cid,
                after_seq,
            })
        });
    };
    let set_serving = move |s: bool| {
        if s {
            ask_alert_permission();
        }
        outbox.with_value(|o| o.send(&AgentFrame::SetServing { serving: s }));
    };
    let current = Memo::new(move |_| {
        let cid = selected.get()?;
        conversations.with(|cs| {
            cs.iter()
                .find(|c| c.summary.conversation_id == cid)
                .cloned()
        })
    });
    let current_ended =
        Signal::derive(move || current.with(|c| c.as_ref().is_none_or(|c| c.ended)));
    let send = move |(body, font_size): (String, i16)| {
        let Some(cid) = selected.get_untracked() else {
            return;
        };
        let client_msg_id = new_client_msg_id();
        error.set(None);
        pending.update(|p| p.push(Pending::text(cid, client_msg_id, body, font_size, now_ms())));
        pump(cid);
    };
    // 重发: the same frame, the same client message id.
    let resend = Callback::new(move |client_msg_id: String| {
        error.set(None);
        let mut again = None;
        pending.update(|p| again = crate::chat::mark_resending(p, &client_msg_id));
        if let Some(p) = again {
            pump(p.conversation_id);
        }
    });
    let send_order = Callback::new(move |order: crate::orders::OrderSummary| {
        let Some(cid) = selected.get_untracked() else {
            return;
        };
        if current_ended.get_untracked() {
            return;
        }
        let client_msg_id = new_client_msg_id();
        error.set(None);
        pending.update(|p| p.push(Pending::order(cid, client_msg_id, order, now_ms())));
        pump(cid);
    });
    // 订单详情 in a dialog: `None` closed, `Some(None)` loading.
    let detail = RwSignal::new(None::<Option<Result<crate::orders::OrderDetail, String>>>);
    let open_order = Callback::new(move |order_id: i64| {
        let Some(cid) = selected.get_untracked() else {
            return;
        };
        detail.set(Some(None));
        leptos::task::spawn_local(async move {
            let result = crate::orders::agent_order_detail(cid, order_id)
                .await
                .map_err(|e| e.to_string());
            if detail.get_untracked().is_some() {
                detail.set(Some(Some(result)));
            }
        });
    });
    let send_picture = move |file: web_sys::File| {
        let Some(cid) = selected.get_untracked() else {
            return;
        };
        error.set(None);
        // Uploaded: it goes in its turn.
        crate::chat::upload::send_picture(file, cid, None, pending, error, move |p| {
            pump(p.conversation_id)
        });
    };
    let end_current = move || {
        if let Some(cid) = selected.get_untracked() {
            outbox.with_value(|o| {
                o.send(&AgentFrame::End {
                    conversation_id: cid,
                })
            });
        }
        confirm_end.set(false);
    };
    let badge = move || {
        conversations.with(|cs| {
            cs.iter()
                .filter(|c| !c.ended && (!c.opened || c.unread > 0))
                .count()
        })
    };
    let messages = Signal::derive(move || {
        current.with(|c| c.as_ref().map(|c| c.messages.clone()).unwrap_or_default())
    });
    let current_pending = Signal::derive(move || {
        let cid = selected.get();
        pending.with(|p| {
            p.iter()
                .filter(|p| Some(p.conversation_id) == cid)
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let toggle_off = move || !hydrated.get() || conn.get() != ConnState::Online;
    let has_older =
        Signal::derive(move || current.with(|c| c.as_ref().is_some_and(|c| c.has_older)));
    let load_older = Callback::new(move |()| {
        let Some(c) = current.get_untracked() else {
            return;
        };
        let before_seq = c.messages.first().map_or(i32::MAX, |m| m.seq);
        outbox.with_value(|o| {
            o.send(&AgentFrame::Older {
                conversation_id: c.summary.conversation_id,
                before_seq,
            })
        });
    });

    view! {
        <Title text=move || match badge() {
            0 => "832 在线客服系统".to_owned(),
            n => format!("({n}) 832 在线客服系统"),
        } />
        <Frame area="客服前台">
            <div class="workbench-wrap">
                <div class="workbench-bar">
                    <div class="status-toggle" role="group" aria-label="接待状态">
                        <button
                            type="button"
                            class="status-btn busy"
                            aria-pressed=move || (!serving.get()).to_string()
                            disabled=toggle_off
                            on:click=move |_| set_serving(false)
                        >
                            "示忙"
                        </button>
                        <button
                            type="button"
                            class="status-btn serving"
                            aria-pressed=move || serving.get().to_string()
                            disabled=toggle_off
                            on:click=move |_| set_serving(true)
                        >
                            "服务中"
                        </button>
                    </div>
                    <span class="status-text" data-testid="agent-status">
                        {move || if serving.get() { "当前状态：服务中，新的采购人会分配给您" } else { "当前状态：示忙，不接待新的采购人" }}
                    </span>
                    {move || match conn.get() {
                        ConnState::Online => view! { <span class="conn-dot online">"已连接"</span> }.into_any(),
                        ConnState::Connecting => view! { <span class="conn-dot">"正在连接…"</span> }.into_any(),
                        _ => view! { <span class="conn-dot lost" role="status">"正在重新连接…"</span> }.into_any(),
                    }}
                </div>
                <div class="workbench">
                    <section class="panel conversations">
                        <h2 class="panel-title">"会话列表"</h2>
                        <Show
                            when=move || conversations.with(|c| !c.is_empty())
                            fallback=|| view! { <p class="empty">"暂无采购人接入"</p> }
                        >
                            <ul class="conv-list">
                                <For
                                    each=move || conversations.get()
                                    key=|c| c.summary.conversation_id
                                    children=move |c| {
                                        let cid = c.summary.conversation_id;
                                        let conv = Memo::new(move |_| {
                                            conversations.with(|cs| cs.iter().find(|c| c.summary.conversation_id == cid).cloned())
                                        });
                                        let field = move |f: fn(&Conversation) -> String| {
                                            conv.with(|c| c.as_ref().map(f).unwrap_or_default())
                                        };
                                        view! {
                                            <li>
                                                <button
                                                    type="button"
                                                    class="conv-item"
                                                    class:active=move || selected.get() == Some(cid)
                                                    class:ended=move || conv.with(|c| c.as_ref().is_some_and(|c| c.ended))
                                                    disabled=move || !hydrated.get()
                                                    on:click=move |_| open(cid)
                                                >
                                                    <span class="conv-top">
                                                        <span class="conv-name">{move || field(|c| c.summary.buyer_name.clone())}</span>
                                                        <span class="conv-unit">{move || field(|c| c.summary.buyer_unit.clone())}</span>
                                                        {move || {
                                                            let n = conv.with(|c| c.as_ref().map_or(0, |c| c.unread));
                                                            (n > 0).then(|| view! {
                                                                <span class="unread" aria-label=format!("{n} 条未读")>{n}</span>
                                                            })
                                                        }}
                                                    </span>
                                                    <span class="conv-last">
                                                        {move || field(|c| c.summary.last_message.clone().unwrap_or_else(|| "（暂无消息）".into()))}
                                                    </span>
                                                    <span class="conv-wait">
                                                        {move || {
                                                            // Since the buyer's first unanswered message;
                                                            // nothing once the agent has answered.
                                                            if conv.with(|c| c.as_ref().is_some_and(|c| c.ended)) {
                                                                "已结束".to_owned()
                                                            } else {
                                                                conv.with(|c| c.as_ref().and_then(|c| c.summary.waiting_since))
                                                                    .map(|since| format!("等待 {} 分钟", minutes_between(since, now.get())))
                                                                    .unwrap_or_default()
                                                            }
                                                        }}
                                                    </span>
                                                </button>
                                            </li>
                                        }
                                    }
                                />
                            </ul>
                        </Show>
                    </section>
                    <section class="panel chat">
                        {move || match current.get() {
                            None => view! {
                                <h2 class="panel-title">"对话"</h2>
                                <div class="empty chat-empty">
                                    <p>"请在左侧选择采购人开始对话"</p>
                                </div>
                            }.into_any(),
                            Some(c) => view! {
                                <div class="panel-title chat-head">
                                    <h2>
                                        {c.summary.buyer_name.clone()}
                                        <span class="muted chat-unit">{c.summary.buyer_unit.clone()}</span>
                                        <span class="muted mono chat-unit">{c.summary.buyer_external_id.clone()}</span>
                                    </h2>
                                    {if c.ended {
                                        view! { <span class="tag">"已结束"</span> }.into_any()
                                    } else {
                                        view! {
                                            <button
                                                type="button"
                                                class="btn danger small"
                                                disabled=move || !hydrated.get()
                                                on:click=move |_| confirm_end.set(true)
                                            >
                                                "结束对话"
                                            </button>
                                        }.into_any()
                                    }}
                                </div>
                            }.into_any(),
                        }}
                        <Show when=move || current.with(Option::is_some)>
                            <MessageList
                                messages=messages
                                pending=current_pending
                                mine="agent"
                                has_older=has_older
                                on_older=load_older
                                on_order=open_order
                                on_resend=resend
                            />
                            {move || {
                                let cid = selected.get();
                                typing
                                    .get()
                                    .filter(|(c, _)| Some(*c) == cid)
                                    .map(|_| view! { <p class="typing-note">"对方正在输入…"</p> })
                            }}
                            {move || error.get().map(|e| view! { <p class="form-error chat-error" role="alert">{e}</p> })}
                            {move || current_ended.get().then(|| view! {
                                <p class="ended-note">"本次对话已结束"</p>
                            })}
                            <Composer
                                disabled=current_ended
                                on_send=send
                                placeholder="输入回复内容"
                                on_picture=send_picture
                                on_typing=Callback::new(move |()| {
                                    if let Some(conversation_id) = selected.get_untracked() {
                                        outbox.with_value(|o| o.send(&AgentFrame::Typing { conversation_id }));
                                    }
                                })
                            />
                        </Show>
                    </section>
                    <section class="panel orders">
                        <crate::orders::OrdersPanel
                            conversation_id=Signal::derive(move || selected.get())
                            can_send=Signal::derive(move || !current_ended.get())
                            on_send=send_order
                            on_open=open_order
                        />
                    </section>
                </div>
            </div>
            {move || detail.get().map(|state| view! {
                <Modal title="订单详情" on_close=move || detail.set(None) close_on_backdrop=true>
                    {match state {
                        None => view! { <p class="muted" role="status">"加载中…"</p> }.into_any(),
                        Some(Ok(d)) => view! { <crate::orders::OrderDetailView detail=d /> }.into_any(),
                        Some(Err(e)) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
                    }}
                </Modal>
            })}
            {move || confirm_end.get().then(|| view! {
                <Modal title="结束对话" on_close=move || confirm_end.set(false)>
                    <p>"确定要结束与该采购人的对话吗？结束后双方都不能再发送消息。"</p>
                    <div class="dialog-actions">
                        <button type="button" class="btn" on:click=move |_| confirm_end.set(false)>"取消"</button>
                        <button type="button" class="btn primary" on:click=move |_| end_current()>"确定"</button>
                    </div>
                </Modal>
            })}
        </Frame>
    }
    .into_any()
}
