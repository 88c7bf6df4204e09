//! The scheduler: G, M and P, the way Go's runtime has them.
//!
//! - **G** is a task (`crate::task`): a future in a header.
//! - **P** is a processor (`processor.rs`): a run queue and the right to run
//!   tasks. There are `procs` of them (Go's GOMAXPROCS).
//! - **M** is a worker thread (`worker.rs`). It must hold a P to run tasks.
//!
//! [`Shared`] is the state every M and every task's waker can reach: the
//! Ps, the global queue (`inject.rs`), the idle lists and the spinning
//! count (`idle.rs`), the task registry, and the driver an idle M blocks in.
//!
//! # Where a task goes when it becomes runnable (`schedule`)
//!
//! - Spawned or woken on one of this runtime's Ms that holds a P: that P's
//!   `runnext` (the previous `runnext` moves to the ring's tail).
//! - Woken during its own poll (`yield_now`, a spent coop budget): the
//!   tail of the local ring, behind everything queued (`worker.rs`).
//! - From any other thread: the global queue.
//!
//! After queueing, `wakep` starts an idle M if none is spinning (see the
//! protocol in `idle.rs`).

pub(crate) mod handoff;
pub(crate) mod idle;
pub(crate) mod inject;
pub(crate) mod processor;
pub(crate) mod runq;
pub(crate) mod stuck_watch;
pub(crate) mod syscall;
pub(crate) mod sysmon;
pub(crate) mod worker;

#[cfg(all(test, gosched_loom))]
mod loom_handoff;
#[cfg(all(test, gosched_loom))]
mod loom_idle;
#[cfg(all(test, gosched_loom))]
mod loom_linger;
#[cfg(all(test, gosched_loom))]
mod loom_park;
#[cfg(all(test, gosched_loom))]
mod loom_runq;
#[cfg(all(test, gosched_loom))]
mod loom_shutdown;
#[cfg(all(test, gosched_loom))]
mod loom_syscall;

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

use idle::{Idle, MPark, Wakeup};
use inject::Injector;
use processor::{PToken, Processor};
use runq::{Local, RunQueue};
use worker::{Worker, CURRENT_M};

use crate::loom::{fence, lock, AtomicBool, AtomicUsize, Mutex};
use crate::task::{Notified, Registry};
use crate::Driver;

/// Tasks taken back out of the global queue after shutdown began (see
/// [`Shared::schedule`]); dropping it drops their queue references.
#[must_use = "drop the leftovers after the last use of the scheduler"]
pub(crate) struct Leftovers {
    /// Held only to be dropped.
    _tasks: Vec<Notified>,
}

/// Spreads an M's index over 64 bits before it seeds the M's steal-order
/// generator: 2^64 divided by the golden ratio (Knuth's multiplicative
/// hash), so consecutive Ms start far apart.
const SEED_MIX: u64 = 0x9E37_79B9_7F4A_7C15;

/// How often a bounded join looks whether a thread has exited.
const JOIN_POLL: std::time::Duration = std::time::Duration::from_millis(1);

/// Joins `h`, waiting until `deadline` at most (`None`: forever). True
/// when the thread has exited; false when it was detached still running.
pub(crate) fn join_until(
    h: std::thread::JoinHandle<()>,
    deadline: Option<std::time::Instant>,
) -> bool {
    let Some(deadline) = deadline else {
        let _ = h.join();
        return true;
    };
    // std has no timed join: look every millisecond. Shutdown is rare and
    // a millisecond late is fine.
    while !h.is_finished() {
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(JOIN_POLL);
    }
    let _ = h.join();
    true
}

/// Settings a runtime is built with.
pub(crate) struct Config {
    pub(crate) thread_name: String,
    pub(crate) stack_size: Option<usize>,
    /// Most Ms (worker threads) alive at once (Go's max threads).
    pub(crate) max_threads: usize,
    /// How long a spare M (beyond one per P) may sit idle before it exits.
    pub(crate) spare_keep_alive: std::time::Duration,
}

/// Every ring the scheduler ever made: the Ps' current rings, rings kept
/// by Ms whose P was handed off, and retired rings ready for reuse. Rings
/// are freed only with the scheduler, so a thief holding a stale ring
/// pointer always points at a live ring (stealing from any ring is safe).
pub(crate) struct RingArena {
    // Boxed on purpose: rings must keep their address while the vector
    // grows, since Ps and Ms hold raw pointers to them.
    #[allow(clippy::vec_box)]
    all: Vec<Box<RunQueue>>,
    free: Vec<*const RunQueue>,
}

