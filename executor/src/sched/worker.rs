//! M: a worker thread, and its scheduling loop (Go's `schedule`,
//! `findRunnable`, `stealWork`, `stopm`).
//!
//! # The loop
//!
//! An M holds at most one P ([`PToken`]). While it holds one it repeats:
//! find a runnable task (below), run it, count the tick. It gives the P
//! back only when it finds nothing, and then sleeps until `startm` (or a
//! hand-off) gives it a P again (`idle.rs`).
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
//!    the last pass also taking a victim's `runnext`. Found nothing while
//!    another P runs a chain of hand-offs: *linger* once (`linger`), a
//!    short sleep still counted as spinning, then start over from step 1.
//! 6. Give the P back, stop spinning, re-check every queue (`idle.rs`
//!    step 5), and sleep.
//!
//! # Why linger
//!
//! Two tasks handing values back and forth (a rendezvous channel, a
//! request and its reply) run as a chain on one P: each wakes the other
//! into `runnext` and then parks. Every such wake calls `wakep`, and with
//! a P idle and nobody spinning, `wakep` pays a futex wake for an M that
//! finds only that `runnext`, which the owner takes back within a
//! microsecond, so the M gives up, sleeps, and is woken again by the next
//! hand-off: about one futex call per ten values on 100k values through a
//! rendezvous channel, all charged to the P doing the work. Go's thief has
//! the same race but sleeps `usleep(3)` in `runqgrab` while still counted
//! as spinning, and `wakep` skips every wake-up meanwhile. `linger` does
//! the same, but only when it sees such a chain: since this M went to
//! sleep (or started spinning), a running P's tasks have put tasks in its
//! `runnext` (`Processor::runnext_puts`). Rejected: lingering after any
//! failed steal. It made a plain thread's round trip through a task 2-7x
//! slower, since the task the thread wakes goes to the global queue,
//! whose `wakep` a lingering M suppresses. For the same reason a push to
//! the global queue unparks a lingering M (`Shared::unpark_lingering`).
//! The cost is a spinner that holds an idle P about 50 µs longer (Linux
//! rounds the 3 µs sleep up by its timer slack) before it sleeps for real,
//! burning no CPU meanwhile; a local push that is not the chain's (a
//! spawn) waits as long before another P steals it, as in Go.
//!
//! # Losing the P (hand-off)
//!
//! sysmon may hand this M's P to another M while a poll runs too long, and
//! `block_in_place` hands it off on purpose (`handoff.rs`). The P gets a
//! fresh ring; this M keeps its old ring, of which it stays the only
//! owner, so nothing it does mid-poll can race the P's new owner. The M
//! notices through its `retaken` flag (after every poll, before giving a P
//! back, and on every local push), empties its old ring into the global
//! queue, and carries on as a spare M without a P.
//!
//! # Invariants
//!
//! - Only the M whose context holds a ring pushes to it as the owner.
//! - An M that returns from sleep with a P starts from step 1.

use std::cell::Cell;
use std::sync::atomic::Ordering::{Acquire, Relaxed, SeqCst};
use std::sync::Arc;

use super::idle::{Idle, MPark, Wakeup};
use super::processor::{bump, stat, PToken, Processor};
use super::runq::{Local, RunQueue, RUNNEXT_STREAK_MAX};
use super::stuck_watch::StuckWatch;
use super::Shared;
use crate::loom::lock;
use crate::task::Notified;

/// How long a spinner that found nothing sleeps before it looks again
/// (`Worker::linger`): Go's `usleep(3)` in `runqgrab`. Linux stretches it
/// to about 50 µs (the default timer slack), which is the point: long
/// enough to cover many hand-offs of a chain running on another P.
#[cfg(not(gosched_loom))]
const LINGER_SLEEP: std::time::Duration = std::time::Duration::from_micros(3);

/// Steal passes before an M gives up (Go: `stealTries`).
const STEAL_TRIES: usize = 4;

/// Every this many ticks the global queue goes first (Go's
/// `schedtick%61 == 0`): a prime, so that it does not fall into step with
/// a program's own periodic pattern of spawns.
const GLOBAL_QUEUE_INTERVAL: u64 = 61;

