//! Reading a stored message: who wrote it, what it is, how it reads in a list, and how a page
//! adds new ones to what it shows. Every page reads `sender` and `kind` through these, so a
//! change of the message's types is made here.

use super::protocol::{ChatContent, ChatImage, ChatMessage, Sender};

/// The buyer wrote it.
pub fn from_buyer(m: &ChatMessage) -> bool {
    m.sender == Sender::Buyer
}

/// An agent wrote it.
pub fn from_agent(m: &ChatMessage) -> bool {
    m.sender == Sender::Agent
}

/// The system wrote it (a notice in the middle of the list).
pub fn from_system(m: &ChatMessage) -> bool {
    m.sender == Sender::System
}

/// Written by `side` (`agent` or `buyer`), the side a page speaks as.
pub fn sent_by(m: &ChatMessage, side: &str) -> bool {
    m.sender.as_str() == side
}

/// The message's kind as the page marks it (`data-kind`).
pub fn kind_name(m: &ChatMessage) -> String {
    m.content.kind().as_str().to_owned()
}

/// The message's picture, when it is a picture still there.
pub fn picture_of(m: &ChatMessage) -> Option<&ChatImage> {
    match &m.content {
        ChatContent::Image { picture } => picture.as_ref(),
        ChatContent::Text { .. } | ChatContent::Order { .. } => None,
    }
}

/// How a message reads in the conversation list.
pub fn preview_text(m: &ChatMessage) -> String {
    match m.content {
        ChatContent::Image { .. } => "[图片]".to_owned(),
        ChatContent::Order { .. } => "[订单]".to_owned(),
        ChatContent::Text { .. } => m.body.clone(),
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A text message of the buyer in conversation 1.
    pub(crate) fn msg(seq: i32, body: &str) -> ChatMessage {
        ChatMessage {
            conversation_id: 1,
            seq,
            sender: Sender::Buyer,
            sender_name: "王采购".into(),
            body: body.into(),
            content: ChatContent::Text { font_size: 14 },
            client_msg_id: format!("c{seq}"),
            created_at: 0,
        }
    }

    /// The same, written by an agent.
    pub(crate) fn agent_msg(seq: i32, body: &str) -> ChatMessage {
        ChatMessage {
            sender: Sender::Agent,
            sender_name: "客服小童".into(),
            ..msg(seq, body)
        }
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
}