// SAFETY: the raw pointers point into `all`, whose boxes never move or
// drop before the arena; RunQueue itself is Sync.
unsafe impl Send for RingArena {}

impl RingArena {
    /// A ring with no tasks, for a P that gets a new owner.
    fn alloc(&mut self) -> *const RunQueue {
        if let Some(r) = self.free.pop() {
            return r;
        }
        let b = Box::new(RunQueue::new());
        let p = &*b as *const RunQueue;
        self.all.push(b);
        p
    }
}

/// Everything Ms and wakers share. Fields say who writes them; a field
/// not written after construction says so.
pub(crate) struct Shared {
    /// The Ps (fixed at construction). Each P's fields document their
    /// own writers (`processor.rs`).
    pub(crate) procs: Box<[Processor]>,
    /// Every ring ever made; written under its lock by `alloc_ring`,
    /// `retire_ring` and read by `finish_shutdown`.
    rings: Mutex<RingArena>,
    /// The global run queue: any thread pushes, Ms pop.
    pub(crate) inject: Injector,
    /// Idle Ps and Ms and the spinning count (`idle.rs` says who writes
    /// what, mostly under its `lists` lock).
    pub(crate) idle: Idle,
    /// Every live task; each shard under its own lock (`registry.rs`).
    pub(crate) registry: Registry,
    /// What idle Ms block in (fixed at construction).
    pub(crate) driver: Option<Arc<dyn Driver>>,
    /// The blocking pool (its state under its own lock).
    pub(crate) blocking: crate::blocking::BlockingPool,
    /// Settings (fixed at construction).
    pub(crate) config: Config,
    /// Set once, by `shutdown` step 1 (SeqCst: `schedule` pairs with it).
    shutdown: AtomicBool,
    /// Set by whoever runs `finish_shutdown`, so it runs once.
    finished: AtomicBool,
    /// Threads started for Ms: pushed by `spawn_m`, taken by `shutdown`.
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Ms alive (Go's `mcount`): incremented by `spawn_m` before the
    /// thread starts, decremented by the thread as it exits.
    pub(crate) nthreads: AtomicUsize,
    /// Every M's parker, for schedtrace and sysmon: pushed when an M is
    /// made, removed by a spare M that exits; under its lock.
    ms: Mutex<Vec<Arc<MPark>>>,
    /// The event trace, when `GOSCHED_TRACE` names a file (fixed at
    /// construction; each M buffers its own events).
    pub(crate) trace: Option<crate::trace::TraceSink>,
    /// On-demand trace recordings (`trace.rs` says who writes what); its
    /// epoch is the runtime's start.
    pub(crate) recorder: crate::trace::Recorder,
    /// The monitor thread, when one runs: set by `start`, taken by
    /// `shutdown`.
    sysmon: Mutex<Option<(Arc<sysmon::SysmonStop>, std::thread::JoinHandle<()>)>>,
    /// Stops sysmon, or nudges it from a doze (`stuck_watch.rs`); the
    /// monitor thread holds a clone.
    pub(crate) monitor: Arc<sysmon::SysmonStop>,
    /// The coarse clock (`clock.rs`) at the last non-blocking netpoll by
    /// any thread; sysmon polls only when nobody has for 10 ms.
    pub(crate) last_poll_ms: std::sync::atomic::AtomicU32,
}

impl Shared {
    /// Builds the scheduler and starts one M per P, all asleep.
    pub(crate) fn start(
        procs: usize,
        driver: Option<Arc<dyn Driver>>,
        config: Config,
        blocking: crate::blocking::BlockingPool,
    ) -> std::io::Result<Arc<Shared>> {
        let (shared, ms) = Shared::new(procs, driver, config, blocking);
        for (i, m) in ms.into_iter().enumerate() {
            if let Err(e) = shared.spawn_m(m, i as u64) {
                shared.shutdown(None);
                return Err(e);
            }
        }
        match sysmon::start(&shared, crate::schedtrace::DebugSettings::from_env()) {
            Ok(monitor) => *lock(&shared.sysmon) = monitor,
            Err(e) => {
                shared.shutdown(None);
                return Err(e);
            }
        }
        Ok(shared)
    }

