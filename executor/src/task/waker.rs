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
use super::state::{ToNotified, ToNotifiedByVal};
use super::Notified;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker for the duration of a poll, on the poll's reference.
pub(crate) fn borrowed(ptr: NonNull<Header>) -> ManuallyDrop<Waker> {
    // SAFETY: the vtable upholds RawWaker's contract for header pointers;
    // ManuallyDrop keeps this borrowed waker from dropping a reference it
    // never took.
    ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr().cast(), &VTABLE)) })
}

/// The header a waker's data points at.
///
/// # Safety
/// `data` comes from a waker built with `VTABLE`: it points at a live task
/// header on which that waker holds (or borrows) a reference, and the
/// returned borrow is not used after that reference is given up.
unsafe fn header<'a>(data: *const ()) -> &'a Header {
    // SAFETY: guaranteed by the caller.
    unsafe { &*data.cast::<Header>() }
}

/// # Safety
/// `data` comes from a waker built with `VTABLE`: a live task header on
/// which that waker holds a reference.
unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: our caller's contract is `header`'s.
    unsafe { header(data) }.state.ref_inc();
    RawWaker::new(data, &VTABLE)
}

/// # Safety
/// `data` comes from a waker built with `VTABLE`: a live task header on
/// which that waker holds a reference.
unsafe fn wake(data: *const ()) {
    // SAFETY: our caller's contract is `header`'s; the borrow ends with
    // this function, before the reference could be freed below.
    let hdr = unsafe { header(data) };
    match hdr.state.transition_to_notified_by_val() {
        ToNotifiedByVal::Submit => {
            // SAFETY: the transition set NOTIFIED and moved the waker's
            // reference to this queue entry.
            let task = unsafe { Notified::from_raw(NonNull::from(hdr)) };
            task.schedule();
        }
        ToNotifiedByVal::Nothing => {}
        ToNotifiedByVal::Dealloc => {
            // SAFETY: that was the last reference.
            unsafe { (hdr.vtable.dealloc)(NonNull::from(hdr)) };
        }
    }
}

/// # Safety
/// `data` comes from a waker built with `VTABLE`: a live task header on
/// which that waker holds a reference.
unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: our caller's contract is `header`'s.
    let hdr = unsafe { header(data) };
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
    // SAFETY: our caller's contract is `header`'s.
    let hdr = unsafe { header(data) };
    if hdr.state.ref_dec(1) {
        // SAFETY: that was the last reference.
        unsafe { (hdr.vtable.dealloc)(NonNull::from(hdr)) };
    }
}
