//! The task registry: every live task of a runtime, for shutdown and dumps.
//!
//! Go keeps every `g` in `allgs`. gosched keeps every not-yet-complete task
//! in a sharded set of intrusive doubly linked lists threaded through the
//! headers' `extra.links`, so registering costs no allocation. The shard is
//! chosen by the task id's block (ids come in per-thread blocks of 64), so a
//! thread that spawns many tasks keeps hitting one uncontended, cached lock.
//!
//! # Protocol
//!
//! 1. `insert` at spawn links the task under its shard's lock, unless the
//!    registry is closed (runtime shutting down): then the spawner cancels
//!    the task at once.
//! 2. `remove` at completion unlinks it and hands the caller the registry's
//!    reference; a task already taken out by shutdown is marked `UNLINKED`
//!    and `remove` says so.
//! 3. `close_and_drain` at shutdown closes every shard, then pops tasks one
//!    at a time (the lock is not held while a future is dropped, since a
//!    dropped future may spawn, wake or complete other tasks).
//!
//! Invariant: `links` of a registered task are only read or written under
//! its shard's lock.

use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::header::{Header, Links};
use super::{TaskInfo, ID_BLOCK};
use crate::loom::{lock, Mutex};

/// Marks a header that is in no list.
pub(crate) const UNLINKED: *mut Header = ptr::dangling_mut::<Header>();

struct Shard {
    head: *mut Header,
    closed: bool,
}

// SAFETY: the raw pointers are only followed under the shard's mutex, and
// the tasks they point to are Send.
unsafe impl Send for Shard {}

/// One shard's counts, side by side so a spawn writes one cache line.
#[derive(Default)]
struct ShardCounts {
    /// Registered (live) tasks.
    live: AtomicUsize,
    /// Tasks ever registered.
    spawned: AtomicUsize,
}

/// The sharded registry.
pub(crate) struct Registry {
    shards: Box<[Mutex<Shard>]>,
    /// Per-shard counts; written under the shard lock.
    counts: Box<[ShardCounts]>,
    mask: usize,
}

impl Registry {
    pub(crate) fn new(procs: usize) -> Registry {
        let n = shard_count(procs);
        Registry {
            shards: (0..n)
                .map(|_| {
                    Mutex::new(Shard {
                        head: ptr::null_mut(),
                        closed: false,
                    })
                })
                .collect(),
            counts: (0..n).map(|_| ShardCounts::default()).collect(),
            mask: n - 1,
        }
    }

    fn shard_of(&self, hdr: &Header) -> usize {
        ((hdr.id() / ID_BLOCK) as usize) & self.mask
    }

    /// Registers a new task; false when the registry is closed.
    pub(crate) fn insert(&self, ptr: NonNull<Header>) -> bool {
        // SAFETY: the caller just allocated the task and holds references.
        let hdr = unsafe { ptr.as_ref() };
        let i = self.shard_of(hdr);
        let mut shard = lock(&self.shards[i]);
        if shard.closed {
            return false;
        }
        let old = shard.head;
        // SAFETY: under the shard lock; `ptr` is not yet in any list and
        // `old` (if any) is a registered task of this shard.
        unsafe {
            (*hdr.extra.get()).links = Links {
                prev: ptr::null_mut(),
                next: old,
            };
            if !old.is_null() {
                (*(*old).extra.get()).links.prev = ptr.as_ptr();
            }
        }
        shard.head = ptr.as_ptr();
        bump_count(&self.counts[i].live, 1);
        #[cfg(not(gosched_observe_off))]
        bump_count(&self.counts[i].spawned, 1);
        true
    }

    /// Unlinks a task; true when it was registered (the caller now owns
    /// the registry's reference).
    pub(crate) fn remove(&self, ptr: NonNull<Header>) -> bool {
        // SAFETY: the caller holds a reference to the task.
        let hdr = unsafe { ptr.as_ref() };
        let i = self.shard_of(hdr);
        let mut shard = lock(&self.shards[i]);
        // SAFETY: links are only touched under this lock.
        let links = unsafe { (*hdr.extra.get()).links };
        if links.prev == UNLINKED {
            return false;
        }
        // SAFETY: under the lock, neighbours are registered tasks of this
        // shard (alive: each holds a registry reference).
        unsafe { unlink(&mut shard, ptr.as_ptr(), links) };
        bump_count(&self.counts[i].live, -1);
        true
    }

