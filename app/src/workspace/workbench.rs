//! The agent workbench's state, without a browser: the conversations, the one open, what this
//! agent has not had stored yet, and how every server frame and click changes them. The
//! component renders it and performs the [`Effect`]s it returns.

use crate::chat::protocol::{
    AgentFrame, AgentServerFrame, ChatMessage, ConversationEnded, ConversationSummary, MessageAck,
    Sender,
};
use crate::chat::{
    ChatState, Effect, Outbox, Pending, TypingNotice, from_agent, from_buyer, merge_messages,
    preview_text,
};
use crate::orders::OrderSummary;

/// What the workbench asks the page to do.
pub type AgentEffect = Effect<AgentFrame>;

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
    fn note_waiting(&mut self, added: &[ChatMessage]) {
        for m in added {
            if from_buyer(m) && self.summary.waiting_since.is_none() {
                self.summary.waiting_since = Some(m.created_at);
            } else if from_agent(m) {
                self.summary.waiting_since = None;
            }
        }
    }

    /// Last seq this page has seen, for `Open { after_seq }`.
    pub fn last_seq(&self) -> i32 {
        self.messages.last().map_or(0, |m| m.seq)
    }

    /// The list's last line: 已结束, "等待 x 分钟" since the buyer's first unanswered message
    /// (at `now`, unix ms), or nothing once the agent has answered.
    pub fn wait_line(&self, now: i64) -> String {
        if self.ended {
            return "已结束".to_owned();
        }
        self.summary
            .waiting_since
            .map(|since| format!("等待 {} 分钟", minutes_between(since, now)))
            .unwrap_or_default()
    }

    /// The list's preview of the newest message.
    pub fn last_line(&self) -> String {
        self.summary
            .last_message
            .clone()
            .unwrap_or_else(|| "（暂无消息）".into())
    }
}

/// Minutes between two unix-ms instants, never negative.
fn minutes_between(from: i64, to: i64) -> i64 {
    ((to - from) / 60_000).max(0)
}

/// The workbench `/agent`: everything it shows, changed only by [`ChatState::apply`] (server
/// frames) and the methods for the agent's clicks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workbench {
    /// 服务中 (true) or 示忙.
    pub serving: bool,
    /// In the order they reached this agent.
    pub conversations: Vec<Conversation>,
    /// The conversation open in the middle.
    pub selected: Option<i64>,
    /// This agent's messages not stored yet, and the error above the composer.
    pub outbox: Outbox,
    /// The buyer typing, by conversation.
    pub typing: TypingNotice<i64>,
}

impl Workbench {
    /// Hello, on every connection: the server's list is the truth (a conversation missing from
    /// it ended or was handed on while away); the open one catches up and everything unsent
    /// goes again, the failed ones too (same ids).
    fn hello(&mut self, serving: bool, list: Vec<ConversationSummary>) -> Vec<AgentEffect> {
        self.serving = serving;
        for c in &mut self.conversations {
            if !list
                .iter()
                .any(|s| s.conversation_id == c.summary.conversation_id)
            {
                c.ended = true;
            }
        }
        for summary in list {
            match self.conversation_mut(summary.conversation_id) {
                Some(c) => c.summary = summary,
                None => self.conversations.push(Conversation::new(summary)),
            }
        }
        let mut effects = Vec::new();
        if let Some(conversation_id) = self.selected {
            let after_seq = self
                .conversation(conversation_id)
                .map_or(0, Conversation::last_seq);
            effects.push(Effect::Send(AgentFrame::Open {
                conversation_id,
                after_seq,
            }));
        }
        self.outbox.reconnect();
        for conversation_id in self.outbox.conversations() {
            effects.extend(self.pump(conversation_id));
        }
        effects.push(Effect::Greeted);
        effects
    }

    /// A buyer was given to this agent; a new one beeps and notifies.
    fn assigned(&mut self, summary: ConversationSummary) -> Vec<AgentEffect> {
        if let Some(c) = self.conversation_mut(summary.conversation_id) {
            c.summary = summary;
            c.ended = false;
            return Vec::new();
        }
        let body = format!("{}（{}）", summary.buyer_name, summary.buyer_unit);
        self.conversations.push(Conversation::new(summary));
        vec![
            Effect::Beep,
            Effect::Notify {
                title: "新的采购人咨询".into(),
                body,
            },
        ]
    }

