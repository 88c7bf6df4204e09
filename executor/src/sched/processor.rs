//! P: a processor, the right to run tasks.
//!
//! A P owns a run queue (`runq.rs`) and per-P counters. An M (worker
//! thread) must hold a P to run tasks; the number of Ps is `procs`
//! (Go's GOMAXPROCS). Holding a P is represented by a [`PToken`]: there is
//! exactly one token per P, it cannot be copied, and it moves between the
//! idle list and Ms (`idle.rs`), so "a P is owned by exactly one M at a
//! time" is checked by the type system. Handing a P to another M is moving
//! its token; nothing in the P itself belongs to a thread.
//!
//! Fields other than the run queue are counters written only by the
//! owning M (plain load-then-store, no RMW) and read by anyone.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use super::runq::RunQueue;

/// Proof that the holder owns P number `index`.
#[derive(Debug)]
pub(crate) struct PToken {
    index: usize,
}

impl PToken {
    /// Only the scheduler's constructor makes tokens, one per P.
    pub(crate) fn new_for_init(index: usize) -> PToken {
        PToken { index }
    }

    pub(crate) fn index(&self) -> usize {
        self.index
    }
}

/// Per-P counters (see `runtime::metrics`).
#[derive(Default)]
pub(crate) struct PMetrics {
    pub(crate) polls: AtomicU64,
    pub(crate) steals: AtomicU64,
    pub(crate) stolen_tasks: AtomicU64,
    pub(crate) global_pulls: AtomicU64,
    pub(crate) parks: AtomicU64,
    pub(crate) forced_yields: AtomicU64,
}

/// Adds `n` to a counter that only one thread writes.
#[inline]
pub(crate) fn bump(c: &AtomicU64, n: u64) {
    c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
}

/// The shared part of a P.
pub(crate) struct Processor {
    pub(crate) runq: RunQueue,
    /// Held by an M that is running or looking for work (Go: `_Prunning`).
    /// Written by whoever moves the token; read by thieves.
    pub(crate) running: AtomicBool,
    /// Go's `schedtick`: incremented by the owner per new time slice.
    pub(crate) schedtick: AtomicU64,
    pub(crate) metrics: PMetrics,
}

impl Processor {
    pub(crate) fn new() -> Processor {
        Processor {
            runq: RunQueue::new(),
            running: AtomicBool::new(false),
            schedtick: AtomicU64::new(0),
            metrics: PMetrics::default(),
        }
    }
}
