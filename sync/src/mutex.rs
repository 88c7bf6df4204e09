//! An async mutex with Go's starvation mode (`sync.Mutex`).
//!
//! # Problem
//!
//! A mutex wants two things that pull apart. Throughput wants *barging*: an
//! unlocked mutex goes to whoever asks first, usually a task that is already
//! running on a CPU, instead of waking a parked one and waiting for it to be
//! scheduled. Fairness wants *hand-off*: a parked waiter must not lose to
//! newcomers forever. A FIFO hand-off mutex (tokio's) is fair but pays a
//! wake-up and a context switch on every contended unlock; a pure barging
//! mutex can starve a waiter indefinitely.
//!
//! # Design (Go's `sync.Mutex`, adapted to futures)
//!
//! Two modes, as Go. In *normal* mode an unlock releases the lock and wakes
//! the first waiter, which then competes with newcomers; if it loses, it
//! goes back to the *front* of the queue. A waiter that has waited more than
//! [`STARVATION_THRESHOLD`] (1 ms, Go's `starvationThresholdNs`) switches the
//! mutex to *starvation* mode: unlock hands ownership straight to the first
//! waiter, and newcomers queue at the back without trying. The mode ends
//! when a grantee waited less than the threshold or the queue drains.
//!
//! State word (`state`), one bit each:
//! - `LOCKED`: someone owns the lock (in starvation mode it stays set
//!   across a hand-off).
//! - `STARVING`: starvation mode; `try_acquire` refuses.
//! - `WAITERS`: the queue is not empty, so unlock must take the slow path.
//!   Set and cleared only with the queue lock held.
//!
//! Lock, step by step (`poll_lock`):
//! 1. Fast path: CAS `LOCKED` into a state without `LOCKED`/`STARVING`;
//!    retry briefly (Go spins 4 times before parking).
//! 2. Slow path, under the queue lock: set `WAITERS`, *then* try once more.
//!    Because the fast unlock only succeeds on a state of exactly `LOCKED`,
//!    an unlock racing with this step either happened before the retry (the
//!    retry succeeds) or sees `WAITERS` and waits for the queue lock (and
//!    finds the new waiter). No wake-up is lost.
//! 3. Park at the back of the queue (`WaitReason::MutexLock`).
//! 4. When polled again: `granted` means the lock was handed over: done.
//!    Still linked means still waiting. Unlinked and not granted means an
//!    unlock woke us in normal mode: retry as in step 2, and on failure
//!    relink at the front, setting `STARVING` if we waited too long.
//!
//! Unlock (`unlock`):
//! 1. Fast path: CAS `LOCKED -> 0` (no waiters, not starving).
//! 2. Starvation mode: pop the first waiter, mark it `granted`, keep
//!    `LOCKED` set, wake it.
//! 3. Normal mode: clear `LOCKED`, pop the first waiter and wake it.
//!
//! Cancellation: a dropped lock future that was `granted` owns the lock and
//! unlocks it (passing it on); one that was woken but not granted passes the
//! wake-up to the next waiter if the lock is free; a queued one just leaves.
//!
//! # Invariants
//!
//! - `WAITERS` is set iff the queue is non-empty (both changed under the
//!   queue lock), except transiently inside a queue-locked section.
//! - A granted waiter owns the lock: `LOCKED` stayed set since the hand-off.
//! - `STARVING` is only set while `WAITERS` is set, and only cleared under
//!   the queue lock.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use gosched_executor::coop;
use gosched_executor::task::WaitReason;

use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{lock, spin, Mutex as StdMutex};
use crate::waitlist::{park, ready, update_waker, Key, WaitList, Waiting};

/// How long a waiter waits before the mutex switches to starvation mode
/// (Go's `starvationThresholdNs`).
pub const STARVATION_THRESHOLD: Duration = Duration::from_millis(1);

/// Someone owns the lock.
const LOCKED: usize = 1;
/// Starvation mode: hand-off only.
const STARVING: usize = 2;
/// The waiter queue is not empty.
const WAITERS: usize = 4;

/// Fast-path attempts before parking (Go's `active_spin`).
const SPIN_TRIES: usize = 4;
/// `spin_loop` hints per attempt (Go's `active_spin_cnt`).
const SPIN_PAUSES: usize = 30;