    /// Messages of a conversation: shown in seq order, this agent's own leave the outbox, and
    /// the buyer's count as unread (with a beep) while the conversation is not open.
    fn messages(&mut self, conversation_id: i64, messages: Vec<ChatMessage>) -> Vec<AgentEffect> {
        if messages.iter().any(from_buyer) {
            self.typing.clear(conversation_id);
        }
        self.outbox.stored(&messages);
        let mut effects = self.pump(conversation_id);
        let is_open = self.selected == Some(conversation_id);
        let Some(c) = self.conversation_mut(conversation_id) else {
            return effects;
        };
        let added = merge_messages(&mut c.messages, messages);
        c.note_waiting(&added);
        let from_buyer = added.iter().filter(|m| from_buyer(m)).count() as u32;
        if let Some(last) = c.messages.last() {
            c.summary.last_message = Some(preview_text(last));
            c.summary.last_seq = last.seq;
        }
        if !is_open && from_buyer > 0 {
            c.unread += from_buyer;
            effects.push(Effect::Beep);
        }
        effects
    }

    /// A message of this agent is stored: shown as stored until the server's copy comes, and
    /// the next one of its conversation goes.
    fn ack(&mut self, client_msg_id: &str, seq: i32) -> Vec<AgentEffect> {
        let Some(p) = self.outbox.ack(client_msg_id) else {
            return Vec::new();
        };
        if let Some(c) = self.conversation_mut(p.conversation_id)
            && !c.messages.iter().any(|m| m.seq == seq)
        {
            let message = p.acked(seq, Sender::Agent, "我");
            c.summary.last_message = Some(preview_text(&message));
            c.summary.waiting_since = None;
            merge_messages(&mut c.messages, vec![message]);
        }
        self.pump(p.conversation_id)
    }

    /// Sends the conversation's next unsent message if none is on its way (one at a time, in
    /// order).
    fn pump(&mut self, conversation_id: i64) -> Vec<AgentEffect> {
        self.outbox
            .take_next(Some(conversation_id))
            .and_then(|p| p.agent_frame())
            .map(Effect::Send)
            .into_iter()
            .collect()
    }

    /// One conversation of the list.
    pub fn conversation(&self, conversation_id: i64) -> Option<&Conversation> {
        self.conversations
            .iter()
            .find(|c| c.summary.conversation_id == conversation_id)
    }

    fn conversation_mut(&mut self, conversation_id: i64) -> Option<&mut Conversation> {
        self.conversations
            .iter_mut()
            .find(|c| c.summary.conversation_id == conversation_id)
    }

    /// The agent opens a conversation: it is read, and its messages after the last one seen
    /// are asked for.
    pub fn open(&mut self, conversation_id: i64) -> Vec<AgentEffect> {
        self.outbox.error = None;
        self.selected = Some(conversation_id);
        let mut after_seq = 0;
        if let Some(c) = self.conversation_mut(conversation_id) {
            c.unread = 0;
            c.opened = true;
            after_seq = c.last_seq();
        }
        vec![Effect::Send(AgentFrame::Open {
            conversation_id,
            after_seq,
        })]
    }

    /// The list's conversations, in order.
    pub fn conversation_ids(&self) -> Vec<i64> {
        let ids = self.conversations.iter();
        ids.map(|c| c.summary.conversation_id).collect()
    }

    /// The open conversation.
    pub fn current(&self) -> Option<&Conversation> {
        self.conversation(self.selected?)
    }

    /// Nothing can be sent: no conversation open, or it ended.
    pub fn current_ended(&self) -> bool {
        self.current().is_none_or(|c| c.ended)
    }

    /// The open conversation's unsent messages.
    pub fn current_pending(&self) -> Vec<Pending> {
        self.outbox.of_conversation(self.selected)
    }

