//! [`Interval`]: ticks at a fixed period, with a policy for missed ticks.
//!
//! An interval is a [`Sleep`] that is reset after each tick. A tick is
//! *missed* when the task comes to collect it after the following tick was
//! already due (it was busy, or the machine was); what happens next is the
//! [`MissedTickBehavior`].

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use super::sleep::{far_deadline, Sleep};
use crate::reactor::Reactor;
use std::future::Future;

/// What an [`Interval`] does after missing ticks.
///
/// ```
/// use gosched::time::MissedTickBehavior;
/// assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up with the
    /// original schedule.
    #[default]
    Burst,
    /// Start a new schedule: the next tick is one period after now.
    Delay,
    /// Drop the missed ticks: the next tick is the next one of the original
    /// schedule that is still ahead.
    Skip,
}

impl MissedTickBehavior {
    /// The tick after a missed one. Sums saturate (`far_deadline`): a
    /// period of `Duration::MAX` means "about never", not an overflow.
    fn next(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => far_deadline(scheduled, period),
            MissedTickBehavior::Delay => far_deadline(now, period),
            MissedTickBehavior::Skip => {
                let late = now.saturating_duration_since(scheduled).as_nanos();
                let p = period.as_nanos();
                let skip = late / p + 1;
                let ahead = u64::try_from(p * skip).unwrap_or(u64::MAX);
                far_deadline(scheduled, Duration::from_nanos(ahead))
            }
        }
    }
}

/// Ticks every `period`, the first tick at once. A `period` too long to
/// add to an instant (`Duration::MAX`) ticks once, then about every 30
/// years.
///
/// # Panics
///
/// When `period` is zero, and outside a gosched runtime or
/// [`crate::Reactor::enter`]; a tick polled after the reactor shut down
/// panics (see [`crate::time::Sleep`]).
///
/// ```
/// use std::time::Duration;
/// gosched::run(async {
///     let mut iv = gosched::time::interval(Duration::from_millis(2));
///     let first = iv.tick().await;
///     let second = iv.tick().await;
///     assert!(second >= first + Duration::from_millis(2));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    let reactor = Reactor::current();
    let start = reactor.inner.timers.now();
    Interval::new_in(reactor, start, period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
///
/// When `period` is zero, and outside a gosched runtime or
/// [`crate::Reactor::enter`]; a tick polled after the reactor shut down
/// panics (see [`crate::time::Sleep`]).
///
/// ```
/// use std::time::{Duration, Instant};
/// gosched::run(async {
///     let start = Instant::now() + Duration::from_millis(1);
///     let mut iv = gosched::time::interval_at(start, Duration::from_millis(1));
///     assert_eq!(iv.tick().await, start);
/// });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    Interval::new_in(Reactor::current(), start, period)
}

/// Stream of ticks returned by [`interval`] and [`interval_at`].
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed: MissedTickBehavior,
}

impl Interval {
    #[track_caller]
    fn new_in(reactor: Reactor, start: Instant, period: Duration) -> Interval {
        assert!(!period.is_zero(), "interval period must be non-zero");
        Interval {
            sleep: Sleep::new_in(reactor, start),
            period,
            missed: MissedTickBehavior::default(),
        }
    }

    /// Waits for the next tick and returns when it was scheduled.
    ///
    /// ```
    /// use std::time::Duration;
    /// gosched::run(async {
    ///     let mut iv = gosched::time::interval(Duration::from_millis(1));
    ///     for _ in 0..3 {
    ///         iv.tick().await;
    ///     }
    /// });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick; returns when it was scheduled.
    ///
    /// ```
    /// use std::task::Context;
    /// use std::time::Duration;
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let mut iv = gosched::time::interval(Duration::from_secs(3600));
    /// let waker = futures::task::noop_waker();
    /// assert!(iv.poll_tick(&mut Context::from_waker(&waker)).is_ready());
    /// assert!(iv.poll_tick(&mut Context::from_waker(&waker)).is_pending());
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        // A tick already due (the first, at `start`, say) completes now,
        // even while the wheel lags behind the clock: filed, it would wait
        // for the poller's next turn.
        if !self.sleep.is_elapsed() {
            ready!(Pin::new(&mut self.sleep).poll(cx));
        }
        let scheduled = self.sleep.deadline();
        let now = self.sleep.now();
        let next = far_deadline(scheduled, self.period);
        let next = if now >= next {
            self.missed.next(scheduled, now, self.period)
        } else {
            next
        };
        self.sleep.reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let mut iv = gosched::time::interval(Duration::from_secs(1));
    /// iv.reset();
    /// ```
    pub fn reset(&mut self) {
        self.sleep
            .reset(far_deadline(self.sleep.now(), self.period));
    }

    /// The policy for missed ticks.
    ///
    /// ```
    /// use std::time::Duration;
    /// use gosched::time::MissedTickBehavior;
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let iv = gosched::time::interval(Duration::from_secs(1));
    /// assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets the policy for missed ticks.
    ///
    /// ```
    /// use std::time::Duration;
    /// use gosched::time::MissedTickBehavior;
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let mut iv = gosched::time::interval(Duration::from_secs(1));
    /// iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// assert_eq!(gosched::time::interval(Duration::from_secs(2)).period(), Duration::from_secs(2));
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }
}

impl futures::Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_tick_policies_pick_the_documented_next_tick() {
        let t0 = Instant::now();
        let p = Duration::from_millis(10);
        let now = t0 + Duration::from_millis(35);
        assert_eq!(MissedTickBehavior::Burst.next(t0, now, p), t0 + p);
        assert_eq!(MissedTickBehavior::Delay.next(t0, now, p), now + p);
        assert_eq!(
            MissedTickBehavior::Skip.next(t0, now, p),
            t0 + Duration::from_millis(40)
        );
    }

    #[test]
    fn missed_tick_policies_saturate_a_period_of_duration_max() {
        let t0 = Instant::now();
        let now = t0 + Duration::from_millis(35);
        for b in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            assert!(b.next(t0, now, Duration::MAX) > now, "{b:?}");
        }
    }
}
