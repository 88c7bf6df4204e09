//! The shared state of one channel (Go's `hchan`) and every operation on it.
//!
//! # Problem
//!
//! One structure must serve three kinds of channel (rendezvous, bounded,
//! unbounded), many senders and receivers, futures that can be dropped at
//! any time, and `select!`, which parks one task on several channels at once
//! and must complete *exactly one* of its operations. Buffered channels
//! must also be fast when several threads send at once: a lock taken by
//! every operation made them lose to lock-free channels (the lock's cache
//! line moving between cores was a third of a send).
//!
//! # Rejected alternatives
//!
//! - A lock-free design for *rendezvous* channels: a rendezvous needs a
//!   direct hand-off between two parked parties, and select needs to commit
//!   a counterpart atomically; both are awkward without a lock. Rendezvous
//!   channels keep the locked design below, which already beats the peers.
//! - One lock for every operation of a buffered channel (the previous
//!   design: Go's `hchan` as is): simple, but under contention a fifth of
//!   the time went to waiting for the lock.
//! - Buffered values in `crossbeam_queue::ArrayQueue`/`SegQueue`: they
//!   cannot be closed atomically with a push, so a send racing `close`
//!   could land after receivers had seen `None`. `concurrent-queue` keeps
//!   the closed mark in its tail word; see `buffer.rs`.
//! - A notifier layer that wakes *every* parked receiver per value
//!   (`notify_all`): a thundering herd. One value wakes one receiver.
//! - Locking every channel of a `select!` at once, sorted by address, as
//!   Go's `selectgo` does, for the whole select: it would have to keep
//!   `MutexGuard`s alive inside the arms between calls, which makes the
//!   select future `!Send`. Only the pass that decides `default` needs all
//!   the channels at once; it *freezes* them instead (`snapshot.rs`), a
//!   flag under each lock that every other locker waits out
//!   ([`Chan::lock_state`]).
//!
//! # Rendezvous channels (Go's hchan, with one lock per channel)
//!
//! A `std` mutex guards the `closed`/`disconnected` flags, and two
//! [`WaitList`]s of parked waiters (Go's `sendq`/`recvq` of sudogs). A
//! [`Waiter`] holds its [`Owner`] (a task's waker, or a select's shared
//! [`SelectCore`] plus the arm's index), a [`Status`] and a value slot: a
//! parked sender's value waits there, and a parked receiver's value is
//! delivered there. The future keeps the waiter's key and reads its status
//! under the lock when polled again. (The code below is written for any
//! capacity, `st.buf` being the buffer; buffered channels no longer use it,
//! a rendezvous channel only for values given back by cancelled receivers.)
//!
//! Send, step by step (`try_send_locked`):
//! 1. Closed or no receivers: fail, giving the value back.
//! 2. A receiver is parked: *pair* with it (see below), move the value into
//!    its slot, mark it `Done`, wake it after unlocking (direct hand-off).
//! 3. Room in the buffer: push.
//! 4. Otherwise the caller parks in `sendq` with its value in the slot.
//!
//! Receive (`try_recv_locked`):
//! 1. Buffer not empty: pop the front; if a sender is parked and there is
//!    now room, move its value to the back of the buffer and complete it.
//! 2. Buffer empty and a sender is parked (rendezvous): pair with it and take
//!    its value straight from the slot.
//! 3. Closed: report closed (`None`): receivers drain the buffer first.
//! 4. Otherwise park in `recvq`.
//!
//! # Buffered and unbounded channels (`buffered.rs`)
//!
//! The values live in a lock-free closable queue (`Chan::queue`,
//! `buffer.rs`). The lock still guards the two waiter lists, the flags and
//! select registration; two atomic counts, `recv_parked` and `send_parked`,
//! mirror how many waiters are linked, so that the fast path can skip the
//! lock when nobody waits. Parked receivers are *notified* (woken, given
//! nothing: they pop for themselves); parked senders keep their value in
//! their waiter, and a receiver that frees a slot moves it into the queue,
//! as Go's `recv` does on a full buffer, which keeps FIFO order and makes
//! `len()` count it at once.
//!
//! Send (`buf_poll_send`, `buf_try_send`):
//! - S1. Push. Closed: fail with the value. Full: go to S4.
//! - S2. SeqCst fence (the StoreLoad barrier of a Dekker pair with R3).
//! - S3. If `recv_parked != 0`: lock, notify the first live receiver
//!   (`notify_one`: unlink it, mark it `Notified`, wake it).
//! - S4. Full: lock, link a waiter in `sendq`, publish `send_parked`.
//! - S5. SeqCst fence (pairs with R4), then push again under the lock. Done:
//!   unlink and go to S2. Still full: the value moves into the waiter; park.
//!
//! Receive (`buf_poll_recv`, `recv_or_park`):
//! - R1. Pop. Closed (and drained): `None`. Empty: go to R2.
//! - R2. Lock, link a waiter in `recvq`, publish `recv_parked`.
//! - R3. SeqCst fence (pairs with S2), then pop again, still under the
//!   lock. A value: unlink and go to R4. Empty: park.
//! - R4. After any successful pop of a bounded channel: SeqCst fence
//!   (pairs with S5); if `send_parked != 0`, go to R5.
//! - R5. Lock; move the first live parked sender's value into the queue
//!   (`refill`), complete and wake it; if a receiver is linked, notify it
//!   too (the move was a push). If the push fails, a racing fast-path send
//!   took the slot, and the next pop retries.
//! - R6. A notified receiver, when polled, frees its waiter and starts over
//!   at R1. If it is dropped instead while notified, it notifies the next
//!   parked receiver, so that the wake-up is not lost with it.
//!
//! Why the fences: in S1-S3 the push is a store to the queue followed by a
//! load of `recv_parked`; in R2-R3 the count is a store followed by a load
//! of the queue. Without a StoreLoad barrier on both sides, each could miss
//! the other's store, and the value would sit in the queue while the
//! receiver sleeps. With both fences, whichever fence comes second in the
//! SeqCst order sees the other side's store. S5/R4 are the same pair for a
//! sender parking on a full buffer. The loom models (`loom_buffered.rs`)
//! deadlock when S2 is removed.
//!
//! Close (`buf_close`):
//! - C1. Under the lock, set the flag and close the queue: from now on a
//!   push fails with its value, and pops drain what is left, then report
//!   closed. The queue orders close and push through one atomic word.
//! - C2. Still under the lock, complete every linked waiter with `Closed`
//!   (`fail_all_locked`; select arms are claimed): senders get their value
//!   back, receivers pop, drain and then see `None`.
//! - C3. When the last receiver left (`disconnect`), drop the values still
//!   queued, outside the lock.
//!
//! # Pairing and `select!` (Go's `selectDone`)
//!
//! A select registers one waiter per arm, all sharing one `SelectCore`
//! whose state word is `WAITING`, `BUSY` or the index of the selected arm.
//! Whoever completes a select's waiter must first *claim* its core: CAS
//! `WAITING -> BUSY`, then store the arm index (`commit`). A waiter whose core
//! is already committed to another arm is *stale*: it is unlinked and
//! skipped; its owner frees it. `BUSY` is a short-lived lock: whoever sees it
//! spins until it becomes `WAITING` again or committed.
//!
//! Why `BUSY` exists: a select registers its arms one channel at a time; when
//! registering arm `k` finds a parked counterpart that is itself a select,
//! both cores must be claimed together or not at all. The registering thread
//! locks both cores (`BUSY`) in a global order (creation order, a counter),
//! commits both, or reverts the one it got. Ordering the two acquisitions
//! makes the spin deadlock-free; no thread waits for a channel mutex while it holds a
//! `BUSY` core, so the channel locks cannot join a cycle either.
//!
//! Buffered arms use `BUSY` the other way round: an operation that may fail
//! holds the claim lock across it, and commits only if it succeeded. A
//! select that registers or retries a buffered receive arm takes its own
//! core's claim lock, pops, then commits the arm or reverts; a receiver
//! that moves a parked select sender's value (R5) takes *that* core's claim
//! lock across the push. A notified select arm is not claimed (the value
//! may be gone when the select runs): the select is only woken, finds its
//! core uncommitted, and retries its arms in a fresh random order
//! (`select.rs`, step 6), so it never completes two arms.
//!
//! # Cancellation
//!
//! - A dropped send future removes its waiter; if the value was not taken,
//!   it is dropped with the future (the send never happened).
//! - Rendezvous: a dropped receive future whose waiter was already handed a
//!   value (`Done`) gives the value back: to another parked receiver if one
//!   can be claimed, else to the *front* of `buf`. No value is ever lost.
//! - Buffered: a receive waiter is never handed a value; a dropped
//!   `Notified` one passes the notification on (R6).
//!
//! # Invariants
//!
//! - Rendezvous: if `buf` is not empty, no claimable receiver is parked.
//! - `recv_parked`/`send_parked` equal the linked lengths of `recvq` and
//!   `sendq` whenever the lock is free (buffered channels).
//! - Buffered: a linked receive waiter registered after its last failed pop
//!   (R3), and every push after that sees it (S3) or is seen by it; a
//!   linked send waiter likewise with every pop (S5/R4).
//! - Buffered: a push notifies at most one receiver; a notified receiver
//!   either pops, parks again through a fresh R2-R3, or passes the
//!   notification on (R6); a receive waiter never holds a value.
//! - Once `closed`, no waiter is linked and no push succeeds (the
//!   rendezvous `buf` may still get a cancelled receiver's value back).
//! - A select's core is committed at most once; only the committed arm's
//!   waiter ever has status `Done` or `Closed`.
//! - While `frozen` is set, only the select that set it changes the state
//!   or the queue's waiters, and every push or bounded pop that completes
//!   meanwhile waits for the lock before it returns (`snapshot.rs`).
//! - User code (wakers, drops of `T`) never runs with the channel lock held
//!   or while the channel is frozen.

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};

