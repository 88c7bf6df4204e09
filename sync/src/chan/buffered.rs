//! Buffered (`bounded(n)`, `n > 0`) and unbounded channels: the lock-free
//! fast path around the value queue and the parking protocol beside it.
//! Every function in this file may be called by any thread; "the lock" is
//! the channel's `state` mutex (`state.rs`).
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
//! # Cancellation
//!
//! - A dropped send future removes its waiter; a value still in it (not
//!   moved into the queue) is dropped with the future.
//! - A receive waiter is never handed a value; a dropped `Notified` one
//!   passes the notification on (R6).
//!

use std::task::{Context, Poll};

use gosched_executor::coop;
use gosched_executor::task::WaitReason;

use super::buffer::{Buffer, PopError, PushError};
use super::error::{SendError, TryRecvError, TrySendError};
use super::select::{Registered, SelectCore};
use super::state::{Chan, Owner, State, Status, Waiter, Wake};
use crate::loom::atomic::{fence, Ordering};
use crate::loom::Arc;
use crate::waitlist::{park, update_waker, Key, WaitList};

/// Wakes the first live receiver in `recvq` *without* giving it anything
/// (R6): it pops for itself when it runs. A plain receiver is unlinked and
/// marked `Notified`; a select arm is unlinked and marked too, but its
/// select is not claimed, because the value may be gone by the time it
/// runs (it claims its own core before popping, see `select_retry_recv`).
/// Arms of selects already committed elsewhere are unlinked on the way.
/// Called with the lock held.
pub(super) fn notify_one<T>(recvq: &mut WaitList<Waiter<T>>) -> Option<Wake> {
    let mut cur = recvq.front();
    while let Some(key) = cur {
        cur = recvq.next(key);
        let w = recvq.get_mut(key);
        let wake = match &mut w.owner {
            Owner::Task(waker) => waker.take().map(Wake::Task),
            Owner::Select { core, .. } => {
                if core.selected().is_some() {
                    // Stale: its select completed another arm.
                    recvq.unlink(key);
                    continue;
                }
                Some(Wake::Select(core.clone()))
            }
        };
        w.status = Status::Notified;
        recvq.unlink(key);
        return wake;
    }
    None
}

/// Moves the first live parked sender's value into the queue and completes
/// that sender (R5; Go's `recv` on a full buffer). Stops at the first
/// sender whose value does not fit: a racing fast-path send took the slot,
/// and the next pop will try again. A select's sender is claimed with its
/// core's claim lock held across the push, so a failed push leaves the
/// select untouched. Called with the lock held.
pub(super) fn refill<T>(q: &Buffer<T>, sendq: &mut WaitList<Waiter<T>>) -> Option<Wake> {
    let mut cur = sendq.front();
    while let Some(key) = cur {
        cur = sendq.next(key);
        let w = sendq.get_mut(key);
        let core = match &w.owner {
            Owner::Task(_) => None,
            Owner::Select { core, case } => {
                if !core.try_lock() {
                    sendq.unlink(key);
                    continue;
                }
                Some((core.clone(), *case))
            }
        };
        let v = w.value.take().expect("parked sender has a value");
        match q.push(v) {
            Ok(()) => {
                w.status = Status::Done;
                let wake = match (&mut w.owner, core) {
                    (Owner::Task(waker), _) => waker.take().map(Wake::Task),
                    (_, Some((core, case))) => {
                        core.commit(case);
                        Some(Wake::Select(core))
                    }
                    (Owner::Select { .. }, None) => unreachable!("select sender not claimed"),
                };
                sendq.unlink(key);
                return wake;
            }
            Err(PushError::Full(v) | PushError::Closed(v)) => {
                w.value = Some(v);
                if let Some((core, _)) = core {
                    core.revert();
                }
                return None;
            }
        }
    }
    None
}

