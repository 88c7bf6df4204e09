//! The task header: Go's `g`, minus the stack.
//!
//! Every spawned task is one heap allocation, a [`Cell`](super::raw) whose
//! first field is this header, followed by the future (later its output).
//! The header is 72 bytes on 64-bit targets, so a task whose future and
//! output are zero-sized costs one 80-byte malloc chunk.
//!
//! | field        | who writes it                         | who reads it                   |
//! |--------------|---------------------------------------|--------------------------------|
//! | `state`      | atomically, everyone (see `state.rs`) | everyone                       |
//! | `vtable`     | set at spawn, immutable               | everyone                       |
//! | `sched`      | set at spawn, immutable               | wakers that must enqueue       |
//! | `id_word`    | id at spawn; the polling thread sets the wait-reason byte | dumps, JoinError |
//! | `site`       | set at spawn, immutable               | dumps                          |
//! | `wait_since` | the polling thread, with the wait reason | dumps                        |
//! | `join_waker` | the JoinHandle while `JOIN_WAKER` is unset | the completer while it is set |
//! | `extra`      | registry links under the shard lock while registered; then the completer writes a panic payload before setting `COMPLETE` | the JoinHandle after `COMPLETE` |

use std::any::Any;
use std::cell::UnsafeCell;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::task::Waker;

use super::state::State;
use crate::loom::{AtomicU32, AtomicU64};
use crate::sched::Shared;

/// Bits of the id word that hold the task id; the top byte is the wait reason.
pub(crate) const TASK_ID_MASK: u64 = (1 << 56) - 1;
/// Shift of the wait-reason byte in the id word.
pub(crate) const REASON_SHIFT: u32 = 56;

/// Per-type operations on a task, one static table per future type.
pub(crate) struct Vtable {
    /// Polls the future once (the caller holds `RUNNING`).
    pub(crate) poll: unsafe fn(NonNull<Header>) -> super::raw::PollOutcome,
    /// Drops the future and completes the task as cancelled (the caller
    /// holds `RUNNING`).
    pub(crate) cancel: unsafe fn(NonNull<Header>),
    /// Moves the output into `*mut Option<Result<T, JoinError>>`.
    pub(crate) read_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Drops the output in place.
    pub(crate) drop_output: unsafe fn(NonNull<Header>),
    /// Frees the allocation.
    pub(crate) dealloc: unsafe fn(NonNull<Header>),
}

/// Intrusive links of the task registry (a doubly linked list per shard).
#[derive(Clone, Copy)]
pub(crate) struct Links {
    pub(crate) prev: *mut Header,
    pub(crate) next: *mut Header,
}

/// Registry links while the task is registered; the panic payload once it
/// has completed by panicking (the registry no longer needs the links).
pub(crate) union Extra {
    pub(crate) links: Links,
    pub(crate) panic: ManuallyDrop<Box<dyn Any + Send + 'static>>,
}

/// The task header. See the module docs for who may touch which field.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    /// The scheduler, holding one strong `Arc` count until the task is
    /// freed; null for blocking-pool tasks, which are never rescheduled.
    pub(crate) sched: *const Shared,
    pub(crate) id_word: AtomicU64,
    /// The spawn site, interned (`site.rs`).
    pub(crate) site: u32,
    /// When the task last recorded a wait reason, on sysmon's coarse
    /// clock (ms); written by the polling thread with the reason.
    pub(crate) wait_since: AtomicU32,
    pub(crate) join_waker: UnsafeCell<Option<Waker>>,
    pub(crate) extra: UnsafeCell<Extra>,
}

impl Header {
    /// The task id (never reused in a process).
    pub(crate) fn id(&self) -> u64 {
        self.id_word.load(Ordering::Relaxed) & TASK_ID_MASK
    }

    /// Where the task was spawned.
    pub(crate) fn location(&self) -> &'static std::panic::Location<'static> {
        super::site::lookup(self.site)
    }

    /// The last wait reason the task set.
    pub(crate) fn wait_reason(&self) -> super::WaitReason {
        super::WaitReason::from_u8((self.id_word.load(Ordering::Relaxed) >> REASON_SHIFT) as u8)
    }
}

#[cfg(all(test, not(gosched_loom)))]
mod tests {
    use super::*;

    #[test]
    fn header_fits_in_72_bytes() {
        let size = std::mem::size_of::<Header>();
        println!("task header: {size} bytes");
        assert!(
            size <= 128,
            "header is {size} bytes, over the 128-byte budget"
        );
        #[cfg(target_pointer_width = "64")]
        assert_eq!(size, 72);
    }
}