use gosched_executor::coop;
use gosched_executor::task::{set_wait_reason, WaitReason};

use super::buffer::Buffer;
use super::error::{SendError, TryRecvError, TrySendError};
use super::select::{Registered, SelectCore};
use crate::loom::atomic::AtomicUsize;
use crate::loom::{lock, spin, yield_thread, Arc, Mutex, MutexGuard};
use crate::waitlist::{update_waker, Key, WaitList};

/// Who is waiting in a queue entry.
pub(crate) enum Owner {
    /// A plain send or receive future; the waker is taken when completed.
    Task(Option<Waker>),
    /// One arm of a `select!`.
    Select {
        /// Shared by all the arms of that select.
        core: Arc<SelectCore>,
        /// Index of the arm.
        case: usize,
    },
}

/// A wake-up to deliver once the channel lock is released.
pub(crate) enum Wake {
    Task(Waker),
    Select(Arc<SelectCore>),
}

impl Wake {
    pub(crate) fn wake(self) {
        match self {
            Wake::Task(w) => w.wake(),
            Wake::Select(core) => core.wake(),
        }
    }
}

/// Progress of a parked waiter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Still parked (or, for a stale select arm, never going to complete).
    Waiting,
    /// Completed: a sender's value was taken, a receiver's value delivered.
    Done,
    /// The channel closed (or lost its receivers) while it waited.
    Closed,
    /// Buffered receivers only: a value was pushed; the waiter is unlinked
    /// and must pop for itself (it may find nothing and park again).
    Notified,
}

