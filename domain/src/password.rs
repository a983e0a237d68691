//! Password hashing (argon2id) and the password rules.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use rand::{Rng, RngCore};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::DomainError;

/// argon2id memory cost in KiB (OWASP's 19 MiB recommendation).
const M_COST_KIB: u32 = 19_456;
/// argon2id iterations.
const T_COST: u32 = 2;
/// argon2id lanes.
const P_COST: u32 = 1;

/// Shortest password accepted.
pub const MIN_LEN: usize = 8;
/// Longest password accepted.
pub const MAX_LEN: usize = 64;

/// What a caller is told when every hashing slot is taken and the queue is full.
pub const BUSY_MESSAGE: &str = "登录人数较多，请稍后再试";

/// Callers allowed to wait for a hashing slot by default (see [`PasswordHasher::with_queue`]).
pub const DEFAULT_MAX_WAITING: usize = 32;

/// Hashes and verifies passwords with argon2id (m = 19456 KiB, t = 2, p = 1).
///
/// Each hash takes ~19 MiB and tens of milliseconds of CPU, so the work runs on the blocking
/// pool and a semaphore caps how many run at once: a flood of login attempts cannot exhaust
/// memory. At most `max_waiting` callers wait for a slot; beyond that a caller is answered at
/// once with [`BUSY_MESSAGE`] (a `Conflict`) instead of queueing without bound, so a flood
/// cannot make every login wait minutes either. Cheap to clone (slots and counters are shared).
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    slots: usize,
    max_waiting: usize,
    waiting: Arc<AtomicUsize>,
    verifications: Arc<AtomicU64>,
}

/// Every hashing slot of a [`PasswordHasher`], held until dropped (see [`PasswordHasher::pause`]).
#[derive(Debug)]
pub struct HasherPause {
    _permits: OwnedSemaphorePermit,
}

/// Takes one place in the wait queue; gives it back when dropped (also when cancelled).
struct QueuePlace<'a>(&'a AtomicUsize);

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PasswordHasher {
    /// A hasher that runs at most `max_concurrent` (at least 1) hashes at the same time, with
    /// at most [`DEFAULT_MAX_WAITING`] callers waiting.
    pub fn new(max_concurrent: usize) -> Self {
        Self::with_queue(max_concurrent, DEFAULT_MAX_WAITING)
    }

    /// A hasher with `max_concurrent` slots (at least 1) and at most `max_waiting` callers
    /// waiting for one; further callers get [`BUSY_MESSAGE`] at once.
    pub fn with_queue(max_concurrent: usize, max_waiting: usize) -> Self {
        let slots = max_concurrent.clamp(1, Semaphore::MAX_PERMITS);
        PasswordHasher {
            permits: Arc::new(Semaphore::new(slots)),
            slots,
            max_waiting,
            waiting: Arc::new(AtomicUsize::new(0)),
            verifications: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many password checks ([`PasswordHasher::verify`]) have started hashing since this
    /// hasher was made. Tests use it to prove that refused attempts never reached argon2.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::SeqCst)
    }

    /// How many callers are waiting for a slot right now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Takes every slot and holds them until the returned value is dropped: hashing callers
    /// queue (up to the limit) or are refused as busy meanwhile. For tests that need a full
    /// hasher without depending on timing.
    pub async fn pause(&self) -> Result<HasherPause, DomainError> {
        let slots = u32::try_from(self.slots).map_err(internal)?;
        let permits = Arc::clone(&self.permits)
            .acquire_many_owned(slots)
            .await
            .map_err(internal)?;
        Ok(HasherPause { _permits: permits })
    }

    /// The argon2id PHC string of `password`, with a fresh random salt.
    pub async fn hash(&self, password: &str) -> Result<String, DomainError> {
        let password = password.to_owned();
        self.run(move || {
            let mut salt = [0u8; 16];
            OsRng.fill_bytes(&mut salt);
            let salt = SaltString::encode_b64(&salt).map_err(internal)?;
            let phc = argon2()?
                .hash_password(password.as_bytes(), &salt)
                .map_err(internal)?;
            Ok(phc.to_string())
        })
        .await
    }

    /// Whether `password` matches the PHC string `phc`. A malformed `phc` is an internal error.
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool, DomainError> {
        let password = password.to_owned();
        let phc = phc.to_owned();
        let verifications = Arc::clone(&self.verifications);
        self.run(move || {
            verifications.fetch_add(1, Ordering::SeqCst);
            let parsed = PasswordHash::new(&phc).map_err(internal)?;
            match argon2()?.verify_password(password.as_bytes(), &parsed) {
                Ok(()) => Ok(true),
                Err(argon2::password_hash::Error::Password) => Ok(false),
                Err(err) => Err(internal(err)),
            }
        })
        .await
    }

    /// A free slot at once, or a place in the queue and then a slot, or `Conflict(BUSY_MESSAGE)`
    /// when the queue is full.
    async fn slot(&self) -> Result<OwnedSemaphorePermit, DomainError> {
        if let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() {
            return Ok(permit);
        }
        // Counted before the check, so two callers racing for the last place cannot both win.
        let place = QueuePlace(&self.waiting);
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            drop(place);
            return Err(DomainError::Conflict(BUSY_MESSAGE.to_owned()));
        }
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(internal)?;
        drop(place);
        Ok(permit)
    }

    /// Runs `work` on the blocking pool while holding a slot. The slot moves into the
    /// blocking task, so it stays taken until the hash really finishes even if the caller's
    /// future is dropped (a cancelled request must not let more hashes run than allowed).
    async fn run<T, F>(&self, work: F) -> Result<T, DomainError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, DomainError> + Send + 'static,
    {
        let permit = self.slot().await?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work()
        })
        .await
        .map_err(internal)?
    }
}

