//! `Notify`: wake one waiting task, or all of them, without data.
//!
//! # Design
//!
//! A std mutex guards `{ permit, waiters }`.
//!
//! 1. [`Notify::notified`] returns a future; on its first poll it consumes a
//!    stored permit if there is one (done), else parks
//!    (`WaitReason::Notify`).
//! 2. [`Notify::notify_one`] wakes the first parked waiter; with none
//!    parked it stores a single permit (several calls still store one), so
//!    a notify that races ahead of the wait is not lost.
//! 3. [`Notify::notify_waiters`] wakes every waiter parked *now* and stores
//!    no permit.
//!
//! Cancellation: a future dropped after `notify_one` picked it, but before
//! it was polled, passes the notification on (to the next waiter or the
//! permit), so `notify_one` is never lost. One woken by `notify_waiters`
//! passes nothing on: that notification was for the waiters of that moment.
//!
//! Unlike tokio's `Notified`, a future joins the queue at its first poll,
//! not at creation.
//!
//! # Invariants
//!
//! - `permit` is only set while no waiter is parked.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use gosched_executor::coop;
use gosched_executor::task::WaitReason;

use crate::loom::{lock, Mutex as StdMutex};
use crate::waitlist::{park, ready, Key, WaitList, Waiting};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Woken {
    No,
    One,
    All,
}

struct NotifyWaiter {
    waker: Option<Waker>,
    woken: Woken,
}

impl Waiting for NotifyWaiter {
    fn waker_mut(&mut self) -> &mut Option<Waker> {
        &mut self.waker
    }
    fn is_completed(&self) -> bool {
        self.woken != Woken::No
    }
}

struct NotifyState {
    permit: bool,
    waiters: WaitList<NotifyWaiter>,
}

/// Notifies tasks of an event.
///
/// ```
/// use gosched::sync::Notify;
/// futures::executor::block_on(async {
///     let n = Notify::new();
///     n.notify_one(); // stored as a permit: nobody waits yet
///     n.notified().await; // consumes it
/// });
/// ```
pub struct Notify {
    state: StdMutex<NotifyState>,
}

impl Notify {
    /// A `Notify` with no permit and no waiter.
    ///
    /// ```
    /// let _n = gosched::sync::Notify::new();
    /// ```
    pub fn new() -> Self {
        Notify {
            state: StdMutex::new(NotifyState {
                permit: false,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Waits for a notification.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let n = Arc::new(gosched::sync::Notify::new());
    /// let n2 = n.clone();
    /// let t = std::thread::spawn(move || n2.notify_one());
    /// futures::executor::block_on(n.notified());
    /// t.join().unwrap();
    /// ```
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            key: None,
        }
    }

    /// Wakes the first waiter, or stores a permit if none waits.
    ///
    /// ```
    /// let n = gosched::sync::Notify::new();
    /// n.notify_one();
    /// n.notify_one(); // still one permit
    /// futures::executor::block_on(n.notified());
    /// ```
    pub fn notify_one(&self) {
        let mut st = lock(&self.state);
        let waker = Self::notify_one_locked(&mut st);
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn notify_one_locked(st: &mut NotifyState) -> Option<Waker> {
        match st.waiters.pop_front() {
            Some(k) => {
                let w = st.waiters.get_mut(k);
                w.woken = Woken::One;
                w.waker.take()
            }
            None => {
                st.permit = true;
                None
            }
        }
    }

    /// Wakes every task waiting now; stores no permit.
    ///
    /// ```
    /// let n = gosched::sync::Notify::new();
    /// n.notify_waiters(); // nobody waits: nothing happens
    /// ```
    pub fn notify_waiters(&self) {
        let mut st = lock(&self.state);
        let mut wakers = Vec::new();
        while let Some(k) = st.waiters.pop_front() {
            let w = st.waiters.get_mut(k);
            w.woken = Woken::All;
            wakers.extend(w.waker.take());
        }
        drop(st);
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify")
            .field("permit", &lock(&self.state).permit)
            .finish()
    }
}

/// Future returned by [`Notify::notified`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Notified<'a> {
    notify: &'a Notify,
    key: Option<Key>,
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let progress = std::task::ready!(coop::poll_proceed(cx));
        let mut st = lock(&this.notify.state);
        if this.key.is_some() {
            if st.waiters.repoll(&mut this.key, cx).is_some() {
                drop(st);
                return ready(progress, ());
            }
        } else if st.permit {
            st.permit = false;
            drop(st);
            return ready(progress, ());
        } else {
            this.key = Some(st.waiters.push_back(NotifyWaiter {
                waker: Some(cx.waker().clone()),
                woken: Woken::No,
            }));
        }
        drop(st);
        park(progress, WaitReason::Notify)
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(k) = self.key.take() else { return };
        let mut st = lock(&self.notify.state);
        let w = st.waiters.remove(k);
        let waker = if w.woken == Woken::One {
            Notify::notify_one_locked(&mut st)
        } else {
            None
        };
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
    }
}
