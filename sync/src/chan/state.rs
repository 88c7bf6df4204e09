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
//!   channels keep a locked design (`zero.rs`), which already beats the peers.
//! - One lock for every operation of a buffered channel (Go's `hchan` as
//!   is): simple, but under contention a fifth of
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
//! # Where each piece lives
//!
//! - This file: what every channel has (the lock, the waiter lists, the
//!   flags), whatever its flavor, and closing every waiter at once.
//! - `zero.rs`: rendezvous channels (`bounded(0)`), all under the lock.
//! - `buffered.rs`: buffered and unbounded channels, a lock-free value
//!   queue (`buffer.rs`) with the parking protocol beside it (S1-R6).
//! - `claim.rs`: how an operation pairs with a parked waiter that may be a
//!   `select!` arm, so a select completes exactly one arm.
//! - `snapshot.rs`: how a select with `default` sees all its channels at
//!   one moment.
//! - `mod.rs`: the public handles, and the one place that dispatches each
//!   operation on the channel's [`Flavor`](super::Flavor).
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
use std::task::Waker;

use super::buffer::Buffer;
use super::claim::{scan, Me};
use super::select::SelectCore;
use crate::loom::atomic::AtomicUsize;
use crate::loom::{lock, spin, yield_thread, Arc, Mutex, MutexGuard};
use crate::waitlist::WaitList;

/// Spins before a locker that found the channel frozen starts yielding its
/// thread: a snapshot holds a channel for a few queue operations (well
/// under a microsecond), so a short spin usually outlasts it.
const FROZEN_SPINS_BEFORE_YIELD: u32 = 16;

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

/// Everything the channel lock guards.
///
/// Every operation locks it with [`Chan::lock_state`], which waits while
/// `frozen` is set; only the select that froze the channel locks it
/// directly (`snapshot.rs`).
pub(crate) struct State<T> {
    /// Rendezvous only: values given back by cancelled receivers (see
    /// "Cancellation" in `zero.rs`). Buffered channels keep their values in
    /// `Chan::queue`.
    pub(super) buf: VecDeque<T>,
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
            if spins < FROZEN_SPINS_BEFORE_YIELD {
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
