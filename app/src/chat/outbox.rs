//! What this page sent and the server has not stored yet, shared by the workbench and the
//! buyer widget: pending, acknowledged, failed, 重发 and the resend after a reconnect.

use super::protocol::{
    AgentFrame, BuyerFrame, ChatContent, ChatImage, ChatMessage, Sender, UploadedPicture,
};
use crate::orders::OrderSummary;

/// A message sent from this page that the server has not acknowledged yet. It stays here, shown
/// as pending, until its `Ack` (or the stored copy) arrives: an `Error` for it only marks it
/// failed, with the reason and 重发, which sends the very same frame again (same client message
/// id, so the server stores it once however often it is sent). Nothing the user wrote is dropped.
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

    /// A message with no text yet, in the default size.
    fn blank(conversation_id: i64, client_msg_id: String, created_at: i64) -> Self {
        let font_size = super::DEFAULT_FONT_SIZE;
        Pending::text(
            conversation_id,
            client_msg_id,
            String::new(),
            font_size,
            created_at,
        )
    }

    /// A picture still uploading, shown from its local preview.
    pub fn picture(
        conversation_id: i64,
        client_msg_id: String,
        preview: String,
        created_at: i64,
    ) -> Self {
        let image = ChatImage {
            url: preview,
            width: 0,
            height: 0,
        };
        Pending {
            image: Some(image),
            ..Pending::blank(conversation_id, client_msg_id, created_at)
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
            order: Some(order),
            ..Pending::blank(conversation_id, client_msg_id, created_at)
        }
    }

    /// Still uploading its picture: shown, but not sent yet.
    pub fn uploading(&self) -> bool {
        self.image.is_some() && self.upload_id.is_none()
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

    /// The stored message an `Ack` stands for, until the server's own copy replaces it; also
    /// how a pending message is drawn (with seq 0).
    pub fn acked(&self, seq: i32, sender: Sender, sender_name: &str) -> ChatMessage {
        let content = match (&self.image, &self.order) {
            (Some(image), _) => ChatContent::Image {
                picture: Some(image.clone()),
            },
            (None, Some(order)) => ChatContent::Order {
                order: Some(order.clone()),
            },
            (None, None) => ChatContent::Text {
                font_size: self.font_size,
            },
        };
        ChatMessage {
            conversation_id: self.conversation_id,
            seq,
            sender,
            sender_name: sender_name.into(),
            body: self.body.clone(),
            content,
            client_msg_id: self.client_msg_id.clone(),
            created_at: self.created_at,
        }
    }
}

/// The page's unsent messages, in the order they were written, and the page-wide error for a
/// refusal that belongs to no message.
///
/// The messages of a conversation go out one at a time ([`Outbox::take_next`]): the next is
/// sent when the one before is acknowledged, and the ones behind a failed message wait for its
/// 重发, so they are stored in the order they were written even when the database failed in
/// between.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outbox {
    pending: Vec<Pending>,
    /// A refusal shown above the composer (not on a bubble).
    pub error: Option<String>,
}

impl Outbox {
    /// Every unsent message, oldest first.
    pub fn pending(&self) -> &[Pending] {
        &self.pending
    }

    /// The unsent messages of one conversation, oldest first.
    pub fn of_conversation(&self, conversation_id: Option<i64>) -> Vec<Pending> {
        self.pending
            .iter()
            .filter(|p| Some(p.conversation_id) == conversation_id)
            .cloned()
            .collect()
    }

    /// The conversations with unsent messages, each once, in the order of their oldest one.
    pub fn conversations(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = Vec::new();
        for p in &self.pending {
            if !ids.contains(&p.conversation_id) {
                ids.push(p.conversation_id);
            }
        }
        ids
    }

    /// The user wrote a message: it waits for its turn (the error above the composer goes).
    pub fn push(&mut self, pending: Pending) {
        self.error = None;
        self.pending.push(pending);
    }

    /// The next message of a conversation (`None`: of any, for the buyer's single conversation)
    /// to send, marked sent; `None` while one is on its way or one failed (the ones behind it
    /// wait for its 重发). A picture still uploading is passed over; it goes once uploaded.
    pub fn take_next(&mut self, conversation_id: Option<i64>) -> Option<Pending> {
        for p in self
            .pending
            .iter_mut()
            .filter(|p| conversation_id.is_none_or(|c| c == p.conversation_id))
        {
            if p.sent || p.failed.is_some() {
                return None;
            }
            if p.uploading() {
                continue;
            }
            p.sent = true;
            return Some(p.clone());
        }
        None
    }

