//! "对方正在输入…": when this page tells the other side the user types, and how long the other
//! side's notice shows. Shared by the workbench and the buyer widget.

/// How often "is typing" is told to the other side while the user types.
pub const TYPING_EVERY_MS: i64 = 2_000;
/// How long "对方正在输入…" shows after the last typing notice.
pub const TYPING_SHOWS_MS: u32 = 4_000;

/// The other side's typing notice: shown for `K` (the conversation, or `()` for the buyer's
/// only one) until [`TYPING_SHOWS_MS`] after the last notice, or until their message arrives.
/// Every notice gets a new stamp, so the timeout of an older notice never hides a newer one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypingNotice<K> {
    shown: Option<(K, u32)>,
    next_stamp: u32,
}

impl<K: Copy + PartialEq> TypingNotice<K> {
    /// The other side types in `key`: shown; returns the stamp to [`TypingNotice::expire`]
    /// after [`TYPING_SHOWS_MS`].
    pub fn show(&mut self, key: K) -> u32 {
        let stamp = self.next_stamp;
        self.next_stamp = self.next_stamp.wrapping_add(1);
        self.shown = Some((key, stamp));
        stamp
    }

    /// The time of the notice with `stamp` is up (a newer notice stays).
    pub fn expire(&mut self, stamp: u32) {
        if self.shown.is_some_and(|(_, s)| s == stamp) {
            self.shown = None;
        }
    }

    /// A message from the other side in `key` arrived: they no longer type there.
    pub fn clear(&mut self, key: K) {
        if self.shown.is_some_and(|(k, _)| k == key) {
            self.shown = None;
        }
    }

    /// Where the notice shows, if anywhere.
    pub fn shown(&self) -> Option<K> {
        self.shown.map(|(k, _)| k)
    }
}

/// This page's side: tells the other side at most every [`TYPING_EVERY_MS`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TypingThrottle {
    last: i64,
}

impl TypingThrottle {
    /// The user typed at `now` (unix ms): whether to tell the other side.
    pub fn due(&mut self, now: i64) -> bool {
        if now - self.last >= TYPING_EVERY_MS {
            self.last = now;
            true
        } else {
            false
        }
    }

    /// A message was sent: the next keystroke tells the other side again at once.
    pub fn reset(&mut self) {
        self.last = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_timeout_never_hides_a_newer_notice() {
        let mut typing = TypingNotice::default();
        let first = typing.show(7_i64);
        let second = typing.show(7);
        typing.expire(first);
        assert_eq!(typing.shown(), Some(7), "the newer notice stays");
        typing.expire(second);
        assert_eq!(typing.shown(), None);
        // Cleared by a message, then shown again: the cleared notice's timeout is stale.
        let third = typing.show(7);
        typing.clear(7);
        let fourth = typing.show(7);
        typing.expire(third);
        assert_eq!(typing.shown(), Some(7));
        typing.expire(fourth);
        assert_eq!(typing.shown(), None);
    }

    #[test]
    fn a_message_clears_only_its_own_conversation() {
        let mut typing = TypingNotice::default();
        typing.show(7_i64);
        typing.clear(8);
        assert_eq!(typing.shown(), Some(7));
        typing.clear(7);
        assert_eq!(typing.shown(), None);
    }

    #[test]
    fn typing_is_told_at_most_every_two_seconds() {
        let mut throttle = TypingThrottle::default();
        assert!(throttle.due(10_000));
        assert!(!throttle.due(11_999));
        assert!(throttle.due(12_000));
        throttle.reset();
        assert!(throttle.due(12_001), "after sending, at once again");
    }
}