    /// Builds the scheduler without starting threads; returns the Ms'
    /// parkers (already on `midle`) for the caller to start.
    pub(crate) fn new(
        procs: usize,
        driver: Option<Arc<dyn Driver>>,
        config: Config,
        blocking: crate::blocking::BlockingPool,
    ) -> (Arc<Shared>, Vec<Arc<MPark>>) {
        let ms: Vec<Arc<MPark>> = (0..procs).map(|_| MPark::new()).collect();
        let mut arena = RingArena {
            all: Vec::new(),
            free: Vec::new(),
        };
        let shared = Arc::new(Shared {
            procs: (0..procs).map(|_| Processor::new(arena.alloc())).collect(),
            rings: Mutex::new(arena),
            inject: Injector::new(),
            idle: Idle::new((0..procs).rev().map(PToken::mint).collect(), ms.clone()),
            registry: Registry::new(procs),
            driver,
            blocking,
            config,
            shutdown: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
            nthreads: AtomicUsize::new(0),
            ms: Mutex::new(ms.clone()),
            sysmon: Mutex::new(None),
            monitor: Arc::new(sysmon::SysmonStop::new()),
            last_poll_ms: std::sync::atomic::AtomicU32::new(0),
            trace: if cfg!(gosched_loom) {
                None
            } else {
                crate::trace::TraceSink::from_env()
            },
            recorder: crate::trace::Recorder::new(),
        });
        shared.blocking.set_runtime(Arc::downgrade(&shared));
        (shared, ms)
    }

    /// A scheduler with no threads, for loom models: tasks scheduled on it
    /// land in the global queue, where the model takes them.
    #[cfg(all(test, gosched_loom))]
    pub(crate) fn new_for_loom(procs: usize) -> Arc<Shared> {
        let config = Config {
            thread_name: "loom".into(),
            stack_size: None,
            max_threads: procs,
            spare_keep_alive: std::time::Duration::from_secs(1),
        };
        let blocking =
            crate::blocking::BlockingPool::new(1, std::time::Duration::from_secs(1), "loom".into());
        Shared::new(procs, None, config, blocking).0
    }

    pub(crate) fn spawn_m(self: &Arc<Self>, park: Arc<MPark>, seed: u64) -> std::io::Result<()> {
        let shared = self.clone();
        let mut b = std::thread::Builder::new().name(self.config.thread_name.clone());
        if let Some(s) = self.config.stack_size {
            b = b.stack_size(s);
        }
        self.nthreads.fetch_add(1, SeqCst);
        let res = b.spawn(move || {
            let _enter = crate::runtime::enter_handle(shared.clone());
            let seed = seed.wrapping_mul(SEED_MIX) ^ (&park as *const _ as u64);
            Worker::new(shared.clone(), park, seed).run();
            drop(_enter);
            // The last M out after a shutdown that could not wait for it
            // (a deadline passed, or the runtime was dropped on this very
            // thread) frees what the Ms used.
            if shared.nthreads.fetch_sub(1, SeqCst) == 1 && shared.is_shutting_down() {
                shared.finish_shutdown();
            }
        });
        match res {
            Ok(h) => {
                lock(&self.threads).push(h);
                Ok(())
            }
            Err(e) => {
                self.nthreads.fetch_sub(1, SeqCst);
                Err(e)
            }
        }
    }

    /// The list of every M's parker.
    pub(crate) fn ms_list(&self) -> &Mutex<Vec<Arc<MPark>>> {
        &self.ms
    }

    /// Every M's parker (for schedtrace).
    pub(crate) fn all_ms(&self) -> Vec<Arc<MPark>> {
        lock(&self.ms).clone()
    }

    /// The M holding P `i`, if any (racy: for sysmon). One lock and one
    /// `Arc` clone, not a copy of every M's parker.
    pub(crate) fn holder_of(&self, i: usize) -> Option<Arc<MPark>> {
        use std::sync::atomic::Ordering::Relaxed;
        lock(&self.ms)
            .iter()
            .find(|m| m.cur_p.load(Relaxed) == i)
            .cloned()
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutdown.load(SeqCst)
    }

