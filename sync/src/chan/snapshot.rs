//! The snapshot on which a non-blocking `select!` decides to run `default`
//! (the pass of Go's `selectgo` that runs under `sellock`).
//!
//! # Problem
//!
//! A select with `default` must act on the state of its channels at one
//! moment. Its first pass (`select.rs`, step 2) tries the arms one after
//! another, each at a different moment: it can find `c2` empty, then
//! another thread sends to `c2` and takes `c1`'s value, then it finds `c1`
//! empty, and runs `default` although one of the two was ready at every
//! moment (Go's `TestNonblockSelectRace`). Go makes the pass one moment by
//! locking every channel of the select, in address order, for the whole
//! pass.
//!
//! # Rejected alternatives
//!
//! - Holding every channel's `MutexGuard` across the arms, as Go does: the
//!   guards are typed by each arm's `T`, so they would have to live in the
//!   arms, which are part of the select future: `MutexGuard` is `!Send`, so
//!   every future containing a `select!` would be `!Send`. Erasing their
//!   types in the select's stack frame costs an allocation per arm.
//! - The locks alone: the lock-free path of buffered channels (`buffered.rs`,
//!   S1 and R1) pushes and pops without the lock, so a held lock does not
//!   stop a value from arriving or leaving.
//! - Reading every arm twice and comparing versions (a double collect):
//!   needs a version counter that every lock-free push and pop bumps, one
//!   more contended read-modify-write on the fast path.
//!
//! # Protocol
//!
//! A channel is *frozen* by a flag under its lock (`State::frozen`).
//! Everyone else locks through `Chan::lock_state`, which waits while the
//! flag is set; the freezing select locks the mutex directly. While the
//! flag is set, `publish_parked` counts one more parked receiver and one
//! more parked sender, so that a lock-free push (its S3) and a lock-free pop
//! of a bounded channel (its R4) also come to the lock, and wait there for
//! the thaw, before they return.
//!
//! Steps (`Select::snapshot` runs them; the functions below are the
//! per-channel parts):
//! - F1. Freeze the select's channels in address order, each once
//!   ([`Chan::snapshot_freeze`]). One global order keeps two overlapping
//!   snapshots from waiting for each other in a cycle; nobody else ever
//!   waits for one channel while holding another.
//! - F2. A SeqCst fence: the StoreLoad barrier between the counts published
//!   in F1 and the pops and pushes of F3. It pairs with S2 and R4 as R3 and
//!   S5 do: a lock-free push either is seen by F3, or its S3 sees the
//!   frozen count.
//! - F3. Try each arm in the select's random order until one completes
//!   ([`Chan::snapshot_try_recv`], [`Chan::snapshot_try_send`]). What the
//!   completion owes to parked waiters (R5's refill, S3's notify) is done
//!   under the lock, where the waiter lists are exact because nobody can
//!   park on a frozen channel; the wake-ups are only collected.
//! - F4. Thaw every frozen channel ([`Chan::snapshot_thaw`]), also when
//!   unwinding.
//! - F5. Deliver the collected wake-ups (no user code runs while a channel
//!   is frozen); the select then returns the completed arm, or `default`.
//!
//! # Why F3 sees one moment
//!
//! From F2 to F4, every operation that could make an arm ready either
//! took effect before F2, and F3 sees it, or cannot *return* before F4:
//! - operations on rendezvous channels, close, and parking all take the
//!   lock, and wait;
//! - a lock-free push to a receive arm's channel whose S2 fence comes after
//!   F2 loads the frozen count in S3 and waits; one whose fence comes
//!   before F2 is seen by F3's pop (the fence pair above);
//! - a lock-free pop from a send arm's channel, likewise through R4.
//!
//! Operations that make an arm *less* ready (pops from receive arms'
//! channels, pushes to send arms') may complete meanwhile. So when F3
//! finds nothing, the select can be ordered after those and before every
//! readying operation it did not see: each of those is still in progress,
//! and nothing its thread does next has happened. In Go's test, the thread
//! that sends to `c2` and then empties `c1` cannot reach `c1` before the
//! thaw, so the select finds `c1` or `c2` ready.

use super::buffer::{PopError, PushError};
use super::buffered::{notify_one, refill};
use super::claim::Me;
use super::error::SendError;
use super::select::Deferred;
use super::state::Chan;
use super::zero::{TryRecv, TrySend};
use super::Flavor;
use crate::loom::lock;

