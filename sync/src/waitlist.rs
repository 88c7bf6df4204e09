//! An intrusive FIFO of parked waiters, stored in a slab: Go's `waitq` of
//! `sudog`s, without the pointers.
//!
//! # Problem
//!
//! Every blocking primitive in this crate (channels, mutex, semaphore, ...)
//! keeps a queue of parked operations. A parked operation is a future that
//! may be dropped at any moment, and when it is, its entry must leave the
//! queue at once: otherwise a later hand-off would go to a waiter that no
//! longer exists and the value or permit would be lost. So the queue needs
//! O(1) push, pop *and removal from the middle*, and a handle that the
//! future can keep across polls.
//!
//! # Rejected alternatives
//!
//! - `VecDeque<Waker>` plus a linear `retain` on cancellation: O(n) removal,
//!   and a handle cannot be a position (positions shift).
//! - Intrusive lists with the node pinned inside the future (tokio's
//!   approach): no allocation, but every access is `unsafe` and the future
//!   must be `!Unpin`. Rejected to keep raw pointers out of this crate.
//!
//! # Design
//!
//! Entries live in a slab (`Vec` of slots plus a free list); the slot index
//! is the [`Key`] that the waiting future keeps. Linked entries form a
//! doubly linked list through `prev`/`next` indices. An entry can be
//! *unlinked* (taken out of the queue, e.g. because a counterpart completed
//! it) while it stays allocated, so that its owner can still read the
//! result; the owner frees it with [`WaitList::remove`]. The slab never
//! shrinks: its size is the high-water mark of simultaneous waiters.
//!
//! # Invariants
//!
//! - `len` is the number of *linked* entries; `head`/`tail` are `NIL` iff
//!   `len == 0`.
//! - A key is valid from `push_*` until `remove`; only its owner removes it.
//! - The whole structure is protected by the lock of the primitive that owns
//!   it; nothing here is atomic.

use std::task::{Context, Poll, Waker};

use gosched_executor::coop::Progress;
use gosched_executor::task::{set_wait_reason, WaitReason};

const NIL: usize = usize::MAX;

/// A parked operation's entry, as [`WaitList::repoll`] sees it.
pub(crate) trait Waiting {
    /// The waker a counterpart wakes when it completes the operation.
    fn waker_mut(&mut self) -> &mut Option<Waker>;
    /// Whether a counterpart completed it (granted a lock or permits,
    /// released a wait group, signalled, notified).
    fn is_completed(&self) -> bool;
}

/// Ends a poll that completed: the coop budget unit stays spent.
pub(crate) fn ready<T>(progress: Progress, value: T) -> Poll<T> {
    progress.made_progress();
    Poll::Ready(value)
}

/// Ends a poll that parks: the budget unit goes back (waiting is not
/// progress) and the task's wait reason says why it waits. Call it after
/// dropping the primitive's lock.
pub(crate) fn park<T>(progress: Progress, reason: WaitReason) -> Poll<T> {
    drop(progress);
    set_wait_reason(reason);
    Poll::Pending
}

/// Stores `new` in `slot` unless the stored waker would wake the same task
/// (saves a clone, which for most executors is an atomic increment).
pub(crate) fn update_waker(slot: &mut Option<Waker>, new: &Waker) {
    match slot {
        Some(w) if w.will_wake(new) => {}
        _ => *slot = Some(new.clone()),
    }
}

/// Handle of one entry, valid until [`WaitList::remove`].
pub(crate) type Key = usize;

struct Node<W> {
    value: W,
    prev: usize,
    next: usize,
    linked: bool,
}

enum Slot<W> {
    Used(Node<W>),
    Free { next_free: usize },
}

impl<W: Waiting> WaitList<W> {
    /// The re-poll every parked operation does, under its primitive's
    /// lock: when a counterpart completed the entry `*key`, frees it,
    /// clears `*key` and returns it; otherwise stores `cx`'s waker in it
    /// (cheaply, see [`update_waker`]) and returns `None`.
    ///
    /// # Panics
    /// When `*key` is `None` (the caller re-polls only a parked operation).
    pub(crate) fn repoll(&mut self, key: &mut Option<Key>, cx: &Context<'_>) -> Option<W> {
        let k = key.expect("repoll of an operation that is not parked");
        let w = self.get_mut(k);
        if w.is_completed() {
            *key = None;
            return Some(self.remove(k));
        }
        update_waker(w.waker_mut(), cx.waker());
        None
    }
}

/// A FIFO of waiters with O(1) push, pop and removal by key.
pub(crate) struct WaitList<W> {
    slots: Vec<Slot<W>>,
    free: usize,
    head: usize,
    tail: usize,
    len: usize,
}

impl<W> WaitList<W> {
    /// An empty list; allocates nothing.
    pub(crate) const fn new() -> Self {
        WaitList {
            slots: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }

    /// Whether no entry is linked.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of linked entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn alloc(&mut self, value: W) -> Key {
        let node = Node {
            value,
            prev: NIL,
            next: NIL,
            linked: false,
        };
        if self.free != NIL {
            let key = self.free;
            match std::mem::replace(&mut self.slots[key], Slot::Used(node)) {
                Slot::Free { next_free } => self.free = next_free,
                Slot::Used(_) => unreachable!("free list points at a used slot"),
            }
            key
        } else {
            self.slots.push(Slot::Used(node));
            self.slots.len() - 1
        }
    }

