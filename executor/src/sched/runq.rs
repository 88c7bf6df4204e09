//! The per-P run queue: Go's `runq` ring plus the `runnext` slot.
//!
//! # Design
//!
//! A fixed ring of 256 task pointers with a `head` and a `tail` index, as in
//! Go's `p.runq`. Only the P's owner pushes (at `tail`); the owner pops and
//! thieves steal at `head` with a CAS. Slots are `AtomicPtr`s accessed with
//! relaxed loads and stores: a thief may read a slot the owner is about to
//! overwrite, and its CAS on `head` then fails, so the stale read is thrown
//! away (Go's copy-then-commit; atomics keep it free of data races in Rust).
//!
//! `runnext` holds the task most recently spawned or woken by the owner.
//! It runs next (it inherits the current time slice), which keeps message
//! passing between two tasks on one core cache-hot. A thief takes it only
//! when the ring is empty, on its last steal pass, and, if the victim P is
//! running, only after a 3 µs pause, because the owner is then probably
//! about to run it itself (Go: a chan op takes ~50 ns, so 3 µs is ~50x).
//!
//! How runnext does not starve the ring: the worker counts consecutive
//! `runnext` picks and after [`RUNNEXT_STREAK_MAX`] takes from the ring first
//! (see `worker.rs`), so two tasks that wake each other forever share the P
//! with everything queued behind them.
//!
//! # Orderings
//!
//! - Owner: `tail.store(Release)` after writing a slot pairs with the
//!   thief's `tail.load(Acquire)`, so the thief sees the slot's value.
//! - Thief: `head.compare_exchange(Release)` after reading slots pairs with
//!   the owner's `head.load(Acquire)`, so the owner never overwrites a slot
//!   a committed thief still needs.
//! - `runnext` swaps and CASes are AcqRel: the task pointer is handed from
//!   one thread to another through it.
//!
//! # Roles
//!
//! The role is in the type. [`RunQueue`] is the shared view any thread may
//! hold: a thief steals *from* it, schedtrace and sysmon read its length.
//! [`Local`] is the owner's handle: it pushes, pops, and steals *into* its
//! ring. It is neither `Clone`, `Send` nor `Sync`, and only `unsafe`
//! [`Local::new`] makes one, whose caller promises to be the only owner:
//! the M holding the P (`Shared::owned_ring`), the hand-off filling a ring
//! nobody else knows yet, a thread's private scratch ring, or shutdown once
//! no M runs.
//!
//! Under loom the ring shrinks to 4 slots to reach the overflow and
//! wrap-around cases in few steps.

use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
#[cfg(not(gosched_loom))]
use std::time::{Duration, Instant};

use super::inject::Injector;
use crate::loom::{AtomicPtr, AtomicU32};
use crate::task::{Header, Notified};

/// Ring capacity (Go: 256).
#[cfg(not(gosched_loom))]
pub(crate) const RUNQ_SIZE: usize = 256;
/// Ring capacity, shrunk under loom.
#[cfg(gosched_loom)]
pub(crate) const RUNQ_SIZE: usize = 4;

const MASK: u32 = RUNQ_SIZE as u32 - 1;

/// Consecutive `runnext` picks after which the ring goes first.
pub(crate) const RUNNEXT_STREAK_MAX: u32 = 16;

/// How long a thief waits before taking a running victim's `runnext`.
#[cfg(not(gosched_loom))]
const RUNNEXT_STEAL_PAUSE: Duration = Duration::from_micros(3);

/// One P's run queue, as any thread sees it: thieves steal from it
/// (through their own [`Local`]), others read its length. The owner's
/// operations are on [`Local`].
pub(crate) struct RunQueue {
    /// Next slot to consume. Owner and thieves CAS it.
    head: AtomicU32,
    /// Next free slot. Written only by the owner.
    tail: AtomicU32,
    /// The task to run next. Owner swaps it in; owner and thieves CAS it out.
    runnext: AtomicPtr<Header>,
    buf: Box<[AtomicPtr<Header>]>,
}

impl RunQueue {
    pub(crate) fn new() -> RunQueue {
        RunQueue {
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            runnext: AtomicPtr::new(ptr::null_mut()),
            buf: (0..RUNQ_SIZE)
                .map(|_| AtomicPtr::new(ptr::null_mut()))
                .collect(),
        }
    }

    /// Tasks in the ring plus runnext (a racy hint for other threads).
    pub(crate) fn len(&self) -> usize {
        // Acquire, as a thief loads them (module docs, "Orderings"): the
        // count is a hint, but never one from before the slots it counts.
        let t = self.tail.load(Acquire);
        let h = self.head.load(Acquire);
        t.wrapping_sub(h).min(RUNQ_SIZE as u32) as usize
            + (!self.runnext.load(Relaxed).is_null()) as usize
    }

