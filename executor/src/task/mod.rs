//! Tasks: gosched's goroutines.
//!
//! # A task's pieces
//!
//! A task is one heap allocation (`raw.rs`): a 72-byte `Header` (Go's
//! `g`: state word, id, spawn site, wait reason, join waker, registry links)
//! followed by the future, whose slot later holds the output.
//!
//! # References
//!
//! The allocation is reference counted in the state word. A reference is
//! held by:
//! - the registry (`registry.rs`), from spawn until completion, so that a
//!   task parked forever on a future nobody will wake is still found and
//!   dropped when the runtime shuts down;
//! - the [`JoinHandle`], until it is dropped;
//! - each `Waker` clone;
//! - each run-queue entry (`Notified`). Polling runs on the queue entry's
//!   reference: a worker pops a `Notified`, polls, and either gives the
//!   reference back to a queue (woken during the poll) or drops it.
//!
//! A spawn starts with three: registry, JoinHandle, and the first queue entry.
//!
//! # Who may touch what
//!
//! - The future: only the thread that set `RUNNING` (one at a time).
//! - The output: the completer writes it before setting `COMPLETE`; after
//!   that it belongs to the JoinHandle, or, when there is none, to the
//!   completer, which drops it.
//! - The join waker slot: the JoinHandle while `JOIN_WAKER` is unset; the
//!   completer reads (wakes) it while it is set (`state.rs` has the table).
//!
//! # Scenarios
//!
//! - *Woken during its poll.* The wake sets `NOTIFIED` on a `RUNNING` task
//!   and adds nothing; when the poll returns `Pending` the worker sees
//!   `NOTIFIED` and requeues the task on the poll's reference. No wake is
//!   lost and no second thread polls it.
//! - *Aborted.* `CANCELLED` is set; an idle task is also submitted so that a
//!   worker claims it and drops the future instead of polling it.
//! - *Runtime shutdown.* The registry is closed and each task still in it
//!   is claimed in place (`RUNNING | CANCELLED`) and its future dropped.

mod header;
mod join;
#[cfg(all(test, gosched_loom))]
mod loom_state;
mod raw;
mod registry;
mod site;
pub(crate) mod state;
mod wait_reason;
mod waker;

pub use join::{JoinError, JoinHandle};
pub use wait_reason::{set_wait_reason, WaitReason};

pub(crate) use header::Header;
#[cfg(not(gosched_observe_off))]
pub(crate) use header::{REASON_SHIFT, TASK_ID_MASK};
pub(crate) use registry::Registry;

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::mem;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

use raw::PollOutcome;
use state::{ToIdle, ToRunning, JOIN_INTEREST, JOIN_WAKER, OUTCOME_CANCEL, OUTCOME_PANIC};

use crate::sched::Shared;

/// A task in a run queue: owns one reference and the right to run it.
pub(crate) struct Notified(NonNull<Header>);

// SAFETY: a Notified is a counted reference to a task whose future and
// output are `Send`; it may run or be dropped on any thread.
unsafe impl Send for Notified {}

impl Notified {
    /// The raw pointer, keeping the reference (for the run queue slots).
    pub(crate) fn into_raw(self) -> NonNull<Header> {
        let p = self.0;
        mem::forget(self);
        p
    }

