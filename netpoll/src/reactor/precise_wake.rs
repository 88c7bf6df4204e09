//! Sub-millisecond park deadlines: a timerfd in the poll set.
//!
//! # The problem
//!
//! `epoll_wait` takes its timeout in whole milliseconds, and mio rounds a
//! `Duration` *up* so that a poll never returns before it was asked to.
//! The kernel then adds its timer slack (at least 50 µs, 0.1% of longer
//! waits). A poller parked until a timer due in 0.3 ms therefore sleeps
//! 1 ms and change: a 1 ms ticker runs 1.3 ms late on average (tokio's
//! behaviour, and tokio-rs/tokio#5021). Go has the same millisecond
//! `epoll_wait` but re-checks its timers whenever it wakes; smol arms a
//! precise timer.
//!
//! # What gosched does
//!
//! The poller owns one `timerfd` (CLOCK_MONOTONIC, the clock `Instant`
//! reads on Linux) registered in the epoll set under [`TIMER_TOKEN`].
//! When a park is bounded by a timer, [`PreciseWake::prepare`] arms the
//! timerfd for that timer's exact instant and the poll's own timeout stays
//! as a backstop. A timerfd expiry makes `epoll_wait` return within the
//! kernel's hrtimer precision (no slack applies to it), tens of
//! microseconds after the deadline.
//!
//! # Cost and invariants
//!
//! - One `timerfd_settime` per park whose deadline *changed*: the armed
//!   instant is remembered, and a park for the same next expiration (the
//!   poller woke for I/O and parks again) makes no syscall. A server whose
//!   only timers are far-off timeouts parks with the same next expiration
//!   (a higher wheel level's slot) for seconds at a time.
//! - The timerfd is registered edge-triggered and never read: each expiry
//!   is a new wake-up of its wait queue, which epoll reports again, and the
//!   expiry count it keeps is never looked at.
//! - A park with no timer disarms a timerfd still armed for a later
//!   instant, so no stale expiry interrupts a long idle park. A stale expiry
//!   that lands anyway costs one spurious turn, never a missed timer: the
//!   wheel, not the timerfd, decides what fires.
//! - The timerfd can only make a park *shorter* than its timeout; when it
//!   cannot be made (or on other systems), parks keep the millisecond
//!   precision of the poll timeout.

use std::time::{Duration, Instant};

/// Token of the timerfd; the table never hands it out.
pub(crate) const TIMER_TOKEN: mio::Token = mio::Token(usize::MAX - 1);

/// The poller's precise wake-up (module docs). Owned by the poller lock.
pub(crate) struct PreciseWake {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fd: Option<std::os::fd::OwnedFd>,
    /// The instant the timerfd is armed for, if armed.
    armed: Option<Instant>,
}

impl PreciseWake {
    /// A timerfd registered with `registry`; a disabled one (millisecond
    /// parks) when the system refuses it.
    pub(crate) fn new(registry: &mio::Registry) -> PreciseWake {
        PreciseWake {
            #[cfg(any(target_os = "linux", target_os = "android"))]
            fd: linux::create(registry),
            armed: None,
        }
    }

    /// Arms the wake-up for a park until `deadline` (a timer's instant),
    /// or disarms it when the park is not bounded by a timer. The poll
    /// still passes its own timeout, as a backstop.
    pub(crate) fn prepare(&mut self, deadline: Option<Instant>) {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            let Some(fd) = &self.fd else { return };
            match deadline {
                Some(d) if self.armed != Some(d) => {
                    let wait = d.saturating_duration_since(Instant::now());
                    if wait.is_zero() {
                        // Due already: the poll's zero timeout returns at
                        // once, and nothing needs arming.
                        return;
                    }
                    self.armed = linux::arm(fd, wait).then_some(d);
                }
                None if self.armed.is_some_and(|a| a > Instant::now()) => {
                    linux::arm(fd, Duration::ZERO);
                    self.armed = None;
                }
                _ => {}
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            self.armed = deadline;
        }
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
mod linux {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::Duration;

    use mio::unix::SourceFd;

    use super::TIMER_TOKEN;

    /// A non-blocking monotonic timerfd, registered for reads.
    pub(super) fn create(registry: &mio::Registry) -> Option<OwnedFd> {
        // SAFETY: timerfd_create takes no pointers; a negative result is
        // an error, checked below.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return None;
        }
        // SAFETY: `raw` is a file descriptor we just opened and own
        // nowhere else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        registry
            .register(
                &mut SourceFd(&fd.as_raw_fd()),
                TIMER_TOKEN,
                mio::Interest::READABLE,
            )
            .ok()?;
        Some(fd)
    }

    /// Arms `fd` to expire once, `after` from now (zero disarms it).
    /// False when the kernel refused.
    pub(super) fn arm(fd: &OwnedFd, after: Duration) -> bool {
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: libc::time_t::try_from(after.as_secs()).unwrap_or(libc::time_t::MAX),
                // Below 10^9, so it fits a c_long on every target.
                tv_nsec: after.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: `fd` is an open timerfd; `spec` is a valid itimerspec
        // that outlives the call, and a null old value is allowed.
        unsafe { libc::timerfd_settime(fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) == 0 }
    }
}
