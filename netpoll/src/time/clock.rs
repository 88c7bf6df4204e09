//! The reactor's clock: real time, or a paused clock for tests.
//!
//! # What reads it
//!
//! Everything in `time` that asks "what time is it": `sleep` and
//! `timeout` making their deadlines, the wheel firing what is due, the
//! poller's park timeout, `interval`, the channel timers, the value a
//! channel timer sends, and Context deadlines (through the timer hook the
//! root crate installs, `context_timer.rs`). [`crate::time::now`] is the
//! same clock for user code.
//!
//! # The one word
//!
//! The whole state is one `AtomicU64`, so a read is one relaxed load and,
//! in the common case, `Instant::now()`:
//!
//! - `0`: real time. The fast path: nothing else is read.
//! - [`PAUSED`] set: frozen at `base + (state & !PAUSED)` nanoseconds. It
//!   moves only when [`Clock::advance_to`] moves it ([`crate::time::advance`],
//!   or the poller's auto-advance, `driver.rs`).
//! - otherwise: real time plus `state` nanoseconds. After `resume`, the
//!   clock runs at real speed again from where the paused clock stood, as
//!   tokio's does: it never runs backwards, so the wheel (which cannot
//!   turn back) and every instant handed out while paused stay consistent.
//!
//! The value is self-contained (no second field to publish), so readers
//! need no ordering: Relaxed everywhere. Every write happens under the
//! wheel lock of the reactor that owns the clock (`driver::Timers`), so
//! writers never race each other; a reader that loads a value a moment
//! old sees an earlier time, which is what it would have seen a moment
//! earlier.
//!
//! [`PAUSED_CLOCKS`] counts the clocks of the process that are not on
//! plain real time, so that [`crate::time::now`], which has no reactor at
//! hand, reads the system clock directly while no test paused anything.

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The bit of the state word that says the clock is paused.
const PAUSED: u64 = 1 << 63;
/// A paused clock stops on a whole millisecond, which is a whole number
/// of the wheel's ticks (16; `wheel.rs`).
const NANOS_PER_MS: u64 = 1_000_000;

/// Clocks of this process whose state word is not 0 (paused, or running
/// with an offset after a resume). Incremented and decremented by the
/// clock's own writers (under its wheel lock); read with no lock by
/// [`crate::time::now`].
pub(crate) static PAUSED_CLOCKS: AtomicUsize = AtomicUsize::new(0);

/// A reactor's clock (module docs).
#[derive(Debug)]
pub(crate) struct Clock {
    /// What virtual times are measured from: the wheel's tick 0.
    base: Instant,
    /// The state word (module docs). Written only under the owning
    /// wheel's lock; read anywhere.
    state: AtomicU64,
}

impl Clock {
    /// A clock on real time; virtual times count from `base`.
    pub(crate) fn new(base: Instant) -> Clock {
        Clock {
            base,
            state: AtomicU64::new(0),
        }
    }

    /// The time: real, or the paused clock's.
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        let state = self.state.load(Relaxed);
        if state == 0 {
            return Instant::now();
        }
        self.read_slow(state)
    }

    #[cold]
    fn read_slow(&self, state: u64) -> Instant {
        if state & PAUSED != 0 {
            self.at(state & !PAUSED)
        } else {
            Instant::now() + Duration::from_nanos(state)
        }
    }

    /// Whether the clock is paused.
    #[inline]
    pub(crate) fn is_paused(&self) -> bool {
        self.state.load(Relaxed) & PAUSED != 0
    }

    /// `base` plus `ns` nanoseconds.
    fn at(&self, ns: u64) -> Instant {
        self.base + Duration::from_nanos(ns)
    }

    /// Nanoseconds from `base` to `t` (0 if earlier), kept clear of the
    /// paused bit (2^63 ns is 292 years).
    fn offset(&self, t: Instant) -> u64 {
        let ns = t.saturating_duration_since(self.base).as_nanos();
        u64::try_from(ns).unwrap_or(u64::MAX).min(PAUSED - 1)
    }

    /// Stores a new state word, keeping [`PAUSED_CLOCKS`] in step. Called
    /// under the owning wheel's lock.
    fn set(&self, new: u64) {
        let old = self.state.swap(new, Relaxed);
        match (old == 0, new == 0) {
            (true, false) => {
                PAUSED_CLOCKS.fetch_add(1, Relaxed);
            }
            (false, true) => {
                PAUSED_CLOCKS.fetch_sub(1, Relaxed);
            }
            _ => {}
        }
    }

    /// Freezes the clock at the current time, rounded up to the next
    /// whole millisecond. A paused clock stays as it is. Called under the
    /// owning wheel's lock.
    ///
    /// The rounding makes deadlines of whole milliseconds from a paused
    /// `now` fall on tick boundaries, so `advance(d)` fires a `sleep(d)`
    /// set just before it: the wheel rounds deadlines up to ticks, and a
    /// deadline in the middle of a tick fires only at the tick's end.
    pub(crate) fn pause(&self) {
        if !self.is_paused() {
            let now = self.offset(self.now()).div_ceil(NANOS_PER_MS) * NANOS_PER_MS;
            self.set(now.min(PAUSED - 1) | PAUSED);
        }
    }

    /// Lets the clock run at real speed again from where it stands (module
    /// docs). A running clock stays as it is. Called under the owning
    /// wheel's lock.
    pub(crate) fn resume(&self) {
        if self.is_paused() {
            let virtual_now = self.now();
            let offset = virtual_now.saturating_duration_since(Instant::now());
            self.set(
                u64::try_from(offset.as_nanos())
                    .unwrap_or(PAUSED - 1)
                    .min(PAUSED - 1),
            );
        }
    }

    /// Moves the clock forward to `t` (never back). A paused clock stays
    /// paused at `t`; a running one gains the difference as an offset.
    /// Called under the owning wheel's lock.
    pub(crate) fn advance_to(&self, t: Instant) {
        let now = self.now();
        if t <= now {
            return;
        }
        let state = self.state.load(Relaxed);
        if state & PAUSED != 0 {
            self.set(self.offset(t) | PAUSED);
        } else {
            let gained = u64::try_from((t - now).as_nanos()).unwrap_or(u64::MAX);
            self.set(state.saturating_add(gained).min(PAUSED - 1));
        }
    }
}

impl Drop for Clock {
    fn drop(&mut self) {
        self.set(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paused_clock_stands_still_until_advanced_and_resume_never_goes_back() {
        let clock = Clock::new(Instant::now());
        clock.pause();
        let t0 = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(clock.now(), t0, "paused");
        clock.advance_to(t0 + Duration::from_secs(3600));
        assert_eq!(clock.now(), t0 + Duration::from_secs(3600));
        clock.advance_to(t0);
        assert_eq!(clock.now(), t0 + Duration::from_secs(3600), "never back");
        clock.resume();
        let after = clock.now();
        assert!(
            after >= t0 + Duration::from_secs(3600),
            "resume keeps the hour"
        );
        std::thread::sleep(Duration::from_millis(2));
        assert!(
            clock.now() >= after + Duration::from_millis(2),
            "running again"
        );
    }
}