    /// Takes back a pointer made by [`into_raw`](Notified::into_raw).
    ///
    /// # Safety
    /// `ptr` must carry a queue reference made by `into_raw` (or by a wake
    /// that set `NOTIFIED` and counted a reference), used once.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Notified {
        Notified(ptr)
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: the reference we hold keeps the header alive.
        unsafe { self.0.as_ref() }
    }

    /// Hands the task to its scheduler (local P when on one of its
    /// workers, else the global queue).
    pub(crate) fn schedule(self) {
        let sched = self.header().sched;
        debug_assert!(!sched.is_null(), "blocking tasks are never rescheduled");
        // SAFETY: the task holds a strong count on its scheduler until it
        // is freed, and we hold a reference to the task until `schedule`
        // has queued it.
        let leftovers = unsafe { &*sched }.schedule(self, false);
        // Only now that nothing borrows the scheduler: these may hold the
        // last reference to it.
        drop(leftovers);
    }

    /// Runs the task once: claims it, polls it (or cancels it), and deals
    /// with the result. Returns the task when it was woken during its poll
    /// and must be queued again (behind the others: it used its turn).
    pub(crate) fn run(self) -> Option<Notified> {
        let ptr = self.into_raw();
        // SAFETY: we hold a reference, so the header is live.
        let hdr = unsafe { ptr.as_ref() };
        match hdr.state.transition_to_running() {
            ToRunning::Poll => {}
            ToRunning::Cancel => {
                // SAFETY: we hold RUNNING and the queue reference.
                unsafe { cancel_and_complete(ptr, true) };
                return None;
            }
            ToRunning::Done => return None,
            ToRunning::Dealloc => {
                // SAFETY: that was the last reference.
                unsafe { (hdr.vtable.dealloc)(ptr) };
                return None;
            }
        }
        let outcome = {
            let _enter = crate::current_task::enter_task(hdr);
            // SAFETY: we hold RUNNING; the future is present.
            crate::coop::with_budget(|| unsafe { (hdr.vtable.poll)(ptr) })
        };
        match outcome {
            PollOutcome::Pending => match hdr.state.transition_to_idle() {
                ToIdle::Idle => None,
                ToIdle::Notified => Some(Notified(ptr)),
                ToIdle::Cancel => {
                    // SAFETY: we still hold RUNNING and the reference.
                    unsafe { cancel_and_complete(ptr, true) };
                    None
                }
            },
            // SAFETY: we hold RUNNING and the reference; the output is written.
            PollOutcome::Ready => unsafe {
                complete(ptr, 0, None, true);
                None
            },
            // SAFETY: as above; the future is gone.
            PollOutcome::Panicked(payload) => unsafe {
                complete(ptr, OUTCOME_PANIC, Some(payload), true);
                None
            },
        }
    }
}

impl Notified {
    /// Cancels a queued task that will never run (a blocking closure at
    /// pool shutdown): claims it and drops its future.
    pub(crate) fn cancel(self) {
        let ptr = self.into_raw();
        // SAFETY: we hold the queue reference.
        let hdr = unsafe { ptr.as_ref() };
        if hdr.state.transition_to_shutdown() {
            // SAFETY: we hold RUNNING and the queue reference.
            unsafe { cancel_and_complete(ptr, true) };
        } else if hdr.state.ref_dec(1) {
            // SAFETY: that was the last reference.
            unsafe { (hdr.vtable.dealloc)(ptr) };
        }
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        // A queue entry dropped without running (shutdown drains queues).
        let hdr = self.header();
        if hdr.state.ref_dec(1) {
            // SAFETY: that was the last reference.
            unsafe { (hdr.vtable.dealloc)(self.0) };
        }
    }
}

/// Drops the future of a claimed task and completes it as cancelled.
///
/// # Safety
/// The caller holds `RUNNING` on a live task whose future is present; it
/// also holds the queue reference when `running_ref` is true.
pub(crate) unsafe fn cancel_and_complete(ptr: NonNull<Header>, running_ref: bool) {
    // SAFETY: a live header.
    let hdr = unsafe { ptr.as_ref() };
    // SAFETY: guaranteed by the caller.
    unsafe { (hdr.vtable.cancel)(ptr) };
    // SAFETY: the future is gone; RUNNING still held.
    unsafe { complete(ptr, OUTCOME_CANCEL, None, running_ref) };
}

