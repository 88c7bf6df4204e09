//! Go's one-shot channel timers: [`after`], [`Timer`], [`after_func`].
//!
//! Each is one entry in the reactor's wheel whose action (`action.rs`)
//! sends the fire time into a channel of capacity 1, or runs a callback;
//! the thread that turns the wheel fires it, so a timer costs no task and
//! no thread. The entry is freed when it fires, or when the [`Timer`] is
//! stopped or dropped.
//!
//! # Go's semantics, and where they differ
//!
//! - [`Timer::stop`] and [`Timer::reset`] return what Go's do: true when
//!   the call stopped a timer that had not fired yet.
//! - As in Go before 1.23, the channel has room for one value and
//!   `stop`/`reset` do not drain it: a value sent before `stop` returned
//!   false stays in the channel. When `stop` returns false because the
//!   timer fired, the value is in the channel or about to be (the firing
//!   thread sends it just after taking the entry off the wheel), so Go's
//!   `if !t.Stop() { <-t.C }` works here as `if !t.stop() { t.c().recv().await; }`.
//! - A [`Timer`]'s channel stays open as long as the `Timer` lives, as Go's
//!   never closes. [`after`]'s channel closes once its value is sent (the
//!   wheel held its only sender): a second `recv` returns `None` where Go's
//!   would block forever. Dropping the receiver of `after` does not free
//!   the entry early; it goes when the deadline passes (use a [`Timer`]
//!   and stop it to free it at once).
//! - [`after_func`] runs its function in a task of its own on the runtime
//!   it was made in, as Go runs it in its own goroutine. Made outside any
//!   runtime (on a bare reactor), it runs the function on the thread that
//!   fires the timer.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gosched_executor::Handle;
use gosched_sync::chan;

use super::action::Action;
use super::sleep::far_deadline;
use super::wheel::TimerKey;
use crate::loom::lock_std as lock;
use crate::reactor::Reactor;

/// Waits for `d`, then sends the current time on the returned channel (Go's
/// `time.After`). The channel has room for the one value, and closes after
/// it.
///
/// # Panics
///
/// Outside a gosched runtime and outside [`Reactor::enter`].
///
/// ```
/// use std::time::Duration;
/// gosched::run(async {
///     let start = gosched::time::now();
///     let fired = gosched::time::after(Duration::from_millis(2)).recv().await.unwrap();
///     assert!(fired >= start + Duration::from_millis(2));
/// });
/// ```
#[track_caller]
pub fn after(d: Duration) -> chan::Receiver<Instant> {
    let reactor = Reactor::current();
    let (tx, rx) = chan::bounded(1);
    let deadline = far_deadline(reactor.now(), d);
    reactor.schedule(deadline, Action::Send(tx));
    rx
}

/// Runs `f` in a task of its own after `d` (Go's `time.AfterFunc`); the
/// returned [`Timer`] stops or re-arms it, and its channel never receives
/// anything (Go's `C` is nil for such a timer).
///
/// `f` is `Fn`, not `FnOnce`, because [`Timer::reset`] may run it again,
/// as Go's does. Made outside any runtime (a bare reactor), `f` runs on
/// the thread that fires the timer.
///
/// # Panics
///
/// Outside a gosched runtime and outside [`Reactor::enter`].
///
/// ```
/// use std::time::Duration;
/// use gosched::time::after_func;
/// gosched::run(async {
///     let (tx, rx) = gosched::sync::chan::bounded(1);
///     let _timer = after_func(Duration::from_millis(1), move || {
///         let _ = tx.try_send("fired");
///     });
///     assert_eq!(rx.recv().await, Some("fired"));
///     let stopped = after_func(Duration::from_secs(3600), || unreachable!());
///     assert!(stopped.stop(), "stopped before it fired");
/// });
/// ```
#[track_caller]
pub fn after_func<F>(d: Duration, f: F) -> Timer
where
    F: Fn() + Send + Sync + 'static,
{
    let func = Func {
        f: Arc::new(f),
        runtime: Handle::try_current(),
    };
    Timer::start(Reactor::current(), d, Some(func))
}

/// The function of an [`after_func`] timer and where it runs.
#[derive(Clone)]
struct Func {
    f: Arc<dyn Fn() + Send + Sync>,
    /// The runtime to spawn it on; `None`: run it on the firing thread.
    runtime: Option<Handle>,
}