    /// Its `Ack` came: the message is stored and leaves the outbox (returned, to be shown as
    /// stored).
    pub fn ack(&mut self, client_msg_id: &str) -> Option<Pending> {
        let i = self
            .pending
            .iter()
            .position(|p| p.client_msg_id == client_msg_id)?;
        Some(self.pending.remove(i))
    }

    /// The server's copies of these messages came: the ones sent from here are stored.
    pub fn stored(&mut self, messages: &[ChatMessage]) {
        self.pending
            .retain(|p| !messages.iter().any(|m| m.client_msg_id == p.client_msg_id));
    }

    /// The server refused a frame with `message`: a message it names stays, marked failed with
    /// the reason (shown with 重发); any other refusal is the page-wide error.
    pub fn refused(&mut self, message: String, client_msg_id: Option<String>) {
        let failed =
            client_msg_id.and_then(|id| self.pending.iter_mut().find(|p| p.client_msg_id == id));
        match failed {
            Some(p) => {
                p.failed = Some(message);
                p.sent = false;
            }
            None => self.error = Some(message),
        }
    }

    /// 重发: the failed message is pending again (发送中…) and goes out at the next
    /// [`Outbox::take_next`]; returns its conversation.
    pub fn resend(&mut self, client_msg_id: &str) -> Option<i64> {
        self.error = None;
        let p = self
            .pending
            .iter_mut()
            .find(|p| p.client_msg_id == client_msg_id)?;
        p.failed = None;
        Some(p.conversation_id)
    }

    /// A new connection: nothing is on its way any more, and every pending message, the failed
    /// ones too, goes again (one at a time, in order, with the same ids).
    pub fn reconnect(&mut self) {
        for p in &mut self.pending {
            p.failed = None;
            p.sent = false;
        }
    }

    /// The conversation ended: what it still had unsent can no longer be sent.
    pub fn drop_conversation(&mut self, conversation_id: i64) {
        self.pending
            .retain(|p| p.conversation_id != conversation_id);
    }