/// Finishes a task whose future is gone: leaves the registry, publishes
/// the outcome, wakes the JoinHandle and drops the references.
///
/// # Safety
/// The caller holds `RUNNING`, the future is dropped, and for outcome 0 the
/// output is in the stage.
unsafe fn complete(
    ptr: NonNull<Header>,
    outcome: usize,
    payload: Option<Box<dyn Any + Send>>,
    running_ref: bool,
) {
    // SAFETY: a live header (we hold at least the running or registry ref).
    let hdr = unsafe { ptr.as_ref() };
    // 1. Leave the registry: afterwards nobody reads `extra` as links.
    let registered = if hdr.sched.is_null() {
        false
    } else {
        // SAFETY: the task holds a strong count on its scheduler.
        unsafe { &*hdr.sched }.registry.remove(ptr)
    };
    // 2. The payload goes where the links were.
    if let Some(payload) = payload {
        // SAFETY: unregistered and RUNNING: nobody else touches `extra`
        // until COMPLETE is published below.
        unsafe { (*hdr.extra.get()).panic = mem::ManuallyDrop::new(payload) };
    }
    // 3. Publish.
    let prev = hdr.state.transition_to_complete(outcome);
    // 4. Hand the output over.
    if !prev.is(JOIN_INTEREST) {
        // SAFETY: no JoinHandle: the output is ours.
        unsafe { drop_outcome(ptr, outcome) };
    } else if prev.is(JOIN_WAKER) {
        // SAFETY: JOIN_WAKER set: the slot is read-only and holds a waker.
        if let Some(w) = unsafe { &*hdr.join_waker.get() } {
            w.wake_by_ref();
        }
        let after = hdr.state.unset_join_waker_after_complete();
        if !after.is(JOIN_INTEREST) {
            // The JoinHandle went away meanwhile and left the slot to us.
            // SAFETY: JOIN_WAKER now unset and no JoinHandle: ours alone.
            unsafe { *hdr.join_waker.get() = None };
        }
    }
    // 5. Drop the registry's reference and the poll's.
    let refs = registered as usize + running_ref as usize;
    if refs > 0 && hdr.state.ref_dec(refs) {
        // SAFETY: those were the last references.
        unsafe { (hdr.vtable.dealloc)(ptr) };
    }
}

/// Drops whatever output a complete task holds.
///
/// # Safety
/// The task is complete with `outcome` and the caller owns its output.
pub(crate) unsafe fn drop_outcome(ptr: NonNull<Header>, outcome: usize) {
    // SAFETY: a live header.
    let hdr = unsafe { ptr.as_ref() };
    if outcome & OUTCOME_PANIC != 0 {
        // SAFETY: the completer stored a payload; the caller owns it.
        let payload = unsafe { mem::ManuallyDrop::take(&mut (*hdr.extra.get()).panic) };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(payload)));
    } else if outcome & OUTCOME_CANCEL == 0 {
        // SAFETY: a normal completion left the output in the stage.
        unsafe { (hdr.vtable.drop_output)(ptr) };
    }
}

/// Ids are handed out in blocks of this many per thread, as Go's
/// `p.goidcache` does, so spawning does not contend on one counter. A block
/// maps to one registry shard.
pub(crate) const ID_BLOCK: u64 = 64;

static NEXT_ID_BLOCK: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static ID_CACHE: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// A fresh task id, never reused in this process.
pub(crate) fn next_id() -> u64 {
    ID_CACHE.with(|c| {
        let (mut next, mut end) = c.get();
        if next == end {
            let block = NEXT_ID_BLOCK.fetch_add(1, Ordering::Relaxed);
            next = block * ID_BLOCK;
            end = next + ID_BLOCK;
        }
        c.set((next + 1, end));
        next
    })
}