impl<T> Chan<T> {
    /// The position of this channel in the order in which F1 freezes
    /// channels: its address, as in Go's `sellock`. Under loom it is the
    /// creation order instead, because addresses differ between the runs
    /// of a model and the model must replay the same lock order.
    pub(crate) fn snapshot_order(&self) -> usize {
        #[cfg(gosched_loom)]
        return self.order;
        #[cfg(not(gosched_loom))]
        return self as *const Self as usize;
    }

    /// F1 for one channel: waits until no other select holds it, then
    /// freezes it and publishes the raised parked counts.
    pub(crate) fn snapshot_freeze(&self) {
        let mut st = self.lock_state();
        st.frozen = true;
        if let Flavor::Buffered(_) = self.flavor() {
            self.publish_parked(&st);
        }
    }

    /// F4 for one channel: clears the flag and republishes the true
    /// counts. Waiters in `lock_state` then proceed.
    pub(crate) fn snapshot_thaw(&self) {
        let mut st = lock(&self.state);
        debug_assert!(st.frozen, "thaw of a channel that is not frozen");
        st.frozen = false;
        if let Flavor::Buffered(_) = self.flavor() {
            self.publish_parked(&st);
        }
    }

    /// F3 for a receive arm on this frozen channel: `Some` with the value
    /// (or `None` once closed and drained) if the receive completes now.
    pub(crate) fn snapshot_try_recv(&self, wakes: &mut Deferred) -> Option<Option<T>> {
        let Flavor::Buffered(q) = self.flavor() else {
            let mut st = lock(&self.state);
            debug_assert!(st.frozen);
            return match self.try_recv_locked(&mut st, Me::Free) {
                TryRecv::Got(v, wake) => {
                    drop(st);
                    wakes.extend(wake);
                    Some(Some(v))
                }
                TryRecv::Closed => Some(None),
                TryRecv::Empty => None,
                TryRecv::MeLost => unreachable!("a free caller cannot lose"),
            };
        };
        let v = match q.pop() {
            Ok(v) => v,
            Err(PopError::Closed) => return Some(None),
            Err(PopError::Empty) => return None,
        };
        // R4-R5 under the lock: nobody can be between S4 and S5 while the
        // channel is frozen, so `sendq` is exact and needs no fence.
        if self.cap != usize::MAX {
            let mut st = lock(&self.state);
            if !st.sendq.is_empty() {
                let sender = refill(q, &mut st.sendq);
                let receiver = if sender.is_some() {
                    notify_one(&mut st.recvq)
                } else {
                    None
                };
                self.publish_parked(&st);
                drop(st);
                wakes.extend(sender);
                wakes.extend(receiver);
            }
        }
        Some(Some(v))
    }

    /// F3 for a send arm on this frozen channel: `Some` with the result if
    /// the send completes now (the value leaves `value`), `None` with the
    /// value left in `value` if the channel is full.
    pub(crate) fn snapshot_try_send(
        &self,
        value: &mut Option<T>,
        wakes: &mut Deferred,
    ) -> Option<Result<(), SendError<T>>> {
        let v = value.take().expect("select send arm without a value");
        let Flavor::Buffered(q) = self.flavor() else {
            let mut st = lock(&self.state);
            debug_assert!(st.frozen);
            return match self.try_send_locked(&mut st, v, Me::Free) {
                TrySend::Sent(wake) => {
                    drop(st);
                    wakes.extend(wake);
                    Some(Ok(()))
                }
                TrySend::Closed(v) => Some(Err(SendError(v))),
                TrySend::Full(v) => {
                    *value = Some(v);
                    None
                }
                TrySend::MeLost(_) => unreachable!("a free caller cannot lose"),
            };
        };
        match q.push(v) {
            Ok(()) => {}
            Err(PushError::Closed(v)) => return Some(Err(SendError(v))),
            Err(PushError::Full(v)) => {
                *value = Some(v);
                return None;
            }
        }
        // S3 under the lock: nobody can be between R2 and R3 while the
        // channel is frozen, so `recvq` is exact and needs no fence.
        let mut st = lock(&self.state);
        if !st.recvq.is_empty() {
            let receiver = notify_one(&mut st.recvq);
            self.publish_parked(&st);
            drop(st);
            wakes.extend(receiver);
        }
        Some(Ok(()))
    }
}
