//! The login limiter: failed password checks counted in memory, per account name and per
//! client address, before any password is hashed.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::AuthConfig;
use crate::DomainError;

/// Entries kept per map before expired ones are swept.
const LIMITER_SWEEP_AT: usize = 1_024;
/// Hard cap of keys per map; past it the stalest keys are forgotten.
const LIMITER_MAX_KEYS: usize = 100_000;

/// Counts failed password checks, in memory, per account name and per client address inside a
/// sliding window, and refuses further attempts once a limit is reached.
///
/// An attempt is counted *before* its password is hashed: [`LoginLimiter::reserve`] checks the
/// limits and books a pending failure in one step under the lock, so however many attempts
/// arrive at once, at most the limit of them reach argon2. The booking stays a failure when the
/// password was wrong ([`Reservation::failed`]), is taken back on success
/// ([`Reservation::succeeded`], which also forgets the account's earlier failures) and when the
/// attempt never reached a verdict (dropped: hasher busy, database error, cancelled request).
///
/// The maps are swept of expired entries as they grow and are capped, so a flood of distinct
/// names or addresses cannot grow them without bound.
#[derive(Debug)]
pub struct LoginLimiter {
    max_per_account: usize,
    max_per_addr: usize,
    window_ms: i64,
    state: Mutex<LimiterState>,
}

#[derive(Debug, Default)]
struct LimiterState {
    accounts: FailureMap,
    addrs: FailureMap,
    next_id: u64,
}

/// One counted failure: when, and the attempt that booked it while that is still in flight.
#[derive(Debug, Clone, Copy)]
struct Mark {
    at: i64,
    pending: Option<u64>,
}

/// Key → its most recent failures (pending or settled), oldest first.
#[derive(Debug, Default)]
struct FailureMap {
    entries: HashMap<String, VecDeque<Mark>>,
    sweep_at: usize,
}

impl FailureMap {
    /// Seconds until `key` may try again, or `None` when it is under `max`.
    fn blocked_for(&mut self, key: &str, max: usize, window_ms: i64, now: i64) -> Option<u64> {
        let marks = self.entries.get_mut(key)?;
        while marks.front().is_some_and(|m| m.at <= now - window_ms) {
            marks.pop_front();
        }
        if marks.is_empty() {
            self.entries.remove(key);
            return None;
        }
        if marks.len() < max {
            return None;
        }
        // One more attempt is allowed when the `max`-th newest expires.
        let oldest = marks.get(marks.len() - max).map(|m| m.at).unwrap_or(now);
        let wait_ms = (oldest + window_ms - now).max(1);
        Some((wait_ms as u64).div_ceil(1000))
    }

    /// Books a failure for `key`; keeps at most `keep` marks for it.
    fn record(&mut self, key: String, mark: Mark, keep: usize, window_ms: i64, now: i64) {
        let marks = self.entries.entry(key).or_default();
        marks.push_back(mark);
        while marks.len() > keep.max(1) {
            marks.pop_front();
        }
        if self.entries.len() >= self.sweep_at.max(LIMITER_SWEEP_AT) {
            self.sweep(window_ms, now);
        }
    }

    /// Applies `f` to the marks of `key`, dropping the key when none are left.
    fn update(&mut self, key: &str, f: impl FnOnce(&mut VecDeque<Mark>)) {
        if let Some(marks) = self.entries.get_mut(key) {
            f(marks);
            if marks.is_empty() {
                self.entries.remove(key);
            }
        }
    }

    /// Drops expired entries; if still over the cap, forgets the stalest half.
    fn sweep(&mut self, window_ms: i64, now: i64) {
        self.entries
            .retain(|_, marks| marks.back().is_some_and(|m| m.at > now - window_ms));
        if self.entries.len() > LIMITER_MAX_KEYS {
            let mut newest: Vec<i64> = self
                .entries
                .values()
                .filter_map(|marks| marks.back().map(|m| m.at))
                .collect();
            newest.sort_unstable();
            let cutoff = newest[newest.len() / 2];
            self.entries
                .retain(|_, marks| marks.back().is_some_and(|m| m.at > cutoff));
        }
        // Sweep again only once the map has doubled, so sweeping stays amortised O(1).
        self.sweep_at = self.entries.len() * 2;
    }
}

fn limiter_key(login: &str) -> String {
    login.trim().to_lowercase()
}

/// How an attempt was booked: the account key, and the address key when addresses count.
#[derive(Debug)]
struct Booking {
    id: u64,
    account: String,
    addr: Option<String>,
}

/// A password attempt booked by [`LoginLimiter::reserve`] as a pending failure. Settle it with
/// [`Reservation::failed`] or [`Reservation::succeeded`] right after the password check;
/// dropping it unsettled takes the booking back.
#[derive(Debug)]
#[must_use = "settle the attempt with failed() or succeeded()"]
pub struct Reservation {
    limiter: Arc<LoginLimiter>,
    booking: Option<Booking>,
}

