//! The unpark latch: how an unpark reaches the one thread that will block
//! in the poller, whatever non-blocking polls run in between.
//!
//! # The problem
//!
//! An unpark (`Driver::unpark`) must make the current or the next
//! *blocking* poll return at once (the driver contract in the executor's
//! `driver.rs`). It does so with two things: this latch, and a write to the
//! eventfd registered with epoll, which interrupts a poll already inside
//! `epoll_wait`. But busy Ms and sysmon also poll the same epoll instance
//! without blocking (`Driver::poll_nonblocking`), many times a second while
//! any task waits on a timer or a socket. If such a poll cleared the latch
//! and swallowed the eventfd edge, the M the unpark was meant for would
//! then block for the whole timer wait: its wake-up was eaten by a poll
//! that was never going to sleep. The scheduler counts that M as the one
//! spinning M, so every later `wakep` returns early and runnable tasks sit
//! in the global queue while a P is idle.
//!
//! # The rule (Go's netpoller has the same one)
//!
//! Only a blocking poll consumes an unpark. A non-blocking poll may see the
//! eventfd's event (epoll reports it to whoever polls first) but never
//! touches the latch, so the pending unpark survives it:
//!
//! 1. `unpark`: [`WakeLatch::set`]; only the caller that flips it from
//!    clear writes the eventfd, so a burst of unparks costs one syscall.
//! 2. A blocking poll, holding the poller lock: [`WakeLatch::take`]; when it
//!    was set, poll with a zero timeout instead of blocking.
//! 3. A non-blocking poll: neither reads nor clears the latch.
//!
//! Why no wake-up is lost: an unpark either happens before step 2's swap
//! (the swap sees it and the poll does not block) or after it (the latch is
//! clear again, so the unparker writes the eventfd, and the edge reaches the
//! blocking `epoll_wait` because no other thread can poll while the blocker
//! holds the poller lock). A non-blocking poll can only run when no blocker
//! holds the lock, so the edges it swallows belong to unparks whose latch
//! is still set for the next blocker. `loom_wake_latch.rs` checks this.

#[cfg(gosched_loom)]
use loom::sync::atomic::AtomicBool;
#[cfg(not(gosched_loom))]
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::AcqRel;

/// An unpark not yet consumed by a blocking poll. See the module docs.
pub(crate) struct WakeLatch {
    /// Set by `unpark`, cleared only by a blocking poll.
    notified: AtomicBool,
}

impl WakeLatch {
    /// A clear latch.
    pub(crate) fn new() -> WakeLatch {
        WakeLatch {
            notified: AtomicBool::new(false),
        }
    }

    /// Step 1: records an unpark. True when the latch was clear, so the
    /// caller must write the eventfd (a blocker may already be inside
    /// `epoll_wait`).
    #[must_use = "when true, the caller must interrupt the poller"]
    pub(crate) fn set(&self) -> bool {
        // AcqRel: the release half publishes whatever the unparker did
        // before (new work) to the acquire half of the swap in `take`.
        !self.notified.swap(true, AcqRel)
    }

    /// Step 2, for blocking polls only, called with the poller lock held:
    /// consumes a pending unpark. True when one was pending, so the poll
    /// must not block.
    #[must_use = "when true, the poll must not block"]
    pub(crate) fn take(&self) -> bool {
        // AcqRel: the acquire half pairs with the swap in `set` (we see
        // what the unparker did before it); the release half orders the
        // reset before our poll, so a later `set` writes the eventfd.
        self.notified.swap(false, AcqRel)
    }
}
