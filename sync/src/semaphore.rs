//! A weighted, fair (FIFO) async semaphore: Go's `x/sync/semaphore`.
//!
//! # Problem
//!
//! Bound the concurrency of something (connections, memory in bytes, jobs)
//! where each acquirer may need a different number of permits, without
//! starving large requests: if small requests could slip past a large one
//! waiting at the front, the large one might never run.
//!
//! # Rejected alternatives
//!
//! - An atomic permit counter with a lock-free fast path (tokio's): faster
//!   when uncontended, but the fast path must still check "nobody queued"
//!   to stay FIFO, which needs the queue state in the same atomic word.
//!   Rejected for now: Go's own semaphore is a mutex plus a list, and a
//!   std mutex costs ~20 ns uncontended. Revisit with the benchmark.
//!
//! # Design
//!
//! A std mutex guards `{ permits, queue }`. Acquire of `n`, step by step:
//! 1. If the queue is empty and `n <= permits`, take them: done.
//! 2. Otherwise park at the back with `need = n` (`WaitReason::Semacquire`).
//!
//! Release of `n` (`release`): add them, then grant from the *front* while
//! the front waiter's `need` fits (`grant_locked`); stop at the first that
//! does not fit, even if a later, smaller one would (Go's rule, no
//! starvation of large requests). Granted waiters are marked and woken
//! after the lock is dropped.
//!
//! Cancellation: a dropped acquire future that was already granted gives
//! its permits back (`release`); one that was queued leaves the queue, and
//! if it was at the front, the waiters behind it are re-examined (they may
//! fit now).
//!
//! # Invariants
//!
//! - `permits` never counts permits held by a `Permit` or a granted waiter.
//! - If the queue is non-empty, its front waiter needs more than `permits`
//!   (otherwise `grant_locked` would have granted it).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use gosched_executor::coop;
use gosched_executor::task::{set_wait_reason, WaitReason};

use crate::loom::{lock, Mutex as StdMutex};
use crate::waitlist::{update_waker, Key, WaitList};

struct SemWaiter {
    need: usize,
    waker: Option<Waker>,
    granted: bool,
}

struct SemState {
    permits: usize,
    queue: WaitList<SemWaiter>,
}

/// A weighted, FIFO-fair async semaphore.
///
/// ```
/// use gosched_sync::Semaphore;
/// futures::executor::block_on(async {
///     let sem = Semaphore::new(3);
///     let two = sem.acquire_many(2).await;
///     assert_eq!(sem.available_permits(), 1);
///     assert!(sem.try_acquire_many(2).is_none());
///     drop(two);
///     assert_eq!(sem.available_permits(), 3);
/// });
/// ```
pub struct Semaphore {
    state: StdMutex<SemState>,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    ///
    /// ```
    /// assert_eq!(gosched_sync::Semaphore::new(4).available_permits(), 4);
    /// ```
    pub fn new(permits: usize) -> Self {
        Semaphore {
            state: StdMutex::new(SemState {
                permits,
                queue: WaitList::new(),
            }),
        }
    }

    /// Permits free right now.
    ///
    /// ```
    /// let s = gosched_sync::Semaphore::new(1);
    /// let _p = s.try_acquire().unwrap();
    /// assert_eq!(s.available_permits(), 0);
    /// ```
    pub fn available_permits(&self) -> usize {
        lock(&self.state).permits
    }