/// A parked operation: Go's `sudog`.
pub(crate) struct Waiter<T> {
    pub(super) owner: Owner,
    pub(super) status: Status,
    /// Parked sender: the value to send. Parked receiver: the value received.
    pub(super) value: Option<T>,
}

/// The party that attempts an operation.
#[derive(Clone, Copy)]
pub(crate) enum Me<'a> {
    /// A plain task, or a select that has not registered anywhere yet:
    /// nobody else can complete it concurrently, so it needs no claim.
    Free,
    /// A select that is already registered on other channels: it must claim
    /// its own core before completing anything.
    Select(&'a Arc<SelectCore>, usize),
}

impl Me<'_> {
    /// Claims the caller itself, before an operation that needs no partner.
    /// Inlined: on the buffered fast path it is `Me::Free => true` and
    /// should cost nothing inside the channel lock.
    #[inline]
    fn claim_self(self) -> bool {
        match self {
            Me::Free => true,
            Me::Select(core, case) => core.claim(case),
        }
    }
}

/// Result of trying to pair `Me` with one parked waiter.
enum Pair {
    /// Both claimed; deliver this wake-up after unlocking.
    Won(Wake),
    /// The waiter belongs to a select already committed elsewhere.
    Stale,
    /// The waiter is another arm of the caller's own select.
    Skip,
    /// The caller's own select was committed elsewhere meanwhile.
    MeLost,
}

fn pair(me: Me<'_>, owner: &mut Owner) -> Pair {
    match (me, owner) {
        (Me::Free, Owner::Task(w)) => Pair::Won(Wake::Task(w.take().expect("waker taken twice"))),
        (Me::Free, Owner::Select { core, case }) => {
            if core.claim(*case) {
                Pair::Won(Wake::Select(core.clone()))
            } else {
                Pair::Stale
            }
        }
        (Me::Select(mine, my_case), Owner::Task(w)) => {
            if mine.claim(my_case) {
                Pair::Won(Wake::Task(w.take().expect("waker taken twice")))
            } else {
                Pair::MeLost
            }
        }
        (Me::Select(mine, my_case), Owner::Select { core, case }) => {
            if Arc::ptr_eq(mine, core) {
                return Pair::Skip;
            }
            // Lock both cores in creation order; see "Why BUSY exists".
            let mine_first = mine.order < core.order;
            let (first, second): (&SelectCore, &SelectCore) = if mine_first {
                (mine, core)
            } else {
                (core, mine)
            };
            let lost = |first_failed: bool| {
                if first_failed == mine_first {
                    Pair::MeLost
                } else {
                    Pair::Stale
                }
            };
            if !first.try_lock() {
                return lost(true);
            }
            if !second.try_lock() {
                first.revert();
                return lost(false);
            }
            mine.commit(my_case);
            core.commit(*case);
            Pair::Won(Wake::Select(core.clone()))
        }
    }
}

