//! The select claim protocol: how an operation pairs with a parked waiter
//! that may belong to a `select!`, so that a select completes exactly one
//! of its arms (Go's `selectDone`). Both flavors use it: rendezvous
//! channels to pair a sender with a receiver (`zero.rs`), buffered ones to
//! complete a parked sender or a select arm (`buffered.rs`).
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

use super::select::SelectCore;
use super::state::{Owner, Waiter, Wake};
use crate::loom::Arc;
use crate::waitlist::{Key, WaitList};

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
    pub(super) fn claim_self(self) -> bool {
        match self {
            Me::Free => true,
            Me::Select(core, case) => core.claim(case),
        }
    }
}

/// Result of trying to pair `Me` with one parked waiter.
pub(super) enum Pair {
    /// Both claimed; deliver this wake-up after unlocking.
    Won(Wake),
    /// The waiter belongs to a select already committed elsewhere.
    Stale,
    /// The waiter is another arm of the caller's own select.
    Skip,
    /// The caller's own select was committed elsewhere meanwhile.
    MeLost,
}

pub(super) fn pair(me: Me<'_>, owner: &mut Owner) -> Pair {
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
/// of a line that nobody writes while nobody parks. So is the commonest
/// pairing of a rendezvous, a plain operation with a plain parked task at
/// the front (`pair`'s first case, which claims nothing).
#[inline]
pub(super) fn scan<T>(q: &mut WaitList<Waiter<T>>, me: Me<'_>) -> Result<Option<(Key, Wake)>, ()> {
    let Some(key) = q.front() else {
        return Ok(None);
    };
    if let (Me::Free, Owner::Task(w)) = (me, &mut q.get_mut(key).owner) {
        let wake = Wake::Task(w.take().expect("waker taken twice"));
        q.unlink(key);
        return Ok(Some((key, wake)));
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
