//! The task state word: Go's `atomicstatus` plus the reference count.
//!
//! One `AtomicUsize` holds six flags, two outcome bits and the reference
//! count. Every transition is a named method that goes through one CAS loop
//! ([`State::fetch_update_action`]) or a single RMW where one suffices.
//!
//! | bit              | set by                          | cleared by                    |
//! |------------------|---------------------------------|-------------------------------|
//! | `RUNNING`        | the worker that claims the task | the same worker after a poll  |
//! | `COMPLETE`       | the worker that finished it     | never                         |
//! | `NOTIFIED`       | a wake, spawn or abort          | the worker that claims it     |
//! | `CANCELLED`      | `abort()` or runtime shutdown   | never                         |
//! | `JOIN_INTEREST`  | spawn (a JoinHandle exists)     | JoinHandle drop               |
//! | `JOIN_WAKER`     | JoinHandle, after writing waker | JoinHandle, or the completer  |
//! | `OUTCOME_PANIC`  | the completer: future panicked  | never                         |
//! | `OUTCOME_CANCEL` | the completer: future cancelled | never                         |
//!
//! Access rules that the bits grant:
//! - `RUNNING` gives its holder exclusive access to the future (the stage).
//! - `COMPLETE` with `JOIN_INTEREST` gives the JoinHandle the output; with no
//!   `JOIN_INTEREST` the completer drops the output itself.
//! - `JOIN_WAKER` unset gives the JoinHandle exclusive access to the join
//!   waker slot; set, the slot is read-only for everyone until the completer
//!   clears the bit after waking it.
//!
//! References: the registry (until completion), the JoinHandle, each Waker,
//! and each queue entry (a task in a run queue is "notified" and owns one).
//! A poll runs on the queue entry's reference.

use std::fmt;
use std::sync::atomic::Ordering::{AcqRel, Acquire};

use crate::loom::AtomicUsize;

/// The worker holding this bit polls (or cancels) the task.
pub(crate) const RUNNING: usize = 1 << 0;
/// The future is gone; the output (or outcome) is available.
pub(crate) const COMPLETE: usize = 1 << 1;
/// The task is in a run queue, or must be put back in one after its poll.
pub(crate) const NOTIFIED: usize = 1 << 2;
/// The task must be cancelled instead of polled.
pub(crate) const CANCELLED: usize = 1 << 3;
/// A JoinHandle exists and wants the output.
pub(crate) const JOIN_INTEREST: usize = 1 << 4;
/// The join waker slot holds a waker that the completer must wake.
pub(crate) const JOIN_WAKER: usize = 1 << 5;
/// Outcome: the future panicked; the payload is in the header.
pub(crate) const OUTCOME_PANIC: usize = 1 << 6;
/// Outcome: the future was dropped before it finished.
pub(crate) const OUTCOME_CANCEL: usize = 1 << 7;

/// Mask of the flag bits: every bit above.
pub(crate) const FLAGS: usize = RUNNING
    | COMPLETE
    | NOTIFIED
    | CANCELLED
    | JOIN_INTEREST
    | JOIN_WAKER
    | OUTCOME_PANIC
    | OUTCOME_CANCEL;
/// One reference: the lowest bit above the flags.
pub(crate) const REF_ONE: usize = FLAGS + 1;
/// Mask of the reference count.
pub(crate) const REF_MASK: usize = !FLAGS;

/// A snapshot of the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(pub(crate) usize);

impl Snapshot {
    pub(crate) fn is(self, bit: usize) -> bool {
        self.0 & bit != 0
    }
    pub(crate) fn refs(self) -> usize {
        (self.0 & REF_MASK) / REF_ONE
    }
    pub(crate) fn is_idle(self) -> bool {
        self.0 & (RUNNING | COMPLETE) == 0
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("running", &self.is(RUNNING))
            .field("complete", &self.is(COMPLETE))
            .field("notified", &self.is(NOTIFIED))
            .field("cancelled", &self.is(CANCELLED))
            .field("join_interest", &self.is(JOIN_INTEREST))
            .field("join_waker", &self.is(JOIN_WAKER))
            .field("refs", &self.refs())
            .finish()
    }
}

