//! `RwLock<T>`: many readers or one writer (Go's `sync.RWMutex`).
//!
//! # Problem
//!
//! Readers should share the lock, but a steady stream of readers must not
//! starve a writer. Go's rule: once a writer is waiting, new readers wait
//! too (`RLock` blocks if a writer is pending).
//!
//! # Design
//!
//! A std mutex guards `{ readers, writer, queue }`; the queue holds waiting
//! readers and writers in arrival order.
//!
//! 1. Read: if no writer holds the lock *and the queue is empty*, become a
//!    reader; else park (`WaitReason::RwLockRead`). The "queue is empty"
//!    clause is Go's rule: a waiting writer blocks new readers.
//! 2. Write: if nobody holds the lock and the queue is empty, become the
//!    writer; else park (`WaitReason::RwLockWrite`).
//! 3. Release (`grant_locked`), after a reader leaves or the writer leaves:
//!    grant from the front of the queue: a writer if nobody holds the lock;
//!    otherwise every consecutive reader at the front (a batch), stopping
//!    at the first writer.
//!
//! So the lock alternates fairly between a batch of readers and one writer,
//! in arrival order. Cancellation: a granted waiter that is dropped releases
//! what it was granted; a queued one leaves and re-runs step 3 (it may have
//! been the writer holding back a batch of readers).
//!
//! # Rejected alternative
//!
//! Go's atomic `readerCount` with a negative bias for a pending writer makes
//! uncontended `RLock` a single atomic add. Worth doing once benchmarks ask;
//! the lock-based version is easier to prove and already fair.
//!
//! # Invariants
//!
//! - `writer` implies `readers == 0`.
//! - If the queue is non-empty, its front cannot be granted right now.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use gosched_executor::coop;
use gosched_executor::task::WaitReason;

use crate::loom::{lock, Mutex as StdMutex};
use crate::waitlist::{park, ready, Key, WaitList, Waiting};

struct RwWaiter {
    write: bool,
    waker: Option<Waker>,
    granted: bool,
}

impl Waiting for RwWaiter {
    fn waker_mut(&mut self) -> &mut Option<Waker> {
        &mut self.waker
    }
    fn is_completed(&self) -> bool {
        self.granted
    }
}

struct RwState {
    readers: usize,
    writer: bool,
    queue: WaitList<RwWaiter>,
}

impl RwState {
    fn can_read(&self) -> bool {
        !self.writer && self.queue.is_empty()
    }

    fn can_write(&self) -> bool {
        !self.writer && self.readers == 0 && self.queue.is_empty()
    }

    /// Step 3: grant from the front; returns the wakers to call.
    fn grant_locked(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        while let Some(k) = self.queue.front() {
            let w = self.queue.get_mut(k);
            if w.write {
                if self.writer || self.readers > 0 {
                    break;
                }
                self.writer = true;
            } else if self.writer {
                break;
            } else {
                self.readers += 1;
            }
            let w = self.queue.get_mut(k);
            w.granted = true;
            wakers.extend(w.waker.take());
            let was_write = w.write;
            self.queue.unlink(k);
            if was_write {
                break;
            }
        }
        wakers
    }
}