/// The M's scheduling state that tasks can reach mid-poll (wakers,
/// `spawn`, `block_in_place`). Lives in a `Box` owned by the worker, and
/// is only touched by its own thread.
pub(crate) struct MContext {
    pub(crate) shared: Arc<Shared>,
    pub(crate) park: Arc<MPark>,
    /// The P this M holds, if any.
    token: Cell<Option<PToken>>,
    /// Index of that P (a copy of the token's, readable without moving it).
    pub(crate) p: Cell<Option<usize>>,
    /// The ring this M owns: its P's ring, or, after a hand-off it has not
    /// yet noticed, its P's *old* ring.
    ring: Cell<*const RunQueue>,
    /// While this M polls the driver: how many tasks the poll made
    /// runnable, with their `wakep` deferred (`DeferWakeups`).
    deferred: Cell<Option<usize>>,
}

thread_local! {
    pub(crate) static CURRENT_M: Cell<*const MContext> = const { Cell::new(std::ptr::null()) };
}

/// Whether this thread is a worker holding a P: code here must not block
/// the thread (`block_on` refuses to). A worker inside `block_in_place`
/// after handing its P off, or one whose P sysmon retook mid-poll, is not.
pub(crate) fn on_worker() -> bool {
    CURRENT_M.with(|c| {
        let m = c.get();
        // SAFETY: a non-null CURRENT_M points at this thread's worker
        // context, alive while the worker loop runs.
        !m.is_null() && unsafe { &*m }.p.get().is_some()
    })
}

/// After a driver wake-up of the idle M `park` (no hand-off) that readied
/// `readied` tasks into the global queue (their wake-ups deferred, see
/// [`DeferWakeups`]): takes an idle P to run them, unless the queue is
/// empty or `park` was handed a P meanwhile (it is off `midle` then, and
/// the hand-off reaches it in its next park). When it readied more than
/// one, it also starts a helper, now that `park` is off `midle` and
/// cannot be the M woken.
pub(crate) fn take_p_for_ready_tasks(
    shared: &Shared,
    park: &Arc<MPark>,
    readied: usize,
) -> Option<PToken> {
    if shared.inject.is_empty() {
        return None;
    }
    let mut lists = lock(&shared.idle.lists);
    if !Idle::remove_m(&mut lists, park) {
        return None;
    }
    match shared.idle.pidleget(&mut lists) {
        Some(p) => {
            drop(lists);
            if readied > 1 {
                shared.wakep();
            }
            Some(p)
        }
        None => {
            lists.midle.push(park.clone());
            None
        }
    }
}

/// Go's `injectglist` rule for tasks a driver poll makes runnable: the M
/// that polled runs the first itself, so it wakes another M only when the
/// poll readied two or more (Go starts `min(npidle, n)` Ms for the rest;
/// we start one spinner, and a spinner that finds work wakes the next).
/// Calling `wakep` for each ready task instead woke the other M for a lone
/// socket event it could only fail to steal, then put it back to sleep: a
/// futex wake, a futex wait and two context switches per poll, for
/// nothing.
///
/// Safety of skipping the wake-ups (no task may be stranded):
/// - Polling with a P (`find_runnable`): the tasks are in this M's own
///   ring, and this M goes on to run them.
/// - Blocked in the driver without a P (`stopm`): the tasks are in the
///   global queue; after the poll this M takes an idle P itself. If none
///   is idle, every P is held by a running M, and one that gives its P up
///   later re-checks the queues after doing so (the idle protocol's step
///   5), which sees the push: it happened before this M took the idle
///   lock to look for a P.
pub(crate) struct DeferWakeups<'a> {
    m: &'a MContext,
}

impl<'a> DeferWakeups<'a> {
    /// Starts deferring the `wakep`s of tasks scheduled on this thread.
    pub(crate) fn begin(m: &'a MContext) -> Self {
        m.deferred.set(Some(0));
        DeferWakeups { m }
    }

    /// Stops deferring; the number of tasks scheduled meanwhile.
    pub(crate) fn finish(self) -> usize {
        self.m.deferred.take().unwrap_or(0)
    }
}

impl Drop for DeferWakeups<'_> {
    fn drop(&mut self) {
        self.m.deferred.set(None);
    }
}

