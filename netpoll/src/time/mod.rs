//! Timers: [`sleep`], [`sleep_until`], [`timeout`], [`interval`]; Go's
//! channel timers [`after`], [`tick`], [`Timer`], [`Ticker`],
//! [`after_func`]; Context deadlines ([`ContextTimer`]); the clock,
//! [`now`], and the paused clock for tests, [`pause`], [`advance`],
//! [`resume`].
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
//! 3. The poller fires due entries tick by tick: it marks them fired
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
//!
//! # Other timers on the same wheel
//!
//! A wheel entry carries an action (`action.rs`): waking a sleep's task is
//! one; the others serve timers that nobody polls. Go's channel timers
//! (`timer.rs`, `ticker.rs`) send the fire time into a channel of capacity
//! 1 (a full channel drops the tick, as Go's does for a slow receiver); a
//! ticker's entry is re-filed one period on by the wheel itself; Context
//! deadlines and [`after_func`] run a callback (the latter spawns a task).
//! None costs a task or a thread, and each frees its entry when it is
//! stopped or dropped (`after`'s when it fires; `tick`'s at the first tick
//! nobody can receive).
//!
//! # The clock
//!
//! Every timer reads its reactor's clock (`clock.rs`): `Instant::now()`
//! behind one relaxed load, or a paused clock that only [`advance`] and
//! auto-advance move (`pause.rs`, and `driver.rs` for when auto-advance
//! happens with several Ps). Instants stay `std::time::Instant`; take
//! them from [`now`] in code that may run under a paused clock.

pub(crate) mod action;
pub(crate) mod clock;
mod context_timer;
pub(crate) mod driver;
#[cfg(test)]
mod heap_comparison;
mod interval;
mod pause;
pub(crate) mod sleep;
mod ticker;
mod timeout;
mod timer;
pub(crate) mod wheel;

pub use context_timer::ContextTimer;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use pause::{advance, now, pause, resume};
#[doc(hidden)]
pub use pause::{track, Tracked};
pub use sleep::{sleep, sleep_until, Sleep};
pub use std::time::Instant;
pub use ticker::{tick, Ticker};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};
pub use timer::{after, after_func, Timer};
