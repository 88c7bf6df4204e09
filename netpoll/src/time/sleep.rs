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

use super::driver::{Inserted, ShutDown};
use super::wheel::TimerKey;
use crate::reactor::Reactor;

/// Waits until `duration` has elapsed. A `duration` too long to add to
/// now (`Duration::MAX`) waits about 30 years, which is to say forever.
///
/// # Panics
///
/// Outside a gosched runtime and outside [`Reactor::enter`]; when polled
/// after its reactor shut down (see [`Sleep`]).
///
/// ```
/// use std::time::{Duration, Instant};
/// gosched::run(async {
///     let start = Instant::now();
///     gosched::time::sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::after(Reactor::current(), duration)
}

/// Waits until `deadline`.
///
/// # Panics
///
/// Outside a gosched runtime and outside [`Reactor::enter`]; when polled
/// after its reactor shut down (see [`Sleep`]).
///
/// ```
/// use std::time::{Duration, Instant};
/// gosched::run(async {
///     let deadline = Instant::now() + Duration::from_millis(3);
///     gosched::time::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new_in(Reactor::current(), deadline)
}

/// What a deadline too far to represent becomes: about 30 years after its
/// start. Longer than any process waits, so such a timer never fires in
/// practice; short enough that adding it to any `Instant` a process sees
/// does not overflow (Linux keeps an `Instant` as i64 seconds since boot;
/// platforms with u64 nanoseconds reach 584 years). tokio picks the same
/// figure for its `far_future`.
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `start + duration`, or [`FAR_FUTURE`] after `start` if that overflows
/// (`sleep(Duration::MAX)` sleeps "forever" instead of panicking). Every
/// `Instant + Duration` of this module goes through here.
pub(crate) fn far_deadline(start: Instant, duration: Duration) -> Instant {
    start
        .checked_add(duration)
        .or_else(|| start.checked_add(FAR_FUTURE))
        // `start` itself is within 30 years of the end of time: it is
        // already further away than any process waits.
        .unwrap_or(start)
}

/// Future returned by [`sleep`] and [`sleep_until`]. It is `Unpin`, so
/// it can be polled through `&mut` (in a `select!` loop, for instance).
///
/// Polling a sleep that has not completed after its reactor shut down
/// (its runtime was dropped) panics with "gosched: the runtime's timer
/// driver has shut down; ...": nothing would ever fire it.
///
/// ```
/// use std::time::Duration;
/// use futures::FutureExt;
/// gosched::run(async {
///     let mut tick = gosched::time::sleep(Duration::from_millis(2));
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
    /// The wheel entry, from the first pending poll until completion/drop,
    /// and its tick.
    key: Option<(TimerKey, u64)>,
    /// The deadline the entry was filed for: `deadline` or earlier. A
    /// reset to a later deadline leaves the entry where it is (no wheel
    /// operation); when it fires early, the poll files it again.
    armed: Instant,
    /// Completed: every later poll is ready.
    fired: bool,
}

impl Sleep {
    /// A sleep of `duration` from now on `reactor`'s clock.
    pub(crate) fn after(reactor: Reactor, duration: Duration) -> Sleep {
        let deadline = far_deadline(reactor.inner.timers.now(), duration);
        Sleep::new_in(reactor, deadline)
    }

    /// A sleep on `reactor`'s wheel.
    pub(crate) fn new_in(reactor: Reactor, deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            reactor,
            key: None,
            armed: deadline,
            fired: false,
        }
    }

    /// The instant this sleep completes at.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let at = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(gosched::time::sleep_until(at).deadline(), at);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// assert!(gosched::time::sleep(Duration::ZERO).is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        self.fired || self.now() >= self.deadline
    }

    /// The time on this sleep's reactor clock (`time::now`, without the
    /// lookup).
    pub(crate) fn now(&self) -> Instant {
        self.reactor.inner.timers.now()
    }

    /// Moves the deadline, even after the sleep completed; the next poll
    /// waits for the new one.
    ///
    /// Moving a pending sleep later costs no wheel operation: its entry
    /// stays filed for the old deadline, and when that fires the sleep
    /// files itself again for the new one (a timeout pushed back on every
    /// request, such as a server's header-read or idle timeout, touches
    /// the wheel once per period instead of twice per request).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// gosched::run(async {
    ///     let mut s = gosched::time::sleep(Duration::from_secs(3600));
    ///     s.reset(Instant::now() + Duration::from_millis(1));
    ///     s.await;
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        if self.key.is_some() && !self.fired && deadline >= self.armed {
            self.deadline = deadline;
            return;
        }
        self.release();
        self.deadline = deadline;
        self.fired = false;
    }

    /// Lets go of the entry: forgets a key whose entry has fired (the
    /// wheel freed it; no lock), removes one still filed.
    fn release(&mut self) {
        if let Some((key, tick)) = self.key.take() {
            let timers = &self.reactor.inner.timers;
            if !timers.has_fired(tick) {
                timers.remove(key);
            }
        }
    }
}