// The entry points (`buf_try_*`, `buf_poll_*`) are `#[inline(never)]`, as
// are the rendezvous ones in `zero.rs`: the dispatch in `mod.rs` is then a
// branch and a tail call. With one flavor inlined into it, the other paid
// that flavor's register saves and stack frame on every call (callgrind:
// about 20 instructions per buffered send and per receive).
impl<T> Chan<T> {
    /// Unlinks a parked sender's waiter under the lock, republishes the
    /// parked counts, and returns the waiter once the lock is dropped.
    fn take_send_waiter(&self, key: Key) -> Waiter<T> {
        let mut st = self.lock_state();
        let w = st.sendq.remove(key);
        self.publish_parked(&st);
        w
    }

    /// [`Chan::take_send_waiter`] for a parked receiver.
    fn take_recv_waiter(&self, key: Key) -> Waiter<T> {
        let mut st = self.lock_state();
        let w = st.recvq.remove(key);
        self.publish_parked(&st);
        w
    }

    /// Publishes how many waiters are linked, for the lock-free checks in
    /// S3 and R4. Called with the lock held, after any change to the
    /// queues or to `frozen`; a store only when a count changed, so that
    /// the lines the fast paths read stay shared. A frozen channel counts
    /// one more of each, so that every push (S3) and every pop of a
    /// bounded channel (R4) that completes meanwhile comes to the lock and
    /// waits for the thaw (`snapshot.rs`).
    ///
    /// Relaxed: an increment is ordered before the caller's next load by
    /// the SeqCst fence that the caller issues next (S5, R3, or the
    /// snapshot's F2); a decrement that is seen late only costs a fast
    /// path one needless lock.
    pub(super) fn publish_parked(&self, st: &State<T>) {
        let frozen = usize::from(st.frozen);
        let (r, s) = (st.recvq.len() + frozen, st.sendq.len() + frozen);
        if self.recv_parked.load(Ordering::Relaxed) != r {
            self.recv_parked.store(r, Ordering::Relaxed);
        }
        if self.send_parked.load(Ordering::Relaxed) != s {
            self.send_parked.store(s, Ordering::Relaxed);
        }
    }

    /// S2-S3, after a value was pushed: wake a parked receiver, if any.
    #[inline]
    fn after_push(&self) {
        // S2, the StoreLoad barrier. Pairs with the fence of R3: either
        // that receiver's retry pop sees our value, or we see its count.
        fence(Ordering::SeqCst);
        if self.recv_parked.load(Ordering::Relaxed) != 0 {
            self.notify_recv();
        }
    }

    #[cold]
    #[inline(never)]
    fn notify_recv(&self) {
        let mut st = self.lock_state();
        let wake = notify_one(&mut st.recvq);
        self.publish_parked(&st);
        drop(st);
        if let Some(w) = wake {
            w.wake();
        }
    }

    /// R4-R5, after a value was popped: give the free slot to a parked
    /// sender, if any. Unbounded senders never park: nothing to do.
    #[inline]
    fn after_pop(&self) {
        if self.cap == usize::MAX {
            return;
        }
        // R4, the StoreLoad barrier. Pairs with the fence of S5: either
        // that sender's retry push sees our free slot, or we see its count.
        fence(Ordering::SeqCst);
        if self.send_parked.load(Ordering::Relaxed) != 0 {
            self.refill_from_parked();
        }
    }

    #[cold]
    #[inline(never)]
    fn refill_from_parked(&self) {
        let q = self.buffer();
        let mut st = self.lock_state();
        let sender = refill(q, &mut st.sendq);
        // The refill was a push: a receiver parked meanwhile must hear of
        // it (S3, done under the lock, where the count is exact).
        let receiver = if sender.is_some() {
            notify_one(&mut st.recvq)
        } else {
            None
        };
        self.publish_parked(&st);
        drop(st);
        sender.into_iter().chain(receiver).for_each(Wake::wake);
    }

    fn buffer(&self) -> &Buffer<T> {
        self.queue.as_ref().expect("buffered channel")
    }

    // ---- plain operations ------------------------------------------------

    #[inline(never)]
    pub(super) fn buf_try_send(&self, q: &Buffer<T>, value: T) -> Result<(), TrySendError<T>> {
        match q.push(value) {
            Ok(()) => {
                self.after_push();
                Ok(())
            }
            Err(PushError::Full(v)) => Err(TrySendError::Full(v)),
            Err(PushError::Closed(v)) => Err(TrySendError::Closed(v)),
        }
    }

