//! Handing a P to another M: Go's `handoffp`, used by sysmon's retake and
//! by `block_in_place` (Go's `entersyscall`).
//!
//! # The problem
//!
//! A P's ring has a single producer, its owner M. An M stuck inside one
//! poll (a blocking syscall, a long CPU loop between awaits) still owns
//! its P and may push into the ring at any moment (a wake or a spawn from
//! the code it is running), so the P cannot simply be given to another M
//! along with its ring: two producers would corrupt it. Go avoids this
//! because a goroutine in a syscall does not touch its P; a Rust task
//! blocked in a poll might.
//!
//! # The protocol
//!
//! 1. Under the idle lock, check that the M still holds the P, and that a
//!    thread can run it (an idle M, or a new one under `max_threads`).
//! 2. Set the old M's `retaken` flag, then a SeqCst fence.
//! 3. Give the P a fresh ring; move everything queued in the old ring
//!    (ring and `runnext`) into it, stealing as a thief would, which is
//!    safe while the old M keeps pushing.
//! 4. Mint a token for the P and hand it to the other M.
//! 5. The old M keeps its old ring, of which it stays the only owner.
//!    After each local push it checks `retaken` (after the fence in
//!    `wakep`): set means the push may have missed step 3, so it moves
//!    its ring to the global queue itself. Steps 2 and 5 are a Dekker
//!    pair: the hand-off sees the push or the pusher sees the flag.
//! 6. When its poll returns, the old M sees `retaken`, empties and
//!    retires its old ring, and becomes a spare M without a P.
//!
//! `block_in_place` runs steps 1-4 for its own M at once, steps 5-6
//! itself, then runs the closure, then tries to take an idle P back.

use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::Arc;

use super::idle::{Idle, MPark, Wakeup};
use super::processor::{stat, PToken};
use super::runq::Local;
use super::worker::CURRENT_M;
use super::Shared;
use crate::loom::{fence, lock};

impl Shared {
    /// Hands P `pi`, held by the M parked at `from`, to another M (see the
    /// module docs). False when nothing was done: the M no longer holds
    /// that P, no thread can run it, or the runtime is shutting down.
    pub(crate) fn handoff(self: &Arc<Shared>, pi: usize, from: &MPark) -> bool {
        let mut lists = lock(&self.idle.lists);
        if lists.shutdown || from.cur_p.load(Relaxed) != pi || from.retaken.load(Relaxed) {
            return false;
        }
        // 1. A thread to run the P.
        let idle_m = Idle::mget(&mut lists);
        let fresh = if idle_m.is_none() {
            // SeqCst, though a stale count only lets one thread too many
            // start or refuses one hand-off: `max_threads` is a cap on a
            // runaway, not a precise quota.
            if self.nthreads.load(SeqCst) >= self.config.max_threads {
                return false;
            }
            Some(MPark::new())
        } else {
            None
        };
        // 2. Tell the old M. The store and fence pair with the old M's
        // push, `wakep` fence and `retaken` load in `after_local_push`.
        from.retaken.store(true, SeqCst);
        fence(SeqCst);
        from.cur_p.store(usize::MAX, Relaxed);
        // 3. A fresh ring holding what was queued.
        let proc = &self.procs[pi];
        // SAFETY: arena rings live as long as `self`.
        let old = unsafe { &*proc.ring_ptr() };
        let new_ptr = self.alloc_ring();
        // SAFETY: as above.
        let new = unsafe { &*new_ptr };
        // SAFETY: nobody else knows this ring yet, so we may push to it as
        // its owner until it is published below (and drop the handle then).
        let new = unsafe { Local::new(new) };
        for t in old.steal_all() {
            new.put(t, false, &self.inject);
        }
        proc.set_ring(new_ptr);
        stat(&proc.metrics.handoffs, 1);
        crate::trace::handoff(self, pi);
        // 4. The token goes to the other M.
        let token = PToken::mint(pi);
        match (idle_m, fresh) {
            (Some(m), _) => {
                drop(lists);
                m.wake(Wakeup::P(token, false), self.driver.as_deref());
            }
            (None, Some(park)) => {
                *lock(&park.slot) = Some(Wakeup::P(token, false));
                lock(self.ms_list()).push(park.clone());
                drop(lists);
                let seed = self.nthreads.load(Relaxed) as u64;
                if self.spawn_m(park.clone(), seed).is_err() {
                    // No thread after all: the P goes idle with its queue;
                    // spinning Ms will steal from it.
                    let token = lock(&park.slot).take();
                    if let Some(Wakeup::P(token, _)) = token {
                        proc.running.store(false, Relaxed);
                        let mut lists = lock(&self.idle.lists);
                        self.idle.pidleput(&mut lists, token);
                    }
                }
            }
            (None, None) => unreachable!("either an idle M or a fresh one"),
        }
        self.wakep();
        true
    }
}