/// Finds the first waiter in `q` that pairs with `me`, unlinking stale
/// entries on the way. The winner is unlinked and returned with its wake-up.
///
/// The empty check is inlined into the caller: on the buffered fast path
/// the counterpart queue is almost always empty, and the check is one load
/// of a line that nobody writes while nobody parks.
#[inline]
fn scan<T>(q: &mut WaitList<Waiter<T>>, me: Me<'_>) -> Result<Option<(Key, Wake)>, ()> {
    if q.is_empty() {
        return Ok(None);
    }
    scan_slow(q, me)
}

#[inline(never)]
fn scan_slow<T>(q: &mut WaitList<Waiter<T>>, me: Me<'_>) -> Result<Option<(Key, Wake)>, ()> {
    let mut cur = q.front();
    while let Some(key) = cur {
        cur = q.next(key);
        match pair(me, &mut q.get_mut(key).owner) {
            Pair::Won(wake) => {
                q.unlink(key);
                return Ok(Some((key, wake)));
            }
            Pair::Stale => q.unlink(key),
            Pair::Skip => {}
            Pair::MeLost => return Err(()),
        }
    }
    Ok(None)
}

/// Result of [`Chan::try_send_locked`].
pub(crate) enum TrySend<T> {
    Sent(Option<Wake>),
    Full(T),
    Closed(T),
    MeLost(T),
}

/// Result of [`Chan::try_recv_locked`].
pub(crate) enum TryRecv<T> {
    Got(T, Option<Wake>),
    Empty,
    Closed,
    MeLost,
}

/// Everything the channel lock guards.
///
/// Every operation locks it with [`Chan::lock_state`], which waits while
/// `frozen` is set; only the select that froze the channel locks it
/// directly (`snapshot.rs`).
pub(crate) struct State<T> {
    /// Rendezvous only: values given back by cancelled receivers (see
    /// "Cancellation"). Buffered channels keep their values in `Chan::queue`.
    buf: VecDeque<T>,
    /// `close()` was called or every sender is gone.
    pub(super) closed: bool,
    /// Every receiver is gone: sends fail.
    pub(super) disconnected: bool,
    pub(super) recvq: WaitList<Waiter<T>>,
    pub(super) sendq: WaitList<Waiter<T>>,
    /// A non-blocking select holds the channel for its snapshot
    /// (`snapshot.rs`): nobody else may change the state until it clears
    /// the flag. Set and cleared only by that select, under the lock.
    pub(super) frozen: bool,
}

/// A channel: shared by all its senders and receivers through an `Arc`.
pub(crate) struct Chan<T> {
    pub(super) state: Mutex<State<T>>,
    /// Buffered and unbounded channels: the values (any thread, lock-free).
    /// `None` for a rendezvous channel, which never stores a value. Boxed:
    /// the queue's cache-padded head and tail would otherwise make every
    /// channel, rendezvous included, several hundred bytes and spread the
    /// fields the lock-based paths use over more cache lines.
    pub(super) queue: Option<Box<Buffer<T>>>,
    /// Number of linked waiters in `recvq` / `sendq` (buffered channels
    /// only), plus one each while the channel is frozen: written under the
    /// lock (`publish_parked`), read without it by the fast paths, each
    /// after a SeqCst fence (steps S3 and R4).
    pub(super) recv_parked: AtomicUsize,
    pub(super) send_parked: AtomicUsize,
    /// Buffer capacity; `usize::MAX` when unbounded, 0 for rendezvous.
    pub(super) cap: usize,
    /// Live `Sender`s; the last one to go closes the channel.
    pub(crate) senders: AtomicUsize,
    /// Live `Receiver`s; the last one to go disconnects the channel.
    pub(crate) receivers: AtomicUsize,
    /// Under loom, the creation order, which orders the freezing of
    /// channels in place of their addresses (`Chan::snapshot_order`).
    #[cfg(gosched_loom)]
    pub(super) order: usize,
}

impl<T> Chan<T> {
    pub(crate) fn new(cap: usize) -> Self {
        let queue = match cap {
            0 => None,
            usize::MAX => Some(Box::new(Buffer::unbounded())),
            n => Some(Box::new(Buffer::bounded(n))),
        };
        Chan {
            state: Mutex::new(State {
                buf: VecDeque::new(),
                closed: false,
                disconnected: false,
                recvq: WaitList::new(),
                sendq: WaitList::new(),
                frozen: false,
            }),
            queue,
            recv_parked: AtomicUsize::new(0),
            send_parked: AtomicUsize::new(0),
            cap,
            senders: AtomicUsize::new(1),
            receivers: AtomicUsize::new(1),
            #[cfg(gosched_loom)]
            order: {
                // Relaxed: only distinct, increasing ids matter.
                static NEXT: std::sync::atomic::AtomicUsize =
                    std::sync::atomic::AtomicUsize::new(0);
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
        }
    }

    pub(crate) fn cap(&self) -> usize {
        self.cap
    }

    /// Locks the channel for an operation, first waiting until no select
    /// holds it frozen (`snapshot.rs`). Every path locks through here,
    /// except the freezing select itself.
    ///
    /// The wait is a spin that yields the thread: a snapshot holds a
    /// channel for a few queue operations, and runs no user code meanwhile.
    #[inline]
    pub(super) fn lock_state(&self) -> MutexGuard<'_, State<T>> {
        let st = lock(&self.state);
        if !st.frozen {
            return st;
        }
        drop(st);
        self.lock_state_slow()
    }

