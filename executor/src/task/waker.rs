//! The raw waker: a task's `Waker` is its header pointer and this vtable.
//!
//! Cloning adds a reference, dropping removes one, and waking submits the
//! task to its scheduler when the state word says it is idle. Nothing here
//! allocates. The waker handed to the future during a poll is *borrowed*:
//! it rides on the poll's own reference and is never dropped, so a poll
//! costs no reference-count traffic unless the future clones the waker.

use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::header::Header;
use super::state::{ToNotified, COMPLETE, NOTIFIED, REF_ONE, RUNNING};
use super::Notified;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker for the duration of a poll, on the poll's reference.
pub(crate) fn borrowed(ptr: NonNull<Header>) -> ManuallyDrop<Waker> {
    // SAFETY: the vtable upholds RawWaker's contract for header pointers;
    // ManuallyDrop keeps this borrowed waker from dropping a reference it
    // never took.
    ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr().cast(), &VTABLE)) })
}

fn header<'a>(data: *const ()) -> &'a Header {
    // SAFETY: every waker built with VTABLE points at a live header on
    // which it holds (or borrows) a reference, so the header outlives it.
    unsafe { &*data.cast::<Header>() }
}

/// # Safety
/// `data` comes from a waker built with `VTABLE`: a live task header on
/// which that waker holds a reference.
unsafe fn clone(data: *const ()) -> RawWaker {
    header(data).state.ref_inc();
    RawWaker::new(data, &VTABLE)
}

/// # Safety
/// `data` comes from a waker built with `VTABLE`: a live task header on
/// which that waker holds a reference.
unsafe fn wake(data: *const ()) {
    let hdr = header(data);
    // By value: the waker's own reference becomes the queue's when the
    // task must be submitted, so no extra increment is needed.
    let mut cur = hdr.state.load();
    loop {
        let (submit, next) = if cur.is(COMPLETE) || cur.is(NOTIFIED) {
            (false, cur.0 - REF_ONE)
        } else if cur.is(RUNNING) {
            (false, (cur.0 | NOTIFIED) - REF_ONE)
        } else {
            (true, cur.0 | NOTIFIED)
        };
        match hdr.state.compare_exchange(cur, next) {
            Ok(()) => {
                if submit {
                    // SAFETY: NOTIFIED was set by us with the waker's
                    // reference moving to the queue entry.
                    let task = unsafe { Notified::from_raw(NonNull::from(hdr)) };
                    task.schedule();
                } else if super::state::Snapshot(next).refs() == 0 {
                    // SAFETY: that was the last reference.
                    unsafe { (hdr.vtable.dealloc)(NonNull::from(hdr)) };
                }
                return;
            }
            Err(actual) => cur = actual,
        }
    }
}

/// # Safety
/// `data` comes from a waker built with `VTABLE`: a live task header on
/// which that waker holds a reference.
unsafe fn wake_by_ref(data: *const ()) {
    let hdr = header(data);
    if hdr.state.transition_to_notified_by_ref() == ToNotified::Submit {
        // SAFETY: the transition added the reference that this queue entry owns.
        let task = unsafe { Notified::from_raw(NonNull::from(hdr)) };
        task.schedule();
    }
}

/// # Safety
/// `data` comes from a waker built with `VTABLE`: a live task header on
/// which that waker holds a reference.
unsafe fn drop_waker(data: *const ()) {
    let hdr = header(data);
    if hdr.state.ref_dec(1) {
        // SAFETY: that was the last reference.
        unsafe { (hdr.vtable.dealloc)(NonNull::from(hdr)) };
    }
}