    #[inline(never)]
    pub(super) fn buf_try_recv(&self, q: &Buffer<T>) -> Result<T, TryRecvError> {
        match q.pop() {
            Ok(v) => {
                self.after_pop();
                Ok(v)
            }
            Err(PopError::Empty) => Err(TryRecvError::Empty),
            Err(PopError::Closed) => Err(TryRecvError::Closed),
        }
    }

    /// `poll_send` of a buffered channel.
    #[inline(never)]
    pub(super) fn buf_poll_send(
        &self,
        q: &Buffer<T>,
        cx: &mut Context<'_>,
        value: &mut Option<T>,
        key: &mut Option<Key>,
    ) -> Poll<Result<(), SendError<T>>> {
        let progress = std::task::ready!(coop::poll_proceed(cx));
        if let Some(k) = *key {
            // Parked: a receiver completes us (R5), or close fails us (C2).
            let mut st = self.lock_state();
            let w = st.sendq.get_mut(k);
            let result = match w.status {
                Status::Waiting => {
                    if let Owner::Task(slot) = &mut w.owner {
                        update_waker(slot, cx.waker());
                    }
                    drop(st);
                    return park(progress, WaitReason::ChanSend);
                }
                Status::Done => Ok(()),
                Status::Closed => Err(SendError(w.value.take().expect("value kept"))),
                Status::Notified => unreachable!("senders are never notified"),
            };
            st.sendq.remove(k);
            *key = None;
            drop(st);
            progress.made_progress();
            return Poll::Ready(result);
        }
        // S1: the fast path.
        let v = value.take().expect("send future polled after completion");
        let v = match q.push(v) {
            Ok(()) => {
                self.after_push();
                progress.made_progress();
                return Poll::Ready(Ok(()));
            }
            Err(PushError::Closed(v)) => {
                progress.made_progress();
                return Poll::Ready(Err(SendError(v)));
            }
            Err(PushError::Full(v)) => v,
        };
        // S4: full. Park, then try once more (S5).
        let mut st = self.lock_state();
        let k = st.sendq.push_back(Waiter {
            owner: Owner::Task(Some(cx.waker().clone())),
            status: Status::Waiting,
            value: None,
        });
        self.publish_parked(&st);
        // S5, the StoreLoad barrier; pairs with R4's fence.
        fence(Ordering::SeqCst);
        let result = match q.push(v) {
            Ok(()) => Ok(()),
            Err(PushError::Closed(v)) => Err(SendError(v)),
            Err(PushError::Full(v)) => {
                st.sendq.get_mut(k).value = Some(v);
                *key = Some(k);
                drop(st);
                return park(progress, WaitReason::ChanSend);
            }
        };
        st.sendq.remove(k);
        self.publish_parked(&st);
        drop(st);
        if result.is_ok() {
            self.after_push();
        }
        progress.made_progress();
        Poll::Ready(result)
    }

    /// `poll_recv` of a buffered channel.
    #[inline(never)]
    pub(super) fn buf_poll_recv(
        &self,
        q: &Buffer<T>,
        cx: &mut Context<'_>,
        key: &mut Option<Key>,
    ) -> Poll<Option<T>> {
        let progress = std::task::ready!(coop::poll_proceed(cx));
        if let Some(k) = *key {
            let mut st = self.lock_state();
            let w = st.recvq.get_mut(k);
            if w.status == Status::Waiting {
                if let Owner::Task(slot) = &mut w.owner {
                    update_waker(slot, cx.waker());
                }
                drop(st);
                return park(progress, WaitReason::ChanReceive);
            }
            // R6: notified (or closed): our turn to pop. The waiter is
            // already unlinked; if the pop finds nothing, we park anew.
            st.recvq.remove(k);
            *key = None;
        }
        match self.recv_or_park(q, cx, key) {
            Poll::Ready(v) => {
                progress.made_progress();
                Poll::Ready(v)
            }
            Poll::Pending => park(progress, WaitReason::ChanReceive),
        }
    }