    /// The buyer of the open conversation is typing.
    pub fn buyer_typing(&self) -> bool {
        self.selected.is_some() && self.typing.shown() == self.selected
    }

    /// The title badge: conversations not ended that are new or have unread messages.
    pub fn badge(&self) -> usize {
        self.conversations
            .iter()
            .filter(|c| !c.ended && (!c.opened || c.unread > 0))
            .count()
    }

    /// Queues a message of the open conversation (`make` builds it for the conversation id) and
    /// sends it in its turn.
    pub fn send(&mut self, make: impl FnOnce(i64) -> Pending) -> Vec<AgentEffect> {
        let Some(conversation_id) = self.selected else {
            return Vec::new();
        };
        self.outbox.push(make(conversation_id));
        self.pump(conversation_id)
    }

    /// 发送 of an order card; nothing while the conversation is ended.
    pub fn send_order(
        &mut self,
        order: OrderSummary,
        client_msg_id: String,
        now: i64,
    ) -> Vec<AgentEffect> {
        if self.current_ended() {
            return Vec::new();
        }
        self.send(|cid| Pending::order(cid, client_msg_id, order, now))
    }

    /// 重发: the same frame, the same client message id.
    pub fn resend(&mut self, client_msg_id: &str) -> Vec<AgentEffect> {
        match self.outbox.resend(client_msg_id) {
            Some(conversation_id) => self.pump(conversation_id),
            None => Vec::new(),
        }
    }

    /// A picture's upload finished (see [`Outbox::uploaded`]).
    pub fn uploaded(
        &mut self,
        client_msg_id: &str,
        result: Result<crate::chat::protocol::UploadedPicture, String>,
    ) -> Vec<AgentEffect> {
        match self.outbox.uploaded(client_msg_id, result) {
            Some(conversation_id) => self.pump(conversation_id),
            None => Vec::new(),
        }
    }

    /// 查看更早的消息 of the open conversation.
    pub fn older(&self) -> Option<AgentFrame> {
        let c = self.current()?;
        Some(AgentFrame::Older {
            conversation_id: c.summary.conversation_id,
            before_seq: c.messages.first().map_or(i32::MAX, |m| m.seq),
        })
    }
}

/// Server frames change the state here; clicks through the inherent methods.
impl ChatState for Workbench {
    type Frame = AgentFrame;
    type ServerFrame = AgentServerFrame;

    fn apply(&mut self, frame: AgentServerFrame) -> Vec<AgentEffect> {
        match frame {
            AgentServerFrame::Hello {
                serving,
                conversations,
                ..
            } => self.hello(serving, conversations),
            AgentServerFrame::Status { serving } => {
                self.serving = serving;
                Vec::new()
            }
            AgentServerFrame::Assigned { conversation } => self.assigned(conversation),
            AgentServerFrame::Messages {
                conversation_id,
                messages,
            } => self.messages(conversation_id, messages),
            AgentServerFrame::Older {
                conversation_id,
                messages,
                has_more,
            } => {
                if let Some(c) = self.conversation_mut(conversation_id) {
                    merge_messages(&mut c.messages, messages);
                    c.has_older = has_more;
                }
                Vec::new()
            }
            AgentServerFrame::Ack(MessageAck { client_msg_id, seq }) => {
                self.ack(&client_msg_id, seq)
            }
            AgentServerFrame::Ended(ConversationEnded {
                conversation_id, ..
            }) => {
                if let Some(c) = self.conversation_mut(conversation_id) {
                    c.ended = true;
                }
                self.outbox.drop_conversation(conversation_id);
                Vec::new()
            }
            AgentServerFrame::Typing { conversation_id } => {
                vec![Effect::HideTypingLater(self.typing.show(conversation_id))]
            }
            AgentServerFrame::Error {
                message,
                client_msg_id,
            } => {
                self.outbox.refused(message, client_msg_id);
                Vec::new()
            }
        }
    }

    fn expire_typing(&mut self, stamp: u32) {
        self.typing.expire(stamp);
    }
}

#[cfg(test)]
#[path = "workbench_tests.rs"]
mod tests;