    #[cold]
    #[inline(never)]
    fn lock_state_slow(&self) -> MutexGuard<'_, State<T>> {
        let mut spins = 0u32;
        loop {
            spins += 1;
            if spins < 16 {
                spin();
            } else {
                yield_thread();
            }
            let st = lock(&self.state);
            if !st.frozen {
                return st;
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.queue {
            Some(q) => q.len(),
            None => lock(&self.state).buf.len(),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        if let Some(q) = &self.queue {
            return q.is_closed();
        }
        let st = lock(&self.state);
        st.closed || st.disconnected
    }

    pub(super) fn try_send_locked(&self, st: &mut State<T>, value: T, me: Me<'_>) -> TrySend<T> {
        if st.closed || st.disconnected {
            return if me.claim_self() {
                TrySend::Closed(value)
            } else {
                TrySend::MeLost(value)
            };
        }
        match scan(&mut st.recvq, me) {
            Err(()) => return TrySend::MeLost(value),
            Ok(Some((key, wake))) => {
                let w = st.recvq.get_mut(key);
                w.value = Some(value);
                w.status = Status::Done;
                return TrySend::Sent(Some(wake));
            }
            Ok(None) => {}
        }
        if st.buf.len() < self.cap {
            if !me.claim_self() {
                return TrySend::MeLost(value);
            }
            st.buf.push_back(value);
            return TrySend::Sent(None);
        }
        TrySend::Full(value)
    }

    pub(super) fn try_recv_locked(&self, st: &mut State<T>, me: Me<'_>) -> TryRecv<T> {
        if !st.buf.is_empty() {
            if !me.claim_self() {
                return TryRecv::MeLost;
            }
            let v = st.buf.pop_front().expect("buffer not empty");
            let mut wake = None;
            if st.buf.len() < self.cap {
                // The caller is committed; the sender is claimed on its own.
                if let Ok(Some((key, w))) = scan(&mut st.sendq, Me::Free) {
                    let sender = st.sendq.get_mut(key);
                    st.buf
                        .push_back(sender.value.take().expect("parked sender has a value"));
                    sender.status = Status::Done;
                    wake = Some(w);
                }
            }
            return TryRecv::Got(v, wake);
        }
        match scan(&mut st.sendq, me) {
            Err(()) => return TryRecv::MeLost,
            Ok(Some((key, wake))) => {
                let sender = st.sendq.get_mut(key);
                let v = sender.value.take().expect("parked sender has a value");
                sender.status = Status::Done;
                return TryRecv::Got(v, Some(wake));
            }
            Ok(None) => {}
        }
        if st.closed {
            return if me.claim_self() {
                TryRecv::Closed
            } else {
                TryRecv::MeLost
            };
        }
        TryRecv::Empty
    }

    /// Non-blocking send.
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        if let Some(q) = &self.queue {
            return self.buf_try_send(q, value);
        }
        let mut st = self.lock_state();
        match self.try_send_locked(&mut st, value, Me::Free) {
            TrySend::Sent(wake) => {
                drop(st);
                if let Some(w) = wake {
                    w.wake();
                }
                Ok(())
            }
            TrySend::Full(v) => Err(TrySendError::Full(v)),
            TrySend::Closed(v) => Err(TrySendError::Closed(v)),
            TrySend::MeLost(_) => unreachable!("a free caller cannot lose"),
        }
    }

    /// Non-blocking receive.
    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        if let Some(q) = &self.queue {
            return self.buf_try_recv(q);
        }
        let mut st = self.lock_state();
        match self.try_recv_locked(&mut st, Me::Free) {
            TryRecv::Got(v, wake) => {
                drop(st);
                if let Some(w) = wake {
                    w.wake();
                }
                Ok(v)
            }
            TryRecv::Empty => Err(TryRecvError::Empty),
            TryRecv::Closed => Err(TryRecvError::Closed),
            TryRecv::MeLost => unreachable!("a free caller cannot lose"),
        }
    }