impl Sleep {
    /// [`Sleep::poll`] without the panic: `Err(ShutDown)` when the
    /// reactor's timer driver has shut down, for callers that have a
    /// better answer than a panic (an accept loop's back-off returns the
    /// listener's shutdown error instead).
    ///
    /// A re-poll of a pending sleep also reads the clock: a task that is
    /// woken by something else after the deadline (a `Timeout` whose inner
    /// future keeps waking itself, say) completes without waiting for the
    /// poller to fire the wheel, which a thread that never parks would
    /// never do.
    pub(crate) fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ShutDown>> {
        if self.fired {
            return Poll::Ready(Ok(()));
        }
        let progress = ready!(coop::poll_proceed(cx));
        let timers = &self.reactor.inner.timers;
        // A re-poll of a filed sleep that is due by the clock: usually the
        // wheel has fired its entry and freed it, and `release` forgets the
        // key without the wheel lock; if the task was woken by something
        // else first, `release` removes the entry. (A first poll goes
        // straight to `insert`, which reads the clock only for a deadline
        // close to now.)
        if self.key.is_some() && timers.now() >= self.deadline {
            self.release();
            self.fired = true;
            progress.made_progress();
            return Poll::Ready(Ok(()));
        }
        let mut fired = match self.key {
            None => None,
            Some(key) => {
                if timers.poll(key.0, cx.waker())? {
                    // Fired before the deadline: it was filed for an
                    // earlier one before a reset moved it later. File anew.
                    self.key = None;
                    None
                } else {
                    Some(false)
                }
            }
        };
        if fired.is_none() {
            fired = Some(match timers.insert(self.deadline, cx.waker()) {
                Inserted::Expired => true,
                Inserted::ShutDown => return Poll::Ready(Err(ShutDown)),
                Inserted::Set { key, tick, unpark } => {
                    self.key = Some((key, tick));
                    self.armed = self.deadline;
                    if unpark {
                        self.reactor.unpark_poller();
                    }
                    false
                }
            });
        }
        let fired = fired == Some(true);
        if fired {
            debug_assert!(timers.now() >= self.deadline, "a timer fired early");
            self.release();
            self.fired = true;
            progress.made_progress();
            Poll::Ready(Ok(()))
        } else {
            set_wait_reason(WaitReason::Sleep);
            Poll::Pending
        }
    }
}

/// The panic of a timer polled after its reactor shut down.
#[cold]
#[track_caller]
pub(crate) fn timer_driver_shut_down() -> ! {
    panic!(
        "gosched: the runtime's timer driver has shut down; a sleep, timeout or interval \
         cannot wait once its runtime was dropped (or its reactor shut down)"
    )
}

/// # Panics
///
/// When polled after its reactor shut down (its runtime was dropped): the
/// timer could never fire, and waiting for it would hang.
impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match ready!(self.get_mut().poll_timer(cx)) {
            Ok(()) => Poll::Ready(()),
            Err(ShutDown) => timer_driver_shut_down(),
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(all(test, not(gosched_loom)))]
mod tests {
    use std::time::Duration;

    use crate::Reactor;

    #[test]
    fn a_reset_to_later_keeps_the_entry_and_never_fires_early() {
        let reactor = Reactor::new().unwrap();
        reactor.block_on(async {
            let start = crate::time::now();
            let mut s = crate::time::sleep(Duration::from_millis(20));
            // Filed for +20 ms.
            assert!(futures::poll!(&mut s).is_pending());
            let filed = s.key;
            // Later: the same entry stays filed (no wheel operation).
            s.reset(start + Duration::from_millis(60));
            assert_eq!(s.key, filed);
            assert!(futures::poll!(&mut s).is_pending());
            (&mut s).await;
            let waited = crate::time::now() - start;
            assert!(
                waited >= Duration::from_millis(60),
                "fired early: {waited:?}"
            );
            // Earlier than the filed deadline: filed anew.
            let mut t = crate::time::sleep(Duration::from_secs(3600));
            assert!(futures::poll!(&mut t).is_pending());
            t.reset(crate::time::now() + Duration::from_millis(5));
            t.await;
        });
    }
}
