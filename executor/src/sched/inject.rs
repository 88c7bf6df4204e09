//! The global run queue (Go's `sched.runq`): tasks spawned or woken off the
//! runtime's threads, and the overflow of full local rings.
//!
//! A `crossbeam_queue::SegQueue`: lock-free pushes from any thread, which
//! matters because every wake from outside the runtime lands here. Ps take
//! from it in batches (`globrunqget` in `worker.rs`), and every 61st
//! scheduling tick looks here first so it never starves. Under loom it is a
//! mutex-protected `VecDeque`, which loom can model.

use std::ptr::NonNull;

use crate::task::{Header, Notified};

/// A queue entry as stored in the global queue (a counted reference).
struct Entry(NonNull<Header>);
// SAFETY: an Entry is a Notified in raw form; Notified is Send.
unsafe impl Send for Entry {}

/// The global run queue.
pub(crate) struct Injector {
    #[cfg(not(gosched_loom))]
    q: crossbeam_queue::SegQueue<Entry>,
    #[cfg(gosched_loom)]
    q: crate::loom::Mutex<std::collections::VecDeque<Entry>>,
}

impl Injector {
    pub(crate) fn new() -> Injector {
        Injector {
            q: Default::default(),
        }
    }

    /// Adds a task at the back. Any thread.
    pub(crate) fn push(&self, task: Notified) {
        let e = Entry(task.into_raw());
        #[cfg(not(gosched_loom))]
        self.q.push(e);
        #[cfg(gosched_loom)]
        crate::loom::lock(&self.q).push_back(e);
    }

    /// Adds several tasks. Any thread.
    pub(crate) fn push_batch(&self, tasks: impl Iterator<Item = Notified>) {
        for t in tasks {
            self.push(t);
        }
    }

    /// Takes the front task. Any thread.
    pub(crate) fn pop(&self) -> Option<Notified> {
        #[cfg(not(gosched_loom))]
        let e = self.q.pop()?;
        #[cfg(gosched_loom)]
        let e = crate::loom::lock(&self.q).pop_front()?;
        // SAFETY: every entry was made from a Notified by `push`.
        Some(unsafe { Notified::from_raw(e.0) })
    }

    /// Number of queued tasks (racy).
    pub(crate) fn len(&self) -> usize {
        #[cfg(not(gosched_loom))]
        return self.q.len();
        #[cfg(gosched_loom)]
        return crate::loom::lock(&self.q).len();
    }

    /// Whether the queue is empty (racy).
    pub(crate) fn is_empty(&self) -> bool {
        #[cfg(not(gosched_loom))]
        return self.q.is_empty();
        #[cfg(gosched_loom)]
        return crate::loom::lock(&self.q).is_empty();
    }
}

impl Drop for Injector {
    fn drop(&mut self) {
        while self.pop().is_some() {}
    }
}