impl MContext {
    /// Called by `Shared::schedule` after queueing a task from this M's
    /// thread: true when the task's `wakep` is deferred (this M is polling
    /// the driver and will run the first task itself; see
    /// [`DeferWakeups`]).
    pub(crate) fn defer_wakep(&self) -> bool {
        match self.deferred.get() {
            Some(n) => {
                self.deferred.set(Some(n + 1));
                true
            }
            None => false,
        }
    }

    /// The ring this M owns (null: none), for `Shared::owned_ring`.
    pub(crate) fn ring_ptr(&self) -> *const RunQueue {
        self.ring.get()
    }

    pub(crate) fn new(shared: Arc<Shared>, park: Arc<MPark>) -> MContext {
        MContext {
            shared,
            park,
            token: Cell::new(None),
            deferred: Cell::new(None),
            p: Cell::new(None),
            ring: Cell::new(std::ptr::null()),
        }
    }

    fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The owner's handle on the ring this M owns, if it holds a P (or
    /// still holds the old ring of a P handed off mid-poll).
    pub(crate) fn ring(&self) -> Option<Local<'_>> {
        self.shared.owned_ring(self)
    }

    /// Takes ownership of P `p`: its current ring becomes ours.
    pub(crate) fn acquire(&self, p: PToken) {
        let shared = self.shared();
        let i = p.index();
        let proc = &shared.procs[i];
        proc.running.store(true, Relaxed);
        self.park.cur_p.store(i, Relaxed);
        self.p.set(Some(i));
        self.ring.set(proc.ring_ptr());
        self.token.set(Some(p));
        // SAFETY: the counter lives in `shared`, which this M's context
        // keeps alive; `forget_p` resets the pointer before the P goes
        // and `Worker::run` before the thread leaves the runtime.
        #[cfg(not(gosched_observe_off))]
        unsafe {
            crate::coop::set_forced_yield_counter(&proc.metrics.forced_yields)
        };
    }

    /// Stops counting this thread's forced yields for a P it lets go of.
    fn forget_p(&self) {
        // SAFETY: null is always allowed.
        #[cfg(not(gosched_observe_off))]
        unsafe {
            crate::coop::set_forced_yield_counter(std::ptr::null())
        };
        self.p.set(None);
        self.park.cur_p.store(usize::MAX, Relaxed);
        self.ring.set(std::ptr::null());
    }

    /// Gives up the P's token (for `pidleput` or a hand-off); the ring is
    /// forgotten too.
    pub(crate) fn release(&self) -> Option<PToken> {
        let t = self.token.take()?;
        self.forget_p();
        Some(t)
    }

    /// After a hand-off: empties the old ring into the global queue,
    /// retires it, and forgets the P (its token now belongs to another M).
    pub(crate) fn drop_lost_p(&self) {
        let shared = self.shared();
        if let Some(ring) = self.ring() {
            let mut moved = false;
            while let Some((t, _)) = ring.pop() {
                shared.inject.push(t);
                moved = true;
            }
            shared.retire_ring(ring.queue());
            if moved {
                shared.wakep();
            }
        }
        self.token.take();
        self.forget_p();
        // SeqCst: the next hand-off reads it under the idle lock; the
        // store comes after the old ring is empty, so a later hand-off
        // never sees a stale flag for a ring that still holds tasks.
        self.park.retaken.store(false, SeqCst);
    }

    /// After this M lost its P mid-poll (`block_in_place`, `syscall`):
    /// takes an idle P, if there is one and the runtime is not shutting
    /// down, to finish the poll on. Without one the poll finishes P-less.
    pub(crate) fn acquire_idle_p(&self) {
        let shared = self.shared();
        let token = {
            let mut lists = lock(&shared.idle.lists);
            if lists.shutdown {
                None
            } else {
                shared.idle.pidleget(&mut lists)
            }
        };
        if let Some(p) = token {
            self.acquire(p);
        }
    }

    /// Called after a local push: if the P was handed off meanwhile, the
    /// push may have landed in the old ring; move it out. Pairs with the
    /// fence in `Shared::handoff` (set flag, fence, drain old ring): either
    /// the hand-off saw our push, or we see the flag here.
    pub(crate) fn after_local_push(&self) {
        if self.park.retaken.load(Relaxed) {
            if let Some(ring) = self.ring() {
                let shared = self.shared();
                while let Some((t, _)) = ring.pop() {
                    shared.inject.push(t);
                }
                shared.wakep();
            }
        }
    }
}

