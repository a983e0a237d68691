//! The buyer widget's state, without a browser: who serves the buyer, the conversation's
//! messages, what the buyer has not had stored yet, and how every server frame and click
//! changes them. The page renders it and performs the [`Effect`]s it returns.

use super::protocol::{
    BuyerFrame, BuyerServerFrame, ChatMessage, ConversationEnded, MessageAck, Sender,
    UploadedPicture,
};
use super::{ChatState, Effect, Outbox, Pending, TypingNotice, from_agent, merge_messages};

/// What the widget asks the page to do.
pub type BuyerEffect = Effect<BuyerFrame>;

/// Who is looking after the buyer: the one state both the header and the queue banner read, so
/// they never disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// The widget `/chat`: everything it shows, changed only by [`ChatState::apply`] (server
/// frames) and the methods for the buyer's clicks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuyerChat {
    /// The supplier the buyer talks to (from Hello).
    pub supplier_name: String,
    pub conversation_id: i64,
    pub reception: Reception,
    /// The conversation's stored messages, in seq order.
    pub messages: Vec<ChatMessage>,
    /// The buyer's messages not stored yet, and the error above the composer.
    pub outbox: Outbox,
    /// 本次会话已结束 shows with 重新咨询.
    pub ended: bool,
    /// The server refused this buyer for good (a bad token): the banner's text.
    pub refused: Option<String>,
    /// The agent is typing.
    pub typing: TypingNotice<()>,
    /// A Hello came on some connection: later refusals are about a frame, not the buyer.
    greeted: bool,
}

impl Default for BuyerChat {
    fn default() -> Self {
        BuyerChat {
            supplier_name: String::new(),
            conversation_id: 0,
            reception: Reception::Connecting,
            messages: Vec::new(),
            outbox: Outbox::default(),
            ended: false,
            refused: None,
            typing: TypingNotice::default(),
            greeted: false,
        }
    }
}

impl BuyerChat {
    /// Hello, on every connection: a new conversation starts empty; the current one catches up
    /// and everything unsent goes again, the failed ones too (same ids).
    fn hello(
        &mut self,
        supplier_name: String,
        conversation_id: i64,
        anyone_serving: bool,
    ) -> Vec<BuyerEffect> {
        self.greeted = true;
        self.supplier_name = supplier_name;
        let new_conversation = self.conversation_id != conversation_id;
        self.reception = self.reception.hello(anyone_serving, new_conversation);
        if new_conversation {
            self.start(conversation_id);
        }
        let after_seq = self.messages.last().map_or(0, |m| m.seq);
        let mut effects = vec![Effect::Send(BuyerFrame::Resume { after_seq })];
        self.outbox.reconnect();
        effects.extend(self.pump());
        effects.push(Effect::Greeted);
        effects
    }

    /// Messages of a conversation: an older conversation's are ignored, a newer one (after
    /// 重新咨询) starts over; the buyer's own leave the outbox.
    fn messages(&mut self, conversation_id: i64, messages: Vec<ChatMessage>) -> Vec<BuyerEffect> {
        if messages.iter().any(from_agent) {
            self.typing.clear(());
        }
        if conversation_id < self.conversation_id {
            return Vec::new();
        }
        if conversation_id > self.conversation_id {
            self.start(conversation_id);
        }
        self.outbox.stored(&messages);
        merge_messages(&mut self.messages, messages);
        self.pump()
    }

    /// A refusal: before any Hello the token is bad and trying again cannot help; after, it
    /// belongs to a message (marked failed, with 重发) or shows above the composer.
    fn error(&mut self, message: String, client_msg_id: Option<String>) -> Vec<BuyerEffect> {
        if !self.greeted {
            self.refused = Some(message);
            return vec![Effect::Stop];
        }
        self.outbox.refused(message, client_msg_id);
        Vec::new()
    }

