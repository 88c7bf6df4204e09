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
//! - Everything under one std mutex (Go's `x/sync/semaphore`, and this
//!   module's first design): simple, but with tasks on every P hammering
//!   one semaphore, each acquire and each release is a lock *and* an
//!   unlock on a contended line (the 100 tasks x 10k benchmark lost to
//!   tokio's atomic semaphore, 105 vs 99 ms).
//! - A lock-free waiter queue (tokio's batch semaphore): the queue stays
//!   behind the mutex here; only the uncontended counter goes atomic.
//!
//! # Design
//!
//! The free permits live in one atomic word, `word = permits << 1 |
//! QUEUED`; a std mutex guards the waiter queue. `QUEUED` is set exactly
//! when the queue holds a waiter, and it only changes under the mutex.
//! Permits are added by anyone at any time (`fetch_add`); they are taken
//! by a CAS, lock-free only while `QUEUED` is clear, and by the mutex
//! holder (for the queue's front) while it is set.
//!
//! Acquire of `n`, step by step (`try_take`, then `poll_acquire`):
//! 1. Fast path, no lock: if `QUEUED` is clear and `n <= permits`, CAS the
//!    permits down: done.
//! 2. Lock the queue. In one CAS loop on the word: take the permits if they
//!    fit and `QUEUED` is clear (a release raced step 1), or else set
//!    `QUEUED` (unless already set) and park at the back with `need = n`
//!    (`WaitReason::Semacquire`). Setting `QUEUED` by CAS is what makes a
//!    racing fast-path release either land before it (then we see the
//!    permits on the retry) or see `QUEUED` and take the slow path.
//!
//! Release of `n` (`release`):
//! 1. Add the permits with one `fetch_add`, which never retries: with
//!    tasks on two cores hammering one semaphore, a CAS loop here spent
//!    most of its time failing and retrying on the contended line. If the
//!    word it replaced had `QUEUED` clear: done.
//! 2. Otherwise lock the queue (`grant_locked`): grant from the *front*
//!    while the front waiter's `need` fits the permits in the word; stop at
//!    the first that does not fit, even if a later, smaller one would
//!    (Go's rule, no starvation of large requests). The permits taken, and
//!    `QUEUED` cleared if the queue empties, go in with one CAS, retried
//!    if a release added more meanwhile. Granted waiters are marked and
//!    woken after the lock is dropped.
//!
//! Cancellation: a dropped acquire future that was already granted gives
//! its permits back (`release`); one that was queued leaves the queue, and
//! if it was at the front, the waiters behind it are re-examined (they may
//! fit now; `grant_locked`, which also clears `QUEUED` if the queue
//! emptied).
//!
//! # Invariants
//!
//! - `permits` never counts permits held by a `Permit` or a granted waiter.
//! - `QUEUED` is set iff the queue is non-empty, whenever the mutex is free.
//! - If the queue is non-empty and no release is between its two steps,
//!   the front waiter needs more than `permits` (otherwise `grant_locked`
//!   would have granted it).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use gosched_executor::coop;
use gosched_executor::task::WaitReason;

use crate::loom::atomic::{AtomicUsize, Ordering};
use crate::loom::{lock, Mutex as StdMutex};
use crate::waitlist::{park, ready, Key, WaitList, Waiting};

struct SemWaiter {
    need: usize,
    waker: Option<Waker>,
    granted: bool,
}

impl Waiting for SemWaiter {
    fn waker_mut(&mut self) -> &mut Option<Waker> {
        &mut self.waker
    }
    fn is_completed(&self) -> bool {
        self.granted
    }
}

/// Bit 0 of the word: the queue holds at least one waiter. Set and cleared
/// only under the mutex.
const QUEUED: usize = 1;
/// The free permits sit above the `QUEUED` bit.
const PERMIT_SHIFT: u32 = 1;
/// Most permits a semaphore can count.
const MAX_PERMITS: usize = usize::MAX >> PERMIT_SHIFT;

/// Guarded by `Semaphore::state`.
struct SemState {
    queue: WaitList<SemWaiter>,
}