    /// Queues a runnable task (see the module docs for where it goes).
    ///
    /// Returns the tasks the caller must drop once it no longer borrows
    /// `self`: after shutdown began, a task pushed to the global queue may
    /// miss the final drain (`finish_shutdown`), so the pusher takes
    /// everything back out itself. Dropping those references may free the
    /// last task that keeps this scheduler alive, hence "after the borrow".
    #[must_use = "drop the leftovers after the last use of the scheduler"]
    pub(crate) fn schedule(&self, task: Notified, is_yield: bool) -> Leftovers {
        // This scheduler's M on this thread, if the thread is one.
        let this_m = CURRENT_M.with(|c| {
            let m = c.get();
            if m.is_null() {
                return None;
            }
            // SAFETY: CURRENT_M points at the MContext on this worker's
            // stack for as long as the worker runs, and only this thread
            // reads it.
            let m = unsafe { &*m };
            std::ptr::eq(Arc::as_ptr(&m.shared), self).then_some(m)
        });
        match this_m.and_then(|m| m.ring().map(|ring| (m, ring))) {
            Some((m, ring)) => {
                ring.put(task, !is_yield, &self.inject);
                if let (false, Some(p)) = (is_yield, m.p.get()) {
                    processor::bump(&self.procs[p].runnext_puts, 1);
                }
                if m.defer_wakep() {
                    fence(SeqCst);
                } else {
                    self.wakep();
                }
                // After the fence (wakep's, or ours when the wake-up is
                // deferred): if our P was handed off meanwhile, the push
                // may sit in an old ring nobody else runs.
                m.after_local_push();
                Leftovers { _tasks: Vec::new() }
            }
            None => {
                self.inject.push(task);
                // wakep begins with a SeqCst fence (a deferred wake-up
                // fences here instead), which orders the push before the
                // shutdown load below: with the SeqCst store in
                // `shutdown`, either the final drain sees this push or we
                // see the flag (a Dekker pair).
                if this_m.is_some_and(|m| m.defer_wakep()) {
                    fence(SeqCst);
                } else {
                    self.wakep();
                }
                self.unpark_lingering();
                if self.shutdown.load(SeqCst) {
                    Leftovers {
                        _tasks: std::iter::from_fn(|| self.inject.pop()).collect(),
                    }
                } else {
                    Leftovers { _tasks: Vec::new() }
                }
            }
        }
    }

    /// The local branch of `schedule`, for the hand-off loom model.
    #[cfg(all(test, gosched_loom))]
    pub(crate) fn schedule_local_for_loom(&self, m: &worker::MContext, task: Notified) {
        let ring = m.ring().expect("holds a P");
        ring.put(task, true, &self.inject);
        self.wakep();
        m.after_local_push();
    }