    /// Drives a send future. `value` holds the value until it is parked;
    /// `key` the parked waiter. Both are `None` once this returns `Ready`.
    pub(crate) fn poll_send(
        &self,
        cx: &mut Context<'_>,
        value: &mut Option<T>,
        key: &mut Option<Key>,
    ) -> Poll<Result<(), SendError<T>>> {
        if let Some(q) = &self.queue {
            return self.buf_poll_send(q, cx, value, key);
        }
        let progress = std::task::ready!(coop::poll_proceed(cx));
        let mut st = self.lock_state();
        if let Some(k) = *key {
            let w = st.sendq.get_mut(k);
            match w.status {
                Status::Waiting => {
                    if let Owner::Task(slot) = &mut w.owner {
                        update_waker(slot, cx.waker());
                    }
                    drop(st);
                    drop(progress);
                    set_wait_reason(WaitReason::ChanSend);
                    return Poll::Pending;
                }
                Status::Done => {
                    st.sendq.remove(k);
                    *key = None;
                    drop(st);
                    progress.made_progress();
                    return Poll::Ready(Ok(()));
                }
                Status::Closed => {
                    let w = st.sendq.remove(k);
                    *key = None;
                    drop(st);
                    progress.made_progress();
                    return Poll::Ready(Err(SendError(w.value.expect("value kept"))));
                }
                Status::Notified => unreachable!("rendezvous waiters are never notified"),
            }
        }
        let v = value.take().expect("send future polled after completion");
        match self.try_send_locked(&mut st, v, Me::Free) {
            TrySend::Sent(wake) => {
                drop(st);
                if let Some(w) = wake {
                    w.wake();
                }
                progress.made_progress();
                Poll::Ready(Ok(()))
            }
            TrySend::Closed(v) => {
                drop(st);
                progress.made_progress();
                Poll::Ready(Err(SendError(v)))
            }
            TrySend::Full(v) => {
                *key = Some(st.sendq.push_back(Waiter {
                    owner: Owner::Task(Some(cx.waker().clone())),
                    status: Status::Waiting,
                    value: Some(v),
                }));
                drop(st);
                drop(progress);
                set_wait_reason(WaitReason::ChanSend);
                Poll::Pending
            }
            TrySend::MeLost(_) => unreachable!("a free caller cannot lose"),
        }
    }

    /// Removes a parked sender whose future was dropped. A value that was
    /// not taken is dropped here, outside the lock.
    pub(crate) fn cancel_send(&self, key: Key) {
        if self.queue.is_some() {
            return self.buf_cancel_send(key);
        }
        let w = self.lock_state().sendq.remove(key);
        drop(w);
    }

