//! [`Sleep`]: a future that completes at a deadline.
//!
//! The future keeps the key of its wheel entry (see the `time` module docs
//! for the life of a sleep); it is `Unpin`, because the entry lives in the
//! wheel's slab, not inside the future.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use gosched_executor::coop;
use gosched_executor::task::{set_wait_reason, WaitReason};

use super::driver::Inserted;
use super::wheel::TimerKey;
use crate::reactor::Reactor;

/// Waits until `duration` has elapsed.
///
/// # Panics
///
/// Outside a gosched runtime and outside [`Reactor::enter`].
///
/// ```
/// use std::time::{Duration, Instant};
/// let reactor = gosched_netpoll::Reactor::new().unwrap();
/// reactor.block_on(async {
///     let start = Instant::now();
///     gosched_netpoll::time::sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(far_deadline(Instant::now(), duration))
}

/// Waits until `deadline`.
///
/// # Panics
///
/// Outside a gosched runtime and outside [`Reactor::enter`].
///
/// ```
/// use std::time::{Duration, Instant};
/// let reactor = gosched_netpoll::Reactor::new().unwrap();
/// reactor.block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(3);
///     gosched_netpoll::time::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new_in(Reactor::current(), deadline)
}

/// `start + duration`, or about 30 years from `start` if that overflows.
pub(crate) fn far_deadline(start: Instant, duration: Duration) -> Instant {
    start
        .checked_add(duration)
        .unwrap_or_else(|| start + Duration::from_secs(86_400 * 365 * 30))
}

/// Future returned by [`sleep`] and [`sleep_until`]. It is `Unpin`, so
/// it can be polled through `&mut` (in a `select!` loop, for instance).
///
/// ```
/// use std::time::Duration;
/// use futures::FutureExt;
/// let reactor = gosched_netpoll::Reactor::new().unwrap();
/// reactor.block_on(async {
///     let mut tick = gosched_netpoll::time::sleep(Duration::from_millis(2));
///     let mut never = futures::future::pending::<()>();
///     futures::select_biased! {
///         _ = never => unreachable!(),
///         _ = (&mut tick).fuse() => {}
///     }
/// });
/// ```
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Sleep {
    deadline: Instant,
    reactor: Reactor,
    /// The wheel entry, from the first pending poll until completion/drop.
    key: Option<TimerKey>,
    /// Completed: every later poll is ready.
    fired: bool,
}

impl Sleep {
    /// A sleep on `reactor`'s wheel.
    pub(crate) fn new_in(reactor: Reactor, deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            reactor,
            key: None,
            fired: false,
        }
    }

    /// The instant this sleep completes at.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let reactor = gosched_netpoll::Reactor::new().unwrap();
    /// let _enter = reactor.enter();
    /// let at = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(gosched_netpoll::time::sleep_until(at).deadline(), at);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    ///
    /// ```
    /// use std::time::Duration;
    /// let reactor = gosched_netpoll::Reactor::new().unwrap();
    /// let _enter = reactor.enter();
    /// assert!(gosched_netpoll::time::sleep(Duration::ZERO).is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        self.fired || Instant::now() >= self.deadline
    }

    /// Moves the deadline, even after the sleep completed; the next poll
    /// waits for the new one.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let reactor = gosched_netpoll::Reactor::new().unwrap();
    /// reactor.block_on(async {
    ///     let mut s = gosched_netpoll::time::sleep(Duration::from_secs(3600));
    ///     s.reset(Instant::now() + Duration::from_millis(1));
    ///     s.await;
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.release();
        self.deadline = deadline;
        self.fired = false;
    }

    fn release(&mut self) {
        if let Some(key) = self.key.take() {
            self.reactor.inner.timers.remove(key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if this.fired {
            return Poll::Ready(());
        }
        let progress = ready!(coop::poll_proceed(cx));
        let timers = &this.reactor.inner.timers;
        let fired = match this.key {
            None => match timers.insert(this.deadline, cx.waker()) {
                Inserted::Expired => true,
                Inserted::Set { key, unpark } => {
                    this.key = Some(key);
                    if unpark {
                        this.reactor.unpark_poller();
                    }
                    false
                }
            },
            Some(key) => timers.poll(key, cx.waker()),
        };
        if fired {
            debug_assert!(Instant::now() >= this.deadline, "a timer fired early");
            this.release();
            this.fired = true;
            progress.made_progress();
            Poll::Ready(())
        } else {
            set_wait_reason(WaitReason::Sleep);
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.release();
    }
}
