//! Per-registration readiness and the tasks waiting on it (Go's `pollDesc`).
//!
//! # The problem
//!
//! mio is edge-triggered: the kernel tells us once that a socket became
//! readable, and says nothing more until it becomes readable *again* after
//! we drained it. So the reactor must remember readiness between the event
//! and the operation, and forget it only when the operation proves the
//! socket is drained (it returned `WouldBlock`). Forgetting too early loses
//! the edge and the task sleeps forever; forgetting too late costs one
//! extra syscall, which is harmless.
//!
//! The race to get right: a task reads, gets `WouldBlock`, and is about to
//! clear readiness, while the poller thread stores a fresh event for the
//! same socket. A plain "clear the bits" would erase the fresh event. Go's
//! `pollDesc` avoids this with a sequence number (`fdseq`/`rseq`); we do the
//! same with a *tick*.
//!
//! # The readiness word
//!
//! One `AtomicUsize` per registration:
//!
//! ```text
//!  bits 0..8   readiness: READABLE, WRITABLE, READ_CLOSED, WRITE_CLOSED, ERROR, SHUTDOWN
//!  bits 8..40  tick: bumped by the poller on every event it stores
//! ```
//!
//! # Protocol
//!
//! 1. The poller stores an event with [`IoState::set_readiness`]: it ORs the
//!    bits in and bumps the tick in one CAS loop, then takes the wakers of
//!    the directions that became ready (under the waiter lock) and wakes them
//!    after dropping every lock.
//! 2. A task calls [`IoState::poll_ready`] for a direction. If the word has
//!    bits for that direction it gets a [`ReadyEvent`] (the bits and the
//!    tick it saw). Otherwise it stores its waker under the waiter lock and
//!    re-reads the word *under that lock*; the poller's store happens before
//!    it takes the same lock, so either the task sees the bits or the poller
//!    sees the waker. No wake-up is lost.
//! 3. The task tries the operation. On `WouldBlock` it calls
//!    [`IoState::clear_readiness`] with the event it saw: the CAS clears the
//!    event's bits only if the tick is unchanged. If the poller stored a new
//!    event meanwhile, the tick differs, nothing is cleared, and the task's
//!    retry sees the socket ready.
//!
//! Closed and error bits are never cleared: once a peer hung up, every later
//! read must see it.
//!
//! # Waiters
//!
//! One waker slot per direction, as Go keeps `rg`/`wg` per `pollDesc`: one
//! reader and one writer may wait at a time (a split stream's two halves
//! are exactly that). When two tasks wait on the same direction of the same
//! socket, the later one replaces the earlier one's waker; share such a
//! socket through a channel or a lock instead.

use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

use gosched_executor::task::{set_wait_reason, WaitReason};

use crate::loom::{lock as lock_waiters, AtomicUsize, Mutex};

/// The socket can be read (or accepted from).
pub(crate) const READABLE: usize = 1 << 0;
/// The socket can be written (or a connect finished).
pub(crate) const WRITABLE: usize = 1 << 1;
/// The peer closed its write side: reads return EOF.
pub(crate) const READ_CLOSED: usize = 1 << 2;
/// Our write side is closed: writes fail.
pub(crate) const WRITE_CLOSED: usize = 1 << 3;
/// The socket has a pending error.
pub(crate) const ERROR: usize = 1 << 4;
/// The reactor shut down: every operation fails from now on.
pub(crate) const SHUTDOWN: usize = 1 << 5;
/// All readiness bits.
const READINESS_MASK: usize = 0xFF;
/// Where the tick starts.
const TICK_SHIFT: u32 = 8;
/// The tick's width: 32 bits, wrapping.
const TICK_MASK: usize = 0xFFFF_FFFF;

/// Which half of a socket an operation uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Reads, accepts, receives.
    Read,
    /// Writes, sends, connects.
    Write,
}

impl Direction {
    /// The readiness bits that let an operation of this direction proceed.
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR | SHUTDOWN,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR | SHUTDOWN,
        }
    }

    /// The bits a `WouldBlock` in this direction clears.
    fn clearable(self) -> usize {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }
}

/// What a task saw when it found the socket ready: the bits of its
/// direction and the tick they were stored at.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    tick: usize,
    ready: usize,
    direction: Direction,
}

impl ReadyEvent {
    /// Whether the reactor has shut down.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.ready & SHUTDOWN != 0
    }
}

/// The tasks waiting on one registration, one per direction.
#[derive(Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
}

/// Readiness and waiters of one registered socket.
///
/// Shared by the reactor's registration table (the poller writes readiness)
/// and the socket that owns the registration (tasks read and clear it).
pub(crate) struct IoState {
    /// Readiness bits and tick; see the module docs. Written by the poller
    /// (`set_readiness`), by tasks (`clear_readiness`) and by shutdown.
    readiness: AtomicUsize,
    /// Wakers of the tasks waiting for each direction.
    waiters: Mutex<Waiters>,
}