/// What the worker must do after `transition_to_running`.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "the transition hands the caller a duty (poll, cancel or free)"]
pub(crate) enum ToRunning {
    /// Poll the future.
    Poll,
    /// Cancel the task: drop its future.
    Cancel,
    /// Nothing to do (already complete); the queue's reference was dropped.
    Done,
    /// As `Done`, and that was the last reference: deallocate.
    Dealloc,
}

/// What the worker must do after a poll returned `Pending`.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "the transition hands the caller a duty (requeue or cancel)"]
pub(crate) enum ToIdle {
    /// Parked; the running reference was dropped.
    Idle,
    /// Woken during the poll: reschedule it (the running reference moves
    /// to the queue).
    Notified,
    /// Aborted during the poll: cancel it now.
    Cancel,
}

/// What a wake must do.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a task to submit carries a reference that must reach a queue"]
pub(crate) enum ToNotified {
    /// Submit the task to a run queue; a reference was added for it.
    Submit,
    /// Nothing (running, queued or complete).
    Nothing,
}

/// What a wake by value (consuming the waker's reference) must do.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a task to submit carries a reference that must reach a queue"]
pub(crate) enum ToNotifiedByVal {
    /// Submit the task: the waker's reference became the queue entry's.
    Submit,
    /// Nothing to run; the waker's reference was dropped.
    Nothing,
    /// As `Nothing`, and that was the last reference: deallocate.
    Dealloc,
}

/// The atomic state word.
pub(crate) struct State(AtomicUsize);

impl State {
    /// A new task: notified (it is about to be queued), a JoinHandle, and
    /// `refs` references.
    pub(crate) fn new(refs: usize) -> State {
        State(AtomicUsize::new(
            NOTIFIED | JOIN_INTEREST | (refs * REF_ONE),
        ))
    }

    /// The state now. Acquire: pairs with the Release half of every
    /// transition, so a reader that sees `COMPLETE` sees the output.
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    /// The one CAS helper: applies `f` until it wins or `f` says `None`.
    /// Acquire on success pairs with the Release half of whoever wrote the
    /// previous state (a completer publishing the output, a JoinHandle
    /// publishing its waker).
    fn fetch_update_action<R>(&self, mut f: impl FnMut(Snapshot) -> (R, Option<usize>)) -> R {
        let mut cur = self.0.load(Acquire);
        loop {
            let (ret, next) = f(Snapshot(cur));
            let Some(next) = next else { return ret };
            match self.0.compare_exchange_weak(cur, next, AcqRel, Acquire) {
                Ok(_) => return ret,
                Err(actual) => cur = actual,
            }
        }
    }