    /// The conversation `conversation_id` starts: nothing shown yet, not ended.
    fn start(&mut self, conversation_id: i64) {
        self.conversation_id = conversation_id;
        self.messages.clear();
        self.ended = false;
    }

    /// Sends the next unsent message if none is on its way (one at a time, in order).
    fn pump(&mut self) -> Vec<BuyerEffect> {
        self.outbox
            .take_next(None)
            .and_then(|p| p.buyer_frame())
            .map(Effect::Send)
            .into_iter()
            .collect()
    }

    /// The page has no token: nothing to connect with.
    pub fn no_token(&mut self) {
        self.refused = Some("缺少买家身份令牌，请从商城重新进入在线客服".into());
    }

    /// Queues a message of the conversation (`make` builds it for the conversation id) and
    /// sends it in its turn.
    pub fn send(&mut self, make: impl FnOnce(i64) -> Pending) -> Vec<BuyerEffect> {
        self.outbox.push(make(self.conversation_id));
        self.pump()
    }

    /// 重发: the same frame, the same client message id.
    pub fn resend(&mut self, client_msg_id: &str) -> Vec<BuyerEffect> {
        self.outbox.resend(client_msg_id);
        self.pump()
    }

    /// A picture's upload finished (see [`Outbox::uploaded`]).
    pub fn uploaded(
        &mut self,
        client_msg_id: &str,
        result: Result<UploadedPicture, String>,
    ) -> Vec<BuyerEffect> {
        match self.outbox.uploaded(client_msg_id, result) {
            Some(_) => self.pump(),
            None => Vec::new(),
        }
    }

    /// 重新咨询: a new conversation is asked for; the old messages go at once.
    pub fn restart(&mut self) -> Vec<BuyerEffect> {
        self.outbox.error = None;
        self.ended = false;
        self.messages.clear();
        vec![Effect::Send(BuyerFrame::Restart)]
    }

    /// The buyer types: told to the agent unless the conversation ended.
    pub fn typing_frame(&self) -> Option<BuyerFrame> {
        (!self.ended).then_some(BuyerFrame::Typing)
    }
}

/// Server frames change the state here; clicks through the inherent methods.
impl ChatState for BuyerChat {
    type Frame = BuyerFrame;
    type ServerFrame = BuyerServerFrame;

    fn apply(&mut self, frame: BuyerServerFrame) -> Vec<BuyerEffect> {
        match frame {
            BuyerServerFrame::Hello {
                supplier_name,
                conversation_id,
                anyone_serving,
                ..
            } => self.hello(supplier_name, conversation_id, anyone_serving),
            BuyerServerFrame::Queued { position } => {
                self.reception = self.reception.queued(position);
                Vec::new()
            }
            BuyerServerFrame::Assigned { agent_name } => {
                self.reception = Reception::Served { agent: agent_name };
                Vec::new()
            }
            BuyerServerFrame::Typing => vec![Effect::HideTypingLater(self.typing.show(()))],
            BuyerServerFrame::Messages {
                conversation_id,
                messages,
            } => self.messages(conversation_id, messages),
            BuyerServerFrame::Ack(MessageAck { client_msg_id, seq }) => {
                if let Some(p) = self.outbox.ack(&client_msg_id)
                    && !self.messages.iter().any(|m| m.seq == seq)
                {
                    merge_messages(&mut self.messages, vec![p.acked(seq, Sender::Buyer, "我")]);
                }
                self.pump()
            }
            BuyerServerFrame::Ended(ConversationEnded {
                conversation_id, ..
            }) => {
                if conversation_id >= self.conversation_id {
                    self.ended = true;
                    self.reception = Reception::Ended;
                }
                Vec::new()
            }
            BuyerServerFrame::Error {
                message,
                client_msg_id,
            } => self.error(message, client_msg_id),
        }
    }

    fn expire_typing(&mut self, stamp: u32) {
        self.typing.expire(stamp);
    }
}

#[cfg(test)]
#[path = "buyer_state_tests.rs"]
mod tests;