/// A valid argon2id hash (same parameters) of a random password nobody knows. Login verifies
/// against it when the account does not exist, so an unknown account costs the same time as a
/// wrong password.
pub(crate) const DUMMY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$woKKOFmhgKgdG23cqZQxhg$Ak8JdFT6KIKfKIU5nlX83YhWUFH/jqNRKneGVxUrfXs";

fn argon2() -> Result<Argon2<'static>, DomainError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).map_err(internal)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn internal(err: impl std::fmt::Display) -> DomainError {
    DomainError::Internal(format!("password hashing: {err}"))
}

/// Checks a new password against the rules; each failure is a
/// `Validation { field: "new_password" }` with a Chinese reason.
///
/// Rules: 8–64 characters; only English letters, digits and ASCII symbols (no spaces, no
/// full-width characters, which an input method slips in unseen); at least three of
/// {uppercase, lowercase, digit, symbol}; must not contain the login (case-insensitive).
pub fn check_strength(password: &str, login: &str) -> Result<(), DomainError> {
    let fail = |reason: &str| Err(DomainError::validation("new_password", reason));
    let len = password.chars().count();
    if len == 0 {
        return fail("请输入新密码");
    }
    if len < MIN_LEN {
        return fail("密码长度至少 8 位");
    }
    if len > MAX_LEN {
        return fail("密码长度不能超过 64 位");
    }
    if password.chars().any(|c| c == ' ') {
        return fail("密码不能包含空格");
    }
    if !password.chars().all(|c| c.is_ascii_graphic()) {
        return fail("密码只能包含英文字母、数字和英文符号");
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| c.is_ascii_punctuation()),
    ];
    if classes.iter().filter(|present| **present).count() < 3 {
        return fail("密码须包含大写字母、小写字母、数字、符号中的至少三种");
    }
    let login = login.trim().to_ascii_lowercase();
    if !login.is_empty() && password.to_ascii_lowercase().contains(&login) {
        return fail("密码不能包含登录账号");
    }
    Ok(())
}

const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"@#$%&*+=?";

/// A random 12-character initial password that passes [`check_strength`]: at least one
/// uppercase, lowercase, digit and symbol, and none of the look-alikes 0/O/o, 1/l/I.
pub fn generate_initial_password() -> String {
    let mut rng = OsRng;
    let all: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    let mut chars: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS]
        .iter()
        .map(|set| set[rng.gen_range(0..set.len())])
        .collect();
    while chars.len() < 12 {
        chars.push(all[rng.gen_range(0..all.len())]);
    }
    chars.shuffle(&mut rng);
    chars.into_iter().map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_uses_the_real_parameters() {
        let parsed = PasswordHash::new(DUMMY_PHC).expect("dummy hash parses");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        let params = Params::try_from(&parsed).expect("params");
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (M_COST_KIB, T_COST, P_COST)
        );
    }

    /// Polls `fut` once; true when it is still pending.
    async fn pending_after_one_poll<F: std::future::Future>(fut: std::pin::Pin<&mut F>) -> bool {
        tokio::select! {
            biased;
            _ = fut => false,
            _ = std::future::ready(()) => true,
        }
    }

    /// Pauses the hasher and puts one verification in its queue, still waiting.
    async fn one_waiting(
        hasher: &PasswordHasher,
    ) -> (
        HasherPause,
        std::pin::Pin<Box<impl std::future::Future<Output = Result<bool, DomainError>> + '_>>,
    ) {
        let pause = hasher.pause().await.expect("pause");
        let mut waiting = Box::pin(hasher.verify("x", DUMMY_PHC));
        assert!(pending_after_one_poll(waiting.as_mut()).await);
        (pause, waiting)
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once() {
        let hasher = PasswordHasher::with_queue(1, 1);
        let (pause, waiting) = one_waiting(&hasher).await;
        assert_eq!(hasher.waiting(), 1);
        match hasher.verify("x", DUMMY_PHC).await {
            Err(DomainError::Conflict(message)) => assert_eq!(message, BUSY_MESSAGE),
            other => panic!("expected busy, got {other:?}"),
        }
        assert_eq!(hasher.waiting(), 1, "a busy answer leaves no place taken");
        drop(pause);
        assert!(!waiting.await.expect("verify"));
        assert_eq!(hasher.waiting(), 0);
        assert_eq!(hasher.verifications(), 1);
    }

    #[tokio::test]
    async fn a_cancelled_waiter_gives_its_place_back() {
        let hasher = PasswordHasher::with_queue(1, 1);
        let (pause, waiting) = one_waiting(&hasher).await;
        drop(waiting);
        assert_eq!(hasher.waiting(), 0);
        drop(pause);
        assert!(!hasher.verify("x", DUMMY_PHC).await.expect("verify"));
    }

    #[test]
    fn generated_passwords_pass_the_rules() {
        for _ in 0..200 {
            let pw = generate_initial_password();
            assert_eq!(pw.chars().count(), 12);
            assert!(!pw.contains(['0', 'O', 'o', '1', 'l', 'I']), "{pw}");
            check_strength(&pw, "kf101").expect("strong");
        }
    }
}