/// What `release_p_and_recheck` found.
enum Recheck {
    /// A task from the global queue: run it (the P is still held).
    Run(Notified),
    /// Look for work again from step 1 (a P is held again, or was lost).
    Again,
    /// Shutdown: return.
    Stop,
    /// Nothing: sleep (the P is idle, this M on `midle`).
    Sleep,
}

/// A worker thread's state. Owned and touched only by its own thread.
pub(crate) struct Worker {
    shared: Arc<Shared>,
    /// What tasks reach mid-poll (through `CURRENT_M`); boxed so its
    /// address stays put while the worker moves.
    ctx: Box<MContext>,
    /// Counted in `nmspinning` (this M is looking for work with a P).
    spinning: bool,
    /// Consecutive picks from runnext.
    runnext_streak: u32,
    rng: u64,
    /// A spare M decided to exit (idle past the keep-alive).
    exit: bool,
    /// This M's event buffer, when tracing (`GOSCHED_TRACE`, or attached
    /// to an on-demand recording at a checkpoint: `trace.rs`).
    trace: Option<crate::trace::TraceBuf>,
    /// This M's watch over the other Ps (`stuck_watch.rs`).
    watch: StuckWatch,
    /// This M lingered (`linger`) since it last ran a task or woke up.
    lingered: bool,
    /// Every P's `runnext_puts` when this M last went to sleep or started
    /// spinning (`note_runnext_puts`), for `linger`'s test of a chain.
    seen: Vec<u64>,
}

impl Worker {
    pub(crate) fn new(shared: Arc<Shared>, park: Arc<MPark>, seed: u64) -> Worker {
        let ctx = Box::new(MContext::new(shared.clone(), park));
        let trace = crate::trace::TraceBuf::for_new_m(&shared);
        let mut w = Worker {
            shared,
            ctx,
            spinning: false,
            runnext_streak: 0,
            rng: seed | 1,
            exit: false,
            trace: None,
            watch: StuckWatch::default(),
            lingered: false,
            seen: Vec::new(),
        };
        w.trace = trace;
        w
    }

    /// Starts the worker already holding `p` (its parker must be off
    /// `midle`), as an M that just finished a task: for loom models.
    #[cfg(all(test, gosched_loom))]
    pub(crate) fn holding(self, p: PToken) -> Worker {
        self.ctx.acquire(p);
        self
    }

