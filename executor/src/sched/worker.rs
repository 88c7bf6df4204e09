//! M: a worker thread, and its scheduling loop (Go's `schedule`,
//! `findRunnable`, `stealWork`, `stopm`).
//!
//! # The loop
//!
//! An M holds at most one P ([`PToken`]). While it holds one it repeats:
//! find a runnable task (below), run it, count the tick. It gives the P
//! back only when it finds nothing, and then sleeps until `startm` hands it
//! a P again (`idle.rs`).
//!
//! # Finding work (`find_runnable`), in order
//!
//! 1. Every 61st tick: a batch from the global queue first, so it cannot
//!    starve (Go: `schedtick % 61 == 0`), and a non-blocking netpoll.
//! 2. The local `runnext`, then the local ring. A task taken from
//!    `runnext` inherits the time slice (the tick does not advance); after
//!    [`RUNNEXT_STREAK_MAX`] such picks in a row the ring goes first.
//! 3. The global queue, a batch at a time (`globrunqget`).
//! 4. A non-blocking netpoll, when tasks wait on the driver.
//! 5. Spin: steal half of a random victim's ring, 4 passes over all Ps,
//!    the last pass also taking a victim's `runnext`.
//! 6. Give the P back, stop spinning, re-check every queue (`idle.rs`
//!    step 5), and sleep.
//!
//! # Invariants
//!
//! - Only the M holding a P's token touches that P's ring as the owner.
//! - An M that returns from sleep with a P starts from step 1.

use std::cell::Cell;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::Arc;

use super::idle::{Idle, MPark, Wakeup};
use super::processor::{bump, PToken};
use super::runq::RUNNEXT_STREAK_MAX;
use super::Shared;
use crate::loom::lock;
use crate::task::Notified;

/// Steal passes before an M gives up (Go: `stealTries`).
const STEAL_TRIES: usize = 4;

/// What wakers and `spawn` need to know about the M running this thread.
pub(crate) struct MContext {
    pub(crate) shared: *const Shared,
    /// Index of the P this M holds, if any.
    pub(crate) p: Cell<Option<usize>>,
}

thread_local! {
    pub(crate) static CURRENT_M: Cell<*const MContext> = const { Cell::new(std::ptr::null()) };
}

/// A worker thread's state.
pub(crate) struct Worker {
    shared: Arc<Shared>,
    park: Arc<MPark>,
    p: Option<PToken>,
    spinning: bool,
    /// Consecutive picks from runnext.
    runnext_streak: u32,
    rng: u64,
}

impl Worker {
    pub(crate) fn new(shared: Arc<Shared>, park: Arc<MPark>, seed: u64) -> Worker {
        Worker {
            shared,
            park,
            p: None,
            spinning: false,
            runnext_streak: 0,
            rng: seed | 1,
        }
    }