impl Func {
    fn action(&self) -> Action {
        let this = self.clone();
        Action::Call(Box::new(move || match this.runtime {
            Some(rt) => drop(rt.spawn(async move { (this.f)() })),
            None => (this.f)(),
        }))
    }
}

/// A one-shot timer with a channel (Go's `time.Timer`): when it fires, the
/// current time is sent on [`Timer::c`] (or, for [`after_func`], its
/// function runs). Dropping it stops it and frees its wheel entry.
///
/// Its methods take `&self`, so one task may wait on the channel while
/// another stops or resets the timer, as in Go.
///
/// ```
/// use std::time::Duration;
/// use gosched::time::Timer;
/// gosched::run(async {
///     let t = Timer::new(Duration::from_millis(1));
///     t.c().recv().await.unwrap();
///     assert!(!t.stop(), "already fired");
///     assert!(!t.reset(Duration::from_millis(1)), "was not active");
///     t.c().recv().await.unwrap();
/// });
/// ```
pub struct Timer {
    c: chan::Receiver<Instant>,
    /// Keeps the channel open while the timer lives; each arming gives the
    /// wheel a clone.
    tx: chan::Sender<Instant>,
    reactor: Reactor,
    /// The wheel entry of the current arming; `None` once stopped. (A
    /// fired entry is freed by the wheel, leaving a stale key here.)
    key: Mutex<Option<TimerKey>>,
    func: Option<Func>,
}

impl Timer {
    /// A timer that fires once, after `d` (Go's `time.NewTimer`).
    ///
    /// # Panics
    ///
    /// Outside a gosched runtime and outside [`Reactor::enter`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let reactor = gosched::runtime::Reactor::new().unwrap();
    /// let _enter = reactor.enter();
    /// let t = gosched::time::Timer::new(Duration::from_secs(60));
    /// assert_eq!(reactor.num_timers(), 1);
    /// drop(t);
    /// assert_eq!(reactor.num_timers(), 0);
    /// ```
    #[track_caller]
    pub fn new(d: Duration) -> Timer {
        Timer::start(Reactor::current(), d, None)
    }

    fn start(reactor: Reactor, d: Duration, func: Option<Func>) -> Timer {
        let (tx, c) = chan::bounded(1);
        let timer = Timer {
            c,
            tx,
            reactor,
            key: Mutex::new(None),
            func,
        };
        *lock(&timer.key) = timer.arm(d);
        timer
    }

    /// Sets a new wheel entry `d` from now; returns its key.
    fn arm(&self, d: Duration) -> Option<TimerKey> {
        let action = match &self.func {
            Some(func) => func.action(),
            None => Action::Send(self.tx.clone()),
        };
        let deadline = far_deadline(self.reactor.now(), d);
        self.reactor.schedule(deadline, action)
    }

    /// The channel the fire time is sent on (Go's `t.C`).
    ///
    /// ```
    /// use std::time::Duration;
    /// gosched::run(async {
    ///     let t = gosched::time::Timer::new(Duration::ZERO);
    ///     assert!(t.c().recv().await.is_some());
    /// });
    /// ```
    pub fn c(&self) -> &chan::Receiver<Instant> {
        &self.c
    }

    /// Stops the timer; true when this call stopped it, false when it had
    /// already fired or been stopped (Go's `Stop`). The channel is not
    /// drained (module docs).
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let t = gosched::time::Timer::new(Duration::from_secs(60));
    /// assert!(t.stop());
    /// assert!(!t.stop());
    /// ```
    pub fn stop(&self) -> bool {
        let key = lock(&self.key).take();
        key.is_some_and(|k| self.reactor.cancel_timer(k))
    }

    /// Re-arms the timer to fire `d` from now; true when it was still
    /// active (had neither fired nor been stopped), as Go's `Reset`.
    ///
    /// ```
    /// use std::time::Duration;
    /// gosched::run(async {
    ///     let t = gosched::time::Timer::new(Duration::from_secs(3600));
    ///     assert!(t.reset(Duration::from_millis(1)), "it was active");
    ///     t.c().recv().await.unwrap();
    /// });
    /// ```
    pub fn reset(&self, d: Duration) -> bool {
        let mut key = lock(&self.key);
        let active = key.take().is_some_and(|k| self.reactor.cancel_timer(k));
        // The lock is held across the insert so that a concurrent `stop`
        // sees either the old key or the new one, never neither.
        *key = self.arm(d);
        active
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("after_func", &self.func.is_some())
            .finish_non_exhaustive()
    }
}