    /// Tasks in the ring alone, without runnext (a racy hint).
    pub(crate) fn ring_len(&self) -> usize {
        // Acquire: as in `len`.
        let t = self.tail.load(Acquire);
        let h = self.head.load(Acquire);
        t.wrapping_sub(h).min(RUNQ_SIZE as u32) as usize
    }

    /// Whether ring and runnext are empty (a racy hint for other threads).
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes every task out of this ring and its runnext, as a thief (safe
    /// while the owner keeps pushing): the hand-off empties a P's ring this
    /// way.
    pub(crate) fn steal_all(&self) -> Vec<Notified> {
        let scratch = RunQueue::new();
        // SAFETY: `scratch` is a local nobody else can reach.
        let mine = unsafe { Local::new(&scratch) };
        let mut out = Vec::new();
        while let Some(t) = mine.steal_from(self, true, false) {
            out.push(t);
            while let Some((t, _)) = mine.pop() {
                out.push(t);
            }
        }
        out
    }
}

/// The owner's end of a run queue (Go: "executed only by the owner P").
/// See the module docs for who may make one.
pub(crate) struct Local<'a> {
    q: &'a RunQueue,
    /// Neither `Send` nor `Sync`: the owner is one thread.
    _one_thread: PhantomData<*const ()>,
}

impl<'a> Local<'a> {
    /// The owner's handle on `q`.
    ///
    /// # Safety
    /// For as long as the handle (or any other made for `q`) lives, only
    /// this thread pushes to or pops from `q` as its owner: the caller is
    /// the M holding `q`'s P, or `q` is reachable by nobody else, or no M
    /// runs any more.
    pub(crate) unsafe fn new(q: &'a RunQueue) -> Local<'a> {
        Local {
            q,
            _one_thread: PhantomData,
        }
    }

    /// The shared view of the same queue.
    pub(crate) fn queue(&self) -> &'a RunQueue {
        self.q
    }

    /// Go's `runqput`. With `next`, `task` goes to `runnext`
    /// and the previous occupant is kicked to the ring's tail. When the
    /// ring is full, half of it and the task go to `inject` (`runqputslow`).
    pub(crate) fn put(&self, task: Notified, next: bool, inject: &Injector) {
        let mut task = task;
        if next {
            let new = task.into_raw().as_ptr();
            let old = self.q.runnext.swap(new, AcqRel);
            match NonNull::new(old) {
                None => return,
                // SAFETY: runnext held this queue entry's reference; the
                // swap moved it to us.
                Some(old) => task = unsafe { Notified::from_raw(old) },
            }
        }
        loop {
            let h = self.q.head.load(Acquire);
            let t = self.q.tail.load(Relaxed);
            if t.wrapping_sub(h) < RUNQ_SIZE as u32 {
                self.q.buf[(t & MASK) as usize].store(task.into_raw().as_ptr(), Relaxed);
                self.q.tail.store(t.wrapping_add(1), Release);
                return;
            }
            match self.put_slow(task, h, t, inject) {
                Ok(()) => return,
                // A thief made room meanwhile: try the ring again.
                Err(back) => task = back,
            }
        }
    }

    /// Go's `runqputslow`: moves half the ring plus `task` to the global
    /// queue. Fails (handing `task` back) when a thief moved
    /// `head` meanwhile.
    fn put_slow(&self, task: Notified, h: u32, t: u32, inject: &Injector) -> Result<(), Notified> {
        let n = t.wrapping_sub(h) / 2;
        debug_assert_eq!(
            n,
            RUNQ_SIZE as u32 / 2,
            "put_slow on a ring that is not full"
        );
        let mut batch: Vec<*mut Header> = Vec::with_capacity(n as usize + 1);
        for i in 0..n {
            batch.push(self.q.buf[(h.wrapping_add(i) & MASK) as usize].load(Relaxed));
        }
        // Release: pairs with thieves' Acquire load of head (as in pop).
        if self
            .q
            .head
            .compare_exchange(h, h.wrapping_add(n), Release, Relaxed)
            .is_err()
        {
            return Err(task);
        }
        batch.push(task.into_raw().as_ptr());
        // SAFETY: the CAS made us the only owner of these entries' references.
        inject.push_batch(
            batch
                .into_iter()
                .map(|p| unsafe { Notified::from_raw(NonNull::new_unchecked(p)) }),
        );
        Ok(())
    }

    /// Go's `runqget`: `runnext` first, then the ring's head.
    /// The flag says whether the task came from `runnext` (it inherits the
    /// time slice).
    pub(crate) fn pop(&self) -> Option<(Notified, bool)> {
        let next = self.q.runnext.load(Relaxed);
        if !next.is_null()
            && self
                .q
                .runnext
                .compare_exchange(next, ptr::null_mut(), AcqRel, Relaxed)
                .is_ok()
        {
            // SAFETY: the CAS moved runnext's queue reference to us.
            return Some((
                unsafe { Notified::from_raw(NonNull::new_unchecked(next)) },
                true,
            ));
        }
        self.pop_ring().map(|t| (t, false))
    }

