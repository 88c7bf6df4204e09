//! Thread-local scheduler context: which worker (M) this thread is, and which
//! task it is polling right now.
//!
//! Set by the worker loop around each poll; read by `spawn`, wakers
//! (to find the local P for `runnext`), `set_wait_reason` and `block_on`'s
//! nested-runtime check. Everything here is only touched by its own thread.

use std::cell::Cell;
use std::ptr;
use std::sync::atomic::Ordering;

use crate::loom::AtomicU64;

use crate::task::{REASON_SHIFT, TASK_ID_MASK};

thread_local! {
    /// The id-and-wait-reason word of the task being polled, or null.
    static CURRENT_TASK_WORD: Cell<*const AtomicU64> = const { Cell::new(ptr::null()) };
}

/// Sets the wait reason of the task this thread is polling; no-op outside a
/// task poll.
#[inline]
pub(crate) fn set_wait_reason(reason: u8) {
    let _ = CURRENT_TASK_WORD.try_with(|w| {
        let word = w.get();
        if !word.is_null() {
            // SAFETY: the pointer is set only for the duration of a poll, by
            // the thread doing the poll, and the task holds a reference to
            // its own header for that whole time (`enter_task`).
            let word = unsafe { &*word };
            let v = word.load(Ordering::Relaxed);
            word.store(
                (v & TASK_ID_MASK) | ((reason as u64) << REASON_SHIFT),
                Ordering::Relaxed,
            );
        }
    });
}

/// Marks `word` as the current task's id-and-reason word until the guard
/// drops; clears the previous reason (a new poll starts with none).
pub(crate) fn enter_task(word: &AtomicU64) -> TaskGuard {
    let v = word.load(Ordering::Relaxed);
    if v & !TASK_ID_MASK != 0 {
        word.store(v & TASK_ID_MASK, Ordering::Relaxed);
    }
    let prev = CURRENT_TASK_WORD.with(|w| w.replace(word as *const AtomicU64));
    TaskGuard { prev }
}

/// Restores the previous current task on drop.
pub(crate) struct TaskGuard {
    prev: *const AtomicU64,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        let _ = CURRENT_TASK_WORD.try_with(|w| w.set(self.prev));
    }
}