    /// R1-R3: pop, or park in `recvq` and pop once more.
    fn recv_or_park(
        &self,
        q: &Buffer<T>,
        cx: &mut Context<'_>,
        key: &mut Option<Key>,
    ) -> Poll<Option<T>> {
        // R1: the fast path.
        match q.pop() {
            Ok(v) => {
                self.after_pop();
                return Poll::Ready(Some(v));
            }
            Err(PopError::Closed) => return Poll::Ready(None),
            Err(PopError::Empty) => {}
        }
        // R2: park.
        let mut st = self.lock_state();
        let k = st.recvq.push_back(Waiter {
            owner: Owner::Task(Some(cx.waker().clone())),
            status: Status::Waiting,
            value: None,
        });
        self.publish_parked(&st);
        // R3, the StoreLoad barrier; pairs with S2's fence. The retry pop
        // runs under the lock, so no sender can notify us in between: a
        // successful retry consumes no wake-up.
        fence(Ordering::SeqCst);
        let got = match q.pop() {
            Ok(v) => Some(v),
            Err(PopError::Closed) => None,
            Err(PopError::Empty) => {
                *key = Some(k);
                return Poll::Pending;
            }
        };
        st.recvq.remove(k);
        self.publish_parked(&st);
        drop(st);
        if got.is_some() {
            self.after_pop();
        }
        Poll::Ready(got)
    }

    /// Removes a parked sender whose future was dropped; an untaken value
    /// is dropped outside the lock.
    pub(super) fn buf_cancel_send(&self, key: Key) {
        let w = self.take_send_waiter(key);
        drop(w);
    }

    /// Removes a parked receiver whose future was dropped. If it had been
    /// notified and not yet taken its turn, the wake-up goes to the next
    /// parked receiver (R6): otherwise a value could sit in the queue while
    /// that receiver sleeps.
    pub(super) fn buf_cancel_recv(&self, key: Key) {
        let mut st = self.lock_state();
        let w = st.recvq.remove(key);
        let wake = if w.status == Status::Notified {
            notify_one(&mut st.recvq)
        } else {
            None
        };
        self.publish_parked(&st);
        drop(st);
        if let Some(w) = wake {
            w.wake();
        }
    }

    /// C1-C3: `close` (or, with `disconnect`, the last receiver leaving).
    pub(super) fn buf_close(&self, q: &Buffer<T>, disconnect: bool) -> bool {
        let mut st = self.lock_state();
        if disconnect {
            st.disconnected = true;
        } else if st.closed {
            return false;
        } else {
            st.closed = true;
        }
        // C1: under the lock, so no waiter can park after C2 has run.
        q.close();
        // C2: parked senders fail with their values; parked receivers (and
        // select arms, claimed) are told to pop, and will drain the queue
        // and then see `Closed`.
        let wakes = Self::fail_all_locked(&mut st);
        self.publish_parked(&st);
        drop(st);
        wakes.into_iter().for_each(Wake::wake);
        if disconnect {
            // C3: nobody can receive these any more; drop them here,
            // outside the lock.
            while q.pop().is_ok() {}
        }
        true
    }

    // ---- select! support -------------------------------------------------

    /// Registers a receive arm (select pass 2). The core is claimed for the
    /// whole attempt, so a value is popped only if this arm can commit.
    pub(super) fn buf_select_register_recv(
        &self,
        q: &Buffer<T>,
        core: &Arc<SelectCore>,
        case: usize,
    ) -> Registered<Option<T>> {
        let mut st = self.lock_state();
        if !core.try_lock() {
            return Registered::Lost;
        }
        let k = st.recvq.push_back(Waiter {
            owner: Owner::Select {
                core: core.clone(),
                case,
            },
            status: Status::Waiting,
            value: None,
        });
        self.select_pop_locked(q, st, core, case, k)
    }

