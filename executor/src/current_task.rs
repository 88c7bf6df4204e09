//! The current task: which task this thread is polling right now (a
//! thread-local header pointer, Go's `getg()` for our purposes).
//!
//! Set by `Notified::run` around each poll (`enter_task`); read by
//! `set_wait_reason`, so a leaf future that returns `Pending` can record
//! why its task waits. (Which worker this thread is lives elsewhere:
//! `CURRENT_M` in `sched/worker.rs`.) Only its own thread touches it.

use std::cell::Cell;
use std::ptr;
#[cfg(not(gosched_observe_off))]
use std::sync::atomic::Ordering;

use crate::task::Header;
#[cfg(not(gosched_observe_off))]
use crate::task::{REASON_SHIFT, TASK_ID_MASK};

thread_local! {
    /// The header of the task being polled, or null.
    static CURRENT_TASK: Cell<*const Header> = const { Cell::new(ptr::null()) };
}

/// Sets the wait reason of the task this thread is polling; no-op outside a
/// task poll, and compiled out under `--cfg gosched_observe_off`.
#[inline]
pub(crate) fn set_wait_reason(reason: u8) {
    #[cfg(gosched_observe_off)]
    let _ = reason;
    #[cfg(not(gosched_observe_off))]
    let _ = CURRENT_TASK.try_with(|w| {
        let hdr = w.get();
        if !hdr.is_null() {
            // SAFETY: the pointer is set only for the duration of a poll, by
            // the thread doing the poll, and the poll holds a reference to
            // the task for that whole time (`enter_task`).
            let hdr = unsafe { &*hdr };
            let v = hdr.id_word.load(Ordering::Relaxed);
            hdr.id_word.store(
                (v & TASK_ID_MASK) | ((reason as u64) << REASON_SHIFT),
                Ordering::Relaxed,
            );
            // The park time, on sysmon's coarse clock: one more store.
            hdr.wait_since
                .store(crate::clock::coarse_ms(), Ordering::Relaxed);
        }
    });
}

/// Marks `hdr` as the task being polled until the guard drops; clears the
/// previous wait reason (a new poll starts with none).
pub(crate) fn enter_task(hdr: &Header) -> TaskGuard {
    #[cfg(not(gosched_observe_off))]
    {
        let v = hdr.id_word.load(Ordering::Relaxed);
        if v & !TASK_ID_MASK != 0 {
            hdr.id_word.store(v & TASK_ID_MASK, Ordering::Relaxed);
        }
    }
    let prev = CURRENT_TASK.with(|w| w.replace(hdr as *const Header));
    TaskGuard { prev }
}

/// Restores the previous current task on drop.
pub(crate) struct TaskGuard {
    prev: *const Header,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        let _ = CURRENT_TASK.try_with(|w| w.set(self.prev));
    }
}