    /// Pops the ring's head, skipping `runnext`.
    pub(crate) fn pop_ring(&self) -> Option<Notified> {
        loop {
            let h = self.q.head.load(Acquire);
            let t = self.q.tail.load(Relaxed);
            if t == h {
                return None;
            }
            let p = self.q.buf[(h & MASK) as usize].load(Relaxed);
            // Release: pairs with the owner's own later Acquire loads and
            // with thieves, as in put_slow.
            if self
                .q
                .head
                .compare_exchange(h, h.wrapping_add(1), Release, Relaxed)
                .is_ok()
            {
                // SAFETY: the CAS gave us this slot's reference; the owner
                // wrote a non-null pointer there before publishing `tail`.
                return Some(unsafe { Notified::from_raw(NonNull::new_unchecked(p)) });
            }
        }
    }

    /// Go's `runqsteal`: takes half of `victim`'s ring (rounded up) into
    /// this queue and returns one task to run. Only while this ring is
    /// empty. With `steal_runnext`,
    /// takes `victim`'s runnext when its ring is empty; `victim_running`
    /// says the victim P is held by a running M (then pause first).
    pub(crate) fn steal_from(
        &self,
        victim: &RunQueue,
        steal_runnext: bool,
        victim_running: bool,
    ) -> Option<Notified> {
        let t = self.q.tail.load(Relaxed);
        debug_assert_eq!(t, self.q.head.load(Relaxed), "steal into a non-empty ring");
        let n = self.grab(victim, t, steal_runnext, victim_running);
        if n == 0 {
            return None;
        }
        let n = n - 1;
        let last = self.q.buf[(t.wrapping_add(n) & MASK) as usize].load(Relaxed);
        if n > 0 {
            // Release: publishes the copied slots to thieves of our ring.
            self.q.tail.store(t.wrapping_add(n), Release);
        }
        // SAFETY: grab moved the victim's references into our slots; the
        // last one is handed to the caller and not published in the ring.
        Some(unsafe { Notified::from_raw(NonNull::new_unchecked(last)) })
    }

    /// Go's `runqgrab`: copies up to half of `victim`'s ring into our slots
    /// from `dst_tail` on, then commits with a CAS on the victim's head.
    fn grab(
        &self,
        victim: &RunQueue,
        dst_tail: u32,
        steal_runnext: bool,
        victim_running: bool,
    ) -> u32 {
        loop {
            // Acquire on both: head pairs with other thieves' and the
            // owner's CAS; tail pairs with the owner's Release store, so the
            // slots we read are the ones it published.
            let h = victim.head.load(Acquire);
            let t = victim.tail.load(Acquire);
            let mut n = t.wrapping_sub(h);
            n -= n / 2;
            if n == 0 {
                if steal_runnext {
                    let next = victim.runnext.load(Acquire);
                    if !next.is_null() {
                        if victim_running && !pause_while_unchanged(&victim.runnext, next) {
                            // The owner took it: it is running its own
                            // runnext chain, not blocked. Retrying would
                            // only bounce the slot's cache line.
                            return 0;
                        }
                        if victim
                            .runnext
                            .compare_exchange(next, ptr::null_mut(), AcqRel, Relaxed)
                            .is_err()
                        {
                            continue;
                        }
                        self.q.buf[(dst_tail & MASK) as usize].store(next, Relaxed);
                        return 1;
                    }
                }
                return 0;
            }
            if n > RUNQ_SIZE as u32 / 2 {
                // head and tail read at different times: inconsistent.
                continue;
            }
            for i in 0..n {
                let p = victim.buf[(h.wrapping_add(i) & MASK) as usize].load(Relaxed);
                self.q.buf[(dst_tail.wrapping_add(i) & MASK) as usize].store(p, Relaxed);
            }
            if victim
                .head
                .compare_exchange(h, h.wrapping_add(n), AcqRel, Relaxed)
                .is_ok()
            {
                return n;
            }
        }
    }

    /// Tasks in the ring plus runnext.
    pub(crate) fn len(&self) -> usize {
        self.q.len()
    }
}