    /// Adds `n` permits (waking waiters that now fit).
    ///
    /// ```
    /// let s = gosched_sync::Semaphore::new(0);
    /// s.add_permits(2);
    /// assert_eq!(s.available_permits(), 2);
    /// ```
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Acquires one permit, waiting in FIFO order.
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let s = gosched_sync::Semaphore::new(1);
    ///     let p = s.acquire().await;
    ///     assert_eq!(p.permits(), 1);
    /// });
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Acquires `n` permits at once, waiting in FIFO order. A request for
    /// more permits than the semaphore will ever have waits forever (as in
    /// Go); `n == 0` completes at once.
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let s = gosched_sync::Semaphore::new(5);
    ///     let p = s.acquire_many(5).await;
    ///     assert_eq!(s.available_permits(), 0);
    ///     drop(p);
    /// });
    /// ```
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        Acquire {
            sem: self,
            n,
            key: None,
        }
    }

    /// Takes one permit if one is free and nobody is queued.
    ///
    /// ```
    /// let s = gosched_sync::Semaphore::new(1);
    /// let p = s.try_acquire();
    /// assert!(p.is_some());
    /// assert!(s.try_acquire().is_none());
    /// ```
    pub fn try_acquire(&self) -> Option<Permit<'_>> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is queued.
    ///
    /// ```
    /// let s = gosched_sync::Semaphore::new(2);
    /// assert!(s.try_acquire_many(3).is_none());
    /// assert!(s.try_acquire_many(2).is_some());
    /// ```
    pub fn try_acquire_many(&self, n: usize) -> Option<Permit<'_>> {
        self.try_take(n).then(|| Permit { sem: self, n })
    }

    /// Acquires `n` permits held by an [`OwnedPermit`], which keeps the
    /// semaphore alive and can move into a spawned task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// futures::executor::block_on(async {
    ///     let s = Arc::new(gosched_sync::Semaphore::new(2));
    ///     let p = s.clone().acquire_many_owned(2).await;
    ///     std::thread::spawn(move || drop(p)).join().unwrap();
    ///     assert_eq!(s.available_permits(), 2);
    /// });
    /// ```
    pub async fn acquire_many_owned(self: std::sync::Arc<Self>, n: usize) -> OwnedPermit {
        self.acquire_many(n).await.forget();
        OwnedPermit { sem: self, n }
    }

    /// Acquires one permit held by an [`OwnedPermit`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// futures::executor::block_on(async {
    ///     let s = Arc::new(gosched_sync::Semaphore::new(1));
    ///     let p = s.clone().acquire_owned().await;
    ///     assert_eq!(p.permits(), 1);
    /// });
    /// ```
    pub async fn acquire_owned(self: std::sync::Arc<Self>) -> OwnedPermit {
        self.acquire_many_owned(1).await
    }

    /// Takes `n` permits if the queue is empty and they fit.
    fn try_take(&self, n: usize) -> bool {
        let mut st = lock(&self.state);
        if st.queue.is_empty() && st.permits >= n {
            st.permits -= n;
            true
        } else {
            false
        }
    }

    /// Returns `n` permits and grants front waiters that fit.
    fn release(&self, n: usize) {
        let mut st = lock(&self.state);
        st.permits = st
            .permits
            .checked_add(n)
            .expect("semaphore permit overflow");
        let wakers = Self::grant_locked(&mut st);
        drop(st);
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Grants waiters from the front while their need fits.
    fn grant_locked(st: &mut SemState) -> Vec<Waker> {
        let mut wakers = Vec::new();
        while let Some(k) = st.queue.front() {
            let need = st.queue.get_mut(k).need;
            if need > st.permits {
                break;
            }
            st.permits -= need;
            st.queue.unlink(k);
            let w = st.queue.get_mut(k);
            w.granted = true;
            if let Some(waker) = w.waker.take() {
                wakers.push(waker);
            }
        }
        wakers
    }

    fn poll_acquire(&self, cx: &mut Context<'_>, n: usize, key: &mut Option<Key>) -> Poll<()> {
        let progress = std::task::ready!(coop::poll_proceed(cx));
        let mut st = lock(&self.state);
        match *key {
            Some(k) => {
                let w = st.queue.get_mut(k);
                if w.granted {
                    st.queue.remove(k);
                    *key = None;
                    drop(st);
                    progress.made_progress();
                    return Poll::Ready(());
                }
                update_waker(&mut w.waker, cx.waker());
            }
            None => {
                if st.queue.is_empty() && st.permits >= n {
                    st.permits -= n;
                    drop(st);
                    progress.made_progress();
                    return Poll::Ready(());
                }
                *key = Some(st.queue.push_back(SemWaiter {
                    need: n,
                    waker: Some(cx.waker().clone()),
                    granted: false,
                }));
            }
        }
        drop(st);
        drop(progress);
        set_wait_reason(WaitReason::Semacquire);
        Poll::Pending
    }

    fn cancel(&self, key: Key) {
        let mut st = lock(&self.state);
        let was_front = st.queue.front() == Some(key);
        let w = st.queue.remove(key);
        if w.granted {
            drop(st);
            self.release(w.need);
            return;
        }
        let wakers = if was_front {
            Self::grant_locked(&mut st)
        } else {
            Vec::new()
        };
        drop(st);
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.state);
        f.debug_struct("Semaphore")
            .field("permits", &st.permits)
            .field("waiters", &!st.queue.is_empty())
            .finish()
    }
}

/// Future returned by [`Semaphore::acquire`] and [`Semaphore::acquire_many`].
#[must_use = "futures do nothing unless polled"]
pub struct Acquire<'a> {
    sem: &'a Semaphore,
    n: usize,
    key: Option<Key>,
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire").field("n", &self.n).finish()
    }
}

impl<'a> Future for Acquire<'a> {
    type Output = Permit<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit<'a>> {
        let this = self.get_mut();
        std::task::ready!(this.sem.poll_acquire(cx, this.n, &mut this.key));
        Poll::Ready(Permit {
            sem: this.sem,
            n: this.n,
        })
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            self.sem.cancel(k);
        }
    }
}

/// Permits borrowed from a [`Semaphore`]; returned on drop.
#[must_use = "the permits are returned as soon as this is dropped"]
pub struct Permit<'a> {
    sem: &'a Semaphore,
    n: usize,
}

impl Permit<'_> {
    /// How many permits this holds.
    ///
    /// ```
    /// let s = gosched_sync::Semaphore::new(3);
    /// assert_eq!(s.try_acquire_many(2).unwrap().permits(), 2);
    /// ```
    pub fn permits(&self) -> usize {
        self.n
    }

    /// Keeps the permits out of the semaphore for good.
    ///
    /// ```
    /// let s = gosched_sync::Semaphore::new(1);
    /// s.try_acquire().unwrap().forget();
    /// assert_eq!(s.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.n = 0;
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.n > 0 {
            self.sem.release(self.n);
        }
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("n", &self.n).finish()
    }
}

/// Permits of an `Arc<Semaphore>`; returned on drop. `Send + 'static`.
#[must_use = "the permits are returned as soon as this is dropped"]
pub struct OwnedPermit {
    sem: std::sync::Arc<Semaphore>,
    n: usize,
}

impl OwnedPermit {
    /// How many permits this holds.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let s = Arc::new(gosched_sync::Semaphore::new(1));
    /// let p = futures::executor::block_on(s.clone().acquire_owned());
    /// assert_eq!(p.permits(), 1);
    /// ```
    pub fn permits(&self) -> usize {
        self.n
    }
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        if self.n > 0 {
            self.sem.release(self.n);
        }
    }
}

impl fmt::Debug for OwnedPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").field("n", &self.n).finish()
    }
}