    /// A worker took the task from a queue (its reference came with it).
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.fetch_update_action(|s| {
            debug_assert!(
                s.is(NOTIFIED) || s.is(COMPLETE),
                "queued task not notified: {s:?}"
            );
            if !s.is_idle() {
                // Complete (cancelled at shutdown while queued): drop the
                // queue's reference.
                debug_assert!(s.refs() >= 1);
                let next = s.0 - REF_ONE;
                let act = if Snapshot(next).refs() == 0 {
                    ToRunning::Dealloc
                } else {
                    ToRunning::Done
                };
                return (act, Some(next));
            }
            let next = (s.0 & !NOTIFIED) | RUNNING;
            let act = if s.is(CANCELLED) {
                ToRunning::Cancel
            } else {
                ToRunning::Poll
            };
            (act, Some(next))
        })
    }

    /// The poll returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> ToIdle {
        self.fetch_update_action(|s| {
            debug_assert!(s.is(RUNNING));
            if s.is(CANCELLED) {
                return (ToIdle::Cancel, None);
            }
            if s.is(NOTIFIED) {
                // Keep our reference for the queue; NOTIFIED stays set.
                return (ToIdle::Notified, Some(s.0 & !RUNNING));
            }
            debug_assert!(s.refs() >= 2, "running task without its registry reference");
            (ToIdle::Idle, Some((s.0 & !RUNNING) - REF_ONE))
        })
    }

    /// A wake by value: the waker's own reference becomes the queue's
    /// when the task must be submitted (no extra increment), and is
    /// dropped otherwise.
    pub(crate) fn transition_to_notified_by_val(&self) -> ToNotifiedByVal {
        self.fetch_update_action(|s| {
            debug_assert!(s.refs() >= 1, "a waker without its reference");
            if s.is(COMPLETE) || s.is(NOTIFIED) || s.is(RUNNING) {
                // Running: mark it so the poller requeues it; either way
                // the waker's reference goes.
                let next = if s.is(RUNNING) && !s.is(COMPLETE) {
                    (s.0 | NOTIFIED) - REF_ONE
                } else {
                    s.0 - REF_ONE
                };
                let act = if Snapshot(next).refs() == 0 {
                    ToNotifiedByVal::Dealloc
                } else {
                    ToNotifiedByVal::Nothing
                };
                (act, Some(next))
            } else {
                (ToNotifiedByVal::Submit, Some(s.0 | NOTIFIED))
            }
        })
    }

    /// A wake (by reference: the waker keeps its own reference).
    pub(crate) fn transition_to_notified_by_ref(&self) -> ToNotified {
        self.fetch_update_action(|s| {
            if s.is(COMPLETE) || s.is(NOTIFIED) {
                (ToNotified::Nothing, None)
            } else if s.is(RUNNING) {
                (ToNotified::Nothing, Some(s.0 | NOTIFIED))
            } else {
                (ToNotified::Submit, Some((s.0 | NOTIFIED) + REF_ONE))
            }
        })
    }

    /// `abort()`: mark cancelled, and submit the task if it is idle so a
    /// worker drops its future.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> ToNotified {
        self.fetch_update_action(|s| {
            if s.is(COMPLETE) || s.is(CANCELLED) {
                (ToNotified::Nothing, None)
            } else if s.is(RUNNING) || s.is(NOTIFIED) {
                (ToNotified::Nothing, Some(s.0 | CANCELLED | NOTIFIED))
            } else {
                (
                    ToNotified::Submit,
                    Some((s.0 | CANCELLED | NOTIFIED) + REF_ONE),
                )
            }
        })
    }

    /// Runtime shutdown: claim an idle (possibly queued) task so the caller
    /// can cancel it in place. Returns false when it is running or complete.
    #[must_use = "true hands the caller the task to cancel"]
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.fetch_update_action(|s| {
            if !s.is_idle() {
                (false, Some(s.0 | CANCELLED))
            } else {
                (true, Some(s.0 | RUNNING | CANCELLED))
            }
        })
    }

    /// The future finished (or was dropped): clear RUNNING, set COMPLETE and
    /// the outcome. Returns the previous state. AcqRel: the Release half
    /// publishes the output to the JoinHandle, which reads COMPLETE with
    /// Acquire.
    pub(crate) fn transition_to_complete(&self, outcome: usize) -> Snapshot {
        debug_assert!(outcome & !(OUTCOME_PANIC | OUTCOME_CANCEL) == 0);
        let prev = Snapshot(self.0.fetch_xor(RUNNING | COMPLETE | outcome, AcqRel));
        debug_assert!(prev.is(RUNNING) && !prev.is(COMPLETE));
        prev
    }

    /// After waking the join waker, the completer gives up the slot.
    /// Returns the state after the change.
    pub(crate) fn unset_join_waker_after_complete(&self) -> Snapshot {
        // AcqRel: the Release half tells a JoinHandle dropping now that the
        // completer is done with the slot; the Acquire half sees the
        // handle's drop_join_interest if it came first.
        let prev = Snapshot(self.0.fetch_and(!JOIN_WAKER, AcqRel));
        Snapshot(prev.0 & !JOIN_WAKER)
    }

    /// JoinHandle: publish the waker it wrote. Fails (returns the state)
    /// when the task completed meanwhile.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update_action(|s| {
            debug_assert!(s.is(JOIN_INTEREST) && !s.is(JOIN_WAKER));
            if s.is(COMPLETE) {
                (Err(s), None)
            } else {
                (Ok(Snapshot(s.0 | JOIN_WAKER)), Some(s.0 | JOIN_WAKER))
            }
        })
    }

    /// JoinHandle: take back the waker slot to replace the waker. Fails
    /// when the task completed meanwhile.
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update_action(|s| {
            debug_assert!(s.is(JOIN_INTEREST) && s.is(JOIN_WAKER));
            if s.is(COMPLETE) {
                (Err(s), None)
            } else {
                (Ok(Snapshot(s.0 & !JOIN_WAKER)), Some(s.0 & !JOIN_WAKER))
            }
        })
    }

    /// JoinHandle dropped. Unless complete, also takes the waker slot
    /// back. Returns the state after the change.
    pub(crate) fn drop_join_interest(&self) -> Snapshot {
        self.fetch_update_action(|s| {
            debug_assert!(s.is(JOIN_INTEREST));
            let next = if s.is(COMPLETE) {
                s.0 & !JOIN_INTEREST
            } else {
                s.0 & !(JOIN_INTEREST | JOIN_WAKER)
            };
            (Snapshot(next), Some(next))
        })
    }

    pub(crate) fn ref_inc(&self) {
        let prev = self
            .0
            .fetch_add(REF_ONE, std::sync::atomic::Ordering::Relaxed);
        // A reference count this large means a leak loop; abort like Arc.
        if prev > usize::MAX / 2 {
            std::process::abort();
        }
    }

    /// Drops `n` references; true when they were the last. AcqRel: the
    /// Release half orders this holder's uses before the free; the Acquire
    /// half makes the freeing thread see every other holder's uses.
    #[must_use = "true means the caller must free the task"]
    pub(crate) fn ref_dec(&self, n: usize) -> bool {
        let prev = Snapshot(self.0.fetch_sub(n * REF_ONE, AcqRel));
        debug_assert!(prev.refs() >= n, "reference count underflow: {prev:?}");
        prev.refs() == n
    }
}