    /// Drives a receive future; `key` is the parked waiter, `None` once this
    /// returns `Ready`.
    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>, key: &mut Option<Key>) -> Poll<Option<T>> {
        if let Some(q) = &self.queue {
            return self.buf_poll_recv(q, cx, key);
        }
        let progress = std::task::ready!(coop::poll_proceed(cx));
        let mut st = self.lock_state();
        if let Some(k) = *key {
            let w = st.recvq.get_mut(k);
            match w.status {
                Status::Waiting => {
                    if let Owner::Task(slot) = &mut w.owner {
                        update_waker(slot, cx.waker());
                    }
                    drop(st);
                    drop(progress);
                    set_wait_reason(WaitReason::ChanReceive);
                    return Poll::Pending;
                }
                Status::Done | Status::Closed | Status::Notified => {
                    let w = st.recvq.remove(k);
                    *key = None;
                    drop(st);
                    progress.made_progress();
                    return Poll::Ready(w.value);
                }
            }
        }
        match self.try_recv_locked(&mut st, Me::Free) {
            TryRecv::Got(v, wake) => {
                drop(st);
                if let Some(w) = wake {
                    w.wake();
                }
                progress.made_progress();
                Poll::Ready(Some(v))
            }
            TryRecv::Closed => {
                drop(st);
                progress.made_progress();
                Poll::Ready(None)
            }
            TryRecv::Empty => {
                *key = Some(st.recvq.push_back(Waiter {
                    owner: Owner::Task(Some(cx.waker().clone())),
                    status: Status::Waiting,
                    value: None,
                }));
                drop(st);
                drop(progress);
                set_wait_reason(WaitReason::ChanReceive);
                Poll::Pending
            }
            TryRecv::MeLost => unreachable!("a free caller cannot lose"),
        }
    }

    /// Removes a parked receiver whose future was dropped; a value already
    /// delivered to it goes back into the channel (see "Cancellation").
    pub(crate) fn cancel_recv(&self, key: Key) {
        if self.queue.is_some() {
            return self.buf_cancel_recv(key);
        }
        let mut st = self.lock_state();
        let w = st.recvq.remove(key);
        let Some(v) = w.value else { return };
        // Only reachable when the waiter was completed with a value.
        let wake = match scan(&mut st.recvq, Me::Free) {
            Ok(Some((k, wake))) => {
                let other = st.recvq.get_mut(k);
                other.value = Some(v);
                other.status = Status::Done;
                Some(wake)
            }
            _ => {
                st.buf.push_front(v);
                None
            }
        };
        drop(st);
        if let Some(w) = wake {
            w.wake();
        }
    }

    /// Closes the channel; returns false if it was already closed.
    pub(crate) fn close(&self) -> bool {
        if let Some(q) = &self.queue {
            return self.buf_close(q, false);
        }
        let mut st = self.lock_state();
        if st.closed {
            return false;
        }
        st.closed = true;
        let wakes = Self::fail_all_locked(&mut st);
        drop(st);
        wakes.into_iter().for_each(Wake::wake);
        true
    }

    /// The last receiver is gone: fail parked and future sends, and drop
    /// the buffered values (nobody can receive them).
    pub(crate) fn disconnect(&self) {
        if let Some(q) = &self.queue {
            self.buf_close(q, true);
            return;
        }
        let mut st = self.lock_state();
        st.disconnected = true;
        let wakes = Self::fail_all_locked(&mut st);
        let buf = std::mem::take(&mut st.buf);
        drop(st);
        drop(buf);
        wakes.into_iter().for_each(Wake::wake);
    }

    /// Completes every parked waiter with `Closed`.
    pub(super) fn fail_all_locked(st: &mut State<T>) -> Vec<Wake> {
        let mut wakes = Vec::new();
        for q in [&mut st.recvq, &mut st.sendq] {
            while let Ok(Some((key, wake))) = scan(q, Me::Free) {
                q.get_mut(key).status = Status::Closed;
                wakes.push(wake);
            }
        }
        wakes
    }

    // ---- select! support -------------------------------------------------

    /// First select pass for a receive arm: complete now or do nothing.
    pub(crate) fn select_try_recv(&self) -> Option<Option<T>> {
        match self.try_recv() {
            Ok(v) => Some(Some(v)),
            Err(TryRecvError::Closed) => Some(None),
            Err(TryRecvError::Empty) => None,
        }
    }

    /// Second select pass for a receive arm.
    pub(crate) fn select_register_recv(
        &self,
        core: &Arc<SelectCore>,
        case: usize,
    ) -> Registered<Option<T>> {
        if let Some(q) = &self.queue {
            return self.buf_select_register_recv(q, core, case);
        }
        let mut st = self.lock_state();
        match self.try_recv_locked(&mut st, Me::Select(core, case)) {
            TryRecv::Got(v, wake) => {
                drop(st);
                if let Some(w) = wake {
                    w.wake();
                }
                Registered::Done(Some(v))
            }
            TryRecv::Closed => Registered::Done(None),
            TryRecv::MeLost => Registered::Lost,
            TryRecv::Empty => Registered::Waiting(st.recvq.push_back(Waiter {
                owner: Owner::Select {
                    core: core.clone(),
                    case,
                },
                status: Status::Waiting,
                value: None,
            })),
        }
    }

    /// The select committed to this receive arm: take its result.
    pub(crate) fn select_finish_recv(&self, key: Key) -> Option<T> {
        if let Some(q) = &self.queue {
            return self.buf_select_finish_recv(q, key);
        }
        let w = self.lock_state().recvq.remove(key);
        debug_assert_ne!(w.status, Status::Waiting);
        w.value
    }

    /// First select pass for a send arm: complete now or keep the value.
    pub(crate) fn select_try_send(
        &self,
        value: &mut Option<T>,
    ) -> Option<Result<(), SendError<T>>> {
        let v = value.take().expect("select send arm without a value");
        match self.try_send(v) {
            Ok(()) => Some(Ok(())),
            Err(TrySendError::Closed(v)) => Some(Err(SendError(v))),
            Err(TrySendError::Full(v)) => {
                *value = Some(v);
                None
            }
        }
    }

    /// Second select pass for a send arm; on `Waiting` the value moved into
    /// the waiter, on `Lost` it is back in `value`.
    pub(crate) fn select_register_send(
        &self,
        value: &mut Option<T>,
        core: &Arc<SelectCore>,
        case: usize,
    ) -> Registered<Result<(), SendError<T>>> {
        if let Some(q) = &self.queue {
            return self.buf_select_register_send(q, value, core, case);
        }
        let v = value.take().expect("select send arm without a value");
        let mut st = self.lock_state();
        match self.try_send_locked(&mut st, v, Me::Select(core, case)) {
            TrySend::Sent(wake) => {
                drop(st);
                if let Some(w) = wake {
                    w.wake();
                }
                Registered::Done(Ok(()))
            }
            TrySend::Closed(v) => Registered::Done(Err(SendError(v))),
            TrySend::MeLost(v) => {
                *value = Some(v);
                Registered::Lost
            }
            TrySend::Full(v) => Registered::Waiting(st.sendq.push_back(Waiter {
                owner: Owner::Select {
                    core: core.clone(),
                    case,
                },
                status: Status::Waiting,
                value: Some(v),
            })),
        }
    }

    /// The select committed to this send arm: take its result.
    pub(crate) fn select_finish_send(&self, key: Key) -> Result<(), SendError<T>> {
        if self.queue.is_some() {
            return self.buf_select_finish_send(key);
        }
        let w = self.lock_state().sendq.remove(key);
        match w.status {
            Status::Done => Ok(()),
            Status::Closed => Err(SendError(w.value.expect("value kept"))),
            Status::Waiting | Status::Notified => {
                unreachable!("finish on an arm that was not selected")
            }
        }
    }

    /// A woken, uncommitted select retries its registered receive arm:
    /// only a buffered arm can have been notified without being committed.
    pub(crate) fn select_retry_recv(
        &self,
        key: Key,
        core: &Arc<SelectCore>,
        case: usize,
    ) -> Registered<Option<T>> {
        match &self.queue {
            Some(q) => self.buf_select_retry_recv(q, key, core, case),
            None => Registered::Waiting(key),
        }
    }

    /// Removes an unselected send arm's waiter, handing its value back.
    pub(crate) fn select_unregister_send(&self, key: Key) -> Option<T> {
        if self.queue.is_some() {
            return self.buf_select_unregister_send(key);
        }
        let w = self.lock_state().sendq.remove(key);
        debug_assert_eq!(w.status, Status::Waiting);
        w.value
    }
}