impl Waiting for LockWaiter {
    fn waker_mut(&mut self) -> &mut Option<Waker> {
        &mut self.waker
    }
    fn is_completed(&self) -> bool {
        self.granted
    }
}

struct LockWaiter {
    waker: Option<Waker>,
    since: Instant,
    /// Times this waiter was woken and lost to a newcomer.
    retries: u32,
    /// Ownership was handed over (starvation mode).
    granted: bool,
}

impl LockWaiter {
    fn starving(&self) -> bool {
        if cfg!(gosched_loom) {
            // Loom models must be deterministic: losing once counts as
            // starving, so the models reach the hand-off path.
            self.retries >= 1
        } else {
            self.since.elapsed() > STARVATION_THRESHOLD
        }
    }
}

/// An async mutual exclusion lock, with Go's starvation mode.
///
/// ```
/// use gosched::sync::Mutex;
/// futures::executor::block_on(async {
///     let m = Mutex::new(0);
///     *m.lock().await += 1;
///     assert_eq!(*m.lock().await, 1);
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    /// `LOCKED | STARVING | WAITERS` bits.
    state: AtomicUsize,
    /// Parked lockers; also guards `WAITERS`/`STARVING` transitions.
    waiters: StdMutex<WaitList<LockWaiter>>,
    /// Accessed only by the owner of `LOCKED`.
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `T` to one owner at a time, on any
// thread, so it is Send and Sync exactly when `T` can move between threads.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above; `&Mutex` only gives `&mut T` through the lock.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// A new unlocked mutex.
    ///
    /// ```
    /// let m = gosched::sync::Mutex::new(vec![1]);
    /// assert_eq!(m.into_inner(), vec![1]);
    /// ```
    pub fn new(value: T) -> Self {
        Mutex {
            state: AtomicUsize::new(0),
            waiters: StdMutex::new(WaitList::new()),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex, returning the value.
    ///
    /// ```
    /// assert_eq!(gosched::sync::Mutex::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, waiting if another task holds it.
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let m = gosched::sync::Mutex::new(String::new());
    ///     m.lock().await.push('x');
    ///     assert_eq!(&*m.lock().await, "x");
    /// });
    /// ```
    pub fn lock(&self) -> LockFuture<'_, T> {
        LockFuture {
            mutex: self,
            key: None,
        }
    }

    /// Locks the mutex from a thread that is not running tasks, parking
    /// the thread until the lock is its turn (the same queue and
    /// starvation rules as [`lock`](Self::lock)).
    ///
    /// # Panics
    ///
    /// On a gosched worker thread, where it would stall the tasks queued
    /// on it: use `.lock().await` there (or `gosched::block_in_place`).
    ///
    /// ```
    /// let m = std::sync::Arc::new(gosched::sync::Mutex::new(0));
    /// let m2 = m.clone();
    /// std::thread::spawn(move || *m2.blocking_lock() += 1).join().unwrap();
    /// assert_eq!(*m.blocking_lock(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        crate::blocking::forbid_on_worker(
            "Mutex::blocking_lock",
            "use `.lock().await` inside a task",
        );
        crate::blocking::wait(self.lock())
    }

    /// Locks the mutex if it is free right now (and not in starvation
    /// mode, where it belongs to the queue).
    ///
    /// ```
    /// let m = gosched::sync::Mutex::new(1);
    /// let g = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_none());
    /// drop(g);
    /// assert!(m.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.try_acquire().then(|| MutexGuard { mutex: self })
    }

    /// Locks the mutex through an `Arc`, returning a guard that owns a
    /// reference to it: `'static`, so it can move into a spawned task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// futures::executor::block_on(async {
    ///     let m = Arc::new(gosched::sync::Mutex::new(1));
    ///     let mut g = m.clone().lock_owned().await;
    ///     *g += 1;
    ///     std::thread::spawn(move || drop(g)).join().unwrap();
    ///     assert_eq!(*m.lock().await, 2);
    /// });
    /// ```
    pub async fn lock_owned(self: std::sync::Arc<Self>) -> OwnedMutexGuard<T> {
        // The borrowed guard's unlock duty moves to the owned guard.
        std::mem::forget(self.lock().await);
        OwnedMutexGuard { mutex: self }
    }

    /// [`try_lock`](Self::try_lock) through an `Arc`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(gosched::sync::Mutex::new(()));
    /// let g = m.clone().try_lock_owned().unwrap();
    /// assert!(m.clone().try_lock_owned().is_none());
    /// drop(g);
    /// ```
    pub fn try_lock_owned(self: std::sync::Arc<Self>) -> Option<OwnedMutexGuard<T>> {
        self.try_acquire().then(|| OwnedMutexGuard { mutex: self })
    }

    /// Mutable access without locking: `&mut self` proves exclusivity.
    ///
    /// ```
    /// let mut m = gosched::sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Whether the mutex is in starvation mode (for tests and debugging).
    ///
    /// ```
    /// assert!(!gosched::sync::Mutex::new(()).is_starving());
    /// ```
    pub fn is_starving(&self) -> bool {
        self.state.load(Ordering::Relaxed) & STARVING != 0
    }

    fn try_acquire(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & (LOCKED | STARVING) != 0 {
                return false;
            }
            // Acquire pairs with the Release in `unlock` of the previous
            // owner, so its writes to `data` are visible.
            match self.state.compare_exchange_weak(
                s,
                s | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => s = actual,
            }
        }
    }

    /// Steps 2-3 of lock for a new waiter, or the retry of step 4 for a
    /// woken one (`key`), all under the queue lock. True if acquired.
    fn acquire_or_park(&self, cx: &mut Context<'_>, key: &mut Option<Key>) -> bool {
        let mut q = lock(&self.waiters);
        // Relaxed is enough: this RMW and the unlocker's fast-path CAS act
        // on the same word, so its modification order alone decides which
        // came first (step 2 of "Lock"); the retry below has its own
        // Acquire CAS for the data.
        self.state.fetch_or(WAITERS, Ordering::Relaxed);
        if self.try_acquire() {
            if let Some(k) = key.take() {
                q.remove(k);
            }
            if q.is_empty() {
                self.state.fetch_and(!WAITERS, Ordering::Relaxed);
            }
            return true;
        }
        match *key {
            None => {
                *key = Some(q.push_back(LockWaiter {
                    waker: Some(cx.waker().clone()),
                    since: Instant::now(),
                    retries: 0,
                    granted: false,
                }));
            }
            Some(k) => {
                let w = q.get_mut(k);
                w.retries += 1;
                update_waker(&mut w.waker, cx.waker());
                if w.starving() {
                    self.state.fetch_or(STARVING, Ordering::Relaxed);
                }
                // Go requeues a woken waiter at the front (LIFO).
                q.link_front(k);
            }
        }
        false
    }

    fn poll_lock(&self, cx: &mut Context<'_>, key: &mut Option<Key>) -> Poll<()> {
        let progress = std::task::ready!(coop::poll_proceed(cx));
        match *key {
            None => {
                // Step 1.
                for _ in 0..SPIN_TRIES {
                    if self.try_acquire() {
                        progress.made_progress();
                        return Poll::Ready(());
                    }
                    if self.state.load(Ordering::Relaxed) & STARVING != 0 {
                        break;
                    }
                    for _ in 0..SPIN_PAUSES {
                        spin();
                    }
                }
            }
            Some(k) => {
                // Step 4.
                let mut q = lock(&self.waiters);
                if q.is_linked(k) || q.get_mut(k).granted {
                    // Still queued, or handed the lock: the common re-poll.
                    if q.repoll(key, cx).is_some() {
                        drop(q);
                        return ready(progress, ());
                    }
                    drop(q);
                    return park(progress, WaitReason::MutexLock);
                }
            }
        }
        if self.acquire_or_park(cx, key) {
            return ready(progress, ());
        }
        park(progress, WaitReason::MutexLock)
    }

    /// Releases the lock; see "Unlock" in the module docs.
    fn unlock(&self) {
        // Step 1. Release pairs with the Acquire CAS in `try_acquire`.
        if self
            .state
            .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
        let mut q = lock(&self.waiters);
        let s = self.state.load(Ordering::Relaxed);
        let waker = if s & STARVING != 0 {
            // Step 2: hand off; LOCKED stays set.
            match q.pop_front() {
                Some(k) => {
                    let w = q.get_mut(k);
                    w.granted = true;
                    let waker = w.waker.take();
                    let still_starving = w.starving();
                    let empty = q.is_empty();
                    if empty || !still_starving {
                        self.state.fetch_and(!STARVING, Ordering::Relaxed);
                    }
                    if empty {
                        self.state.fetch_and(!WAITERS, Ordering::Relaxed);
                    }
                    waker
                }
                None => {
                    // Every starving waiter was cancelled: leave the mode.
                    // Release: as in step 1.
                    self.state
                        .fetch_and(!(LOCKED | STARVING | WAITERS), Ordering::Release);
                    None
                }
            }
        } else {
            // Step 3. Release: as in step 1.
            self.state.fetch_and(!LOCKED, Ordering::Release);
            self.wake_first(&mut q)
        };
        drop(q);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Unlinks the first waiter and returns its waker (normal mode).
    fn wake_first(&self, q: &mut WaitList<LockWaiter>) -> Option<Waker> {
        let k = q.pop_front()?;
        if q.is_empty() {
            self.state.fetch_and(!WAITERS, Ordering::Relaxed);
        }
        q.get_mut(k).waker.take()
    }

    /// A lock future was dropped while parked or woken; see "Cancellation".
    fn cancel(&self, key: Key) {
        let mut q = lock(&self.waiters);
        let was_linked = q.is_linked(key);
        let w = q.remove(key);
        if w.granted {
            drop(q);
            self.unlock();
            return;
        }
        let mut waker = None;
        if q.is_empty() {
            self.state
                .fetch_and(!(WAITERS | STARVING), Ordering::Relaxed);
        } else if !was_linked && self.state.load(Ordering::Relaxed) & LOCKED == 0 {
            // We consumed a normal-mode wake-up and the lock is free: pass
            // the wake-up on, or the queue would sleep with the lock free.
            waker = self.wake_first(&mut q);
        }
        drop(q);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.load(Ordering::Relaxed);
        f.debug_struct("Mutex")
            .field("locked", &(s & LOCKED != 0))
            .field("starving", &(s & STARVING != 0))
            .finish_non_exhaustive()
    }
}