/// Allocates and registers a task for `shared`. Returns the first queue
/// entry and the JoinHandle; when the runtime is shutting down the task is
/// cancelled at once and no queue entry is returned.
#[inline]
pub(crate) fn new_task<F>(
    shared: &std::sync::Arc<Shared>,
    future: F,
    location: &'static Location<'static>,
) -> (Option<Notified>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let id = next_id();
    let sched = std::sync::Arc::into_raw(shared.clone());
    let ptr = raw::allocate(future, sched, id, location, 3);
    let join = JoinHandle::from_raw(ptr);
    if shared.registry.insert(ptr) {
        (Some(Notified(ptr)), join)
    } else {
        // Closed: claim it (nobody else knows it yet) and cancel it.
        // SAFETY: we hold the queue reference; no one else can run it.
        let hdr = unsafe { ptr.as_ref() };
        assert!(hdr.state.transition_to_shutdown());
        // SAFETY: we hold RUNNING now, plus the queue reference; the
        // registry reference is never used, so drop it too.
        unsafe { cancel_and_complete(ptr, true) };
        if hdr.state.ref_dec(1) {
            // SAFETY: last reference (cannot happen while `join` lives).
            unsafe { (hdr.vtable.dealloc)(ptr) };
        }
        (None, join)
    }
}

/// Allocates a blocking-pool task: no scheduler, no registry; references
/// are the JoinHandle and the pool's queue entry.
#[track_caller]
pub(crate) fn new_blocking_task<F>(future: F) -> (Notified, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let ptr = raw::allocate(future, std::ptr::null(), next_id(), Location::caller(), 2);
    (Notified(ptr), JoinHandle::from_raw(ptr))
}

/// Runtime shutdown: claims `ptr` (registry reference already taken from
/// the registry by the caller) and cancels it if idle. Drops the registry
/// reference.
///
/// # Safety
/// `ptr` is a live task and the caller owns its registry reference.
pub(crate) unsafe fn shutdown_task(ptr: NonNull<Header>) {
    // SAFETY: the registry reference keeps it alive.
    let hdr = unsafe { ptr.as_ref() };
    if hdr.state.transition_to_shutdown() {
        // SAFETY: we hold RUNNING now; the registry reference is not a
        // running reference, and `complete` will find it unregistered.
        unsafe { cancel_and_complete(ptr, false) };
    }
    if hdr.state.ref_dec(1) {
        // SAFETY: that was the last reference.
        unsafe { (hdr.vtable.dealloc)(ptr) };
    }
}

/// What a dump shows of one task.
#[derive(Clone, Debug)]
pub struct TaskInfo {
    /// The task id.
    pub id: u64,
    /// Where it was spawned.
    pub location: &'static Location<'static>,
    /// Runnable (queued), running, or waiting.
    pub state: TaskState,
    /// Why it waits (meaningful when waiting).
    pub wait_reason: WaitReason,
    /// How long it has been waiting, when it is waiting and the future it
    /// waits on recorded a reason (to sysmon's clock: ~1-10 ms steps).
    pub waiting_for: Option<std::time::Duration>,
}

/// A task's scheduling state in a dump (Go: runnable, running, waiting).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskState {
    /// In a run queue.
    Runnable,
    /// Being polled.
    Running,
    /// Parked until woken.
    Waiting,
}

impl std::fmt::Display for TaskState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TaskState::Runnable => "runnable",
            TaskState::Running => "running",
            TaskState::Waiting => "waiting",
        })
    }
}

impl Header {
    pub(crate) fn info(&self) -> TaskInfo {
        let s = self.state.load();
        let state = if s.is(state::RUNNING) {
            TaskState::Running
        } else if s.is(state::NOTIFIED) {
            TaskState::Runnable
        } else {
            TaskState::Waiting
        };
        let wait_reason = self.wait_reason();
        let since = self.wait_since.load(std::sync::atomic::Ordering::Relaxed);
        let waiting_for = (state == TaskState::Waiting
            && wait_reason != WaitReason::Unknown
            && since != 0)
            .then(|| {
                std::time::Duration::from_millis(
                    crate::clock::coarse_ms().saturating_sub(since) as u64
                )
            });
        TaskInfo {
            id: self.id(),
            location: self.location(),
            state,
            wait_reason,
            waiting_for,
        }
    }
}