    /// A picture's upload finished: uploaded, it goes in its turn (its conversation is
    /// returned); refused, the message goes and the reason is the page-wide error.
    pub fn uploaded(
        &mut self,
        client_msg_id: &str,
        result: Result<UploadedPicture, String>,
    ) -> Option<i64> {
        match result {
            Ok(uploaded) => {
                let p = self
                    .pending
                    .iter_mut()
                    .find(|p| p.client_msg_id == client_msg_id)?;
                p.image = Some(uploaded.image);
                p.upload_id = Some(uploaded.upload_id);
                Some(p.conversation_id)
            }
            Err(reason) => {
                self.pending.retain(|p| p.client_msg_id != client_msg_id);
                self.error = Some(reason);
                None
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An order of the buyer, as the orders panel lists it.
    pub(crate) fn order_summary() -> OrderSummary {
        OrderSummary {
            order_id: 9,
            order_no: "832202611200001".into(),
            status: "已发货".into(),
            created_at: 0,
            total_fen: 100,
            item_count: 1,
            picture_url: None,
        }
    }

    fn text(id: &str) -> Pending {
        Pending::text(7, id.into(), id.into(), 14, 0)
    }

    fn outbox(pending: Vec<Pending>) -> Outbox {
        let mut outbox = Outbox::default();
        for p in pending {
            outbox.push(p);
        }
        outbox
    }

    fn next(outbox: &mut Outbox, conversation_id: Option<i64>) -> Option<String> {
        outbox.take_next(conversation_id).map(|p| p.client_msg_id)
    }

    #[test]
    fn a_failed_message_stays_pending_and_is_resent_with_the_same_id() {
        let mut outbox = outbox(vec![
            Pending::text(7, "c1".into(), "你好".into(), 16, 0),
            Pending::text(7, "c2".into(), "在吗".into(), 14, 0),
        ]);
        outbox.refused("服务器内部错误，请稍后再试".into(), Some("c1".into()));
        assert_eq!(outbox.error, None, "the reason is on the bubble");
        outbox.refused("x".into(), Some("unknown".into()));
        assert_eq!(outbox.error.as_deref(), Some("x"), "no bubble: page-wide");
        let pending = outbox.pending();
        assert_eq!(pending.len(), 2, "nothing is dropped");
        assert_eq!(
            pending[0].failed.as_deref(),
            Some("服务器内部错误，请稍后再试")
        );
        assert_eq!(pending[1].failed, None);

        assert_eq!(outbox.resend("c1"), Some(7));
        assert_eq!(outbox.error, None);
        let again = outbox.pending()[0].clone();
        assert_eq!(again.failed, None, "sending again");
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
        assert_eq!(outbox.resend("unknown"), None);
    }

    #[test]
    fn messages_go_one_at_a_time_and_wait_behind_a_failed_one() {
        let mut outbox = outbox(vec![text("c1"), text("c2"), text("c3")]);
        assert_eq!(next(&mut outbox, Some(7)), Some("c1".into()));
        assert_eq!(next(&mut outbox, Some(7)), None, "c1 is on its way");
        // c1 fails: c2 and c3 wait for its 重发, so nothing overtakes it.
        outbox.refused("服务器内部错误，请稍后再试".into(), Some("c1".into()));
        assert_eq!(next(&mut outbox, Some(7)), None);
        outbox.resend("c1");
        assert_eq!(next(&mut outbox, Some(7)), Some("c1".into()));
        // Its Ack removes it; then c2.
        assert_eq!(outbox.ack("c1").map(|p| p.body), Some("c1".into()));
        assert_eq!(outbox.ack("c1"), None, "acknowledged once");
        assert_eq!(next(&mut outbox, Some(7)), Some("c2".into()));
        // Another conversation is not held up; the buyer's `None` means any.
        outbox.push(Pending::text(8, "d1".into(), "d1".into(), 14, 0));
        assert_eq!(next(&mut outbox, Some(8)), Some("d1".into()));
        assert_eq!(next(&mut outbox, None), None, "c2 is on its way");
        assert_eq!(outbox.conversations(), vec![7, 8]);
        // A reconnect sends again from the first one not stored.
        outbox.reconnect();
        assert_eq!(next(&mut outbox, None), Some("c2".into()));
        // A picture still uploading is passed over.
        let mut outbox = self::outbox(vec![
            Pending::picture(7, "p1".into(), "blob:x".into(), 0),
            text("c4"),
        ]);
        assert_eq!(next(&mut outbox, Some(7)), Some("c4".into()));
    }

    #[test]
    fn a_reconnect_resends_failed_messages_too_and_stored_copies_leave() {
        let mut outbox = outbox(vec![text("c1"), text("c2")]);
        next(&mut outbox, None);
        outbox.refused("发送过于频繁".into(), Some("c1".into()));
        outbox.reconnect();
        assert!(outbox.pending().iter().all(|p| p.failed.is_none()));
        assert_eq!(next(&mut outbox, None), Some("c1".into()));
        // The server's copy of c1 arrives instead of its Ack.
        let mut stored = crate::chat::message::tests::msg(5, "c1");
        stored.client_msg_id = "c1".into();
        outbox.stored(&[stored]);
        assert_eq!(next(&mut outbox, None), Some("c2".into()));
        outbox.drop_conversation(7);
        assert!(outbox.pending().is_empty());
    }

    #[test]
    fn an_uploaded_picture_goes_and_a_refused_one_leaves_with_its_reason() {
        let mut outbox = outbox(vec![
            Pending::picture(7, "p1".into(), "blob:x".into(), 0),
            Pending::picture(7, "p2".into(), "blob:y".into(), 0),
        ]);
        assert_eq!(next(&mut outbox, Some(7)), None, "both still uploading");
        let image = ChatImage {
            url: "/media/a.jpg".into(),
            width: 10,
            height: 10,
        };
        let uploaded = UploadedPicture {
            upload_id: 42,
            image: image.clone(),
        };
        assert_eq!(outbox.uploaded("p1", Ok(uploaded)), Some(7));
        assert_eq!(outbox.pending()[0].image, Some(image));
        assert_eq!(next(&mut outbox, Some(7)), Some("p1".into()));
        assert_eq!(outbox.uploaded("p2", Err("图片不能超过 5 MB".into())), None);
        assert_eq!(outbox.pending().len(), 1);
        assert_eq!(outbox.error.as_deref(), Some("图片不能超过 5 MB"));
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
        let card = Pending::order(7, "o1".into(), order_summary(), 0);
        assert_eq!(
            card.agent_frame(),
            Some(AgentFrame::SendOrder {
                conversation_id: 7,
                client_msg_id: "o1".into(),
                order_id: 9
            })
        );
        assert_eq!(
            crate::chat::preview_text(&card.acked(3, Sender::Agent, "我")),
            "[订单]"
        );
    }
}
