//! `OnceCell` and `Once`: run an async initializer exactly once (Go's
//! `sync.Once`, plus a cell for the value it produces).
//!
//! # Problem
//!
//! Several tasks may ask for a value at the same time; exactly one must run
//! the (async) initializer while the others wait, and if that initializer
//! is cancelled (its future dropped) or panics, another waiter must take
//! over rather than all of them hanging.
//!
//! # Rejected alternative
//!
//! A hand-written state word (`EMPTY/RUNNING/DONE`) with an `UnsafeCell`
//! for the value and its own waiter queue: it repeats what the pieces below
//! already prove, with more `unsafe`.
//!
//! # Design
//!
//! The value lives in a `std::sync::OnceLock` (lock-free reads once set).
//! Initializers are serialized by this crate's async [`Mutex`]:
//! 1. Fast path: `OnceLock::get`.
//! 2. Lock the init mutex (parking with `WaitReason::OnceWait`).
//! 3. Check again: a previous holder may have set the value.
//! 4. Run the initializer with the lock held, store the value, unlock.
//!
//! If the initializer's future is dropped or panics, the guard unlocks and
//! the next waiter runs its own initializer: cancellation-safe for free. The
//! mutex's FIFO-ish fairness (starvation mode) bounds how long any waiter
//! waits behind failing initializers.
//!
//! # Invariants
//!
//! - Once set, the value never changes; `get` never blocks.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use gosched_executor::task::{set_wait_reason, WaitReason};

use crate::Mutex;

/// A cell written once by an async initializer.
///
/// ```
/// use gosched::sync::OnceCell;
/// futures::executor::block_on(async {
///     let cell = OnceCell::new();
///     let v = cell.get_or_init(|| async { 40 + 2 }).await;
///     assert_eq!(*v, 42);
///     // The second initializer never runs.
///     assert_eq!(*cell.get_or_init(|| async { 0 }).await, 42);
/// });
/// ```
pub struct OnceCell<T> {
    value: OnceLock<T>,
    init: Mutex<()>,
}

impl<T> OnceCell<T> {
    /// An empty cell.
    ///
    /// ```
    /// assert!(gosched::sync::OnceCell::<u8>::new().get().is_none());
    /// ```
    pub fn new() -> Self {
        OnceCell {
            value: OnceLock::new(),
            init: Mutex::new(()),
        }
    }

    /// The value, if set.
    ///
    /// ```
    /// let c = gosched::sync::OnceCell::new();
    /// c.set(1).unwrap();
    /// assert_eq!(c.get(), Some(&1));
    /// ```
    pub fn get(&self) -> Option<&T> {
        self.value.get()
    }

    /// Sets the value if the cell is empty; gives it back otherwise.
    ///
    /// ```
    /// let c = gosched::sync::OnceCell::new();
    /// assert_eq!(c.set(1), Ok(()));
    /// assert_eq!(c.set(2), Err(2));
    /// ```
    pub fn set(&self, value: T) -> Result<(), T> {
        self.value.set(value)
    }

    /// The value, running `init` to produce it if the cell is empty. Only
    /// one initializer runs at a time; others wait and then see its value.
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let c = gosched::sync::OnceCell::new();
    ///     assert_eq!(c.get_or_init(|| async { "x" }).await, &"x");
    /// });
    /// ```
    pub async fn get_or_init<F, Fut>(&self, init: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        match self
            .get_or_try_init(|| async { Ok::<T, std::convert::Infallible>(init().await) })
            .await
        {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// Like [`get_or_init`](Self::get_or_init), but the initializer may
    /// fail; the cell then stays empty and the next caller tries again.
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let c = gosched::sync::OnceCell::<u8>::new();
    ///     assert_eq!(c.get_or_try_init(|| async { Err("no") }).await, Err("no"));
    ///     assert_eq!(c.get_or_try_init(|| async { Ok::<_, &str>(5) }).await, Ok(&5));
    /// });
    /// ```
    pub async fn get_or_try_init<E, F, Fut>(&self, init: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(v) = self.value.get() {
            return Ok(v);
        }
        let _guard = OnceWait(self.init.lock()).await;
        if let Some(v) = self.value.get() {
            return Ok(v);
        }
        let value = init().await?;
        // Only `set` can race with us, and it may win; either way the cell
        // holds exactly one value from now on.
        let _ = self.value.set(value);
        Ok(self.value.get().expect("just set"))
    }

    /// Takes the value out of the cell.
    ///
    /// ```
    /// let c = gosched::sync::OnceCell::new();
    /// c.set(vec![1]).unwrap();
    /// assert_eq!(c.into_inner(), Some(vec![1]));
    /// ```
    pub fn into_inner(self) -> Option<T> {
        self.value.into_inner()
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OnceCell").field(&self.value.get()).finish()
    }
}

/// Runs an async action exactly once: Go's `sync.Once`.
///
/// ```
/// use gosched::sync::Once;
/// futures::executor::block_on(async {
///     let once = Once::new();
///     let mut runs = 0;
///     for _ in 0..3 {
///         once.call_once(|| async { runs += 1 }).await;
///     }
///     assert_eq!(runs, 1);
///     assert!(once.is_completed());
/// });
/// ```
#[derive(Debug, Default)]
pub struct Once {
    cell: OnceCell<()>,
}

impl Once {
    /// A `Once` that has not run.
    ///
    /// ```
    /// assert!(!gosched::sync::Once::new().is_completed());
    /// ```
    pub fn new() -> Self {
        Once {
            cell: OnceCell::new(),
        }
    }

    /// Runs `f` if no call has completed yet; waits while another call
    /// runs. If that call is cancelled, a waiting call runs instead.
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let once = gosched::sync::Once::new();
    ///     once.call_once(|| async {}).await;
    /// });
    /// ```
    pub async fn call_once<F, Fut>(&self, f: F)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ()>,
    {
        self.cell.get_or_init(f).await;
    }

    /// Whether a call has completed.
    ///
    /// ```
    /// let once = gosched::sync::Once::new();
    /// futures::executor::block_on(once.call_once(|| async {}));
    /// assert!(once.is_completed());
    /// ```
    pub fn is_completed(&self) -> bool {
        self.cell.get().is_some()
    }
}

/// Waits on the init mutex, but reports `WaitReason::OnceWait`.
struct OnceWait<F>(F);

impl<F: Future + Unpin> Future for OnceWait<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let r = Pin::new(&mut self.0).poll(cx);
        if r.is_pending() {
            set_wait_reason(WaitReason::OnceWait);
        }
        r
    }
}
