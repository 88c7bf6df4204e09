//! [`timeout`]: bound how long a future may take.
//!
//! The inner future is polled first, so a future that is ready never
//! touches the wheel; the sleep is polled (and its entry made) only when
//! the inner future is pending. The sleep is polled outside the coop
//! budget (`coop::unconstrained`): the inner future may have spent all of
//! it, and a deadline that has passed must be seen anyway. Dropping the [`Timeout`] drops the sleep,
//! which frees its entry: wrapping every read of a server in a timeout
//! costs an insert and a remove per read and no memory.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use gosched_executor::coop;

use super::sleep::{sleep_until, Sleep};
use crate::reactor::Reactor;

/// The deadline of a [`timeout`] passed before its future completed.
///
/// ```
/// use std::time::Duration;
/// use gosched::time::{timeout, Elapsed};
/// let r: Result<(), Elapsed> =
///     gosched::run(async { timeout(Duration::from_millis(1), futures::future::pending()).await });
/// assert!(r.is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(e: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, e)
    }
}

/// Runs `future`, giving up after `duration` with [`Elapsed`]. A
/// `duration` too long to add to now (`Duration::MAX`) never gives up.
///
/// # Panics
///
/// Outside a gosched runtime and outside [`crate::Reactor::enter`]; when
/// the future is pending and the reactor has shut down (see
/// [`crate::time::Sleep`]).
///
/// ```
/// use std::time::Duration;
/// use gosched::time::timeout;
/// let r = gosched::run(async { timeout(Duration::from_secs(5), async { 3 }).await });
/// assert_eq!(r, Ok(3));
/// ```
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: Sleep::after(Reactor::current(), duration),
    }
}

/// Runs `future`, giving up at `deadline` with [`Elapsed`].
///
/// # Panics
///
/// Outside a gosched runtime and outside [`crate::Reactor::enter`]; when
/// the future is pending and the reactor has shut down (see
/// [`crate::time::Sleep`]).
///
/// ```
/// use std::time::{Duration, Instant};
/// use gosched::time::timeout_at;
/// let deadline = Instant::now() + Duration::from_millis(2);
/// let r = gosched::run(async { timeout_at(deadline, futures::future::pending::<()>()).await });
/// assert!(r.is_err() && Instant::now() >= deadline);
/// ```
#[track_caller]
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

pin_project_lite::pin_project! {
    /// Future returned by [`timeout`] and [`timeout_at`].
    #[must_use = "futures do nothing unless polled"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        sleep: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let t = gosched::time::timeout(Duration::from_secs(1), async { 1 });
    /// let _inner = t.into_inner();
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(v) = this.future.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        // The inner future may have spent the task's whole coop budget (a
        // loop over always-ready operations does, on every poll); a sleep
        // polled with an empty budget would return `Pending` without
        // looking at its deadline, and the timeout would never fire. So
        // the sleep runs unconstrained: a due deadline is always seen.
        match Pin::new(&mut coop::unconstrained(this.sleep)).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}