    fn rand(&mut self) -> u64 {
        // xorshift64*: quality is irrelevant, speed is not.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// The thread's main loop. Starts without a P, asleep on `midle`.
    pub(crate) fn run(mut self) {
        self.ctx.park.register_current_thread();
        CURRENT_M.with(|c| c.set(&*self.ctx as *const MContext));
        // One clone for the thread's life: find_runnable borrows it while
        // it mutates `self` (cloning per call would bounce the Arc's count
        // between cores on every task).
        let shared = self.shared.clone();
        let mut first = true;
        loop {
            if !first || self.ctx.p.get().is_none() {
                match self.go_idle(&shared, first) {
                    Some(()) => {}
                    None => break,
                }
            }
            first = false;
            while let Some((task, inherit)) = self.find_runnable(&shared) {
                if self.spinning {
                    self.reset_spinning();
                }
                self.execute(task, inherit);
                if self.ctx.p.get().is_none() {
                    // Lost the P during the poll: become a spare M.
                    break;
                }
            }
            if shared.is_shutting_down() || self.exit {
                break;
            }
        }
        if let Some(p) = self.ctx.release() {
            shared.procs[p.index()].running.store(false, Relaxed);
            let mut lists = lock(&shared.idle.lists);
            shared.idle.pidleput(&mut lists, p);
        }
        self.ctx.forget_p();
        CURRENT_M.with(|c| c.set(std::ptr::null()));
    }

    /// Runs a P handed over by `startm` or a hand-off while this M slept.
    fn take_handed_p(&mut self, p: PToken, spinning: bool) {
        self.ctx.acquire(p);
        crate::trace::checkpoint(&mut self.trace, &self.shared);
        self.runnext_streak = 0;
        self.lingered = false;
        // startm counted us in nmspinning already; a sleeping M never is.
        debug_assert!(
            !self.spinning,
            "an M woken from midle was still counted as spinning"
        );
        self.spinning = spinning;
    }

    /// Sleeps as a P-less M until handed a P. `None`: shut down or exit.
    fn go_idle(&mut self, shared: &Shared, already_listed: bool) -> Option<()> {
        if !already_listed {
            let mut lists = lock(&shared.idle.lists);
            if lists.shutdown {
                return None;
            }
            lists.midle.push(self.ctx.park.clone());
        }
        match self.stopm(shared) {
            Wakeup::P(p, spinning) => {
                self.take_handed_p(p, spinning);
                Some(())
            }
            Wakeup::Shutdown | Wakeup::Exit => None,
        }
    }

    fn p<'a>(&self, shared: &'a Shared) -> Option<&'a Processor> {
        self.ctx.p.get().map(|i| &shared.procs[i])
    }

    /// Go's `execute`: runs one task on the held P.
    fn execute(&mut self, task: Notified, inherit: bool) {
        let shared = &*self.shared;
        if let Some(p) = self.p(shared) {
            if !inherit {
                bump(&p.schedtick, 1);
            }
            bump(&p.metrics.polls, 1);
        }
        let traced = self
            .trace
            .is_some()
            .then(|| (task.header().id(), std::time::Instant::now()));
        let again = task.run();
        if let (Some(tr), Some((id, t0)), Some(pi)) =
            (self.trace.as_mut(), traced, self.ctx.p.get())
        {
            tr.poll(pi, id, t0, std::time::Instant::now());
        }
        // Acquire: pairs with the SeqCst store in `Shared::handoff`, so we
        // see the P's new ring installed before we let go of ours.
        if self.ctx.park.retaken.load(Acquire) {
            // sysmon handed our P to another M while this poll ran.
            self.ctx.drop_lost_p();
        }
        if let Some(again) = again {
            // Woken during its own poll (yield_now, a spent budget, a
            // self-wake): it used its turn, so it goes behind the others.
            match self.ctx.ring() {
                Some(ring) => ring.put(again, false, &shared.inject),
                None => {
                    shared.inject.push(again);
                    shared.wakep();
                }
            }
        }
    }

    /// Go's `resetspinning`: this M found work; if it was the last
    /// spinner, wake another so new work keeps being picked up.
    fn reset_spinning(&mut self) {
        self.spinning = false;
        // SeqCst: pairs with the SeqCst load in `wakep` (after its fence):
        // a submitter that still sees us spinning leaves the wake to us,
        // and we call `wakep` right after.
        self.shared.idle.nmspinning.fetch_sub(1, SeqCst);
        self.shared.wakep();
    }

    fn become_spinning(&mut self) {
        if !self.spinning {
            self.spinning = true;
            // SeqCst: submitters read it in `wakep` to skip a wake-up.
            self.shared.idle.nmspinning.fetch_add(1, SeqCst);
            self.note_runnext_puts();
        }
    }

    /// Notes every P's `runnext_puts` (for `linger`). Only when this M
    /// goes to sleep or starts spinning: reading counters that other Ps
    /// write on every wake pulls their cache lines away from them.
    fn note_runnext_puts(&mut self) {
        let procs = &self.shared.procs;
        self.seen.clear();
        self.seen
            .extend(procs.iter().map(|p| p.runnext_puts.load(Relaxed)));
    }

    /// Whether another P has put tasks in its `runnext` since
    /// `note_runnext_puts` and is still running: its tasks wake each other, a
    /// chain of hand-offs.
    fn chain_running(&self, shared: &Shared, me: usize) -> bool {
        shared
            .procs
            .iter()
            .zip(&self.seen)
            .enumerate()
            .any(|(i, (p, &puts))| {
                i != me && p.running.load(Relaxed) && p.runnext_puts.load(Relaxed) != puts
            })
    }

    fn stop_spinning(&mut self, shared: &Shared) -> bool {
        let was = self.spinning;
        if was {
            self.spinning = false;
            // SeqCst: step 5 of the protocol in `idle.rs`; the caller
            // fences and re-checks the queues after it (a Dekker pair with
            // the submitter's fence in `wakep`).
            shared.idle.nmspinning.fetch_sub(1, SeqCst);
        }
        was
    }

    /// Lets go of a P that was handed to another M while this one looked
    /// for work. A spinning M must stop spinning as it does: submitters
    /// skip `wakep` while anyone spins, so a spinner without a P would
    /// keep `nmspinning` above zero and strand every later remote push
    /// (schedtrace would show a P idle, `spinningthreads=1`, a task in the
    /// global queue, and nobody awake). Having stopped, it
    /// re-checks the queues as step 5 of the protocol in `idle.rs` says,
    /// and wakes someone for what it finds.
    fn lose_p(&mut self, shared: &Shared) {
        self.ctx.drop_lost_p();
        if self.stop_spinning(shared) {
            crate::loom::fence(SeqCst);
            if shared.has_any_work() {
                shared.wakep();
            }
        }
    }

    /// Go's `findRunnable`. Returns `None` at shutdown, or when this M has
    /// no P any more (handed off) and must sleep as a spare.
    fn find_runnable(&mut self, shared: &Shared) -> Option<(Notified, bool)> {
        self.lingered = false;
        loop {
            if shared.is_shutting_down() {
                return None;
            }
            // Acquire: as in `execute`.
            if self.ctx.park.retaken.load(Acquire) {
                self.lose_p(shared);
            }
            let pi = self.ctx.p.get()?;
            let ring = shared
                .owned_ring(&self.ctx)
                .expect("an M with a P owns a ring");
            let tick = shared.procs[pi].schedtick.load(Relaxed);
            // 1. Fairness: the global queue, and the poller, now and then.
            if tick % GLOBAL_QUEUE_INTERVAL == 0 && self.runnext_streak == 0 {
                crate::trace::checkpoint(&mut self.trace, &self.shared);
                // A batch, not Go's single task: with a local ring that
                // never empties (tasks yielding in a loop), one task per
                // interval starves remote spawns; the batch joins the
                // ring's tail and takes turns with the local tasks.
                if let Some(t) = self.globrunqget(shared, &ring, pi) {
                    return Some((t, false));
                }
                let defer = DeferWakeups::begin(&self.ctx);
                shared.poll_driver_nonblocking();
                if defer.finish() > 1 {
                    shared.wakep();
                }
                if shared.procs.len() > 1 {
                    self.watch.check(shared, Some(pi));
                }
            }
            // 2. Local: runnext (unless its streak is spent), then the ring.
            if self.runnext_streak >= RUNNEXT_STREAK_MAX {
                self.runnext_streak = 0;
                if let Some(t) = ring.pop_ring() {
                    return Some((t, false));
                }
            }
            if let Some((t, inherit)) = ring.pop() {
                self.runnext_streak = if inherit { self.runnext_streak + 1 } else { 0 };
                return Some((t, inherit));
            }
            self.runnext_streak = 0;
            // 3. Global queue.
            if let Some(t) = self.globrunqget(shared, &ring, pi) {
                return Some((t, false));
            }
            // 4. Netpoll, without blocking.
            let defer = DeferWakeups::begin(&self.ctx);
            let polled = shared.poll_driver_nonblocking();
            if defer.finish() > 1 {
                shared.wakep();
            }
            if polled {
                if let Some((t, _)) = ring.pop() {
                    return Some((t, false));
                }
            }
            // 5. Steal, if not too many are spinning already.
            let procs = shared.procs.len();
            // SeqCst loads of counters written with SeqCst RMWs; only a
            // throttle (Go's "at most half the busy Ps spin"), so a stale
            // value costs a wasted spin or a skipped one, never a task.
            let busy = procs - shared.idle.npidle.load(SeqCst);
            if self.spinning || 2 * shared.idle.nmspinning.load(SeqCst) < busy {
                self.become_spinning();
                if let Some(t) = self.steal_work(shared, &ring, pi) {
                    return Some((t, false));
                }
                if self.linger(shared, pi) {
                    continue;
                }
            }
            // 6. Give up the P, re-check, sleep.
            match self.release_p_and_recheck(shared, &ring, pi) {
                Recheck::Run(t) => return Some((t, false)),
                Recheck::Again => continue,
                Recheck::Stop => return None,
                Recheck::Sleep => {}
            }
            match self.stopm(shared) {
                Wakeup::P(p, spinning) => self.take_handed_p(p, spinning),
                Wakeup::Shutdown | Wakeup::Exit => {
                    self.exit = true;
                    return None;
                }
            }
        }
    }

    /// Step 6 of `find_runnable` up to the sleep: gives P `pi` back and
    /// puts this M on `midle` (one critical section), then re-checks the
    /// queues without the lock (step 5 of the protocol in `idle.rs`) and
    /// takes a P again if work turned up.
    fn release_p_and_recheck(&mut self, shared: &Shared, ring: &Local<'_>, pi: usize) -> Recheck {
        {
            let mut lists = lock(&shared.idle.lists);
            if lists.shutdown {
                return Recheck::Stop;
            }
            // Acquire: as in `execute` (the lock orders it anyway).
            if self.ctx.park.retaken.load(Acquire) {
                // Handed off meanwhile (under this same lock): the
                // token is not ours to put back.
                drop(lists);
                self.lose_p(shared);
                return Recheck::Again;
            }
            if !shared.inject.is_empty() {
                drop(lists);
                return match self.globrunqget(shared, ring, pi) {
                    Some(t) => Recheck::Run(t),
                    None => Recheck::Again,
                };
            }
            let p = self.ctx.release().expect("M without a P");
            shared.procs[pi].running.store(false, Relaxed);
            stat(&shared.procs[pi].metrics.parks, 1);
            if let Some(tr) = self.trace.as_mut() {
                tr.park(pi);
            }
            shared.idle.pidleput(&mut lists, p);
            lists.midle.push(self.ctx.park.clone());
        }
        // Re-check before sleeping. The global queue is lock-free, so a
        // remote push can land after our check under the lock while
        // its `wakep` still saw no idle P: the pusher's fence and our
        // fence below form a Dekker pair over (queue, npidle), so one
        // of us sees the other. A spinner also re-checks every ring,
        // since submitters skipped `wakep` while it spun (step 5 in
        // `idle.rs`).
        let was_spinning = self.stop_spinning(shared);
        crate::loom::fence(SeqCst);
        let work = if was_spinning {
            shared.has_any_work()
        } else {
            !shared.inject.is_empty()
        };
        if work {
            let mut lists = lock(&shared.idle.lists);
            if Idle::remove_m(&mut lists, &self.ctx.park) {
                if let Some(p) = shared.idle.pidleget(&mut lists) {
                    drop(lists);
                    self.ctx.acquire(p);
                    self.runnext_streak = 0;
                    if was_spinning {
                        self.become_spinning();
                    }
                    return Recheck::Again;
                }
                lists.midle.push(self.ctx.park.clone());
            }
        }
        self.note_runnext_puts();
        Recheck::Sleep
    }

    /// Go's `globrunqget`: takes a fair share of the global queue (its
    /// length over the number of Ps, at most half the ring's free room),
    /// runs the first, and puts the rest on the local ring.
    fn globrunqget(&mut self, shared: &Shared, ring: &Local<'_>, pi: usize) -> Option<Notified> {
        let len = shared.inject.len();
        if len == 0 {
            return None;
        }
        // Never more than half the ring's free room, so the batch does not
        // overflow straight back to the global queue.
        let n = (len / shared.procs.len() + 1)
            .min(len)
            .min(super::runq::RUNQ_SIZE / 2)
            .min(super::runq::RUNQ_SIZE.saturating_sub(ring.len()) / 2)
            .max(1);
        let first = shared.inject.pop()?;
        stat(&shared.procs[pi].metrics.global_pulls, 1);
        // Work from outside arrives here: attach to a recording that
        // started while this M spun (`trace.rs`, step 2).
        crate::trace::checkpoint(&mut self.trace, &self.shared);
        for _ in 1..n {
            match shared.inject.pop() {
                Some(t) => ring.put(t, false, &shared.inject),
                None => break,
            }
        }
        Some(first)
    }

    /// Go's `stealWork`: 4 passes over the other Ps in random order.
    fn steal_work(&mut self, shared: &Shared, ring: &Local<'_>, me: usize) -> Option<Notified> {
        let procs = shared.procs.len();
        for pass in 0..STEAL_TRIES {
            let last = pass == STEAL_TRIES - 1;
            let start = (self.rand() % procs as u64) as usize;
            for k in 0..procs {
                let j = (start + k) % procs;
                if j == me {
                    continue;
                }
                let victim = &shared.procs[j];
                if let Some(t) = ring.steal_from(victim.runq(), last, victim.running.load(Relaxed))
                {
                    let p = &shared.procs[me];
                    let n = 1 + ring.len() as u64;
                    stat(&p.metrics.steals, 1);
                    stat(&p.metrics.stolen_tasks, n);
                    crate::trace::checkpoint(&mut self.trace, &self.shared);
                    if let Some(tr) = self.trace.as_mut() {
                        tr.steal(me, n);
                    }
                    return Some(t);
                }
            }
            if shared.is_shutting_down() {
                return None;
            }
        }
        None
    }

    /// Step 5's linger (see "Why linger"): once per wake-up or task run, a
    /// spinner that found nothing while another P runs a chain sleeps
    /// [`LINGER_SLEEP`], still holding its P and counted in `nmspinning`,
    /// so that submitters skip `wakep` meanwhile; a push to the global
    /// queue cuts the sleep short (`Shared::unpark_lingering`). True when
    /// it lingered and the caller should look for work again.
    fn linger(&mut self, shared: &Shared, me: usize) -> bool {
        // Not under loom: a linger only postpones step 6, which the models
        // check from every state already, and an extra pass of the loop
        // would multiply their interleavings for nothing.
        if cfg!(gosched_loom) || self.lingered || !self.spinning || !self.chain_running(shared, me)
        {
            return false;
        }
        self.lingered = true;
        // A stale park token (a wake-up meant for an earlier sleep) only
        // cuts the linger short.
        #[cfg(not(gosched_loom))]
        shared.linger_sleep(&self.ctx.park, || std::thread::park_timeout(LINGER_SLEEP));
        true
    }

    /// Go's `stopm`: sleeps until handed a P (or shutdown). The M is on
    /// `midle` already. The first idle M blocks in the driver; the others
    /// on their thread parker (`MPark::park_once`).
    fn stopm(&mut self, shared: &Shared) -> Wakeup {
        let park = self.ctx.park.clone();
        let since = std::time::Instant::now();
        loop {
            crate::trace::before_sleep(&mut self.trace);
            // Ms beyond one per P exist only because of hand-offs; once idle
            // for the keep-alive they exit (never the one in the driver).
            let spare = shared.nthreads.load(Relaxed) > shared.procs.len();
            let timeout = spare.then_some(shared.config.spare_keep_alive);
            let t0 = self.trace.is_some().then(std::time::Instant::now);
            let defer = DeferWakeups::begin(&self.ctx);
            let (woken, in_driver) =
                park.park_once(shared.driver.as_deref(), &shared.idle.driver_busy, timeout);
            let readied = defer.finish();
            if in_driver {
                // Relaxed: a count for `metrics()` only. This path just
                // returned from a blocking poll, so the shared RMW is noise.
                shared.idle.netpoll_waits.fetch_add(1, Relaxed);
            }
            if let (Some(tr), Some(t0), true) = (self.trace.as_mut(), t0, in_driver) {
                tr.netpoll_wait(t0, std::time::Instant::now());
            }
            if let Some(w) = woken {
                return w;
            }
            if spare && since.elapsed() >= shared.config.spare_keep_alive {
                let mut lists = lock(&shared.idle.lists);
                if shared.nthreads.load(Relaxed) > shared.procs.len()
                    && Idle::remove_m(&mut lists, &park)
                {
                    drop(lists);
                    lock(shared.ms_list()).retain(|m| !Arc::ptr_eq(m, &park));
                    return Wakeup::Exit;
                }
            }
            // Woken without a hand-off: a driver wake-up may have made
            // tasks ready (into the global queue: this M holds no P). Take
            // a P to run them, unless someone hands us one meanwhile.
            if let Some(p) = take_p_for_ready_tasks(shared, &park, readied) {
                return Wakeup::P(p, false);
            }
            if readied > 0 {
                // Tasks made ready that no P is free to run: is a P stuck?
                self.watch.check(shared, None);
            }
        }
    }
}
