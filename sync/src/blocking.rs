//! Waiting on this crate's futures from a plain thread: what the
//! `*_blocking` methods (`Sender::send_blocking`, `Receiver::recv_blocking`,
//! `Receiver::recv_timeout`, `Mutex::blocking_lock`,
//! `oneshot::Receiver::blocking_recv`, `WaitGroup::wait_blocking`) run on.
//!
//! # Problem
//!
//! A thread with no executor (a callback from a C library, a thread of a
//! blocking library) must be able to hand values to tasks and wait for
//! theirs, as cheaply as tokio's `blocking_send`/`blocking_recv`. It polls
//! the operation's future itself and sleeps between polls; the future's
//! waker must wake it. On a gosched worker holding a P the same wait would
//! stall every task queued on that P, so there it panics instead
//! ([`forbid_on_worker`], asking the executor through
//! [`gosched_executor::coop::on_worker`]).
//!
//! # Choices
//!
//! - `futures::executor::block_on` would do, but it refuses to run inside
//!   another `futures` executor's poll and keeps its own wake flag beside
//!   the thread's park token.
//! - A mutex and condvar per thread (tokio's parker): two lock round trips
//!   per wake.
//! - Chosen: one atomic state word per thread, over `std::thread::park`
//!   used only as a sleep. A wake while the thread is still polling costs
//!   one swap and no call into the OS; the thread decides what a wake-up
//!   means from the word, not from the park token that any other code on
//!   the thread may set; and loom can check the word (`loom_blocking.rs`).
//!
//! # Protocol (the [`Parker`] state word)
//!
//! `EMPTY` (running, nothing pending), `PARKED` (asleep or about to be),
//! `NOTIFIED` (woken since the last poll).
//! 1. The waker ([`Parker::unpark`]) swaps in `NOTIFIED`; only if it took
//!    `PARKED` does it call the OS to wake the thread.
//! 2. After a `Pending` poll the thread ([`Parker::park`]) consumes a
//!    `NOTIFIED` at once (CAS to `EMPTY`, poll again); otherwise it CASes
//!    `EMPTY -> PARKED` and sleeps in `thread::park` until the state is
//!    `NOTIFIED`, which it then consumes. A failed CAS means a wake landed
//!    in between: consume it and poll again.
//! 3. [`Parker::park_until`] is step 2 with a deadline; on timeout it CASes
//!    `PARKED -> EMPTY`, or, if a wake won that race, consumes it and
//!    reports a wake-up.
//!
//! The thread-level park is only a sleep: a stray `unpark` by other code
//! is a spurious return that re-reads the state. Each thread keeps one
//! parker and its waker in a thread-local, so an operation allocates
//! nothing; a nested wait (a blocking call inside a poll) takes a fresh
//! one, so it never consumes the outer wait's wake.
//!
//! # Invariants
//!
//! - Only the parker's own thread moves the state out of `NOTIFIED` or
//!   into `PARKED`; wakers only store `NOTIFIED`.
//! - A wake after a `Pending` poll is never lost: either the thread sees
//!   `NOTIFIED` before it sleeps, or the waker sees `PARKED` and unparks.
//!   `loom_blocking.rs` checks both orders.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::thread::{self, Thread};

/// Running or polling, nothing pending.
const EMPTY: usize = 0;
/// Asleep in `thread::park`, or about to be.
const PARKED: usize = 1;
/// Woken since the thread last consumed a wake.
const NOTIFIED: usize = 2;

/// Puts one thread to sleep until a waker of its future fires (see the
/// module docs). Only the thread that made it may call [`park`](Self::park)
/// and [`park_until`](Self::park_until); any thread may call
/// [`unpark`](Self::unpark).
#[derive(Debug)]
pub(crate) struct Parker {
    /// `EMPTY`, `PARKED` or `NOTIFIED`: see the module docs for who moves
    /// it where.
    state: AtomicUsize,
    /// The thread that parks here.
    thread: Thread,
}

impl Parker {
    /// A parker for the calling thread.
    pub(crate) fn new() -> Parker {
        Parker {
            state: AtomicUsize::new(EMPTY),
            thread: thread::current(),
        }
    }

    /// Step 1: wakes the thread, with a syscall only if it sleeps.
    pub(crate) fn unpark(&self) {
        // Release pairs with the Acquire of the parking thread's consuming
        // CAS, so what the waker published (a value in a channel) is seen
        // by the poll that follows; Acquire is not needed here.
        if self.state.swap(NOTIFIED, Ordering::Release) == PARKED {
            self.thread.unpark();
        }
    }

