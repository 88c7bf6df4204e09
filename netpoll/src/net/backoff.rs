//! Accept back-off when the process (or system) is out of file
//! descriptors.
//!
//! `accept` fails with EMFILE/ENFILE when no fd is free. The pending
//! connection stays in the listen queue and the socket stays readable, so
//! retrying at once would spin a core doing nothing. Go's `http.Server`
//! sleeps 5 ms, doubling up to 1 s, and retries; so do we, on the timer
//! wheel (the task sleeps; no thread spins), and reset the delay after the
//! next success. ECONNABORTED (the peer gave up while queued) is not an
//! error of the listener: skip it and accept the next one.

use std::io;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use crate::reactor::Reactor;
use crate::time::Sleep;

/// First delay after EMFILE/ENFILE.
const FIRST: Duration = Duration::from_millis(5);
/// Longest delay.
const MAX: Duration = Duration::from_secs(1);

/// What to do with an accept error.
pub(crate) enum AcceptError {
    /// Try the next connection at once (ECONNABORTED).
    Skip,
    /// Out of fds: back off and retry.
    BackOff,
    /// Give the error to the caller.
    Fatal(io::Error),
}

/// Sorts an accept error.
pub(crate) fn classify(e: io::Error) -> AcceptError {
    match e.raw_os_error() {
        Some(libc::ECONNABORTED) => AcceptError::Skip,
        Some(libc::EMFILE) | Some(libc::ENFILE) | Some(libc::ENOBUFS) | Some(libc::ENOMEM) => {
            AcceptError::BackOff
        }
        _ if e.kind() == io::ErrorKind::ConnectionAborted => AcceptError::Skip,
        _ => AcceptError::Fatal(e),
    }
}

/// The back-off state of one accept loop.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    /// The delay used last time; `None` after a success.
    delay: Option<Duration>,
    /// The sleep in progress.
    sleep: Option<Sleep>,
    /// Back-offs taken so far (for diagnostics and tests).
    pub(crate) count: u64,
}

impl Backoff {
    /// Starts the next, longer sleep, on `reactor`'s wheel.
    pub(crate) fn start(&mut self, reactor: &Reactor) {
        let d = match self.delay {
            None => FIRST,
            Some(d) => (d * 2).min(MAX),
        };
        self.delay = Some(d);
        self.count += 1;
        self.sleep = Some(Sleep::after(reactor.clone(), d));
    }

    /// Waits out the sleep in progress, if any. When the reactor shut
    /// down meanwhile the wait ends at once: the accept that follows
    /// returns the reactor's shutdown error, which says more than a timer
    /// panic would.
    pub(crate) fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(s) = &mut self.sleep {
            // Ok (slept) or Err(ShutDown): either way the back-off is over.
            let _ = ready!(s.poll_timer(cx));
            self.sleep = None;
        }
        Poll::Ready(())
    }

    /// An accept succeeded: the next failure starts from 5 ms again.
    pub(crate) fn reset(&mut self) {
        self.delay = None;
    }
}
