//! Whether the message list follows new messages or keeps the reader where they are.

use super::message::sent_by;
use super::protocol::ChatMessage;

/// How near the bottom (px) the reader still counts as reading the newest messages.
pub const FOLLOW_SLACK_PX: i32 = 48;

/// The end of the list as it was last shown: whose conversation, its newest seq, and how many
/// messages of this page were still pending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tail {
    /// The conversation shown (`None`: no message yet).
    pub conversation_id: Option<i64>,
    /// Its newest message's seq.
    pub last_seq: i32,
    /// This page's messages still pending.
    pub pending: usize,
}

impl Tail {
    /// The end of `list` now, with this page's `pending` count, and how many of the messages
    /// after `before_seq` the other side wrote (`mine` is the side this page speaks as).
    pub fn of(list: &[ChatMessage], pending: usize, before_seq: i32, mine: &str) -> (Tail, usize) {
        let tail = Tail {
            conversation_id: list.last().map(|m| m.conversation_id),
            last_seq: list.last().map_or(0, |m| m.seq),
            pending,
        };
        let from_others = list
            .iter()
            .rev()
            .take_while(|m| m.seq > before_seq)
            .filter(|m| !sent_by(m, mine))
            .count();
        (tail, from_others)
    }
}

/// How the list moves after its messages changed.
#[derive(Debug, PartialEq, Eq)]
pub enum Follow {
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
pub fn follow(before: Tail, now: Tail, from_others: usize, at_bottom: bool) -> Follow {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_other_sides_new_messages_count_as_unseen() {
        use crate::chat::message::tests::{agent_msg, msg};
        let list = vec![msg(1, "a"), agent_msg(2, "b"), msg(3, "c"), msg(4, "d")];
        let (tail, from_others) = Tail::of(&list, 1, 2, "agent");
        assert_eq!(
            tail,
            Tail {
                conversation_id: Some(1),
                last_seq: 4,
                pending: 1
            }
        );
        assert_eq!(from_others, 2, "the buyer's 3 and 4");
        assert_eq!(Tail::of(&list, 0, 0, "buyer").1, 1, "the agent's 2");
        assert_eq!(Tail::of(&[], 0, 0, "buyer").0, Tail::default());
    }

    #[test]
    fn the_list_follows_new_messages_only_while_the_reader_is_at_the_bottom() {
        let tail = |conversation_id, last_seq, pending| Tail {
            conversation_id: Some(conversation_id),
            last_seq,
            pending,
        };
        let cases = [
            // First load and another conversation open at the newest message.
            (Tail::default(), tail(1, 30, 0), 30, false, Follow::Bottom),
            (tail(1, 30, 0), tail(2, 5, 0), 5, false, Follow::Bottom),
            // New at the end: followed at the bottom, counted when scrolled up.
            (tail(1, 30, 0), tail(1, 31, 0), 1, true, Follow::Bottom),
            (tail(1, 30, 0), tail(1, 32, 0), 2, false, Follow::Unseen(2)),
            // What this page sends always shows.
            (tail(1, 30, 0), tail(1, 30, 1), 0, false, Follow::Bottom),
            // Older messages loaded above: the view stays.
            (tail(1, 30, 0), tail(1, 30, 0), 0, true, Follow::Stay),
        ];
        for (before, after, from_others, at_bottom, expected) in cases {
            assert_eq!(
                follow(before, after, from_others, at_bottom),
                expected,
                "{before:?} -> {after:?}, {from_others} from others, at the bottom: {at_bottom}"
            );
        }
    }
}