    fn rand(&mut self) -> u64 {
        // xorshift64*: quality is irrelevant, speed is not.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// The thread's main loop. Starts without a P, asleep on `midle`.
    pub(crate) fn run(mut self, ctx: &MContext) {
        self.park.register_current_thread();
        CURRENT_M.with(|c| c.set(ctx as *const MContext));
        // One clone for the thread's life: find_runnable borrows it while
        // it mutates `self` (cloning per call would bounce the Arc's count
        // between cores on every task).
        let shared = self.shared.clone();
        match self.stopm(&shared) {
            Wakeup::P(p, spinning) => self.acquire(ctx, p, spinning),
            Wakeup::Shutdown => return,
        }
        while let Some((task, inherit)) = self.find_runnable(ctx, &shared) {
            if self.spinning {
                self.reset_spinning();
            }
            self.execute(task, inherit);
        }
        if let Some(p) = self.p.take() {
            ctx.p.set(None);
            self.park.cur_p.store(usize::MAX, Relaxed);
            self.shared.procs[p.index()].running.store(false, Relaxed);
            let mut lists = lock(&self.shared.idle.lists);
            self.shared.idle.pidleput(&mut lists, p);
        }
    }

    fn acquire(&mut self, ctx: &MContext, p: PToken, spinning: bool) {
        self.shared.procs[p.index()].running.store(true, Relaxed);
        self.park.cur_p.store(p.index(), Relaxed);
        ctx.p.set(Some(p.index()));
        self.p = Some(p);
        self.spinning = spinning;
        self.runnext_streak = 0;
    }

    fn p(&self) -> &super::processor::Processor {
        &self.shared.procs[self.p.as_ref().expect("M without a P").index()]
    }

    /// Go's `execute`: runs one task on the held P.
    fn execute(&mut self, task: Notified, inherit: bool) {
        let p = self.p();
        if !inherit {
            bump(&p.schedtick, 1);
        }
        bump(&p.metrics.polls, 1);
        if let Some(again) = task.run() {
            // Woken during its own poll (yield_now, a spent budget, a
            // self-wake): it used its turn, so it goes behind the others.
            let p = self.p();
            p.runq.put(again, false, &self.shared.inject);
        }
        let forced = crate::coop::take_forced_yields();
        if forced > 0 {
            bump(&self.p().metrics.forced_yields, forced);
        }
    }

    /// Go's `resetspinning`: this M found work; if it was the last
    /// spinner, wake another so new work keeps being picked up.
    fn reset_spinning(&mut self) {
        self.spinning = false;
        self.shared.idle.nmspinning.fetch_sub(1, SeqCst);
        self.shared.wakep();
    }

    fn become_spinning(&mut self) {
        if !self.spinning {
            self.spinning = true;
            self.shared.idle.nmspinning.fetch_add(1, SeqCst);
        }
    }

    /// Go's `findRunnable`. Returns `None` only at shutdown.
    fn find_runnable(&mut self, ctx: &MContext, shared: &Shared) -> Option<(Notified, bool)> {
        loop {
            if shared.is_shutting_down() {
                return None;
            }
            let pi = self.p.as_ref().expect("M without a P").index();
            let tick = shared.procs[pi].schedtick.load(Relaxed);
            // 1. Fairness: the global queue, and the poller, now and then.
            if tick % 61 == 0 && self.runnext_streak == 0 {
                // A batch, not Go's single task: with a local ring that
                // never empties (tasks yielding in a loop), one task per
                // 61 ticks starves remote spawns; the batch joins the
                // ring's tail and takes turns with the local tasks.
                if let Some(t) = self.globrunqget() {
                    return Some((t, false));
                }
                shared.poll_driver_nonblocking();
            }
            // 2. Local: runnext (unless its streak is spent), then the ring.
            let p = &shared.procs[pi];
            if self.runnext_streak >= RUNNEXT_STREAK_MAX {
                self.runnext_streak = 0;
                if let Some(t) = p.runq.pop_ring() {
                    return Some((t, false));
                }
            }
            if let Some((t, inherit)) = p.runq.pop() {
                self.runnext_streak = if inherit { self.runnext_streak + 1 } else { 0 };
                return Some((t, inherit));
            }
            self.runnext_streak = 0;
            // 3. Global queue.
            if let Some(t) = self.globrunqget() {
                return Some((t, false));
            }
            // 4. Netpoll, without blocking.
            if shared.poll_driver_nonblocking() {
                if let Some((t, _)) = shared.procs[pi].runq.pop() {
                    return Some((t, false));
                }
            }
            // 5. Steal, if not too many are spinning already.
            let procs = shared.procs.len();
            let busy = procs - shared.idle.npidle.load(SeqCst);
            if self.spinning || 2 * shared.idle.nmspinning.load(SeqCst) < busy {
                self.become_spinning();
                if let Some(t) = self.steal_work() {
                    return Some((t, false));
                }
            }
            // 6. Give up the P, re-check, sleep.
            let p = self.p.take().expect("M without a P");
            let pi = p.index();
            {
                let mut lists = lock(&shared.idle.lists);
                if lists.shutdown {
                    self.p = Some(p);
                    return None;
                }
                if !shared.inject.is_empty() {
                    drop(lists);
                    self.p = Some(p);
                    if let Some(t) = self.globrunqget() {
                        return Some((t, false));
                    }
                    continue;
                }
                ctx.p.set(None);
                self.park.cur_p.store(usize::MAX, Relaxed);
                shared.procs[pi].running.store(false, Relaxed);
                bump(&shared.procs[pi].metrics.parks, 1);
                shared.idle.pidleput(&mut lists, p);
                lists.midle.push(self.park.clone());
            }
            // Re-check before sleeping. The global queue is lock-free, so a
            // remote push can land after our check under the lock while
            // its `wakep` still saw no idle P: the pusher's fence and our
            // fence below form a Dekker pair over (queue, npidle), so one
            // of us sees the other. A spinner also re-checks every ring,
            // since submitters skipped `wakep` while it spun (step 5 in
            // `idle.rs`).
            let was_spinning = self.spinning;
            if was_spinning {
                self.spinning = false;
                shared.idle.nmspinning.fetch_sub(1, SeqCst);
            }
            crate::loom::fence(SeqCst);
            let work = if was_spinning {
                shared.has_any_work()
            } else {
                !shared.inject.is_empty()
            };
            if work {
                let mut lists = lock(&shared.idle.lists);
                if Idle::remove_m(&mut lists, &self.park) {
                    if let Some(p) = shared.idle.pidleget(&mut lists) {
                        drop(lists);
                        self.acquire(ctx, p, false);
                        if was_spinning {
                            self.become_spinning();
                        }
                        continue;
                    }
                    lists.midle.push(self.park.clone());
                }
            }
            match self.stopm(shared) {
                Wakeup::P(p, spinning) => {
                    self.acquire(ctx, p, false);
                    if spinning {
                        // startm counted us in nmspinning already.
                        self.spinning = true;
                    }
                }
                Wakeup::Shutdown => return None,
            }
        }
    }

    /// Go's `globrunqget`: takes a fair share of the global queue (its
    /// length over the number of Ps, at most half the ring's free room),
    /// runs the first, and puts the rest on the local ring.
    fn globrunqget(&mut self) -> Option<Notified> {
        let shared = &self.shared;
        let len = shared.inject.len();
        if len == 0 {
            return None;
        }
        let mut n = (len / shared.procs.len() + 1).min(len);
        let p = self.p();
        // Never more than half the ring's free room, so the batch does not
        // overflow straight back to the global queue.
        n = n
            .min(super::runq::RUNQ_SIZE / 2)
            .min(super::runq::RUNQ_SIZE.saturating_sub(p.runq.len()) / 2)
            .max(1);
        let first = shared.inject.pop()?;
        bump(&p.metrics.global_pulls, 1);
        for _ in 1..n {
            match shared.inject.pop() {
                Some(t) => p.runq.put(t, false, &shared.inject),
                None => break,
            }
        }
        Some(first)
    }

    /// Go's `stealWork`: 4 passes over the other Ps in random order.
    fn steal_work(&mut self) -> Option<Notified> {
        let procs = self.shared.procs.len();
        let me = self.p.as_ref().expect("M without a P").index();
        for pass in 0..STEAL_TRIES {
            let last = pass == STEAL_TRIES - 1;
            let start = (self.rand() % procs as u64) as usize;
            for k in 0..procs {
                let j = (start + k) % procs;
                if j == me {
                    continue;
                }
                let victim = &self.shared.procs[j];
                if let Some(t) = self.shared.procs[me].runq.steal_from(
                    &victim.runq,
                    last,
                    victim.running.load(Relaxed),
                ) {
                    let p = &self.shared.procs[me];
                    bump(&p.metrics.steals, 1);
                    bump(&p.metrics.stolen_tasks, 1 + p.runq.len() as u64);
                    return Some(t);
                }
            }
            if self.shared.is_shutting_down() {
                return None;
            }
        }
        None
    }

    /// Go's `stopm`: sleeps until handed a P (or shutdown). The M is on
    /// `midle` already. The first idle M blocks in the driver; the others
    /// on their thread parker (`MPark::park_once`).
    fn stopm(&mut self, shared: &Shared) -> Wakeup {
        loop {
            if let Some(w) = self
                .park
                .park_once(shared.driver.as_deref(), &shared.idle.driver_busy)
            {
                return w;
            }
            // Woken without a hand-off: a driver wake-up may have made
            // tasks ready (into the global queue: this M holds no P). Take
            // a P to run them, unless someone hands us one meanwhile.
            if !shared.inject.is_empty() {
                let mut lists = lock(&shared.idle.lists);
                if Idle::remove_m(&mut lists, &self.park) {
                    if let Some(p) = shared.idle.pidleget(&mut lists) {
                        return Wakeup::P(p, false);
                    }
                    lists.midle.push(self.park.clone());
                }
            }
        }
    }
}
