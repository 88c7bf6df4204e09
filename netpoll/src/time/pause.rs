//! The clock as user code sees it: [`now`], and the paused clock for
//! tests, [`pause`], [`advance`], [`resume`] (tokio's `time::pause`
//! family).
//!
//! Each runtime's reactor has its own clock (`clock.rs`), so parallel
//! tests, each with its own runtime, never see each other's paused time.
//! These functions act on the clock of the current reactor.
//!
//! # Auto-advance
//!
//! While paused, the clock jumps to the next timer as soon as the runtime
//! has nothing else to do: every P idle, nothing queued, no
//! `spawn_blocking` closure running, and no tracked `block_on` future
//! running or woken (`driver.rs`, "auto-advance"). A test that waits out
//! an hour-long timeout therefore finishes in milliseconds of real time,
//! and sees an hour pass on [`now`].
//!
//! The future a thread runs with `block_on` is not on a P, so the
//! scheduler does not see it working; [`track`] wraps it so that it
//! counts (the `gosched` crate's `run`, `block_on` and `Runtime::block_on`,
//! and `#[gosched::test]`, wrap theirs). A tracked future holds the clock
//! still from the moment it is woken until its poll returns `Pending`
//! without having been woken again.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use super::clock::PAUSED_CLOCKS;
use crate::loom::lock_std as lock;
use crate::reactor::{Inner, Reactor};

/// The current time on the current reactor's clock (Go's `time.Now`):
/// `Instant::now()` unless a test paused the clock.
///
/// Deadlines handed to this crate's timers (`sleep_until`, `timeout_at`,
/// `interval_at`) should be made from this rather than from
/// `Instant::now()`: the two agree except while a clock is paused (or after
/// it was resumed, when it runs ahead by the time it was advanced).
///
/// ```
/// let rt = gosched::Runtime::new().unwrap();
/// let _enter = rt.handle().enter();
/// let a = gosched::time::now();
/// assert!(gosched::time::now() >= a);
/// ```
pub fn now() -> Instant {
    // While no clock of the process is paused, skip the reactor lookup.
    if PAUSED_CLOCKS.load(Relaxed) == 0 {
        return Instant::now();
    }
    Reactor::try_current().map_or_else(Instant::now, |r| r.now())
}

/// Pauses the current reactor's clock: [`now`] stands still, and timers
/// fire only when [`advance`] moves the clock or, once the runtime has
/// nothing else to do, when it jumps to the next timer by itself (module
/// docs). Pausing a paused clock does nothing.
///
/// # Panics
///
/// Outside a gosched runtime and outside [`Reactor::enter`].
///
/// ```
/// use std::time::Duration;
/// use gosched::time;
/// gosched::run(async {
///     time::pause();
///     let start = time::now();
///     time::sleep(Duration::from_secs(3600)).await; // at once
///     assert!(time::now() - start >= Duration::from_secs(3600));
/// });
/// ```
#[track_caller]
pub fn pause() {
    Reactor::current().inner.timers.pause();
}

/// Lets the current reactor's clock run again at real speed, from the time
/// it shows (it never goes back: timers set while paused keep their
/// order). Resuming a running clock does nothing.
///
/// # Panics
///
/// Outside a gosched runtime and outside [`Reactor::enter`].
///
/// ```
/// use std::time::Duration;
/// use gosched::time;
/// gosched::run(async {
///     time::pause();
///     time::resume();
///     let start = time::now();
///     time::sleep(Duration::from_millis(2)).await;
///     assert!(time::now() >= start + Duration::from_millis(2));
/// });
/// ```
#[track_caller]
pub fn resume() {
    Reactor::current().inner.timers.resume();
}

