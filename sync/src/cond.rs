//! `Cond`: a condition variable for this crate's [`Mutex`] (Go's
//! `sync.Cond`).
//!
//! # Problem
//!
//! `wait` must atomically "unlock and start waiting": a `signal` that comes
//! right after the unlock must find the waiter, or the wake-up is lost.
//!
//! # Design
//!
//! A std mutex guards a queue of waiters, each with a `signalled` mark.
//! [`Cond::wait`], step by step:
//! 1. Register a waiter in the queue *while still holding the guard*.
//! 2. Drop the guard (unlock the mutex).
//! 3. Park until signalled (`WaitReason::CondWait`).
//! 4. Lock the mutex again and return the new guard.
//!
//! Steps 1 and 2 run in the same poll, so any `signal` issued after the
//! unlock sees the registration. [`Cond::signal`] marks and wakes the first
//! waiter; [`Cond::broadcast`] all of them. As in Go, callers must re-check
//! their condition in a loop: another task may run between the signal and
//! the relock.
//!
//! Cancellation: a waiter dropped after `signal` picked it passes the
//! signal to the next waiter, so a signal is never swallowed by a dropped
//! future; a broadcast is not passed on.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use gosched_executor::coop;
use gosched_executor::task::WaitReason;

use crate::loom::{lock, Mutex as StdMutex};
use crate::waitlist::{park, ready, Key, WaitList, Waiting};
use crate::{Mutex, MutexGuard};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Signal {
    No,
    One,
    All,
}

struct CondWaiter {
    waker: Option<Waker>,
    signal: Signal,
}

impl Waiting for CondWaiter {
    fn waker_mut(&mut self) -> &mut Option<Waker> {
        &mut self.waker
    }
    fn is_completed(&self) -> bool {
        self.signal != Signal::No
    }
}

/// A condition variable: tasks wait for a condition protected by a
/// [`Mutex`].
///
/// ```
/// use std::sync::Arc;
/// use gosched::sync::{Cond, Mutex};
/// futures::executor::block_on(async {
///     let state = Arc::new((Mutex::new(false), Cond::new()));
///     let s2 = state.clone();
///     let t = std::thread::spawn(move || {
///         futures::executor::block_on(async {
///             *s2.0.lock().await = true;
///             s2.1.signal();
///         })
///     });
///     let mut ready = state.0.lock().await;
///     while !*ready {
///         ready = state.1.wait(ready).await;
///     }
///     drop(ready);
///     t.join().unwrap();
/// });
/// ```
pub struct Cond {
    waiters: StdMutex<WaitList<CondWaiter>>,
}

impl Cond {
    /// A condition variable with no waiters.
    ///
    /// ```
    /// let _c = gosched::sync::Cond::new();
    /// ```
    pub fn new() -> Self {
        Cond {
            waiters: StdMutex::new(WaitList::new()),
        }
    }

    /// Unlocks `guard`'s mutex, waits for a signal, and locks it again.
    ///
    /// ```
    /// use gosched::sync::{Cond, Mutex};
    /// futures::executor::block_on(async {
    ///     let (m, c) = (Mutex::new(0), Cond::new());
    ///     let g = m.lock().await;
    ///     let wait = c.wait(g);
    ///     futures::pin_mut!(wait);
    ///     let waker = futures::task::noop_waker();
    ///     let mut cx = std::task::Context::from_waker(&waker);
    ///     assert!(wait.as_mut().poll(&mut cx).is_pending()); // unlocked, waiting
    ///     assert!(m.try_lock().is_some());
    ///     c.signal();
    ///     let g = wait.await;
    ///     assert_eq!(*g, 0);
    /// });
    /// # use std::future::Future;
    /// ```
    pub async fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex: &'a Mutex<T> = MutexGuard::mutex(&guard);
        let key = lock(&self.waiters).push_back(CondWaiter {
            waker: None,
            signal: Signal::No,
        });
        let waiting = CondWaiting {
            cond: self,
            key: Some(key),
        };
        drop(guard);
        waiting.await;
        mutex.lock().await
    }

    /// Wakes one waiting task, if any.
    ///
    /// ```
    /// gosched::sync::Cond::new().signal(); // nobody waits: no effect
    /// ```
    pub fn signal(&self) {
        let mut q = lock(&self.waiters);
        let waker = Self::signal_locked(&mut q);
        drop(q);
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn signal_locked(q: &mut WaitList<CondWaiter>) -> Option<Waker> {
        let k = q.pop_front()?;
        let w = q.get_mut(k);
        w.signal = Signal::One;
        w.waker.take()
    }

    /// Wakes every waiting task.
    ///
    /// ```
    /// gosched::sync::Cond::new().broadcast();
    /// ```
    pub fn broadcast(&self) {
        let mut q = lock(&self.waiters);
        let mut wakers = Vec::new();
        while let Some(k) = q.pop_front() {
            let w = q.get_mut(k);
            w.signal = Signal::All;
            wakers.extend(w.waker.take());
        }
        drop(q);
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl Default for Cond {
    fn default() -> Self {
        Cond::new()
    }
}

impl fmt::Debug for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cond").finish_non_exhaustive()
    }
}

/// Step 3 of [`Cond::wait`]: parked until signalled.
struct CondWaiting<'a> {
    cond: &'a Cond,
    key: Option<Key>,
}

impl Future for CondWaiting<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let progress = std::task::ready!(coop::poll_proceed(cx));
        if this.key.is_none() {
            return Poll::Ready(());
        }
        let mut q = lock(&this.cond.waiters);
        if q.repoll(&mut this.key, cx).is_some() {
            drop(q);
            return ready(progress, ());
        }
        drop(q);
        park(progress, WaitReason::CondWait)
    }
}

impl Drop for CondWaiting<'_> {
    fn drop(&mut self) {
        let Some(k) = self.key.take() else { return };
        let mut q = lock(&self.cond.waiters);
        let w = q.remove(k);
        let waker = if w.signal == Signal::One {
            Cond::signal_locked(&mut q)
        } else {
            None
        };
        drop(q);
        if let Some(w) = waker {
            w.wake();
        }
    }
}