impl Reservation {
    /// The password was wrong: the booking stays, as a failure.
    pub fn failed(mut self) {
        if let Some(booking) = self.booking.take() {
            let mut state = self.limiter.state();
            let settle = |marks: &mut VecDeque<Mark>| {
                if let Some(mark) = marks.iter_mut().find(|m| m.pending == Some(booking.id)) {
                    mark.pending = None;
                }
            };
            state.accounts.update(&booking.account, settle);
            if let Some(addr) = &booking.addr {
                state.addrs.update(addr, settle);
            }
        }
    }

    /// The password was right: the account's settled failures are forgotten (attempts still in
    /// flight keep theirs) and this booking is taken back. The address keeps its earlier
    /// failures, so one client cannot reset its budget by logging into its own account.
    pub fn succeeded(mut self) {
        if let Some(booking) = self.booking.take() {
            let mut state = self.limiter.state();
            state.accounts.update(&booking.account, |marks| {
                marks.retain(|m| m.pending.is_some_and(|id| id != booking.id));
            });
            if let Some(addr) = &booking.addr {
                state.addrs.update(addr, |marks| {
                    marks.retain(|m| m.pending != Some(booking.id));
                });
            }
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(booking) = self.booking.take() {
            let mut state = self.limiter.state();
            let release = |marks: &mut VecDeque<Mark>| {
                marks.retain(|m| m.pending != Some(booking.id));
            };
            state.accounts.update(&booking.account, release);
            if let Some(addr) = &booking.addr {
                state.addrs.update(addr, release);
            }
        }
    }
}

/// Whether the client address's own limit applies to an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrRule {
    /// The address limit applies: an address over it is refused.
    Enforce,
    /// The account last logged in successfully from this very address (a colleague in the same
    /// office): the address being over its limit does not refuse it; the account's own limit
    /// still does. The attempt still counts for the address.
    KnownHere,
    /// Addresses do not count (修改密码's old-password check, from a logged-in session).
    Ignore,
}