impl IoState {
    /// A fresh state, optimistically ready in both directions: a new socket
    /// (an accepted one especially) often has data already, and a wrong
    /// guess costs one `WouldBlock`, which clears the bits.
    pub(crate) fn new() -> IoState {
        IoState {
            readiness: AtomicUsize::new(READABLE | WRITABLE),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// Stores an event's bits, bumps the tick, and pushes the wakers of the
    /// directions that became ready onto `wake`. Called by the poller only.
    pub(crate) fn set_readiness(&self, bits: usize, wake: &mut Vec<Waker>) {
        // AcqRel: the release half pairs with the Acquire loads in
        // `poll_ready`, so a task that sees the bits also sees everything
        // the kernel event stands for; the acquire half orders us after any
        // task's clear, so the tick we bump is the latest one.
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                let tick = ((cur >> TICK_SHIFT) + 1) & TICK_MASK;
                Some((tick << TICK_SHIFT) | (cur & READINESS_MASK) | bits)
            });
        let mut waiters = lock_waiters(&self.waiters);
        if bits & Direction::Read.mask() != 0 {
            if let Some(w) = waiters.reader.take() {
                wake.push(w);
            }
        }
        if bits & Direction::Write.mask() != 0 {
            if let Some(w) = waiters.writer.take() {
                wake.push(w);
            }
        }
    }

    /// Polls for readiness in `direction`; registers `cx`'s waker when not
    /// ready and marks the task as waiting on I/O.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<ReadyEvent> {
        // Acquire pairs with the AcqRel update in `set_readiness`.
        let cur = self.readiness.load(Ordering::Acquire);
        if let Some(ev) = Self::event(cur, direction) {
            return Poll::Ready(ev);
        }
        let mut waiters = lock_waiters(&self.waiters);
        let slot = match direction {
            Direction::Read => &mut waiters.reader,
            Direction::Write => &mut waiters.writer,
        };
        match slot {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *slot = Some(cx.waker().clone()),
        }
        // Re-read under the waiter lock: the poller stores readiness before
        // it takes this lock, so either we see its bits here or it sees our
        // waker (module docs, step 2). Acquire pairs as above.
        let cur = self.readiness.load(Ordering::Acquire);
        if let Some(ev) = Self::event(cur, direction) {
            return Poll::Ready(ev);
        }
        set_wait_reason(WaitReason::IoWait);
        Poll::Pending
    }

    /// Clears the bits of `event` unless the poller stored a newer event
    /// since it was observed (module docs, step 3).
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = event.ready & event.direction.clearable();
        // AcqRel on success: the release half publishes the clear to the
        // poller's next `fetch_update`, the acquire half pairs with its
        // release. A failed compare just means a newer tick: leave it.
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                if (cur >> TICK_SHIFT) & TICK_MASK != event.tick {
                    return None;
                }
                Some(cur & !clear)
            });
    }

    /// Marks the registration as shut down and drops (without waking) the
    /// wakers it holds, breaking any waker -> task -> socket -> reactor
    /// reference cycle. Returns the wakers so the caller drops them outside
    /// the table lock.
    pub(crate) fn shutdown(&self) -> (Option<Waker>, Option<Waker>) {
        // Release pairs with the Acquire loads in `poll_ready`.
        self.readiness.fetch_or(SHUTDOWN, Ordering::Release);
        let mut waiters = lock_waiters(&self.waiters);
        (waiters.reader.take(), waiters.writer.take())
    }

    fn event(cur: usize, direction: Direction) -> Option<ReadyEvent> {
        let ready = cur & direction.mask();
        (ready != 0).then_some(ReadyEvent {
            tick: (cur >> TICK_SHIFT) & TICK_MASK,
            ready,
            direction,
        })
    }
}

/// Locks a std mutex (the reactor's other locks, which loom does not
/// model), ignoring poison: the data behind them stays consistent even if
/// a waker panicked while one was held (wakers run outside them).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(all(test, not(gosched_loom)))]
mod tests {
    use super::*;
    use futures::task::noop_waker;

    fn ready(s: &IoState, d: Direction) -> Option<ReadyEvent> {
        let w = noop_waker();
        let mut cx = Context::from_waker(&w);
        match s.poll_ready(&mut cx, d) {
            Poll::Ready(ev) => Some(ev),
            Poll::Pending => None,
        }
    }

    #[test]
    fn would_block_clears_only_its_own_direction() {
        let s = IoState::new();
        let ev = ready(&s, Direction::Read).unwrap();
        s.clear_readiness(ev);
        assert!(ready(&s, Direction::Read).is_none());
        assert!(ready(&s, Direction::Write).is_some());
    }

    #[test]
    fn a_clear_does_not_erase_an_event_stored_after_the_observation() {
        let s = IoState::new();
        let ev = ready(&s, Direction::Read).unwrap();
        let mut wake = Vec::new();
        s.set_readiness(READABLE, &mut wake);
        s.clear_readiness(ev);
        assert!(ready(&s, Direction::Read).is_some());
    }

    #[test]
    fn closed_bits_survive_a_clear() {
        let s = IoState::new();
        let mut wake = Vec::new();
        s.set_readiness(READ_CLOSED | READABLE, &mut wake);
        let ev = ready(&s, Direction::Read).unwrap();
        s.clear_readiness(ev);
        assert!(ready(&s, Direction::Read).is_some());
    }

    #[test]
    fn an_event_wakes_the_waiter_of_its_direction_only() {
        let s = IoState::new();
        let ev = ready(&s, Direction::Read).unwrap();
        s.clear_readiness(ev);
        let ev = ready(&s, Direction::Write).unwrap();
        s.clear_readiness(ev);
        assert!(ready(&s, Direction::Read).is_none());
        assert!(ready(&s, Direction::Write).is_none());
        let mut wake = Vec::new();
        s.set_readiness(WRITABLE, &mut wake);
        assert_eq!(wake.len(), 1);
        assert!(ready(&s, Direction::Read).is_none());
    }
}
