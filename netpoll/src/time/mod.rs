//! Timers: [`sleep`], [`sleep_until`], [`timeout`], [`interval`].
//!
//! Every timer lives in its reactor's hierarchical wheel (`wheel.rs`); the
//! thread parked in the reactor sleeps exactly until the next slot is due
//! (`driver.rs`), so timers cost no thread and no polling. This is Go's
//! design (`time.Sleep` parks the goroutine on a runtime timer, and
//! `findRunnable` bounds its `netpoll` by the next timer) with a wheel in
//! place of Go's per-P heaps; `wheel` says why.
//!
//! # Life of a sleep
//!
//! 1. [`sleep`] finds the current reactor and records the deadline; no
//!    entry is made yet, so a sleep that is never polled costs nothing.
//! 2. Its first poll inserts an entry holding the task's waker, or finds
//!    the deadline passed and completes at once. When the new deadline is
//!    earlier than what the parked poller waits for, the poller is woken to
//!    shorten its wait.
//! 3. The poller fires due entries in deadline order: it marks them fired
//!    and wakes their tasks. Waiting tasks carry the `sleep` wait reason.
//! 4. The next poll sees the mark, frees the entry and completes. Dropping
//!    a sleep frees its entry at once, fired or not, so a timeout that
//!    never fires costs one insert and one remove, and no memory after.
//!
//! A deadline too far to represent (`sleep(Duration::MAX)`) is clamped to
//! about 30 years ahead (`sleep::FAR_FUTURE`): it never fires in practice
//! and never overflows. A timer polled after its reactor shut down (its
//! runtime was dropped) panics with a message saying so: it could never
//! fire (`driver.rs`, step 4).
//!
//! Deadlines are rounded *up* to the wheel's 1 ms tick: a timer never
//! fires before its deadline, and fires within about a millisecond after
//! it when a thread is parked in the reactor.

pub(crate) mod driver;
#[cfg(test)]
mod heap_comparison;
mod interval;
pub(crate) mod sleep;
mod timeout;
pub(crate) mod wheel;

pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Instant;
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