    fn node(&self, key: Key) -> &Node<W> {
        match &self.slots[key] {
            Slot::Used(n) => n,
            Slot::Free { .. } => panic!("waitlist: stale key {key}"),
        }
    }

    fn node_mut(&mut self, key: Key) -> &mut Node<W> {
        match &mut self.slots[key] {
            Slot::Used(n) => n,
            Slot::Free { .. } => panic!("waitlist: stale key {key}"),
        }
    }

    /// Allocates an entry and links it at the back.
    pub(crate) fn push_back(&mut self, value: W) -> Key {
        let key = self.alloc(value);
        self.link_back(key);
        key
    }

    /// Links an allocated, unlinked entry at the back.
    pub(crate) fn link_back(&mut self, key: Key) {
        let tail = self.tail;
        {
            let n = self.node_mut(key);
            debug_assert!(!n.linked);
            n.linked = true;
            n.prev = tail;
            n.next = NIL;
        }
        if tail == NIL {
            self.head = key;
        } else {
            self.node_mut(tail).next = key;
        }
        self.tail = key;
        self.len += 1;
    }

    /// Links an allocated, unlinked entry at the front.
    pub(crate) fn link_front(&mut self, key: Key) {
        let head = self.head;
        {
            let n = self.node_mut(key);
            debug_assert!(!n.linked);
            n.linked = true;
            n.prev = NIL;
            n.next = head;
        }
        if head == NIL {
            self.tail = key;
        } else {
            self.node_mut(head).prev = key;
        }
        self.head = key;
        self.len += 1;
    }

    /// Takes the entry out of the queue but keeps it allocated. No-op if it
    /// is not linked.
    pub(crate) fn unlink(&mut self, key: Key) {
        let (prev, next) = {
            let n = self.node_mut(key);
            if !n.linked {
                return;
            }
            n.linked = false;
            (n.prev, n.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.node_mut(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.node_mut(next).prev = prev;
        }
        self.len -= 1;
    }

    /// Whether the entry is still in the queue.
    pub(crate) fn is_linked(&self, key: Key) -> bool {
        self.node(key).linked
    }

    /// Key of the first linked entry.
    pub(crate) fn front(&self) -> Option<Key> {
        (self.head != NIL).then_some(self.head)
    }

    /// Key of the linked entry after `key` (which must be linked).
    pub(crate) fn next(&self, key: Key) -> Option<Key> {
        let n = self.node(key).next;
        (n != NIL).then_some(n)
    }

    /// Unlinks and returns the first entry's key; the entry stays allocated.
    pub(crate) fn pop_front(&mut self) -> Option<Key> {
        let key = self.front()?;
        self.unlink(key);
        Some(key)
    }

    /// The entry's value, mutably.
    pub(crate) fn get_mut(&mut self, key: Key) -> &mut W {
        &mut self.node_mut(key).value
    }

    /// Unlinks (if linked) and frees the entry, returning its value.
    pub(crate) fn remove(&mut self, key: Key) -> W {
        self.unlink(key);
        let slot = std::mem::replace(
            &mut self.slots[key],
            Slot::Free {
                next_free: self.free,
            },
        );
        self.free = key;
        match slot {
            Slot::Used(n) => n.value,
            Slot::Free { .. } => panic!("waitlist: stale key {key}"),
        }
    }
}

#[cfg(all(test, not(gosched_loom)))]
mod tests {
    use super::*;

    fn drain(l: &mut WaitList<u32>) -> Vec<u32> {
        let mut out = Vec::new();
        while let Some(k) = l.pop_front() {
            out.push(l.remove(k));
        }
        out
    }

    #[test]
    fn fifo_order_with_front_pushes_and_middle_removal() {
        let mut l = WaitList::new();
        let a = l.push_back(1);
        let b = l.push_back(2);
        let _c = l.push_back(3);
        let z = l.push_back(0);
        l.unlink(z);
        l.link_front(z);
        assert_eq!(l.remove(b), 2);
        assert!(l.is_linked(a));
        assert_eq!(drain(&mut l), vec![0, 1, 3]);
        assert!(l.is_empty());
    }

    #[test]
    fn unlinked_entries_stay_readable_and_slots_are_reused() {
        let mut l = WaitList::new();
        let a = l.push_back(7);
        assert_eq!(l.pop_front(), Some(a));
        assert!(!l.is_linked(a));
        assert_eq!(*l.get_mut(a), 7);
        assert_eq!(l.remove(a), 7);
        let b = l.push_back(8);
        assert_eq!(a, b, "freed slot is reused");
        l.unlink(b);
        l.link_front(b);
        assert_eq!(l.front(), Some(b));
        assert_eq!(l.next(b), None);
    }
}
