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

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Acquire, Ordering::Relaxed};

use crate::loom::AtomicPtr;

use super::runq::RunQueue;

/// Proof that the holder owns P number `index`.
#[derive(Debug)]
pub(crate) struct PToken {
    index: usize,
}

impl PToken {
    /// Only the scheduler makes tokens: one per P at start, and a new one
    /// for a P handed off from an M that still holds the old one (that M
    /// drops its copy unused as soon as it sees its `retaken` flag).
    pub(crate) fn mint(index: usize) -> PToken {
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
    /// Times sysmon handed this P away from an M stuck in one poll, or an
    /// M gave it away in `block_in_place`.
    pub(crate) handoffs: AtomicU64,
}

/// Adds `n` to a counter that only one thread writes.
#[inline]
pub(crate) fn bump(c: &AtomicU64, n: u64) {
    c.store(c.load(Relaxed).wrapping_add(n), Relaxed);
}

/// [`bump`] for a counter that only `metrics()` reads. Compiled out under
/// `--cfg gosched_observe_off`, the build the observability-cost bench
/// compares against (`scripts/observability_cost.py`). The scheduler's
/// own counters (`schedtick`, `polls`, which sysmon reads) always count.
#[inline(always)]
pub(crate) fn stat(c: &AtomicU64, n: u64) {
    #[cfg(not(gosched_observe_off))]
    bump(c, n);
    #[cfg(gosched_observe_off)]
    let _ = (c, n);
}

/// The shared part of a P.
pub(crate) struct Processor {
    /// The P's current ring, in the scheduler's ring arena. Swapped for a
    /// fresh ring when the P is handed off (under the idle lock); the old
    /// ring stays with the old M. Thieves load it on every steal.
    ring: AtomicPtr<RunQueue>,
    /// Held by an M that is running or looking for work (Go: `_Prunning`).
    /// Written by whoever moves the token; read by thieves.
    pub(crate) running: AtomicBool,
    /// Go's `schedtick`: incremented by the owner per new time slice.
    pub(crate) schedtick: AtomicU64,
    /// Tasks its running tasks woke or spawned into `runnext`: bumped by
    /// the owner (`Shared::schedule`), read by a spinning M deciding
    /// whether to linger (`worker.rs`, "Why linger").
    pub(crate) runnext_puts: AtomicU64,
    pub(crate) metrics: PMetrics,
}

impl Processor {
    /// A P whose ring is `ring`, which must live in the scheduler's arena.
    pub(crate) fn new(ring: *const RunQueue) -> Processor {
        Processor {
            ring: AtomicPtr::new(ring as *mut RunQueue),
            running: AtomicBool::new(false),
            schedtick: AtomicU64::new(0),
            runnext_puts: AtomicU64::new(0),
            metrics: PMetrics::default(),
        }
    }
}

impl Processor {
    /// The P's current ring (a thief's or an observer's view).
    pub(crate) fn runq(&self) -> &RunQueue {
        // SAFETY: every ring lives in the scheduler's arena, which frees
        // rings only when the scheduler itself is dropped, and `self` is
        // part of that scheduler.
        unsafe { &*self.ring_ptr() }
    }

    /// The ring pointer. Acquire pairs with the Release store in
    /// `set_ring`, so the new ring's contents are visible.
    pub(crate) fn ring_ptr(&self) -> *const RunQueue {
        // Acquire: pairs with the Release store in `set_ring`, so a thief
        // or the new owner sees the ring's initialised contents.
        self.ring.load(Acquire)
    }

    /// Installs a new ring (hand-off, under the idle lock).
    pub(crate) fn set_ring(&self, ring: *const RunQueue) {
        // Release: publishes the ring, filled by the hand-off, to the
        // Acquire load in `ring_ptr`.
        self.ring
            .store(ring as *mut RunQueue, std::sync::atomic::Ordering::Release);
    }
}