#[cfg(all(test, not(gosched_loom)))]
mod tests {
    use super::*;

    #[test]
    fn wake_during_poll_is_kept_and_reschedules() {
        let s = State::new(3);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_notified_by_ref(), ToNotified::Nothing);
        assert_eq!(s.transition_to_idle(), ToIdle::Notified);
        assert!(s.load().is(NOTIFIED));
        assert_eq!(s.load().refs(), 3);
    }

    #[test]
    fn idle_then_wake_submits_with_a_new_reference() {
        let s = State::new(3);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(), ToIdle::Idle);
        assert_eq!(s.load().refs(), 2);
        assert_eq!(s.transition_to_notified_by_ref(), ToNotified::Submit);
        assert_eq!(s.load().refs(), 3);
        // A second wake while queued does nothing.
        assert_eq!(s.transition_to_notified_by_ref(), ToNotified::Nothing);
        assert_eq!(s.load().refs(), 3);
    }

    #[test]
    fn abort_of_a_queued_task_cancels_on_claim() {
        let s = State::new(3);
        assert_eq!(s.transition_to_notified_and_cancel(), ToNotified::Nothing);
        assert_eq!(s.transition_to_running(), ToRunning::Cancel);
    }

    #[test]
    fn abort_of_an_idle_task_submits_it() {
        let s = State::new(3);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(), ToIdle::Idle);
        assert_eq!(s.transition_to_notified_and_cancel(), ToNotified::Submit);
        assert_eq!(s.transition_to_running(), ToRunning::Cancel);
    }

    #[test]
    fn join_waker_set_fails_after_complete() {
        let s = State::new(3);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        s.transition_to_complete(0);
        assert!(s.set_join_waker().is_err());
        let after = s.drop_join_interest();
        assert!(after.is(COMPLETE) && !after.is(JOIN_INTEREST));
    }

    #[test]
    fn queued_complete_task_drops_the_queue_reference() {
        let s = State::new(2);
        assert!(s.transition_to_shutdown());
        s.transition_to_complete(OUTCOME_CANCEL);
        assert_eq!(s.transition_to_running(), ToRunning::Done);
        assert_eq!(s.load().refs(), 1);
    }
}