    /// Tasks ever registered (spawned on this runtime); 0 under
    /// `--cfg gosched_observe_off`.
    pub(crate) fn spawned(&self) -> usize {
        self.counts
            .iter()
            .map(|c| c.spawned.load(Ordering::Relaxed))
            .sum()
    }

    /// Number of registered (live, not complete) tasks.
    pub(crate) fn len(&self) -> usize {
        self.counts
            .iter()
            .map(|c| c.live.load(Ordering::Relaxed))
            .sum()
    }

    /// Closes every shard and shuts down each registered task, one at a
    /// time, without holding a lock while a future is dropped.
    pub(crate) fn close_and_drain(&self) {
        for s in self.shards.iter() {
            lock(s).closed = true;
        }
        for (i, s) in self.shards.iter().enumerate() {
            loop {
                let task = {
                    let mut shard = lock(s);
                    let head = shard.head;
                    if head.is_null() {
                        break;
                    }
                    // SAFETY: under the lock; head is registered.
                    unsafe {
                        let links = (*(*head).extra.get()).links;
                        unlink(&mut shard, head, links);
                    }
                    bump_count(&self.counts[i].live, -1);
                    // SAFETY: non-null checked above.
                    unsafe { NonNull::new_unchecked(head) }
                };
                // SAFETY: we took the registry reference out with the task.
                unsafe { super::shutdown_task(task) };
            }
        }
    }

    /// A snapshot of every registered task.
    pub(crate) fn snapshot(&self) -> Vec<TaskInfo> {
        let mut out = Vec::with_capacity(self.len());
        for s in self.shards.iter() {
            let shard = lock(s);
            let mut cur = shard.head;
            while !cur.is_null() {
                // SAFETY: under the lock every listed task is alive.
                let hdr = unsafe { &*cur };
                out.push(hdr.info());
                // SAFETY: as above.
                cur = unsafe { (*hdr.extra.get()).links.next };
            }
        }
        out
    }
}

/// Shards per P: enough that threads spawning at once rarely share a
/// lock, few enough that a dump or shutdown walks a handful of lists.
const SHARDS_PER_P: usize = 4;

/// How many shards a registry for `procs` Ps has: a power of two (the
/// shard is a masked id block), at least 4.
#[cfg(not(gosched_loom))]
fn shard_count(procs: usize) -> usize {
    (procs * SHARDS_PER_P).next_power_of_two().max(4)
}

/// Under loom, one shard: task ids come from a process-wide counter that
/// models running side by side advance, and a task landing in another
/// shard would take another lock, which loom reads as a model that is
/// not deterministic.
#[cfg(gosched_loom)]
fn shard_count(_procs: usize) -> usize {
    let _ = SHARDS_PER_P;
    1
}

/// Adds `d` to a shard's count. Called under the shard's lock, which
/// serialises the writers, so a plain load and store suffice (no RMW);
/// readers outside the lock see some recent value.
fn bump_count(c: &AtomicUsize, d: isize) {
    c.store(
        c.load(Ordering::Relaxed).wrapping_add_signed(d),
        Ordering::Relaxed,
    );
}

/// # Safety
/// Called under the shard lock with `node` in this shard's list and
/// `links` its current links.
unsafe fn unlink(shard: &mut Shard, node: *mut Header, links: Links) {
    if links.prev.is_null() {
        shard.head = links.next;
    } else {
        // SAFETY: `prev` is a registered task of this shard (the caller's
        // contract), alive and only touched under the lock we hold.
        unsafe { (*(*links.prev).extra.get()).links.next = links.next };
    }
    if !links.next.is_null() {
        // SAFETY: as above, for `next`.
        unsafe { (*(*links.next).extra.get()).links.prev = links.prev };
    }
    // SAFETY: `node` is a registered task of this shard, alive while the
    // caller holds a reference, its links touched only under this lock.
    unsafe {
        (*(*node).extra.get()).links = Links {
            prev: UNLINKED,
            next: UNLINKED,
        }
    };
}