/// Future returned by [`Mutex::lock`].
#[must_use = "futures do nothing unless polled"]
pub struct LockFuture<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    key: Option<Key>,
}

impl<T: ?Sized> fmt::Debug for LockFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockFuture")
            .field("parked", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

impl<'a, T: ?Sized> Future for LockFuture<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        std::task::ready!(this.mutex.poll_lock(cx, &mut this.key));
        Poll::Ready(MutexGuard { mutex: this.mutex })
    }
}

impl<T: ?Sized> Drop for LockFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            self.mutex.cancel(k);
        }
    }
}

/// Access to the data of a locked [`Mutex`]; unlocks on drop. It is `Send`
/// (when `T` is), so it may be held across an `.await` in a spawned task.
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
}

// SAFETY: the guard is the unique owner of the lock; moving it to another
// thread moves that ownership, which is fine when `T: Send`.
unsafe impl<T: ?Sized + Send> Send for MutexGuard<'_, T> {}
// SAFETY: `&MutexGuard` only gives `&T`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks (an associated function, so it does not
    /// shadow a method of `T`).
    ///
    /// ```
    /// use gosched::sync::{Mutex, MutexGuard};
    /// let m = Mutex::new(1);
    /// let g = m.try_lock().unwrap();
    /// assert!(std::ptr::eq(MutexGuard::mutex(&g), &m));
    /// ```
    pub fn mutex(guard: &Self) -> &'a Mutex<T> {
        guard.mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this task owns `LOCKED`, so no
        // one else accesses `data`.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this access unique.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A guard that owns an `Arc` of its [`Mutex`]: `'static` and `Send` (when
/// `T` is), from [`Mutex::lock_owned`]. Unlocks on drop.
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    mutex: std::sync::Arc<Mutex<T>>,
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use gosched::sync::{Mutex, OwnedMutexGuard};
    /// let m = Arc::new(Mutex::new(0));
    /// let g = m.clone().try_lock_owned().unwrap();
    /// assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&g), &m));
    /// ```
    pub fn mutex(guard: &Self) -> &std::sync::Arc<Mutex<T>> {
        &guard.mutex
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while it owns `LOCKED` (moved from
        // a borrowed guard or taken by `try_acquire`).
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this access unique.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