    /// Consumes a pending wake, if any. Parker's thread only.
    fn consume(&self) -> bool {
        // Acquire pairs with the Release swap in `unpark`.
        self.state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Moves `EMPTY -> PARKED`; false if a wake came first (consumed here).
    /// Parker's thread only.
    fn announce_sleep(&self) -> bool {
        // Relaxed on success: the sleep itself publishes nothing. On
        // failure the state is `NOTIFIED` (only this thread leaves it), and
        // `consume` takes it with the Acquire it needs.
        match self
            .state
            .compare_exchange(EMPTY, PARKED, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => true,
            Err(_) => {
                let consumed = self.consume();
                debug_assert!(consumed, "parker state moved by another thread");
                false
            }
        }
    }

    /// Step 2: sleeps until woken. Parker's thread only.
    pub(crate) fn park(&self) {
        if self.consume() || !self.announce_sleep() {
            return;
        }
        loop {
            thread::park();
            if self.consume() {
                return;
            }
        }
    }

    /// Step 3: sleeps until woken (true) or until `deadline` (false).
    /// Parker's thread only.
    #[cfg(not(gosched_loom))]
    pub(crate) fn park_until(&self, deadline: Instant) -> bool {
        if self.consume() || !self.announce_sleep() {
            return true;
        }
        loop {
            let now = Instant::now();
            if now >= deadline {
                return self.cancel_sleep();
            }
            std::thread::park_timeout(deadline - now);
            if self.consume() {
                return true;
            }
        }
    }

    /// Step 3 under loom, which has no clock: the timeout may fire at any
    /// moment, so it is modelled as firing after one yield.
    #[cfg(gosched_loom)]
    pub(crate) fn park_until(&self, _deadline: Instant) -> bool {
        if self.consume() || !self.announce_sleep() {
            return true;
        }
        loom::thread::yield_now();
        self.consume() || self.cancel_sleep()
    }

    /// Timed out: `PARKED -> EMPTY`, unless a wake won the race (then it
    /// is consumed and counts). Parker's thread only.
    fn cancel_sleep(&self) -> bool {
        match self
            .state
            .compare_exchange(PARKED, EMPTY, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => false,
            Err(_) => {
                let consumed = self.consume();
                debug_assert!(consumed, "parker state moved by another thread");
                true
            }
        }
    }

    /// Forgets a wake left over from an earlier wait (a waker clone that
    /// outlived its operation): the first poll of a new wait looks at
    /// everything anyway. Parker's thread only.
    fn reset(&self) {
        self.state.store(EMPTY, Ordering::Relaxed);
    }
}

/// The waker of a [`Parker`]. A std `Arc` even under loom: the model
/// checks the state word, not the reference count.
struct ParkerWaker(Parker);

impl Wake for ParkerWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// A parker and its waker, kept per thread between waits.
struct Cached {
    parker: std::sync::Arc<ParkerWaker>,
    waker: Waker,
}

impl Cached {
    fn new() -> Cached {
        let parker = std::sync::Arc::new(ParkerWaker(Parker::new()));
        let waker = Waker::from(parker.clone());
        Cached { parker, waker }
    }
}

thread_local! {
    /// This thread's parker while no wait uses it; `None` during a wait
    /// (a nested wait makes its own).
    static CACHED: std::cell::Cell<Option<Cached>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with this thread's parker, or a fresh one when it is in use
/// (a nested wait) or the thread-local is gone (thread exit).
fn with_parker<R>(f: impl FnOnce(&Parker, &Waker) -> R) -> R {
    let cached = CACHED.try_with(|c| c.take()).ok().flatten();
    let cached = cached.unwrap_or_else(Cached::new);
    cached.parker.0.reset();
    // Put back even when `f` panics.
    struct PutBack(Option<Cached>);
    impl Drop for PutBack {
        fn drop(&mut self) {
            let c = self.0.take();
            let _ = CACHED.try_with(|slot| slot.set(c));
        }
    }
    let guard = PutBack(Some(cached));
    let c = guard.0.as_ref().expect("set above");
    f(&c.parker.0, &c.waker)
}

/// Panics when the calling thread is a gosched worker holding a P: `what`
/// would block it. `instead` says what to call there.
#[track_caller]
pub(crate) fn forbid_on_worker(what: &str, instead: &str) {
    if gosched_executor::coop::on_worker() {
        panic!(
            "gosched: {what} called on a runtime worker thread, where blocking stalls \
             every task queued on it; {instead}, or call it inside \
             `gosched::block_in_place(..)`"
        );
    }
}

/// Polls `future` on this thread until it completes, sleeping between
/// polls. The caller has checked [`forbid_on_worker`].
pub(crate) fn wait<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    with_parker(|parker, waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                return v;
            }
            parker.park();
        }
    })
}

/// [`wait`] until `deadline` at most: `None` when it passed first, and
/// then `future` is dropped (every future of this crate gives back what a
/// dropped wait had been handed).
pub(crate) fn wait_until<F: Future>(future: F, deadline: Instant) -> Option<F::Output> {
    let mut future = pin!(future);
    with_parker(|parker, waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                return Some(v);
            }
            if !parker.park_until(deadline) {
                // One last poll: a wake may have landed with the timeout.
                return match future.as_mut().poll(&mut cx) {
                    Poll::Ready(v) => Some(v),
                    Poll::Pending => None,
                };
            }
        }
    })
}