/// Moves the current reactor's clock forward by `by`, fires every timer
/// that became due (in tick order), and yields once so that the tasks
/// it woke can run. On a running clock it moves the clock ahead just the
/// same.
///
/// # Panics
///
/// Outside a gosched runtime and outside [`Reactor::enter`].
///
/// ```
/// use std::time::Duration;
/// use gosched::time;
/// gosched::run(async {
///     time::pause();
///     let t = time::Timer::new(Duration::from_secs(10));
///     time::advance(Duration::from_secs(10)).await;
///     assert!(t.c().try_recv().is_ok());
/// });
/// ```
#[track_caller]
pub fn advance(by: Duration) -> impl Future<Output = ()> {
    let reactor = Reactor::current();
    async move {
        reactor.inner.timers.advance(by, &mut Vec::new());
        gosched_executor::yield_now().await;
    }
}

/// Wraps a future that a thread runs with `block_on`, so that a paused
/// clock does not auto-advance while it runs or is about to (module
/// docs). Its reactor is the current one at its first poll; with none, it
/// is polled as it is.
#[doc(hidden)]
pub fn track<F: Future>(future: F) -> Tracked<F> {
    Tracked {
        future,
        tracker: None,
        looked_up: false,
    }
}

pin_project_lite::pin_project! {
    /// Future returned by [`track`].
    #[doc(hidden)]
    pub struct Tracked<F> {
        #[pin]
        future: F,
        tracker: Option<Arc<Tracker>>,
        looked_up: bool,
    }

    impl<F> PinnedDrop for Tracked<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(t) = this.project().tracker.take() {
                t.release();
            }
        }
    }
}

impl<F> std::fmt::Debug for Tracked<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracked").finish_non_exhaustive()
    }
}

/// The tracked future's standing with its reactor's inhibitor count: it
/// counts while `polling` or `woken`.
#[derive(Default)]
struct TrackState {
    polling: bool,
    woken: bool,
    /// This future is in the reactor's count now.
    counted: bool,
    /// The waker of the thread running `block_on`.
    waker: Option<Waker>,
}

/// Shared by the tracked future and the waker it polls its future with.
struct Tracker {
    reactor: Weak<Inner>,
    state: Mutex<TrackState>,
}

impl Tracker {
    /// Counts this future in, if it is not. Under the state lock.
    fn count_in(&self, st: &mut TrackState) {
        if !st.counted {
            st.counted = true;
            if let Some(r) = self.reactor.upgrade() {
                // SeqCst, as the poller's load (`Inner::runtime_is_idle`):
                // a count, no data rides on it.
                r.timers.inhibitor().fetch_add(1, SeqCst);
            }
        }
    }

    /// Counts this future out, if it is in; when that leaves the paused
    /// clock free to jump, kicks the poller to look. Under the state lock.
    fn count_out(&self, st: &mut TrackState) {
        if st.counted {
            st.counted = false;
            if let Some(r) = self.reactor.upgrade() {
                let was = r.timers.inhibitor().fetch_sub(1, SeqCst);
                if was == 1 && r.timers.is_paused() {
                    r.unpark();
                }
            }
        }
    }

    fn release(&self) {
        let mut st = lock(&self.state);
        self.count_out(&mut st);
    }
}

impl Wake for Tracker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let waker = {
            let mut st = lock(&self.state);
            st.woken = true;
            self.count_in(&mut st);
            st.waker.clone()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if !*this.looked_up {
            *this.looked_up = true;
            *this.tracker = Reactor::try_current().map(|r| {
                Arc::new(Tracker {
                    reactor: Arc::downgrade(&r.inner),
                    state: Mutex::new(TrackState::default()),
                })
            });
        }
        let Some(tracker) = this.tracker.as_ref() else {
            return this.future.poll(cx);
        };
        {
            let mut st = lock(&tracker.state);
            st.polling = true;
            st.woken = false;
            match &st.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => st.waker = Some(cx.waker().clone()),
            }
            tracker.count_in(&mut st);
        }
        let waker = Waker::from(tracker.clone());
        let res = this.future.poll(&mut Context::from_waker(&waker));
        let mut st = lock(&tracker.state);
        st.polling = false;
        if res.is_ready() || !st.woken {
            tracker.count_out(&mut st);
        }
        res
    }
}