/// Spins for [`RUNNEXT_STEAL_PAUSE`] while `slot` still holds `value`.
/// Returns false when the owner took it meanwhile (then the thief leaves
/// that victim alone: Go sleeps and retries, but an owner that keeps
/// replacing its runnext is busy running it, not blocked). A spin, not a sleep:
/// the OS would sleep tens of microseconds for a 3 µs request.
fn pause_while_unchanged(slot: &AtomicPtr<Header>, value: *mut Header) -> bool {
    #[cfg(gosched_loom)]
    {
        loom::thread::yield_now();
        slot.load(Acquire) == value
    }
    #[cfg(not(gosched_loom))]
    {
        // Look at the slot only every 64 spins: each look pulls the line
        // the owner writes on every spawn and wake away from it.
        let start = Instant::now();
        while start.elapsed() < RUNNEXT_STEAL_PAUSE {
            for _ in 0..64 {
                std::hint::spin_loop();
            }
            if slot.load(Relaxed) != value {
                return false;
            }
        }
        true
    }
}

impl Drop for RunQueue {
    fn drop(&mut self) {
        // Runtime shutdown drains queues before dropping them; anything
        // left is a queue reference to release.
        // SAFETY: `&mut self`: nobody else can reach the queue.
        let owner = unsafe { Local::new(self) };
        while owner.pop().is_some() {}
    }
}

#[cfg(all(test, not(gosched_loom)))]
mod tests {
    use super::*;
    use crate::task::new_blocking_task;

    fn task() -> (Notified, u64) {
        let (t, join) = new_blocking_task(async {});
        let id = join.id();
        (t, id)
    }

    fn id(t: &Notified) -> u64 {
        t.header().id()
    }

    /// The owner's handle on a queue this test alone uses.
    fn owner(q: &RunQueue) -> Local<'_> {
        // SAFETY: each test's queues are locals of its one thread.
        unsafe { Local::new(q) }
    }

    #[test]
    fn put_then_pop_is_fifo_on_the_ring() {
        let q = RunQueue::new();
        let inj = Injector::new();
        let ids: Vec<u64> = (0..10)
            .map(|_| {
                let (t, i) = task();
                owner(&q).put(t, false, &inj);
                i
            })
            .collect();
        let got: Vec<u64> = std::iter::from_fn(|| {
            owner(&q).pop().map(|(t, next)| {
                assert!(!next);
                id(&t)
            })
        })
        .collect();
        assert_eq!(got, ids);
    }

    #[test]
    fn runnext_runs_first_and_a_new_one_kicks_the_old_to_the_tail() {
        let q = RunQueue::new();
        let inj = Injector::new();
        let (a, ia) = task();
        let (b, ib) = task();
        let (c, ic) = task();
        owner(&q).put(a, false, &inj);
        owner(&q).put(b, true, &inj);
        owner(&q).put(c, true, &inj); // b goes to the ring's tail
        let order: Vec<(u64, bool)> =
            std::iter::from_fn(|| owner(&q).pop().map(|(t, n)| (id(&t), n))).collect();
        assert_eq!(order, vec![(ic, true), (ia, false), (ib, false)]);
    }

    #[test]
    fn a_full_ring_moves_half_plus_the_new_task_to_the_global_queue() {
        let q = RunQueue::new();
        let inj = Injector::new();
        for _ in 0..RUNQ_SIZE {
            owner(&q).put(task().0, false, &inj);
        }
        assert!(inj.is_empty());
        let (t, extra) = task();
        owner(&q).put(t, false, &inj);
        assert_eq!(inj.len(), RUNQ_SIZE / 2 + 1);
        assert_eq!(q.len(), RUNQ_SIZE / 2);
        let last = std::iter::from_fn(|| inj.pop()).last().unwrap();
        assert_eq!(id(&last), extra, "the new task goes after the moved half");
    }

    #[test]
    fn steal_takes_half_rounded_up_and_leaves_runnext_alone() {
        let victim = RunQueue::new();
        let thief = RunQueue::new();
        let inj = Injector::new();
        for _ in 0..5 {
            owner(&victim).put(task().0, false, &inj);
        }
        owner(&victim).put(task().0, true, &inj);
        let first = owner(&thief).steal_from(&victim, true, false);
        assert!(first.is_some());
        // 3 of 5 taken: one returned, two left in the thief's ring.
        assert_eq!(thief.len(), 2);
        assert_eq!(victim.len(), 2 + 1);
        assert!(
            !victim.runnext.load(Relaxed).is_null(),
            "runnext is taken only from an empty ring"
        );
    }

    #[test]
    fn runnext_is_stolen_only_when_asked_and_the_ring_is_empty() {
        let victim = RunQueue::new();
        let thief = RunQueue::new();
        let inj = Injector::new();
        let (t, i) = task();
        owner(&victim).put(t, true, &inj);
        assert!(owner(&thief).steal_from(&victim, false, false).is_none());
        let got = owner(&thief)
            .steal_from(&victim, true, true)
            .expect("runnext stolen on the last pass");
        assert_eq!(id(&got), i);
        assert!(victim.is_empty());
    }
}
