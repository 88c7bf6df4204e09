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
//!    bits in and bumps the tick in one CAS loop, then takes every waker of
//!    the directions that became ready (under the waiter lock; see
//!    "Waiters") and wakes them after dropping every lock.
//! 2. A task calls [`IoState::poll_ready`] for a direction. If the word has
//!    bits for that direction it gets a [`ReadyEvent`] (the bits and the
//!    tick it saw). Otherwise it stores its waker under the waiter lock
//!    ([`IoState::poll_ready_listed`] for a listed waiter) and
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
//! Go keeps one waiter per direction in a `pollDesc` (`rg`/`wg`) and
//! queues every other goroutine on the fd's lock, so `Accept` from many
//! goroutines works. We have no fd lock, so the wait lists live here, in
//! two shapes chosen by the socket type:
//!
//! - **Streams** (`TcpStream`, `UnixStream`, split halves) keep one waker
//!   slot per direction: the usual reader and writer (a split stream's two
//!   halves) cost one `Option<Waker>` each, as before. A second task that
//!   waits on a direction whose slot holds another task's waker is
//!   *spilled* onto that direction's wait list (once per waker: a task
//!   re-polling with the same waker is not added twice), and an event
//!   wakes the slot and the spilled wakers together. Nobody is lost; a
//!   spilled waker of a future that was dropped stays until the next event
//!   of its direction, then gets one spurious wake.
//! - **Listeners and datagram sockets** (`TcpListener`, `UnixListener`,
//!   `UdpSocket`, `UnixDatagram`), where several tasks sharing one socket
//!   is a common shape, give each waiting operation a keyed entry of the
//!   wait list ([`WaitKey`], [`IoState::poll_ready_listed`]). The entry is
//!   reserved on the operation's first park, re-used by its re-polls, and
//!   released when the operation ends or is dropped
//!   ([`IoState::release`], called by `poll_io::ListedWait`'s drop), so a
//!   cancelled accept leaves nothing behind.
//!
//! An event wakes *every* waiter of its direction (slot, spilled and
//! listed). Each re-polls: one gets the connection or datagram, the others
//! get `WouldBlock` and park again (step 3 keeps that clear from erasing a
//! newer event). Waking one would be cheaper with many acceptors, but a
//! woken waiter that is dropped before it re-polls would take the wake-up
//! with it; waking all cannot lose one. The wait lists are allocated on
//! first use, so a socket that never has a second waiter pays one pointer.

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

    /// Index of this direction's wait list.
    fn index(self) -> usize {
        match self {
            Direction::Read => 0,
            Direction::Write => 1,
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

/// The tasks waiting on one registration (module docs, "Waiters").
#[derive(Default)]
struct Waiters {
    /// The stream reader's slot.
    reader: Option<Waker>,
    /// The stream writer's slot.
    writer: Option<Waker>,
    /// Everyone else, per direction (`Direction::index`); `None` until a
    /// second waiter or a listed one comes.
    lists: Option<Box<[WaitList; 2]>>,
}

impl Waiters {
    /// The slot of `direction`.
    fn slot(&mut self, direction: Direction) -> &mut Option<Waker> {
        match direction {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        }
    }

    /// The wait list of `direction`, allocated on first use.
    fn list(&mut self, direction: Direction) -> &mut WaitList {
        &mut self.lists.get_or_insert_with(Default::default)[direction.index()]
    }

    /// Moves every waker of `direction` (slot, spilled, listed) to `wake`.
    fn take_all(&mut self, direction: Direction, wake: &mut Vec<Waker>) {
        if let Some(w) = self.slot(direction).take() {
            wake.push(w);
        }
        if let Some(lists) = &mut self.lists {
            lists[direction.index()].take_all(wake);
        }
    }
}

/// The waiters of one direction beyond its slot.
#[derive(Default)]
struct WaitList {
    /// Listed entries, indexed by [`WaitKey`]. `Some(None)`: reserved by
    /// an operation that has no waker stored (woken, or not parked yet);
    /// `None`: free.
    entries: Vec<Option<Option<Waker>>>,
    /// Indexes of free entries, reused before the vector grows.
    free: Vec<u32>,
    /// Stream waiters that found the slot held by another waker.
    spilled: Vec<Waker>,
}

impl WaitList {
    /// Reserves an entry and returns its index.
    fn reserve(&mut self) -> u32 {
        if let Some(i) = self.free.pop() {
            self.entries[i as usize] = Some(None);
            return i;
        }
        let i = u32::try_from(self.entries.len()).expect("more than 2^32 waiters on one socket");
        self.entries.push(Some(None));
        i
    }

    /// Frees entry `i`; returns the waker it held, to be dropped outside
    /// the lock.
    fn release(&mut self, i: u32) -> Option<Waker> {
        let waker = self.entries[i as usize].take().flatten();
        self.free.push(i);
        waker
    }

    /// Adds a stream waiter unless its waker is already there.
    fn spill(&mut self, waker: &Waker) {
        if !self.spilled.iter().any(|w| w.will_wake(waker)) {
            self.spilled.push(waker.clone());
        }
    }

    /// Moves every waker to `wake`; listed entries stay reserved.
    fn take_all(&mut self, wake: &mut Vec<Waker>) {
        wake.append(&mut self.spilled);
        for w in self.entries.iter_mut().flatten() {
            if let Some(w) = w.take() {
                wake.push(w);
            }
        }
    }
}

/// An operation's entry in a direction's wait list (listeners and
/// datagram sockets; module docs, "Waiters"): empty until the operation
/// first parks. Its owner must hand it to [`IoState::release`] when the
/// operation ends or is dropped (`poll_io::ListedWait` does).
#[derive(Debug, Default)]
pub(crate) struct WaitKey(Option<u32>);

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
        for direction in [Direction::Read, Direction::Write] {
            if bits & direction.mask() != 0 {
                waiters.take_all(direction, wake);
            }
        }
    }

    /// Polls for readiness in `direction`; when not ready, stores `cx`'s
    /// waker in the direction's slot (or spills it onto the wait list when
    /// the slot holds another waker) and marks the task as waiting on I/O.
    /// For streams: one waiter per direction is the fast path.
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
        let slot = waiters.slot(direction);
        match slot {
            Some(w) if w.will_wake(cx.waker()) => {}
            None => *slot = Some(cx.waker().clone()),
            // Another task waits here: queue behind it rather than
            // replace it (a replaced waker would never be woken).
            Some(_) => waiters.list(direction).spill(cx.waker()),
        }
        self.park_or_ready(direction)
    }

    /// [`IoState::poll_ready`] for listeners and datagram sockets: the
    /// waker goes to the wait-list entry of `key` (reserved on the first
    /// park), so any number of tasks can wait on one direction.
    pub(crate) fn poll_ready_listed(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        key: &mut WaitKey,
    ) -> Poll<ReadyEvent> {
        // Acquire pairs with the AcqRel update in `set_readiness`.
        let cur = self.readiness.load(Ordering::Acquire);
        if let Some(ev) = Self::event(cur, direction) {
            return Poll::Ready(ev);
        }
        let mut waiters = lock_waiters(&self.waiters);
        let list = waiters.list(direction);
        let i = *key.0.get_or_insert_with(|| list.reserve());
        let stored = list.entries[i as usize]
            .as_mut()
            .expect("a reserved entry stays reserved until released");
        match stored {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => *stored = Some(cx.waker().clone()),
        }
        self.park_or_ready(direction)
    }

    /// The end of both polls, with the waiter lock held by the caller:
    /// re-read the word under that lock, since the poller stores readiness
    /// before it takes the lock, so either we see its bits here or it sees
    /// our waker (module docs, step 2). Acquire pairs with the AcqRel
    /// update in `set_readiness`.
    fn park_or_ready(&self, direction: Direction) -> Poll<ReadyEvent> {
        let cur = self.readiness.load(Ordering::Acquire);
        if let Some(ev) = Self::event(cur, direction) {
            return Poll::Ready(ev);
        }
        set_wait_reason(WaitReason::IoWait);
        Poll::Pending
    }

    /// Frees the wait-list entry of `key`, if it has one (the operation
    /// completed or was dropped). The waker it held is dropped after the
    /// lock.
    pub(crate) fn release(&self, direction: Direction, key: &mut WaitKey) {
        let Some(i) = key.0.take() else {
            return;
        };
        let waker = lock_waiters(&self.waiters).list(direction).release(i);
        drop(waker);
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

    /// Marks the registration as shut down and takes every waker it
    /// holds, breaking any waker -> task -> socket -> reactor reference
    /// cycle. Returns the wakers so the caller drops them outside the table
    /// lock. Listed entries stay reserved until their owners release them.
    pub(crate) fn shutdown(&self) -> Vec<Waker> {
        // Release pairs with the Acquire loads in `poll_ready`.
        self.readiness.fetch_or(SHUTDOWN, Ordering::Release);
        let mut wakers = Vec::new();
        let mut waiters = lock_waiters(&self.waiters);
        waiters.take_all(Direction::Read, &mut wakers);
        waiters.take_all(Direction::Write, &mut wakers);
        wakers
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

    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    /// Counts its wakes.
    struct Count(StdAtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count(StdAtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    /// A state with nothing ready in either direction.
    fn drained() -> IoState {
        let s = IoState::new();
        for d in [Direction::Read, Direction::Write] {
            let ev = ready(&s, d).unwrap();
            s.clear_readiness(ev);
        }
        s
    }

    fn fire(s: &IoState, bits: usize) {
        let mut wake = Vec::new();
        s.set_readiness(bits, &mut wake);
        wake.into_iter().for_each(Waker::wake);
    }

    #[test]
    fn a_second_stream_waiter_on_one_direction_is_queued_not_replaced() {
        let s = drained();
        let (a, wa) = counting();
        let (b, wb) = counting();
        for w in [&wa, &wb, &wa, &wb] {
            assert!(s
                .poll_ready(&mut Context::from_waker(w), Direction::Read)
                .is_pending());
        }
        {
            let mut waiters = lock_waiters(&s.waiters);
            let spilled = &waiters.list(Direction::Read).spilled;
            assert_eq!(
                spilled.len(),
                1,
                "a re-poll with the same waker is not queued twice"
            );
        }
        fire(&s, READABLE);
        assert_eq!(a.0.load(Ordering::SeqCst), 1, "the first waiter was woken");
        assert_eq!(b.0.load(Ordering::SeqCst), 1, "and so was the second");
    }

    #[test]
    fn listed_waiters_are_all_woken_and_a_released_entry_is_reused() {
        let s = drained();
        let (a, wa) = counting();
        let (b, wb) = counting();
        let (mut ka, mut kb) = (WaitKey::default(), WaitKey::default());
        for _ in 0..3 {
            let mut cx = Context::from_waker(&wa);
            assert!(s
                .poll_ready_listed(&mut cx, Direction::Read, &mut ka)
                .is_pending());
            let mut cx = Context::from_waker(&wb);
            assert!(s
                .poll_ready_listed(&mut cx, Direction::Read, &mut kb)
                .is_pending());
        }
        fire(&s, READABLE);
        assert_eq!(a.0.load(Ordering::SeqCst), 1);
        assert_eq!(b.0.load(Ordering::SeqCst), 1);
        s.release(Direction::Read, &mut ka);
        s.release(Direction::Read, &mut kb);
        // A thousand cancelled waiters, one at a time: one entry serves all.
        let ev = ready(&s, Direction::Read).unwrap();
        s.clear_readiness(ev);
        for _ in 0..1000 {
            let mut k = WaitKey::default();
            let mut cx = Context::from_waker(&wa);
            assert!(s
                .poll_ready_listed(&mut cx, Direction::Read, &mut k)
                .is_pending());
            s.release(Direction::Read, &mut k);
        }
        let mut waiters = lock_waiters(&s.waiters);
        let list = waiters.list(Direction::Read);
        assert_eq!(list.entries.len(), 2, "entries are reused, not grown");
        assert!(list.entries.iter().all(Option::is_none), "all released");
        drop(waiters);
        assert_eq!(
            Arc::strong_count(&a),
            2,
            "no waker of a released entry is kept"
        );
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