/// Runs `f`, which may block the thread, without stalling the tasks queued
/// behind the current one (Go's `entersyscall`/`handoffp`).
///
/// On a gosched worker, the worker first hands its P (its queue included)
/// to another thread, so the other tasks keep running while `f` blocks.
/// When `f` returns, the thread takes an idle P back if there is one;
/// otherwise the current task finishes its poll without a P and is
/// rescheduled on the global queue, and the thread becomes a spare. Off a
/// worker, or when no thread can be started (`max_threads`), `f` just runs.
///
/// While `f` runs after a hand-off, the thread is no longer a worker: it
/// may block as any plain thread may, so `f` can call
/// [`Handle::block_on`](crate::Handle::block_on) (the runtime stays the
/// current one, so `spawn` inside it reaches the same runtime), and the
/// coop budget does not apply to what it polls.
///
/// ```
/// let rt = gosched::Runtime::builder().procs(1).build().unwrap();
/// let n = rt.block_on(gosched::spawn(async {
///     gosched::block_in_place(|| std::fs::read_dir(".").map(|d| d.count()).unwrap_or(0))
/// }));
/// assert!(n.unwrap() > 0);
/// ```
pub fn block_in_place<R>(f: impl FnOnce() -> R) -> R {
    let ctx = CURRENT_M.with(|c| c.get());
    if ctx.is_null() {
        return f();
    }
    // SAFETY: CURRENT_M points at this worker's boxed context, alive for
    // the whole worker loop, which is running (we are inside its poll).
    let ctx = unsafe { &*ctx };
    let Some(pi) = ctx.p.get() else { return f() };
    let shared = ctx.shared.clone();
    if !shared.handoff(pi, &ctx.park) {
        return f();
    }
    // Steps 5-6 now, rather than after the poll: the old ring goes to the
    // global queue and this M forgets the P.
    ctx.drop_lost_p();
    let out = {
        // Off the worker for the duration: `block_on` may run here, and
        // wakes and spawns from `f` go to the global queue. Restored even
        // if `f` panics, since the poll unwinds back into the worker loop.
        let _off = OffWorker::enter(ctx);
        crate::coop::unconstrained_call(f)
    };
    // Take an idle P back, if there is one, to finish this poll on.
    ctx.acquire_idle_p();
    out
}

/// While alive, this thread is not a worker (`CURRENT_M` is null); the
/// worker's context comes back on drop. `block_in_place` and `syscall`
/// run their closures under it.
pub(crate) struct OffWorker(*const super::worker::MContext);

impl OffWorker {
    pub(crate) fn enter(ctx: &super::worker::MContext) -> OffWorker {
        CURRENT_M.with(|c| c.set(std::ptr::null()));
        OffWorker(ctx as *const _)
    }
}

impl Drop for OffWorker {
    fn drop(&mut self) {
        CURRENT_M.with(|c| c.set(self.0));
    }
}
