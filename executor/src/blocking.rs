//! The blocking pool (Go's syscall threads): `spawn_blocking`.
//!
//! Closures that block (file I/O, DNS, CPU-heavy work) run on a separate,
//! bounded set of threads so they never occupy an M. A closure becomes a
//! task whose future calls it once; the task is queued on the pool, never
//! on a P, and has no scheduler pointer (it is never woken).
//!
//! Threads are started on demand up to the cap (default 512); an idle one
//! exits after the keep-alive (default 10 s). A closure runs with its
//! runtime entered (as `Handle::enter` does), so timers, sockets and
//! `spawn` inside it reach the runtime that called `spawn_blocking`.
//!
//! At shutdown, queued closures that never started are cancelled (their
//! JoinHandles say so) and the running ones are waited for, up to the
//! deadline `Runtime::shutdown_timeout` gives; a thread still running a
//! closure then is left to finish on its own.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::sched::Shared;
use crate::task::{JoinHandle, Notified};

/// Default maximum number of blocking threads.
pub(crate) const DEFAULT_MAX_BLOCKING: usize = 512;
/// Default idle time after which a blocking thread exits.
pub(crate) const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

struct State {
    queue: VecDeque<Notified>,
    /// Closures running now.
    running: usize,
    idle: usize,
    threads: usize,
    shutdown: bool,
    handles: Vec<std::thread::JoinHandle<()>>,
}

struct Inner {
    state: Mutex<State>,
    cv: Condvar,
    max: usize,
    keep_alive: Duration,
    name: String,
    /// The runtime whose closures run here, entered around each one. Weak:
    /// the runtime owns the pool.
    runtime: OnceLock<Weak<Shared>>,
}

/// The pool; cheap to clone.
#[derive(Clone)]
pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

/// Runs the closure on its first poll.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self.0.take().expect("blocking task polled twice");
        Poll::Ready(crate::coop::unconstrained_call(f))
    }
}

impl BlockingPool {
    pub(crate) fn new(max: usize, keep_alive: Duration, name: String) -> BlockingPool {
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    running: 0,
                    idle: 0,
                    threads: 0,
                    shutdown: false,
                    handles: Vec::new(),
                }),
                cv: Condvar::new(),
                max: max.max(1),
                keep_alive,
                name,
                runtime: OnceLock::new(),
            }),
        }
    }

    /// Names the runtime whose context each closure runs in. Called once,
    /// right after the runtime is built.
    pub(crate) fn set_runtime(&self, shared: Weak<Shared>) {
        let _ = self.inner.runtime.set(shared);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        crate::loom::lock_std(&self.inner.state)
    }

    /// Queues `f` and returns its JoinHandle.
    #[track_caller]
    pub(crate) fn spawn<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (task, join) = crate::task::new_blocking_task(BlockingTask(Some(f)));
        let mut st = self.lock();
        if st.shutdown {
            drop(st);
            task.cancel();
            return join;
        }
        st.queue.push_back(task);
        if st.idle > 0 {
            st.idle -= 1;
            drop(st);
            self.inner.cv.notify_one();
        } else if st.threads < self.inner.max {
            st.threads += 1;
            let pool = self.clone();
            let res = std::thread::Builder::new()
                .name(self.inner.name.clone())
                .spawn(move || pool.run());
            match res {
                Ok(h) => st.handles.push(h),
                // Could not start a thread: the task waits for a running one.
                Err(_) => st.threads -= 1,
            }
        }
        join
    }

    /// Number of threads in the pool.
    pub(crate) fn threads(&self) -> usize {
        self.lock().threads
    }

    /// Threads, closures running, closures queued: one look under the lock.
    pub(crate) fn usage(&self) -> (usize, usize, usize) {
        let st = self.lock();
        (st.threads, st.running, st.queue.len())
    }

    /// Whether a closure is running or queued.
    pub(crate) fn is_busy(&self) -> bool {
        let st = self.lock();
        st.running > 0 || !st.queue.is_empty()
    }

    fn run(&self) {
        let mut st = self.lock();
        loop {
            if let Some(task) = st.queue.pop_front() {
                st.running += 1;
                drop(st);
                // The runtime's context for this closure only: an idle
                // thread holds no strong reference to the runtime.
                let _enter = self
                    .inner
                    .runtime
                    .get()
                    .and_then(Weak::upgrade)
                    .map(crate::runtime::enter_handle);
                let again = task.run();
                drop(_enter);
                debug_assert!(again.is_none(), "a blocking task rescheduled itself");
                st = self.lock();
                st.running -= 1;
                continue;
            }
            if st.shutdown {
                break;
            }
            st.idle += 1;
            let (g, timeout) = self
                .inner
                .cv
                .wait_timeout(st, self.inner.keep_alive)
                .unwrap_or_else(|e| e.into_inner());
            st = g;
            if timeout.timed_out() && st.queue.is_empty() && !st.shutdown {
                // Nobody claimed our idle slot: give it back and exit.
                st.idle = st.idle.saturating_sub(1);
                break;
            }
        }
        st.threads -= 1;
    }

    /// Cancels queued closures and waits for running ones until
    /// `deadline` (`None`: as long as they take). True when every pool
    /// thread has exited; threads still running a closure at the deadline
    /// are detached and exit when it returns.
    pub(crate) fn shutdown(&self, deadline: Option<Instant>) -> bool {
        let (queued, handles) = {
            let mut st = self.lock();
            st.shutdown = true;
            (
                std::mem::take(&mut st.queue),
                std::mem::take(&mut st.handles),
            )
        };
        self.inner.cv.notify_all();
        for t in queued {
            t.cancel();
        }
        let me = std::thread::current().id();
        let mut all = true;
        for h in handles {
            if h.thread().id() != me {
                all &= crate::sched::join_until(h, deadline);
            }
        }
        all
    }
}
