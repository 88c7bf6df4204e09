//! The task allocation and its per-type vtable.
//!
//! A task is one `Box<Cell<F>>`: the [`Header`] first (so a header pointer
//! is a cell pointer), then a union that holds the future until it
//! finishes and the output after. The union costs nothing for zero-sized
//! futures and outputs; the panic payload of a task that panicked goes into
//! the header's `extra` field instead, so it does not widen the union.
//!
//! Everything here that touches the raw allocation is generic over the
//! future type and reached through the header's [`Vtable`]; everything that
//! is the same for all tasks (completion, references) lives in `mod.rs`.

use std::any::Any;
use std::cell::UnsafeCell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::header::{Extra, Header, Links, Vtable};
use super::state::State;
use crate::loom::{AtomicU32, AtomicU64};
use crate::sched::Shared;

/// The future until it completes; its output after.
union Stage<F: Future> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<F::Output>,
}

/// The whole task allocation.
#[repr(C)]
struct Cell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

/// What one poll of the future came to.
pub(crate) enum PollOutcome {
    /// The future returned `Pending`.
    Pending,
    /// The future finished; the output is stored and the future dropped.
    Ready,
    /// The future (or its drop) panicked; the future is gone.
    Panicked(Box<dyn Any + Send + 'static>),
}

struct VtableOf<F>(std::marker::PhantomData<F>);

impl<F: Future + Send + 'static> VtableOf<F>
where
    F::Output: Send + 'static,
{
    const VTABLE: Vtable = Vtable {
        poll: poll::<F>,
        cancel: cancel::<F>,
        read_output: read_output::<F>,
        drop_output: drop_output::<F>,
        dealloc: dealloc::<F>,
    };
}

/// Allocates a task holding `future`, with `refs` references and the
/// `NOTIFIED | JOIN_INTEREST` flags. `sched` must carry one strong count of
/// an `Arc<Shared>` (or be null); the task releases it when freed.
pub(crate) fn allocate<F>(
    future: F,
    sched: *const Shared,
    id: u64,
    location: &'static Location<'static>,
    refs: usize,
) -> NonNull<Header>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    debug_assert!(id <= super::header::TASK_ID_MASK);
    let cell = Box::new(Cell::<F> {
        header: Header {
            state: State::new(refs),
            vtable: &VtableOf::<F>::VTABLE,
            sched,
            id_word: AtomicU64::new(id),
            site: super::site::intern(location),
            wait_since: AtomicU32::new(0),
            join_waker: UnsafeCell::new(None),
            extra: UnsafeCell::new(Extra {
                links: Links {
                    prev: super::registry::UNLINKED,
                    next: super::registry::UNLINKED,
                },
            }),
        },
        stage: UnsafeCell::new(Stage {
            future: ManuallyDrop::new(future),
        }),
    });
    NonNull::from(Box::leak(cell)).cast()
}

/// # Safety
/// `ptr` is a live task of future type `F`, and the caller holds `RUNNING`
/// (exclusive access to the stage, which still holds the future).
unsafe fn poll<F: Future>(ptr: NonNull<Header>) -> PollOutcome {
    let cell = ptr.cast::<Cell<F>>().as_ptr();
    // SAFETY: `RUNNING` gives this thread the stage; the future is present
    // (a task is polled only before COMPLETE) and never moves: it lives in
    // the heap cell until it is dropped in place.
    let stage = unsafe { &mut *(*cell).stage.get() };
    let waker = super::waker::borrowed(ptr);
    let mut cx = Context::from_waker(&waker);
    let res = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: see above: pinned in the heap cell, exclusive.
        let fut = unsafe { Pin::new_unchecked(&mut *stage.future) };
        fut.poll(&mut cx)
    }));
    match res {
        Ok(Poll::Pending) => PollOutcome::Pending,
        Ok(Poll::Ready(out)) => {
            // SAFETY: the future is present and exclusively ours; after
            // this it is gone and the slot is free for the output.
            if let Some(payload) = unsafe { drop_future_in_place::<F>(stage) } {
                drop(out);
                return PollOutcome::Panicked(payload);
            }
            stage.output = ManuallyDrop::new(out);
            PollOutcome::Ready
        }
        Err(payload) => {
            // SAFETY: as above; a panicking poll leaves the future in
            // whatever state it chose, but it is still ours to drop.
            let _second = unsafe { drop_future_in_place::<F>(stage) };
            PollOutcome::Panicked(payload)
        }
    }
}

/// Drops the future, catching a panic from its destructor.
///
/// # Safety
/// The stage holds the future and the caller has exclusive access.
unsafe fn drop_future_in_place<F: Future>(
    stage: &mut Stage<F>,
) -> Option<Box<dyn Any + Send + 'static>> {
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: guaranteed by the caller; never dropped twice because
        // the stage holds the output (or nothing) from here on.
        unsafe { ManuallyDrop::drop(&mut stage.future) }
    }))
    .err()
}

/// Drops the future of a task that will not be polled again.
///
/// # Safety
/// As [`poll`]: live task of type `F`, caller holds `RUNNING`, future present.
unsafe fn cancel<F: Future>(ptr: NonNull<Header>) {
    let cell = ptr.cast::<Cell<F>>().as_ptr();
    // SAFETY: `RUNNING` gives this thread the stage, and the future is present.
    let stage = unsafe { &mut *(*cell).stage.get() };
    // SAFETY: as above.
    if let Some(payload) = unsafe { drop_future_in_place::<F>(stage) } {
        // A destructor that panics while being cancelled: the task is
        // cancelled all the same; the payload is dropped here.
        drop(catch_unwind(AssertUnwindSafe(move || drop(payload))));
    }
}

/// # Safety
/// `ptr` is a complete task of type `F` whose output is present and owned
/// by the caller (the JoinHandle); `dst` points to an `Option<F::Output>`.
unsafe fn read_output<F: Future>(ptr: NonNull<Header>, dst: *mut ()) {
    let cell = ptr.cast::<Cell<F>>().as_ptr();
    // SAFETY: the caller owns the output; reading it moves it out, and the
    // caller guarantees it is never read or dropped again.
    let out = unsafe { ManuallyDrop::take(&mut (*(*cell).stage.get()).output) };
    // SAFETY: the caller passes a valid `*mut Option<F::Output>`.
    unsafe { *dst.cast::<Option<F::Output>>() = Some(out) };
}

/// # Safety
/// `ptr` is a complete task of type `F` whose output is present and owned
/// by the caller.
unsafe fn drop_output<F: Future>(ptr: NonNull<Header>) {
    let cell = ptr.cast::<Cell<F>>().as_ptr();
    // SAFETY: the caller owns the present output and never touches it again.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
        ManuallyDrop::drop(&mut (*(*cell).stage.get()).output)
    }));
}

/// # Safety
/// `ptr` is a task of type `F` whose last reference the caller just
/// dropped; its stage holds nothing that still needs dropping.
unsafe fn dealloc<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: allocated by `allocate::<F>` as a `Box<Cell<F>>`; no
    // reference is left, so nobody else can touch it.
    let cell = unsafe { Box::from_raw(ptr.cast::<Cell<F>>().as_ptr()) };
    let sched = cell.header.sched;
    drop(cell);
    if !sched.is_null() {
        // SAFETY: the task carried one strong count of this Arc since
        // `allocate`; this releases it, once.
        drop(unsafe { std::sync::Arc::from_raw(sched) });
    }
}
