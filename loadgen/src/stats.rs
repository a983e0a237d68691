//! Counters and latency samples shared by the socket tasks.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Latencies in microseconds.
#[derive(Default)]
pub struct Samples(Mutex<Vec<u32>>);

impl Samples {
    /// Records the time from `sent` to `now`, both micros since [`Stats::base`].
    pub fn record_since(&self, sent: u64, now: u64) {
        let micros = u32::try_from(now.saturating_sub(sent)).unwrap_or(u32::MAX);
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(micros);
    }

    /// (count, p50, p99, max) in milliseconds.
    pub fn summary(&self) -> Option<(usize, f64, f64, f64)> {
        let mut v = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        let at = |q: usize| f64::from(v[(v.len() * q / 100).min(v.len() - 1)]) / 1000.0;
        let max = f64::from(v[v.len() - 1]) / 1000.0;
        Some((v.len(), at(50), at(99), max))
    }
}

/// What the run counts.
pub struct Stats {
    /// Time base of the send timestamps carried in message bodies.
    pub base: Instant,
    pub acked: AtomicU64,
    pub refused: AtomicU64,
    pub delivered: AtomicU64,
    pub assigned: AtomicU64,
    pub agent_errors: AtomicU64,
    pub agent_closed: AtomicU64,
    /// Micros since `base` of the last Ack / the last delivery.
    pub last_ack_us: AtomicU64,
    pub last_delivery_us: AtomicU64,
    pub ack_latency: Samples,
    pub delivery_latency: Samples,
}

impl Stats {
    pub fn new() -> Self {
        Stats {
            base: Instant::now(),
            acked: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            assigned: AtomicU64::new(0),
            agent_errors: AtomicU64::new(0),
            agent_closed: AtomicU64::new(0),
            last_ack_us: AtomicU64::new(0),
            last_delivery_us: AtomicU64::new(0),
            ack_latency: Samples::default(),
            delivery_latency: Samples::default(),
        }
    }

    pub fn now_us(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Moves `last` (micros since `base`) up to `now`.
    pub fn mark(last: &AtomicU64, now: u64) {
        last.fetch_max(now, Ordering::Relaxed);
    }
}