/// An async reader-writer lock; a waiting writer blocks new readers.
///
/// ```
/// use gosched::sync::RwLock;
/// futures::executor::block_on(async {
///     let l = RwLock::new(1);
///     {
///         let a = l.read().await;
///         let b = l.read().await; // readers share
///         assert_eq!(*a + *b, 2);
///     }
///     *l.write().await += 1;
///     assert_eq!(*l.read().await, 2);
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    state: StdMutex<RwState>,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands `&mut T` to one writer at a time on any thread
// (needs `T: Send`) and `&T` to many readers at once on many threads
// (needs `T: Sync`).
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// A new unlocked lock.
    ///
    /// ```
    /// let l = gosched::sync::RwLock::new(5);
    /// assert_eq!(l.into_inner(), 5);
    /// ```
    pub fn new(value: T) -> Self {
        RwLock {
            state: StdMutex::new(RwState {
                readers: 0,
                writer: false,
                queue: WaitList::new(),
            }),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock, returning the value.
    ///
    /// ```
    /// assert_eq!(gosched::sync::RwLock::new("v").into_inner(), "v");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Locks for reading, waiting behind a writer or a waiting writer.
    ///
    /// ```
    /// let l = gosched::sync::RwLock::new(1);
    /// assert_eq!(*futures::executor::block_on(l.read()), 1);
    /// ```
    pub fn read(&self) -> RwLockFuture<'_, T, false> {
        RwLockFuture {
            lock: self,
            key: None,
        }
    }

    /// Locks for writing, waiting until no reader or writer holds it.
    ///
    /// ```
    /// let l = gosched::sync::RwLock::new(1);
    /// *futures::executor::block_on(l.write()) = 2;
    /// assert_eq!(l.into_inner(), 2);
    /// ```
    pub fn write(&self) -> RwLockFuture<'_, T, true> {
        RwLockFuture {
            lock: self,
            key: None,
        }
    }

    /// Locks for reading if that is possible right now.
    ///
    /// ```
    /// let l = gosched::sync::RwLock::new(1);
    /// let _w = l.try_write().unwrap();
    /// assert!(l.try_read().is_none());
    /// ```
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        let mut st = lock(&self.state);
        if st.can_read() {
            st.readers += 1;
            Some(RwLockReadGuard { lock: self })
        } else {
            None
        }
    }

    /// Locks for writing if that is possible right now.
    ///
    /// ```
    /// let l = gosched::sync::RwLock::new(1);
    /// let _r = l.try_read().unwrap();
    /// assert!(l.try_write().is_none());
    /// ```
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        let mut st = lock(&self.state);
        if st.can_write() {
            st.writer = true;
            Some(RwLockWriteGuard { lock: self })
        } else {
            None
        }
    }

    /// Mutable access without locking.
    ///
    /// ```
    /// let mut l = gosched::sync::RwLock::new(1);
    /// *l.get_mut() = 3;
    /// assert_eq!(l.into_inner(), 3);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    fn poll_acquire(&self, cx: &mut Context<'_>, write: bool, key: &mut Option<Key>) -> Poll<()> {
        let progress = std::task::ready!(coop::poll_proceed(cx));
        let mut st = lock(&self.state);
        if key.is_some() {
            if st.queue.repoll(key, cx).is_some() {
                drop(st);
                return ready(progress, ());
            }
        } else if if write { st.can_write() } else { st.can_read() } {
            if write {
                st.writer = true;
            } else {
                st.readers += 1;
            }
            drop(st);
            return ready(progress, ());
        } else {
            *key = Some(st.queue.push_back(RwWaiter {
                write,
                waker: Some(cx.waker().clone()),
                granted: false,
            }));
        }
        drop(st);
        park(
            progress,
            if write {
                WaitReason::RwLockWrite
            } else {
                WaitReason::RwLockRead
            },
        )
    }

    fn release(&self, write: bool) {
        let mut st = lock(&self.state);
        if write {
            st.writer = false;
        } else {
            st.readers -= 1;
        }
        let wakers = st.grant_locked();
        drop(st);
        wakers.into_iter().for_each(Waker::wake);
    }

    fn cancel(&self, key: Key) {
        let mut st = lock(&self.state);
        let w = st.queue.remove(key);
        if w.granted {
            drop(st);
            self.release(w.write);
            return;
        }
        let wakers = st.grant_locked();
        drop(st);
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = lock(&self.state);
        f.debug_struct("RwLock")
            .field("readers", &st.readers)
            .field("writer", &st.writer)
            .finish_non_exhaustive()
    }
}

/// Future returned by [`RwLock::read`] (`WRITE = false`) and
/// [`RwLock::write`] (`WRITE = true`).
#[must_use = "futures do nothing unless polled"]
pub struct RwLockFuture<'a, T: ?Sized, const WRITE: bool> {
    lock: &'a RwLock<T>,
    key: Option<Key>,
}

impl<T: ?Sized, const WRITE: bool> fmt::Debug for RwLockFuture<'_, T, WRITE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLockFuture")
            .field("write", &WRITE)
            .field("parked", &self.key.is_some())
            .finish()
    }
}

impl<'a, T: ?Sized> Future for RwLockFuture<'a, T, false> {
    type Output = RwLockReadGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        std::task::ready!(this.lock.poll_acquire(cx, false, &mut this.key));
        Poll::Ready(RwLockReadGuard { lock: this.lock })
    }
}

impl<'a, T: ?Sized> Future for RwLockFuture<'a, T, true> {
    type Output = RwLockWriteGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        std::task::ready!(this.lock.poll_acquire(cx, true, &mut this.key));
        Poll::Ready(RwLockWriteGuard { lock: this.lock })
    }
}

impl<T: ?Sized, const WRITE: bool> Drop for RwLockFuture<'_, T, WRITE> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            self.lock.cancel(k);
        }
    }
}

/// Shared access to a read-locked [`RwLock`].
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

// SAFETY: a read guard only gives `&T`; moving it to another thread is
// like sending `&T`, which needs `T: Sync`.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: while a read guard exists `readers > 0`, so no writer
        // exists and nobody has `&mut T`.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release(false);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// Exclusive access to a write-locked [`RwLock`].
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

// SAFETY: the write guard is the unique owner of `T` while it lives;
// moving it moves that ownership (`T: Send`).
unsafe impl<T: ?Sized + Send> Send for RwLockWriteGuard<'_, T> {}
// SAFETY: `&RwLockWriteGuard` only gives `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `writer` is set for this guard's lifetime: no other guard.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes the access unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release(true);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