/// A weighted, FIFO-fair async semaphore.
///
/// ```
/// use gosched::sync::Semaphore;
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
    /// `permits << PERMIT_SHIFT | QUEUED`; see the module docs for who may
    /// write it when.
    word: AtomicUsize,
    state: StdMutex<SemState>,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds `usize::MAX >> 1` (one bit of the permit word
    /// is the queue flag).
    ///
    /// ```
    /// assert_eq!(gosched::sync::Semaphore::new(4).available_permits(), 4);
    /// ```
    pub fn new(permits: usize) -> Self {
        assert!(permits <= MAX_PERMITS, "semaphore permit overflow");
        Semaphore {
            word: AtomicUsize::new(permits << PERMIT_SHIFT),
            state: StdMutex::new(SemState {
                queue: WaitList::new(),
            }),
        }
    }

    /// Permits free right now.
    ///
    /// ```
    /// let s = gosched::sync::Semaphore::new(1);
    /// let _p = s.try_acquire().unwrap();
    /// assert_eq!(s.available_permits(), 0);
    /// ```
    pub fn available_permits(&self) -> usize {
        // Acquire pairs with the Release stores in `release`/`grant_locked`,
        // so a caller that saw its own release sees it counted.
        self.word.load(Ordering::Acquire) >> PERMIT_SHIFT
    }

    /// Adds `n` permits (waking waiters that now fit).
    ///
    /// # Panics
    ///
    /// If the total would exceed `usize::MAX >> 1`.
    ///
    /// ```
    /// let s = gosched::sync::Semaphore::new(0);
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
    ///     let s = gosched::sync::Semaphore::new(1);
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
    ///     let s = gosched::sync::Semaphore::new(5);
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
    /// let s = gosched::sync::Semaphore::new(1);
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
    /// let s = gosched::sync::Semaphore::new(2);
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
    ///     let s = Arc::new(gosched::sync::Semaphore::new(2));
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
    ///     let s = Arc::new(gosched::sync::Semaphore::new(1));
    ///     let p = s.clone().acquire_owned().await;
    ///     assert_eq!(p.permits(), 1);
    /// });
    /// ```
    pub async fn acquire_owned(self: std::sync::Arc<Self>) -> OwnedPermit {
        self.acquire_many_owned(1).await
    }

    /// Takes `n` permits if the queue is empty and they fit: acquire step 1,
    /// lock-free. Any thread.
    fn try_take(&self, n: usize) -> bool {
        let mut cur = self.word.load(Ordering::Relaxed);
        loop {
            if cur & QUEUED != 0 || cur >> PERMIT_SHIFT < n {
                return false;
            }
            // Acquire pairs with the Release that put these permits in
            // (`release` or `grant_locked`): what the releaser did while
            // holding them happens before what we do with them.
            match self.word.compare_exchange_weak(
                cur,
                cur - (n << PERMIT_SHIFT),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Returns `n` permits: lock-free when nobody is queued, else through
    /// `grant_locked`, which grants front waiters that fit. Any thread.
    fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        assert!(n <= MAX_PERMITS, "semaphore permit overflow");
        // Release pairs with the Acquire of whoever takes these permits
        // next (`try_take`, `poll_acquire` or `grant_locked`).
        let prev = self.word.fetch_add(n << PERMIT_SHIFT, Ordering::Release);
        assert!(
            (prev >> PERMIT_SHIFT) <= MAX_PERMITS - n,
            "semaphore permit overflow"
        );
        if prev & QUEUED == 0 {
            return;
        }
        let mut st = lock(&self.state);
        let wakers = self.grant_locked(&mut st);
        drop(st);
        wakers.wake_all();
    }

    /// Grants waiters from the front while their need fits the permits in
    /// the word, and clears `QUEUED` if that empties the queue (release
    /// step 2). Caller holds the queue lock (`st`), so the queue is stable
    /// and nobody else takes permits while `QUEUED` is set; releases may
    /// still add some, which only makes the CAS retry.
    fn grant_locked(&self, st: &mut SemState) -> Grants {
        let mut cur = self.word.load(Ordering::Relaxed);
        if cur & QUEUED == 0 {
            // Nobody queued (`QUEUED` only changes under the lock we hold).
            debug_assert!(st.queue.is_empty());
            return Grants::default();
        }
        loop {
            // How many front waiters fit, and what is left.
            let mut permits = cur >> PERMIT_SHIFT;
            let mut granted = 0;
            let mut k = st.queue.front();
            while let Some(key) = k {
                let need = st.queue.get_mut(key).need;
                if need > permits {
                    break;
                }
                permits -= need;
                granted += 1;
                k = st.queue.next(key);
            }
            let queued = if k.is_some() { QUEUED } else { 0 };
            if granted == 0 && queued != 0 {
                // Nothing fits and waiters remain: the word stays as is.
                return Grants::default();
            }
            // Acquire: the granted waiters take permits another thread
            // released. Release: once `QUEUED` clears, fast-path acquirers
            // take the rest.
            match self.word.compare_exchange_weak(
                cur,
                permits << PERMIT_SHIFT | queued,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        // The CAS took the permits for the first `granted` waiters: the
        // same ones, since the queue cannot change while we hold the lock.
        let mut wakers = Grants::default();
        let mut permits = cur >> PERMIT_SHIFT;
        while let Some(key) = st.queue.front() {
            let w = st.queue.get_mut(key);
            if w.need > permits {
                break;
            }
            permits -= w.need;
            w.granted = true;
            let waker = w.waker.take();
            st.queue.unlink(key);
            if let Some(waker) = waker {
                wakers.push(waker);
            }
        }
        wakers
    }

    fn poll_acquire(&self, cx: &mut Context<'_>, n: usize, key: &mut Option<Key>) -> Poll<()> {
        let progress = std::task::ready!(coop::poll_proceed(cx));
        if key.is_none() && self.try_take(n) {
            return ready(progress, ());
        }
        let mut st = lock(&self.state);
        match *key {
            Some(_) => {
                if st.queue.repoll(key, cx).is_some() {
                    drop(st);
                    return ready(progress, ());
                }
            }
            None => {
                // Acquire step 2, under the lock: take the permits, or
                // publish QUEUED before parking.
                let mut cur = self.word.load(Ordering::Relaxed);
                loop {
                    let (new, took) = if cur & QUEUED == 0 && cur >> PERMIT_SHIFT >= n {
                        (cur - (n << PERMIT_SHIFT), true)
                    } else if cur & QUEUED == 0 {
                        (cur | QUEUED, false)
                    } else {
                        // Already queued: join the back; whoever releases
                        // permits now takes the lock and grants the front.
                        break;
                    };
                    // Acquire pairs with the Release that put the permits
                    // in (when `took`); setting QUEUED publishes nothing
                    // (the queue is ordered by the mutex).
                    match self.word.compare_exchange_weak(
                        cur,
                        new,
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) if took => {
                            drop(st);
                            return ready(progress, ());
                        }
                        Ok(_) => break,
                        Err(actual) => cur = actual,
                    }
                }
                *key = Some(st.queue.push_back(SemWaiter {
                    need: n,
                    waker: Some(cx.waker().clone()),
                    granted: false,
                }));
            }
        }
        drop(st);
        park(progress, WaitReason::Semacquire)
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
            // The waiters behind may fit now; and if the queue emptied,
            // this clears QUEUED.
            self.grant_locked(&mut st)
        } else {
            Grants::default()
        };
        drop(st);
        wakers.wake_all();
    }
}

/// Wakers of waiters granted under the lock, woken after it is dropped.
///
/// A release of `n` permits usually grants exactly one waiter (one permit
/// back, one waiter of need 1), so the first waker is kept inline: the
/// contended acquire/release cycle allocates nothing. Further grants (a
/// release of many permits) spill into the `Vec`.
#[derive(Default)]
struct Grants {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Grants {
    fn push(&mut self, w: Waker) {
        if self.first.is_none() {
            self.first = Some(w);
        } else {
            self.rest.push(w);
        }
    }

    /// Wakes every granted waiter; call only after the lock is dropped.
    fn wake_all(self) {
        if let Some(w) = self.first {
            w.wake();
        }
        self.rest.into_iter().for_each(Waker::wake);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.word.load(Ordering::Relaxed);
        f.debug_struct("Semaphore")
            .field("permits", &(word >> PERMIT_SHIFT))
            .field("waiters", &(word & QUEUED != 0))
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
    /// let s = gosched::sync::Semaphore::new(3);
    /// assert_eq!(s.try_acquire_many(2).unwrap().permits(), 2);
    /// ```
    pub fn permits(&self) -> usize {
        self.n
    }

    /// Keeps the permits out of the semaphore for good.
    ///
    /// ```
    /// let s = gosched::sync::Semaphore::new(1);
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
    /// let s = Arc::new(gosched::sync::Semaphore::new(1));
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