#[cfg(all(test, not(gosched_loom)))]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use crate::chan;

    fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
        let waker = futures::task::noop_waker();
        Pin::new(f).poll(&mut Context::from_waker(&waker))
    }

    /// (linked receivers, linked senders) of a receiver's channel.
    fn queued<T>(rx: &chan::Receiver<T>) -> (usize, usize) {
        let st = super::lock(&rx.chan.state);
        let count = |q: &crate::waitlist::WaitList<super::Waiter<T>>| {
            let mut n = 0;
            let mut cur = q.front();
            while let Some(k) = cur {
                n += 1;
                cur = q.next(k);
            }
            n
        };
        (count(&st.recvq), count(&st.sendq))
    }

    #[test]
    fn cancelled_plain_and_select_operations_leave_both_queues_empty() {
        let (tx, rx) = chan::bounded::<u32>(0);
        let (tx2, rx2) = chan::bounded::<u32>(0);
        for _ in 0..100 {
            let mut r = rx.recv();
            let mut s = tx.send(1);
            assert!(poll_once(&mut r).is_pending());
            drop(r);
            assert!(poll_once(&mut s).is_pending());
            drop(s);
            let mut sel = Box::pin(async {
                crate::select! {
                    v = rx.recv() => v,
                    v = rx2.recv() => v,
                }
            });
            assert!(poll_once(&mut sel).is_pending());
            assert_eq!(queued(&rx), (1, 0), "the parked select arm is queued");
            drop(sel);
        }
        assert_eq!(queued(&rx), (0, 0));
        assert_eq!(queued(&rx2), (0, 0));
        drop((tx, tx2));
    }

    #[test]
    fn a_select_that_runs_default_leaves_its_channels_thawed_with_true_parked_counts() {
        use crate::loom::atomic::Ordering;
        let (tx, rx) = chan::bounded::<u32>(1);
        let (tx2, rx2) = chan::bounded::<u32>(0);
        tx.try_send(0).unwrap(); // full: the send arm is not ready
        let _ = rx.try_recv(); // empty again: the receive arm is not ready
        let ran_default = futures::executor::block_on(async {
            crate::select! {
                v = rx.recv() => { let _ = v; false }
                r = tx2.send(1) => { let _ = r; false }
                v = rx2.recv() => { let _ = v; false }
                default => true,
            }
        });
        assert!(ran_default);
        for st in [
            super::lock(&rx.chan.state).frozen,
            super::lock(&rx2.chan.state).frozen,
        ] {
            assert!(!st, "thawed");
        }
        assert_eq!(rx.chan.recv_parked.load(Ordering::Relaxed), 0);
        assert_eq!(rx.chan.send_parked.load(Ordering::Relaxed), 0);
        // Both channels work as before.
        tx.try_send(5).unwrap();
        assert_eq!(rx.try_recv(), Ok(5));
        assert!(tx2.try_send(1).unwrap_err().is_full());
    }

    #[test]
    fn a_completed_select_leaves_no_stale_arm_on_the_losing_channel() {
        let (tx, rx) = chan::bounded::<u32>(0);
        let (_tx2, rx2) = chan::bounded::<u32>(0);
        let mut sel = Box::pin(async {
            crate::select! {
                v = rx.recv() => v,
                v = rx2.recv() => v,
            }
        });
        assert!(poll_once(&mut sel).is_pending());
        tx.try_send(7).unwrap();
        assert_eq!(poll_once(&mut sel), Poll::Ready(Some(7)));
        drop(sel);
        assert_eq!(queued(&rx2), (0, 0));
        assert_eq!(queued(&rx), (0, 0));
    }
}