impl LoginLimiter {
    /// A limiter with the limits and window of `config`.
    pub fn new(config: &AuthConfig) -> Self {
        LoginLimiter {
            max_per_account: config.max_failures_per_account.max(1) as usize,
            max_per_addr: config.max_failures_per_addr.max(1) as usize,
            window_ms: i64::try_from(config.failure_window.as_millis()).unwrap_or(i64::MAX / 2),
            state: Mutex::new(LimiterState::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, LimiterState> {
        // The maps stay consistent even if a holder panicked; keep using them.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `Err(RateLimited)` when the account name or the client address has reached its limit
    /// of failures inside the window (`now` in unix ms). Books nothing.
    pub fn check(&self, login: &str, addr: &str, now: i64) -> Result<(), DomainError> {
        let mut state = self.state();
        let account_wait = state.accounts.blocked_for(
            &limiter_key(login),
            self.max_per_account,
            self.window_ms,
            now,
        );
        let addr_wait = state
            .addrs
            .blocked_for(addr, self.max_per_addr, self.window_ms, now);
        match account_wait.max(addr_wait) {
            Some(retry_after_secs) => Err(DomainError::RateLimited { retry_after_secs }),
            None => Ok(()),
        }
    }

    /// Checks the limits and, when the attempt may go on, books it as a pending failure of the
    /// account name (and of `addr` unless `rule` is [`AddrRule::Ignore`]), in one step under the
    /// lock. `Err(RateLimited)` books nothing.
    pub fn reserve(
        self: &Arc<Self>,
        login: &str,
        addr: &str,
        rule: AddrRule,
        now: i64,
    ) -> Result<Reservation, DomainError> {
        let account = limiter_key(login);
        let mut state = self.state();
        let account_wait =
            state
                .accounts
                .blocked_for(&account, self.max_per_account, self.window_ms, now);
        let addr_wait = match rule {
            AddrRule::Enforce => {
                state
                    .addrs
                    .blocked_for(addr, self.max_per_addr, self.window_ms, now)
            }
            AddrRule::KnownHere | AddrRule::Ignore => None,
        };
        if let Some(retry_after_secs) = account_wait.max(addr_wait) {
            return Err(DomainError::RateLimited { retry_after_secs });
        }
        state.next_id += 1;
        let id = state.next_id;
        let mark = Mark {
            at: now,
            pending: Some(id),
        };
        state.accounts.record(
            account.clone(),
            mark,
            self.max_per_account,
            self.window_ms,
            now,
        );
        let addr = (rule != AddrRule::Ignore).then(|| addr.to_owned());
        if let Some(addr) = &addr {
            // Keep a little more than the limit: known accounts may go on past it.
            state.addrs.record(
                addr.clone(),
                mark,
                self.max_per_addr.saturating_mul(2),
                self.window_ms,
                now,
            );
        }
        Ok(Reservation {
            limiter: Arc::clone(self),
            booking: Some(Booking { id, account, addr }),
        })
    }

    /// Counts one failed login for the account name and for the client address.
    pub fn record_failure(&self, login: &str, addr: &str, now: i64) {
        let mut state = self.state();
        let mark = Mark {
            at: now,
            pending: None,
        };
        state.accounts.record(
            limiter_key(login),
            mark,
            self.max_per_account,
            self.window_ms,
            now,
        );
        state.addrs.record(
            addr.to_owned(),
            mark,
            self.max_per_addr.saturating_mul(2),
            self.window_ms,
            now,
        );
    }

    /// Forgets the failures of an account name (after a successful login). The address keeps
    /// its count, so one client cannot reset its budget by logging into its own account.
    pub fn clear_account(&self, login: &str) {
        self.state().accounts.entries.remove(&limiter_key(login));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn limiter(per_account: u32, per_addr: u32) -> LoginLimiter {
        LoginLimiter::new(&AuthConfig {
            max_failures_per_account: per_account,
            max_failures_per_addr: per_addr,
            failure_window: Duration::from_secs(60),
            ..AuthConfig::default()
        })
    }

    #[test]
    fn limiter_window_slides() {
        let l = limiter(2, 100);
        l.record_failure("a", "ip", 0);
        l.record_failure("a", "ip", 10_000);
        match l.check("a", "ip", 20_000) {
            Err(DomainError::RateLimited { retry_after_secs }) => assert_eq!(retry_after_secs, 40),
            other => panic!("expected RateLimited, got {other:?}"),
        }
        assert!(
            l.check("A ", "other-ip", 20_000).is_err(),
            "names are case-insensitive"
        );
        // The first failure left the window: one more try is allowed.
        assert!(l.check("a", "ip", 60_001).is_ok());
    }

    #[test]
    fn reservations_count_until_settled_and_drop_gives_them_back() {
        let l = Arc::new(limiter(2, 100));
        let first = l.reserve("a", "ip", AddrRule::Enforce, 0).expect("first");
        let second = l.reserve("a", "ip", AddrRule::Enforce, 0).expect("second");
        // Two in flight: a third is refused before any of them has a verdict.
        assert!(l.reserve("a", "ip", AddrRule::Enforce, 0).is_err());
        // A dropped (unsettled) attempt gives its place back …
        drop(second);
        let third = l.reserve("a", "ip", AddrRule::Enforce, 0).expect("third");
        // … a failed one keeps it, and a success forgets settled failures but not the attempts
        // still in flight.
        first.failed();
        assert!(l.reserve("a", "ip", AddrRule::Enforce, 0).is_err());
        let other = l.reserve("b", "ip", AddrRule::Enforce, 0).expect("other");
        third.succeeded();
        let fourth = l.reserve("a", "ip", AddrRule::Enforce, 0).expect("cleared");
        let fifth = l.reserve("a", "ip", AddrRule::Enforce, 0).expect("cleared");
        assert!(l.reserve("a", "ip", AddrRule::Enforce, 0).is_err());
        fourth.failed();
        fifth.succeeded();
        other.failed();
        // The address still counts what failed from it: the 1st and the 4th of "a", "b".
        let state = l.state();
        assert_eq!(state.addrs.entries.get("ip").map(VecDeque::len), Some(3));
        assert!(!state.accounts.entries.contains_key("a"));
    }

    #[test]
    fn an_address_over_its_limit_lets_known_accounts_and_ignores_password_changes() {
        let l = Arc::new(limiter(100, 2));
        for login in ["x", "y"] {
            l.reserve(login, "office", AddrRule::Enforce, 0)
                .expect(login)
                .failed();
        }
        assert!(l.reserve("z", "office", AddrRule::Enforce, 0).is_err());
        l.reserve("colleague", "office", AddrRule::KnownHere, 0)
            .expect("known here")
            .succeeded();
        l.reserve("z", "", AddrRule::Ignore, 0)
            .expect("address not counted")
            .failed();
        assert!(l.reserve("z", "elsewhere", AddrRule::Enforce, 0).is_ok());
    }

    #[test]
    fn limiter_map_is_bounded() {
        let l = limiter(5, 5);
        // One new name and address every 10 ms for 500 s; the window is 60 s (6,000 keys).
        for i in 0..50_000 {
            let now = i * 10;
            l.record_failure(
                &format!("user{i}"),
                &format!("10.0.{}.{}", i / 256, i % 256),
                now,
            );
        }
        let state = l.state();
        assert!(
            state.accounts.entries.len() <= 12_000,
            "{}",
            state.accounts.entries.len()
        );
        assert!(
            state.addrs.entries.len() <= 12_000,
            "{}",
            state.addrs.entries.len()
        );
    }
}
