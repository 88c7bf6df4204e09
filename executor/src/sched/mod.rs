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

pub(crate) mod idle;
pub(crate) mod inject;
pub(crate) mod processor;
pub(crate) mod runq;
pub(crate) mod worker;

#[cfg(all(test, gosched_loom))]
mod loom_park;
#[cfg(all(test, gosched_loom))]
mod loom_runq;

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

use idle::{Idle, MPark, Wakeup};
use inject::Injector;
use processor::{PToken, Processor};
use worker::{MContext, Worker, CURRENT_M};

use crate::loom::{fence, lock, AtomicBool, AtomicUsize, Mutex};
use crate::task::{Notified, Registry};
use crate::Driver;

/// Settings a runtime is built with.
pub(crate) struct Config {
    pub(crate) thread_name: String,
    pub(crate) stack_size: Option<usize>,
}

/// Everything Ms and wakers share.
pub(crate) struct Shared {
    pub(crate) procs: Box<[Processor]>,
    pub(crate) inject: Injector,
    pub(crate) idle: Idle,
    pub(crate) registry: Registry,
    pub(crate) driver: Option<Arc<dyn Driver>>,
    pub(crate) blocking: crate::blocking::BlockingPool,
    pub(crate) config: Config,
    shutdown: AtomicBool,
    /// Threads started for Ms; joined at shutdown.
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// Ms alive (Go's `mcount`).
    pub(crate) nthreads: AtomicUsize,
    /// Every M's parker, for schedtrace.
    ms: Mutex<Vec<Arc<MPark>>>,
    /// The monitor thread, when one runs.
    sysmon: Mutex<Option<(Arc<crate::sysmon::SysmonStop>, std::thread::JoinHandle<()>)>>,
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
                shared.shutdown();
                return Err(e);
            }
        }
        match crate::sysmon::start(&shared, crate::sysmon::DebugSettings::from_env()) {
            Ok(monitor) => *lock(&shared.sysmon) = monitor,
            Err(e) => {
                shared.shutdown();
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
        let shared = Arc::new(Shared {
            procs: (0..procs).map(|_| Processor::new()).collect(),
            inject: Injector::new(),
            idle: Idle::new(
                (0..procs).rev().map(PToken::new_for_init).collect(),
                ms.clone(),
            ),
            registry: Registry::new(procs),
            driver,
            blocking,
            config,
            shutdown: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
            nthreads: AtomicUsize::new(0),
            ms: Mutex::new(ms.clone()),
            sysmon: Mutex::new(None),
        });
        (shared, ms)
    }

    /// A scheduler with no threads, for loom models: tasks scheduled on it
    /// land in the global queue, where the model takes them.
    #[cfg(all(test, gosched_loom))]
    pub(crate) fn new_for_loom(procs: usize) -> Arc<Shared> {
        let config = Config {
            thread_name: "loom".into(),
            stack_size: None,
        };
        let blocking =
            crate::blocking::BlockingPool::new(1, std::time::Duration::from_secs(1), "loom".into());
        Shared::new(procs, None, config, blocking).0
    }

    fn spawn_m(self: &Arc<Self>, park: Arc<MPark>, seed: u64) -> std::io::Result<()> {
        let shared = self.clone();
        let mut b = std::thread::Builder::new().name(self.config.thread_name.clone());
        if let Some(s) = self.config.stack_size {
            b = b.stack_size(s);
        }
        self.nthreads.fetch_add(1, SeqCst);
        let res = b.spawn(move || {
            let ctx = MContext {
                shared: Arc::as_ptr(&shared),
                p: std::cell::Cell::new(None),
            };
            let _enter = crate::runtime::enter_handle(shared.clone());
            let seed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (&ctx as *const _ as u64);
            Worker::new(shared.clone(), park, seed).run(&ctx);
            CURRENT_M.with(|c| c.set(std::ptr::null()));
            shared.nthreads.fetch_sub(1, SeqCst);
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

    /// Every M's parker (for schedtrace).
    pub(crate) fn all_ms(&self) -> Vec<Arc<MPark>> {
        lock(&self.ms).clone()
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutdown.load(SeqCst)
    }

    /// Queues a runnable task (see the module docs for where it goes).
    pub(crate) fn schedule(&self, task: Notified, is_yield: bool) {
        let local = CURRENT_M.with(|c| {
            let m = c.get();
            if m.is_null() {
                return None;
            }
            // SAFETY: CURRENT_M points at the MContext on this worker's
            // stack for as long as the worker runs, and only this thread
            // reads it.
            let m = unsafe { &*m };
            if std::ptr::eq(m.shared, self) {
                m.p.get()
            } else {
                None
            }
        });
        match local {
            Some(i) => self.procs[i].runq.put(task, !is_yield, &self.inject),
            None => self.inject.push(task),
        }
        self.wakep();
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

    /// Whether any queue holds a task (racy; for the re-check of step 5).
    pub(crate) fn has_any_work(&self) -> bool {
        !self.inject.is_empty() || self.procs.iter().any(|p| !p.runq.is_empty())
    }

    /// A non-blocking poll of the driver when tasks wait on it. True when
    /// it ran.
    pub(crate) fn poll_driver_nonblocking(&self) -> bool {
        match &self.driver {
            Some(d) if d.has_waiters() => {
                d.poll_nonblocking();
                true
            }
            _ => false,
        }
    }

    /// Stops every M and waits for them; then cancels every task and
    /// drains every queue. Idempotent.
    ///
    /// 1. Mark shutdown (under the idle lock, so no M goes to sleep
    ///    without seeing it) and wake every sleeping M with `Shutdown`.
    /// 2. Join the M threads: a running M sees the flag before its next
    ///    task, so no task is being polled once this returns.
    /// 3. Close the registry and drop each task's future (a dropped future
    ///    may wake or spawn; spawns are cancelled by the closed registry).
    /// 4. Drain every queue, releasing the queue references, until empty.
    /// 5. Stop the blocking pool and the driver.
    pub(crate) fn shutdown(&self) {
        let sleepers = {
            let mut lists = lock(&self.idle.lists);
            if lists.shutdown {
                Vec::new()
            } else {
                lists.shutdown = true;
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
        let me = std::thread::current().id();
        loop {
            let handles = std::mem::take(&mut *lock(&self.threads));
            if handles.is_empty() {
                break;
            }
            for h in handles {
                if h.thread().id() == me {
                    // Dropping the last handle from inside a worker: it
                    // cannot join itself; it exits after this task.
                    continue;
                }
                let _ = h.join();
            }
        }
        self.registry.close_and_drain();
        loop {
            let mut any = false;
            while let Some(t) = self.inject.pop() {
                drop(t);
                any = true;
            }
            for p in self.procs.iter() {
                while let Some((t, _)) = p.runq.pop() {
                    drop(t);
                    any = true;
                }
            }
            if !any {
                break;
            }
        }
        self.blocking.shutdown();
        if let Some(d) = &self.driver {
            d.shutdown();
        }
    }
}
