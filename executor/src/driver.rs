//! The park/unpark driver: how an idle M sleeps.
//!
//! The executor knows nothing of mio. An M with no work parks through a
//! [`Driver`]. Exactly one idle M at a time may block in [`Driver::park`]
//! (Go: only one M blocks in netpoll); the other idle Ms sleep on their own
//! thread parker. The netpoll crate implements this trait with `mio::Poll`
//! (park = epoll_wait with the next timer as timeout, unpark = `mio::Waker`);
//! without a driver, every idle M sleeps on its thread parker.
//!
//! # Contract an implementation must meet
//!
//! 1. `park` returns after `unpark` was called (before or during the park:
//!    an unpark with nobody parked makes the next `park` return at once),
//!    when the timeout elapses, or when it made some task ready. Spurious
//!    returns are allowed.
//! 2. Tasks made ready are woken through their `Waker`s, from inside `park`
//!    or `poll_nonblocking`; the executor schedules them.
//! 3. `unpark` may be called from any thread, any number of times, and must
//!    not block.
//! 4. `poll_nonblocking` never blocks; busy Ms call it now and then so I/O
//!    readiness is seen even when no M is idle. It must not consume a
//!    pending unpark: that unpark belongs to the next `park` (rule 1), and
//!    the M about to park would otherwise sleep through its wake-up.

use std::any::Any;
use std::time::Duration;

/// What an idle M blocks in. See the module docs for the contract.
pub trait Driver: Send + Sync + 'static {
    /// Blocks the calling thread until `unpark`, an event, or `timeout`
    /// (`None`: no timeout). Called by at most one thread at a time.
    fn park(&self, timeout: Option<Duration>);

    /// Makes a current or the next `park` return. Never blocks.
    fn unpark(&self);

    /// Gathers ready events without blocking. Called by busy Ms every 61
    /// scheduler ticks; may return at once when another thread is polling.
    fn poll_nonblocking(&self) {}

    /// Whether any task waits on this driver (I/O or timers). An idle M
    /// blocks in `park` only when this is true; otherwise it sleeps on its
    /// thread parker, which is cheaper to wake.
    fn has_waiters(&self) -> bool {
        true
    }

    /// The runtime is shutting down: every worker has stopped. Release what
    /// can be released (wakers held for parked tasks, for instance).
    fn shutdown(&self) {}

    /// The driver as `Any`, so the crate that made it can find it again
    /// from a runtime handle (`Handle::driver`).
    fn as_any(&self) -> &dyn Any;
}