    /// A parked select was woken without being committed: one of its
    /// receive arms may have been notified. Claim the core, relink the arm
    /// if a sender unlinked it, and pop once (R3 and R6 for a select arm).
    /// `Lost`: the core was committed to some arm meanwhile (maybe this one,
    /// by close); the select then finishes whichever it was.
    pub(super) fn buf_select_retry_recv(
        &self,
        q: &Buffer<T>,
        key: Key,
        core: &Arc<SelectCore>,
        case: usize,
    ) -> Registered<Option<T>> {
        let mut st = self.lock_state();
        if st.recvq.get_mut(key).status == Status::Closed || !core.try_lock() {
            return Registered::Lost;
        }
        let w = st.recvq.get_mut(key);
        if w.status == Status::Notified {
            w.status = Status::Waiting;
            st.recvq.link_back(key);
        }
        self.select_pop_locked(q, st, core, case, key)
    }

    /// With the lock and the core's claim lock held and the arm `k` linked:
    /// publish the count, fence (R3), pop; commit on a value or on close,
    /// else release the core and stay parked.
    fn select_pop_locked(
        &self,
        q: &Buffer<T>,
        mut st: crate::loom::MutexGuard<'_, State<T>>,
        core: &Arc<SelectCore>,
        case: usize,
        k: Key,
    ) -> Registered<Option<T>> {
        self.publish_parked(&st);
        fence(Ordering::SeqCst);
        let got = match q.pop() {
            Ok(v) => Some(v),
            Err(PopError::Closed) => None,
            Err(PopError::Empty) => {
                core.revert();
                return Registered::Waiting(k);
            }
        };
        core.commit(case);
        st.recvq.remove(k);
        self.publish_parked(&st);
        drop(st);
        if got.is_some() {
            self.after_pop();
        }
        Registered::Done(got)
    }

    /// The select committed to this receive arm; only close commits a
    /// buffered receive arm, so the queue holds the rest or says closed.
    pub(super) fn buf_select_finish_recv(&self, q: &Buffer<T>, key: Key) -> Option<T> {
        let w = self.take_recv_waiter(key);
        debug_assert_eq!(w.status, Status::Closed);
        let v = q.pop().ok();
        if v.is_some() {
            self.after_pop();
        }
        v
    }

    /// Registers a send arm (select pass 2); the value moves into the
    /// waiter if it does not fit, where a receiver can take it (R5).
    pub(super) fn buf_select_register_send(
        &self,
        q: &Buffer<T>,
        value: &mut Option<T>,
        core: &Arc<SelectCore>,
        case: usize,
    ) -> Registered<Result<(), SendError<T>>> {
        let mut st = self.lock_state();
        if !core.try_lock() {
            return Registered::Lost;
        }
        let v = value.take().expect("select send arm without a value");
        let k = st.sendq.push_back(Waiter {
            owner: Owner::Select {
                core: core.clone(),
                case,
            },
            status: Status::Waiting,
            value: None,
        });
        self.publish_parked(&st);
        // S5.
        fence(Ordering::SeqCst);
        let result = match q.push(v) {
            Ok(()) => Ok(()),
            Err(PushError::Closed(v)) => Err(SendError(v)),
            Err(PushError::Full(v)) => {
                st.sendq.get_mut(k).value = Some(v);
                core.revert();
                return Registered::Waiting(k);
            }
        };
        core.commit(case);
        st.sendq.remove(k);
        self.publish_parked(&st);
        drop(st);
        if result.is_ok() {
            self.after_push();
        }
        Registered::Done(result)
    }

    /// Removes an unselected send arm, giving its value back.
    pub(super) fn buf_select_unregister_send(&self, key: Key) -> Option<T> {
        let w = self.take_send_waiter(key);
        debug_assert_eq!(w.status, Status::Waiting);
        w.value
    }

    /// The select committed to this send arm (a receiver moved its value,
    /// or close failed it).
    pub(super) fn buf_select_finish_send(&self, key: Key) -> Result<(), SendError<T>> {
        let w = self.take_send_waiter(key);
        match w.status {
            Status::Done => Ok(()),
            Status::Closed => Err(SendError(w.value.expect("value kept"))),
            Status::Waiting | Status::Notified => {
                unreachable!("finish on an arm that was not selected")
            }
        }
    }
}