    /// The owner's handle on the ring `m` owns, if any, borrowed for as
    /// long as `self`, whose arena holds every ring until it drops.
    pub(crate) fn owned_ring<'a>(&'a self, m: &worker::MContext) -> Option<Local<'a>> {
        debug_assert!(
            std::ptr::eq(Arc::as_ptr(&m.shared), self),
            "an M of another scheduler"
        );
        let r = m.ring_ptr();
        if r.is_null() {
            return None;
        }
        // SAFETY: arena rings live as long as `self`.
        let q = unsafe { &*r };
        // SAFETY: an `MContext` is only ever used by its own M's thread
        // (it is not `Sync`), and the ring it records is the one that M
        // owns: its P's, or the old ring of a P handed off mid-poll, which
        // nobody else pushes to or pops from as an owner.
        Some(unsafe { Local::new(q) })
    }

    /// A fresh ring from the arena.
    pub(crate) fn alloc_ring(&self) -> *const RunQueue {
        lock(&self.rings).alloc()
    }

    /// Gives an empty ring back for reuse. Its last owner calls this after
    /// emptying it; a thief with a stale pointer may still try to steal
    /// from it, which is harmless.
    pub(crate) fn retire_ring(&self, ring: &RunQueue) {
        lock(&self.rings).free.push(ring as *const RunQueue);
    }

    /// Go's `wakep`: after queueing work, start an M if a P is idle and no
    /// M is spinning (steps 2-3 of the protocol in `idle.rs`).
    pub(crate) fn wakep(&self) {
        // StoreLoad: the queue store above must be visible before we read
        // the counters; pairs with the spinner's SeqCst decrement.
        fence(SeqCst);
        if self.idle.nmspinning.load(SeqCst) != 0 || self.idle.npidle.load(SeqCst) == 0 {
            return;
        }
        if self
            .idle
            .nmspinning
            .compare_exchange(0, 1, SeqCst, SeqCst)
            .is_err()
        {
            return;
        }
        self.startm_spinning();
    }

    /// Wakes the Ms lingering (`worker.rs`, "Why linger") after a push to
    /// the global queue: they count as spinning, so `wakep` skipped them,
    /// and the task would otherwise wait out their sleep. Called after the
    /// push and a SeqCst fence; pairs with the linger's registration,
    /// fence and check of the global queue (a Dekker pair: either we see
    /// the count, or the lingering M sees the task and does not sleep).
    pub(crate) fn unpark_lingering(&self) {
        if self.idle.nmlinger.load(SeqCst) == 0 {
            return;
        }
        let lists = lock(&self.idle.lists);
        for m in &lists.lingering {
            if let Some(t) = lock(&m.thread).as_ref() {
                t.unpark();
            }
        }
    }

    /// The sleep of a lingering M (`worker.rs`, "Why linger"), whose
    /// thread is `park`'s: registers it in `lingering`, fences, and calls
    /// `sleep` only if the global queue is still empty, so that a push
    /// either is seen here or sees the registration and unparks it
    /// (`unpark_lingering`). `sleep` is a bounded park of this thread.
    #[cfg_attr(gosched_loom, allow(dead_code))] // loom: the model alone calls it
    pub(crate) fn linger_sleep(&self, park: &Arc<MPark>, sleep: impl FnOnce()) {
        {
            let mut lists = lock(&self.idle.lists);
            lists.lingering.push(park.clone());
            self.idle.nmlinger.fetch_add(1, SeqCst);
        }
        // StoreLoad: pairs with the fence before a global-queue pusher's
        // `unpark_lingering`.
        fence(SeqCst);
        if self.inject.is_empty() {
            sleep();
        }
        let mut lists = lock(&self.idle.lists);
        lists.lingering.retain(|m| !Arc::ptr_eq(m, park));
        self.idle.nmlinger.fetch_sub(1, SeqCst);
    }

    /// Go's `startm(nil, true)`: an idle P and an idle M, the M spinning.
    fn startm_spinning(&self) {
        let mut lists = lock(&self.idle.lists);
        if lists.shutdown {
            drop(lists);
            self.idle.nmspinning.fetch_sub(1, SeqCst);
            return;
        }
        let Some(p) = self.idle.pidleget(&mut lists) else {
            drop(lists);
            self.idle.nmspinning.fetch_sub(1, SeqCst);
            return;
        };
        match Idle::mget(&mut lists) {
            Some(m) => {
                drop(lists);
                m.wake(Wakeup::P(p, true), self.driver.as_deref());
            }
            None => {
                // Every M is busy or on its way to sleep; the P goes back
                // and the M about to sleep re-checks the queues.
                self.idle.pidleput(&mut lists, p);
                drop(lists);
                self.idle.nmspinning.fetch_sub(1, SeqCst);
            }
        }
    }

    /// Wakes sysmon from a doze: an M saw a P stuck in one poll
    /// (`stuck_watch.rs`).
    pub(crate) fn nudge_sysmon(&self) {
        self.monitor.nudge();
    }

    /// Whether any queue holds a task (racy; for the re-check of step 5).
    pub(crate) fn has_any_work(&self) -> bool {
        !self.inject.is_empty() || self.procs.iter().any(|p| p.runq().ring_len() > 0)
    }

    /// A non-blocking poll of the driver when tasks wait on it. True when
    /// it ran. Notes the time on the coarse clock, for sysmon's "nobody
    /// polled for 10 ms" (Go's `sched.lastpoll`).
    pub(crate) fn poll_driver_nonblocking(&self) -> bool {
        match &self.driver {
            Some(d) if d.has_waiters() => {
                d.poll_nonblocking();
                self.last_poll_ms.store(
                    crate::clock::coarse_ms(),
                    std::sync::atomic::Ordering::Relaxed,
                );
                true
            }
            _ => false,
        }
    }

    /// Stops every M, cancels every task, and frees what the Ms used.
    /// Waits for threads until `deadline` (`None`: as long as it takes).
    /// True when every thread had exited by then and everything was
    /// freed; false when some thread is still inside a task's poll or a
    /// blocking closure: the last M to leave then finishes the job
    /// (`finish_shutdown`), and a blocking thread exits when its closure
    /// returns. Idempotent.
    ///
    /// 1. Mark shutdown (under the idle lock, so no M goes to sleep
    ///    without seeing it) and wake every sleeping M with `Shutdown`.
    ///    An M sees the flag before its next task and exits.
    /// 2. Close the registry and cancel every task: a task nobody polls
    ///    has its future dropped here and now; one being polled is
    ///    cancelled by its M when the poll returns. This comes before
    ///    waiting for the Ms, because an M may be blocked inside a poll
    ///    (`block_in_place`) on something that only a parked task's drop
    ///    releases: a channel's last sender, a lock guard.
    /// 3. Join the M threads, until the deadline.
    /// 4. Stop the blocking pool: cancel queued closures, wait for the
    ///    running ones until the deadline.
    /// 5. If no M is left, `finish_shutdown` (drain the queues, stop the
    ///    driver, write the trace).
    pub(crate) fn shutdown(&self, deadline: Option<std::time::Instant>) -> bool {
        // 1.
        let sleepers = {
            let mut lists = lock(&self.idle.lists);
            if lists.shutdown {
                Vec::new()
            } else {
                lists.shutdown = true;
                // SeqCst: pairs with the fence and load in `schedule`.
                self.shutdown.store(true, SeqCst);
                std::mem::take(&mut lists.midle)
            }
        };
        for m in sleepers {
            m.wake(Wakeup::Shutdown, self.driver.as_deref());
        }
        if let Some(d) = &self.driver {
            d.unpark();
        }
        if let Some((stop, h)) = lock(&self.sysmon).take() {
            stop.stop();
            if h.thread().id() != std::thread::current().id() {
                let _ = h.join();
            }
        }
        // 2.
        self.registry.close_and_drain();
        // 3.
        let me = std::thread::current().id();
        let mut all_joined = true;
        loop {
            let handles = std::mem::take(&mut *lock(&self.threads));
            if handles.is_empty() {
                break;
            }
            for h in handles {
                if h.thread().id() == me {
                    // Dropping the last handle from inside a worker: it
                    // cannot join itself; it exits after this task.
                    all_joined = false;
                    continue;
                }
                all_joined &= join_until(h, deadline);
            }
        }
        // 4.
        let pool_done = self.blocking.shutdown(deadline);
        // 5. An M that exits after this load sees the flag of step 1 and
        // finishes itself; `finished` makes sure only one of us does.
        if self.nthreads.load(SeqCst) == 0 {
            self.finish_shutdown();
        }
        all_joined && pool_done && self.finished.load(SeqCst)
    }

    /// The last step of a shutdown, once no M runs: drain every queue
    /// (releasing the queue references), stop the driver (it drops the
    /// wakers it stores, breaking task -> socket -> reactor -> waker
    /// cycles), write the trace. Runs once, on the shutdown caller's
    /// thread or the last M's.
    fn finish_shutdown(&self) {
        if self.finished.swap(true, SeqCst) {
            return;
        }
        let mut dropped = Vec::new();
        loop {
            let mut any = false;
            while let Some(t) = self.inject.pop() {
                dropped.push(t);
                any = true;
            }
            // Every ring, including old rings of Ms whose P was handed
            // off: no M runs any more, so popping as the owner is safe.
            let rings: Vec<*const RunQueue> = lock(&self.rings)
                .all
                .iter()
                .map(|b| &**b as *const RunQueue)
                .collect();
            for r in rings {
                // SAFETY: arena rings live as long as `self`.
                let r = unsafe { &*r };
                // SAFETY: no M runs any more, so nobody else owns a ring.
                let r = unsafe { Local::new(r) };
                while let Some((t, _)) = r.pop() {
                    dropped.push(t);
                    any = true;
                }
            }
            // A task's last reference can be one of these, and its drop
            // never schedules anything, so one pass usually suffices; the
            // loop guards against wakes from other threads meanwhile.
            drop(std::mem::take(&mut dropped));
            if !any {
                break;
            }
        }
        if let Some(d) = &self.driver {
            d.shutdown();
        }
        if let Some(t) = &self.trace {
            // Every M has exited (and flushed its buffer) by now.
            if let Err(e) = t.write(self.procs.len()) {
                eprintln!(
                    "gosched: cannot write the {} trace: {e}",
                    crate::trace::TRACE_ENV
                );
            }
        }
    }
}
