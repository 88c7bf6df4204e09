//! Rendezvous channels (`bounded(0)`): Go's `hchan` with one lock per
//! channel and no buffer. A send completes only when a receiver takes its
//! value, handed over directly between the two parked parties.
//!
//! A `std` mutex guards the `closed`/`disconnected` flags, and two
//! [`WaitList`]s of parked waiters (Go's `sendq`/`recvq` of sudogs). A
//! [`Waiter`] holds its [`Owner`] (a task's waker, or a select's shared
//! [`SelectCore`] plus the arm's index), a [`Status`] and a value slot: a
//! parked sender's value waits there, and a parked receiver's value is
//! delivered there. The future keeps the waiter's key and reads its status
//! under the lock when polled again. `State::buf` holds only values given
//! back by cancelled receivers (see "Cancellation" below).
//!
//! Send, step by step (`try_send_locked`):
//! 1. Closed or no receivers: fail, giving the value back.
//! 2. A receiver is parked: *pair* with it (`claim.rs`), move the value
//!    into its slot, mark it `Done`, wake it after unlocking (direct
//!    hand-off).
//! 3. Otherwise the caller parks in `sendq` with its value in the slot.
//!
//! Receive (`try_recv_locked`):
//! 1. A value given back by a cancelled receiver is waiting: take it.
//! 2. A sender is parked: pair with it and take its value straight from
//!    the slot.
//! 3. Closed: report closed (`None`): receivers drain the buffer first.
//! 4. Otherwise park in `recvq`.
//!
//! # Cancellation
//!
//! - A dropped send future removes its waiter; if the value was not taken,
//!   it is dropped with the future (the send never happened).
//! - A dropped receive future whose waiter was already handed a value
//!   (`Done`) gives the value back: to another parked receiver if one can
//!   be claimed, else to the *front* of `State::buf`. No value is ever lost.

use std::task::{Context, Poll};

use gosched_executor::coop;
use gosched_executor::task::WaitReason;

use super::claim::{scan, Me};
use super::error::{SendError, TryRecvError, TrySendError};
use super::select::{Registered, SelectCore};
use super::state::{Chan, Owner, State, Status, Waiter, Wake};
use crate::loom::{lock, Arc};
use crate::waitlist::{park, update_waker, Key};

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

impl<T> Chan<T> {
    /// Values waiting: only ones given back by cancelled receivers.
    pub(super) fn zero_len(&self) -> usize {
        lock(&self.state).buf.len()
    }

    pub(super) fn zero_is_closed(&self) -> bool {
        let st = lock(&self.state);
        st.closed || st.disconnected
    }

    /// Send steps 1-3, under the lock: the rendezvous send as one attempt.
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
        TrySend::Full(value)
    }

    /// Receive steps 1-4, under the lock: the rendezvous receive as one
    /// attempt.
    pub(super) fn try_recv_locked(&self, st: &mut State<T>, me: Me<'_>) -> TryRecv<T> {
        if !st.buf.is_empty() {
            if !me.claim_self() {
                return TryRecv::MeLost;
            }
            let v = st.buf.pop_front().expect("buffer not empty");
            return TryRecv::Got(v, None);
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
    #[inline(never)]
    pub(super) fn zero_try_send(&self, value: T) -> Result<(), TrySendError<T>> {
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
    #[inline(never)]
    pub(super) fn zero_try_recv(&self) -> Result<T, TryRecvError> {
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
    #[inline(never)]
    pub(super) fn zero_poll_send(
        &self,
        cx: &mut Context<'_>,
        value: &mut Option<T>,
        key: &mut Option<Key>,
    ) -> Poll<Result<(), SendError<T>>> {
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
                    return park(progress, WaitReason::ChanSend);
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
                park(progress, WaitReason::ChanSend)
            }
            TrySend::MeLost(_) => unreachable!("a free caller cannot lose"),
        }
    }

    /// Removes a parked sender whose future was dropped. A value that was
    /// not taken is dropped here, outside the lock.
    pub(super) fn zero_cancel_send(&self, key: Key) {
        let w = self.lock_state().sendq.remove(key);
        drop(w);
    }

    /// Drives a receive future; `key` is the parked waiter, `None` once this
    /// returns `Ready`.
    #[inline(never)]
    pub(super) fn zero_poll_recv(
        &self,
        cx: &mut Context<'_>,
        key: &mut Option<Key>,
    ) -> Poll<Option<T>> {
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
                    return park(progress, WaitReason::ChanReceive);
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
                park(progress, WaitReason::ChanReceive)
            }
            TryRecv::MeLost => unreachable!("a free caller cannot lose"),
        }
    }

    /// Removes a parked receiver whose future was dropped; a value already
    /// delivered to it goes back into the channel (see "Cancellation").
    pub(super) fn zero_cancel_recv(&self, key: Key) {
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
    pub(super) fn zero_close(&self) -> bool {
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
    pub(super) fn zero_disconnect(&self) {
        let mut st = self.lock_state();
        st.disconnected = true;
        let wakes = Self::fail_all_locked(&mut st);
        let buf = std::mem::take(&mut st.buf);
        drop(st);
        drop(buf);
        wakes.into_iter().for_each(Wake::wake);
    }

    // ---- select! support: the second pass and its outcome -------------

    /// Second select pass for a receive arm.
    pub(super) fn zero_select_register_recv(
        &self,
        core: &Arc<SelectCore>,
        case: usize,
    ) -> Registered<Option<T>> {
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
    pub(super) fn zero_select_finish_recv(&self, key: Key) -> Option<T> {
        let w = self.lock_state().recvq.remove(key);
        debug_assert_ne!(w.status, Status::Waiting);
        w.value
    }

    /// Second select pass for a send arm; on `Waiting` the value moved into
    /// the waiter, on `Lost` it is back in `value`.
    pub(super) fn zero_select_register_send(
        &self,
        value: &mut Option<T>,
        core: &Arc<SelectCore>,
        case: usize,
    ) -> Registered<Result<(), SendError<T>>> {
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
    pub(super) fn zero_select_finish_send(&self, key: Key) -> Result<(), SendError<T>> {
        let w = self.lock_state().sendq.remove(key);
        match w.status {
            Status::Done => Ok(()),
            Status::Closed => Err(SendError(w.value.expect("value kept"))),
            Status::Waiting | Status::Notified => {
                unreachable!("finish on an arm that was not selected")
            }
        }
    }

    /// Removes an unselected send arm's waiter, handing its value back.
    pub(super) fn zero_select_unregister_send(&self, key: Key) -> Option<T> {
        let w = self.lock_state().sendq.remove(key);
        debug_assert_eq!(w.status, Status::Waiting);
        w.value
    }
}
