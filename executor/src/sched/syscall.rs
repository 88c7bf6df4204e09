//! Go's syscall model: a blocking call runs on the task's own thread, and
//! sysmon hands the P to another M only if the call stays blocked (Go's
//! `entersyscall` / `exitsyscall` / `retake`).
//!
//! # The problem
//!
//! A file read, a `stat`, a DNS lookup block the thread that makes them.
//! Sending each to a thread pool (`spawn_blocking`, tokio's `fs`) costs two
//! thread hops per call even when the call takes a microsecond, which is
//! most of the time (a warm page cache). Running it in place costs nothing,
//! but a call that does block then stalls every task queued on the P.
//! `block_in_place` hands the P off at once: right for a call known to be
//! slow, a waste for one that returns in microseconds.
//!
//! # The protocol (Go's)
//!
//! 1. Enter (`syscall`, on the M that holds P): bump the M's `syscalltick`
//!    and set `in_syscall` (SeqCst). The P stays with the M; nothing else
//!    happens, so a quick call costs these two stores and two on exit.
//! 2. Run the call off the worker: `CURRENT_M` is cleared meanwhile, so a
//!    wake or spawn from inside goes to the global queue and never touches
//!    the P's ring, and the call may block as any plain thread may.
//! 3. sysmon (`sysmon.rs`, `retake`), each round: an M seen `in_syscall`
//!    with the same `syscalltick` as in the previous round has been inside
//!    one call for at least one sysmon period (20 µs while it watches
//!    syscalls); if other work waits for its P, sysmon hands the P off
//!    (`Shared::handoff`, the same protocol as for a poll stuck too long).
//! 4. Exit: clear `in_syscall`, then look at `retaken`. Not set: the fast
//!    path, the M still holds its P and the task's poll goes on. Set: the
//!    P is gone; the M lets go of its old ring (`drop_lost_p`) and tries
//!    to take an idle P back, as `block_in_place` does; without one the
//!    poll finishes without a P and the M becomes a spare.
//!
//! A hand-off that races the exit (sysmon decided just before step 4) is
//! the same race as a retake of a long poll that returns at that moment,
//! which `handoff.rs` already makes safe: the M keeps its old ring and sees
//! `retaken` after its poll. It costs a needless hand-off, never a task.
//!
//! `loom_syscall.rs` models enter and exit racing a retake.

use std::sync::atomic::Ordering::{Relaxed, SeqCst};

use super::handoff::OffWorker;
use super::worker::{MContext, CURRENT_M};

/// Runs `f`, a call that may block its thread (a file operation, a DNS
/// lookup), on this thread, Go's way: the worker keeps its P, and sysmon
/// hands the P to another thread only if `f` is still blocked one sysmon
/// period (tens of microseconds) later and other tasks wait for it. A
/// quick `f` costs a few atomic stores; a slow one stalls nobody for long.
///
/// Use it for calls that are usually quick but may block (files on a warm
/// cache); use [`block_in_place`](crate::block_in_place) for calls known
/// to block long, and [`spawn_blocking`](crate::spawn_blocking) for work
/// that should not hold up the current task at all. Off a gosched worker
/// `f` just runs.
///
/// While `f` runs the thread is not a worker: a task spawned or woken from
/// `f` goes to the global queue, and `f` may call
/// [`Handle::block_on`](crate::Handle::block_on).
///
/// ```
/// let rt = gosched::Runtime::builder().procs(1).build().unwrap();
/// let len = rt.block_on(rt.spawn(async {
///     gosched::syscall(|| std::fs::metadata(".").map(|m| m.is_dir()))
/// }));
/// assert!(len.unwrap().unwrap());
/// ```
pub fn syscall<R>(f: impl FnOnce() -> R) -> R {
    let ctx = CURRENT_M.with(|c| c.get());
    if ctx.is_null() {
        return f();
    }
    // SAFETY: CURRENT_M points at this worker's boxed context, alive for
    // the whole worker loop, which is running (we are inside its poll).
    let ctx = unsafe { &*ctx };
    syscall_on(ctx, f)
}

/// `syscall` for the M whose context is `ctx` (the caller's own).
pub(crate) fn syscall_on<R>(ctx: &MContext, f: impl FnOnce() -> R) -> R {
    if ctx.p.get().is_none() {
        return f();
    }
    // 1. Enter, and wake a dozing sysmon to watch the call (one relaxed
    // load while it is awake; `stuck_watch.rs`).
    ctx.park.enter_syscall();
    ctx.shared.nudge_sysmon();
    let out = {
        // 2. Off the worker; restored even if `f` panics.
        let _off = OffWorker::enter(ctx);
        let _exit = ExitOnDrop(ctx);
        crate::coop::unconstrained_call(f)
    };
    out
}

/// Step 4, run when the call returns or unwinds.
struct ExitOnDrop<'a>(&'a MContext);

impl Drop for ExitOnDrop<'_> {
    fn drop(&mut self) {
        let ctx = self.0;
        ctx.park.exit_syscall();
        // SeqCst: pairs with the SeqCst store of `retaken` in
        // `Shared::handoff`, so a hand-off that came first is seen here
        // (one that comes later is seen after the poll, `worker.rs`).
        if !ctx.park.retaken.load(SeqCst) {
            return;
        }
        ctx.drop_lost_p();
        ctx.acquire_idle_p();
    }
}

impl super::idle::MPark {
    /// Step 1: this M is entering a blocking call.
    pub(crate) fn enter_syscall(&self) {
        // Relaxed: only this M writes the tick; sysmon compares it across
        // rounds, and the SeqCst store below publishes it.
        self.syscalltick
            .store(self.syscalltick.load(Relaxed).wrapping_add(1), Relaxed);
        // SeqCst: sysmon reads it before deciding a hand-off.
        self.in_syscall.store(true, SeqCst);
    }

    /// Step 4's first half: the call returned.
    pub(crate) fn exit_syscall(&self) {
        // SeqCst: sysmon reads it; after this store it no longer counts
        // this M as blocked.
        self.in_syscall.store(false, SeqCst);
    }
}
