//! `WaitGroup`: wait for a collection of tasks to finish (Go's
//! `sync.WaitGroup`).
//!
//! # Design
//!
//! A std mutex guards `{ count, waiters }`; a `WaitGroup` is a cheap handle
//! (an `Arc`) so it can be cloned into the tasks it counts.
//!
//! 1. [`WaitGroup::add`] adds to `count`; [`WaitGroup::done`] subtracts one.
//! 2. [`WaitGroup::wait`] completes at once if `count == 0`, otherwise parks
//!    (`WaitReason::WaitGroupWait`).
//! 3. The transition to zero marks every parked waiter `released` and wakes
//!    it, then empties the queue: later `add`s start a new round, as Go
//!    allows reuse once waiters are released.
//!
//! # Negative counter
//!
//! Go panics with "sync: negative WaitGroup counter". Doing the same keeps
//! the Go mental model and surfaces the bug where it happens. The counter
//! is never changed by a failing call, so a `catch_unwind` leaves the group
//! consistent. [`WaitGroup::token`] is the misuse-proof style: each token
//! adds one and its drop is the matching `done`, so the count cannot go
//! negative at all.
//!
//! # Invariants
//!
//! - `waiters` is empty whenever `count == 0`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use gosched_executor::coop;
use gosched_executor::task::WaitReason;

use crate::loom::{lock, Arc, Mutex as StdMutex};
use crate::waitlist::{park, ready, Key, WaitList, Waiting};

struct WgWaiter {
    waker: Option<Waker>,
    released: bool,
}

impl Waiting for WgWaiter {
    fn waker_mut(&mut self) -> &mut Option<Waker> {
        &mut self.waker
    }
    fn is_completed(&self) -> bool {
        self.released
    }
}

struct WgState {
    count: usize,
    waiters: WaitList<WgWaiter>,
}

/// Waits for a set of tasks to finish: Go's `sync.WaitGroup`.
///
/// ```
/// use gosched::sync::WaitGroup;
/// futures::executor::block_on(async {
///     let wg = WaitGroup::new();
///     let mut threads = Vec::new();
///     for _ in 0..3 {
///         let token = wg.token(); // add(1), and done() on drop
///         threads.push(std::thread::spawn(move || drop(token)));
///     }
///     wg.wait().await;
///     assert_eq!(wg.count(), 0);
///     for t in threads { t.join().unwrap(); }
/// });
/// ```
#[derive(Clone)]
pub struct WaitGroup {
    inner: Arc<StdMutex<WgState>>,
}

impl WaitGroup {
    /// A group with a count of zero.
    ///
    /// ```
    /// assert_eq!(gosched::sync::WaitGroup::new().count(), 0);
    /// ```
    pub fn new() -> Self {
        WaitGroup {
            inner: Arc::new(StdMutex::new(WgState {
                count: 0,
                waiters: WaitList::new(),
            })),
        }
    }

    /// Adds `n` to the counter.
    ///
    /// ```
    /// let wg = gosched::sync::WaitGroup::new();
    /// wg.add(2);
    /// assert_eq!(wg.count(), 2);
    /// ```
    pub fn add(&self, n: usize) {
        let mut st = lock(&self.inner);
        st.count = st.count.checked_add(n).expect("WaitGroup counter overflow");
    }

    /// Subtracts one from the counter, releasing the waiters at zero.
    ///
    /// # Panics
    ///
    /// If the counter is already zero ("sync: negative WaitGroup counter",
    /// as Go). Use [`WaitGroup::token`] to make this impossible.
    ///
    /// ```
    /// let wg = gosched::sync::WaitGroup::new();
    /// wg.add(1);
    /// wg.done();
    /// assert_eq!(wg.count(), 0);
    /// ```
    pub fn done(&self) {
        let mut st = lock(&self.inner);
        if st.count == 0 {
            drop(st);
            panic!("sync: negative WaitGroup counter");
        }
        st.count -= 1;
        if st.count > 0 {
            return;
        }
        let mut wakers = Vec::new();
        while let Some(k) = st.waiters.pop_front() {
            let w = st.waiters.get_mut(k);
            w.released = true;
            wakers.extend(w.waker.take());
        }
        drop(st);
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Adds one and returns a token whose drop calls [`done`](Self::done).
    ///
    /// ```
    /// let wg = gosched::sync::WaitGroup::new();
    /// let t = wg.token();
    /// assert_eq!(wg.count(), 1);
    /// drop(t);
    /// assert_eq!(wg.count(), 0);
    /// ```
    pub fn token(&self) -> WaitGroupToken {
        self.add(1);
        WaitGroupToken { wg: self.clone() }
    }

    /// The current counter.
    ///
    /// ```
    /// let wg = gosched::sync::WaitGroup::new();
    /// let _t = wg.token();
    /// assert_eq!(wg.count(), 1);
    /// ```
    pub fn count(&self) -> usize {
        lock(&self.inner).count
    }

    /// Waits until the counter is zero.
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let wg = gosched::sync::WaitGroup::new();
    ///     wg.wait().await; // zero: completes at once
    /// });
    /// ```
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            wg: self,
            key: None,
        }
    }

    /// Waits until the counter is zero from a thread that is not running
    /// tasks, parking the thread.
    ///
    /// # Panics
    ///
    /// On a gosched worker thread, where it would stall the tasks queued
    /// on it: use `.wait().await` there (or `gosched::block_in_place`).
    ///
    /// ```
    /// let wg = gosched::sync::WaitGroup::new();
    /// for _ in 0..2 {
    ///     let token = wg.token(); // add(1); done() when dropped
    ///     std::thread::spawn(move || drop(token));
    /// }
    /// wg.wait_blocking();
    /// assert_eq!(wg.count(), 0);
    /// ```
    #[track_caller]
    pub fn wait_blocking(&self) {
        crate::blocking::forbid_on_worker(
            "WaitGroup::wait_blocking",
            "use `.wait().await` inside a task",
        );
        crate::blocking::wait(self.wait())
    }
}

impl Default for WaitGroup {
    fn default() -> Self {
        WaitGroup::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}

/// One unit of a [`WaitGroup`]'s counter; dropping it calls `done`.
#[must_use = "dropping the token at once calls done()"]
#[derive(Debug)]
pub struct WaitGroupToken {
    wg: WaitGroup,
}

impl Drop for WaitGroupToken {
    fn drop(&mut self) {
        self.wg.done();
    }
}

/// Future returned by [`WaitGroup::wait`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Wait<'a> {
    wg: &'a WaitGroup,
    key: Option<Key>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let progress = std::task::ready!(coop::poll_proceed(cx));
        let mut st = lock(&this.wg.inner);
        if this.key.is_some() {
            if st.waiters.repoll(&mut this.key, cx).is_some() {
                drop(st);
                return ready(progress, ());
            }
        } else if st.count == 0 {
            drop(st);
            return ready(progress, ());
        } else {
            this.key = Some(st.waiters.push_back(WgWaiter {
                waker: Some(cx.waker().clone()),
                released: false,
            }));
        }
        drop(st);
        park(progress, WaitReason::WaitGroupWait)
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            lock(&self.wg.inner).waiters.remove(k);
        }
    }
}
