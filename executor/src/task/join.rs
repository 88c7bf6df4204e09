//! `JoinHandle`: the spawner's end of a task, and `JoinError`.
//!
//! The handle owns one task reference and, while `JOIN_INTEREST` is set,
//! the task's output once it completes. Waiting follows the join-waker
//! protocol of `state.rs`: write the waker while `JOIN_WAKER` is unset,
//! then publish it by setting the bit; to replace it, take the bit back
//! first. When a publish fails because the task completed meanwhile, the
//! output is ready and the handle reads it.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{ready, Context, Poll};

use super::header::Header;
use super::state::{ToNotified, COMPLETE, JOIN_WAKER, OUTCOME_CANCEL, OUTCOME_PANIC};
use super::{Notified, WaitReason};

/// An owned permission to await a spawned task's output.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] when the task
/// panicked or was cancelled. Dropping it detaches the task, which keeps
/// running.
///
/// ```
/// let rt = gosched::Runtime::builder().procs(2).build().unwrap();
/// let out = rt.block_on(async {
///     let h = gosched::spawn(async { 6 * 7 });
///     h.await.unwrap()
/// });
/// assert_eq!(out, 42);
/// ```
pub struct JoinHandle<T> {
    raw: NonNull<Header>,
    /// The output was read: the handle must not read or drop it again.
    taken: bool,
    _p: PhantomData<T>,
}

// SAFETY: the handle only moves a `T: Send` output across threads.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only allows `is_finished`, `id` and `abort`, which
// touch the atomic state word and never the output.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn from_raw(raw: NonNull<Header>) -> JoinHandle<T> {
        JoinHandle {
            raw,
            taken: false,
            _p: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle's reference keeps the header alive.
        unsafe { self.raw.as_ref() }
    }

    /// Asks the task to stop: its future is dropped the next time a worker
    /// would poll it (at once if it is idle). A task that already finished
    /// is unaffected. The handle then reports [`JoinError::is_cancelled`],
    /// unless the task completed first.
    pub fn abort(&self) {
        let hdr = self.header();
        if hdr.state.transition_to_notified_and_cancel() == ToNotified::Submit {
            if hdr.sched.is_null() {
                // A blocking task never parks: this cannot be reached, but
                // keep the reference count right if it ever is.
                let last = hdr.state.ref_dec(1);
                debug_assert!(!last, "this handle still holds a reference");
                return;
            }
            // SAFETY: the transition counted a reference for this entry.
            unsafe { Notified::from_raw(self.raw) }.schedule();
        }
    }

    /// Whether the task has finished (completed, panicked or cancelled).
    pub fn is_finished(&self) -> bool {
        self.header().state.load().is(COMPLETE)
    }

    /// The task's id (Go's goid).
    pub fn id(&self) -> u64 {
        self.header().id()
    }

    fn read_outcome(&mut self, outcome: usize) -> Result<T, JoinError> {
        debug_assert!(!self.taken);
        self.taken = true;
        let id = self.id();
        let hdr = self.header();
        if outcome & OUTCOME_PANIC != 0 {
            // SAFETY: COMPLETE with JOIN_INTEREST: the payload the completer
            // stored is ours, taken once (`taken`).
            let payload = unsafe { std::mem::ManuallyDrop::take(&mut (*hdr.extra.get()).panic) };
            Err(JoinError {
                id,
                repr: Repr::Panic(SyncWrapper(payload)),
            })
        } else if outcome & OUTCOME_CANCEL != 0 {
            Err(JoinError {
                id,
                repr: Repr::Cancelled,
            })
        } else {
            let mut out: Option<T> = None;
            // SAFETY: the output is present and ours, read once.
            unsafe { (hdr.vtable.read_output)(self.raw, (&mut out as *mut Option<T>).cast()) };
            Ok(out.expect("read_output wrote the output"))
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        assert!(
            !self.taken,
            "JoinHandle polled after it returned its output"
        );
        let progress = ready!(crate::coop::poll_proceed(cx));
        let hdr = self.header();
        let mut s = hdr.state.load();
        if !s.is(COMPLETE) {
            let registered = if !s.is(JOIN_WAKER) {
                // SAFETY: JOIN_WAKER unset: the slot is ours.
                unsafe { *hdr.join_waker.get() = Some(cx.waker().clone()) };
                hdr.state.set_join_waker()
            } else {
                // SAFETY: JOIN_WAKER set: the slot is readable by all.
                let same = unsafe { &*hdr.join_waker.get() }
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()));
                if same {
                    Ok(s)
                } else {
                    hdr.state.unset_join_waker().and_then(|_| {
                        // SAFETY: we took JOIN_WAKER back: the slot is ours.
                        unsafe { *hdr.join_waker.get() = Some(cx.waker().clone()) };
                        hdr.state.set_join_waker()
                    })
                }
            };
            match registered {
                Ok(_) => {
                    crate::task::set_wait_reason(WaitReason::Join);
                    return Poll::Pending;
                }
                Err(now) => s = now,
            }
        }
        debug_assert!(s.is(COMPLETE));
        progress.made_progress();
        let outcome = s.0 & (OUTCOME_PANIC | OUTCOME_CANCEL);
        Poll::Ready(self.read_outcome(outcome))
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let hdr = self.header();
        let after = hdr.state.drop_join_interest();
        if after.is(COMPLETE) && !self.taken {
            // SAFETY: complete while we had JOIN_INTEREST: the output is ours.
            unsafe { super::drop_outcome(self.raw, after.0 & (OUTCOME_PANIC | OUTCOME_CANCEL)) };
        }
        if !after.is(JOIN_WAKER) {
            // SAFETY: JOIN_WAKER unset: the slot is ours.
            unsafe { *hdr.join_waker.get() = None };
        }
        if hdr.state.ref_dec(1) {
            // SAFETY: that was the last reference.
            unsafe { (hdr.vtable.dealloc)(self.raw) };
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .finish()
    }
}

/// Makes a `Send` value `Sync` by never handing out `&T`.
struct SyncWrapper<T>(T);
// SAFETY: the payload is moved out by value (`into_panic`); the only
// shared access is `Display`/`Debug`, which call `type_id` (reads only the
// vtable) and then read a `&str` or `String` payload, both `Sync`.
unsafe impl<T: Send> Sync for SyncWrapper<T> {}

enum Repr {
    Cancelled,
    Panic(SyncWrapper<Box<dyn Any + Send + 'static>>),
}

/// Why a task produced no output: it panicked or was cancelled.
///
/// A panic inside a task's poll is caught on the worker (which keeps
/// running other tasks); the task's future is then dropped, after the
/// unwind has reached the worker rather than during it, so the future's
/// destructors run on an intact stack. A panic in one of those destructors
/// is caught too and replaces nothing: the first payload is the one
/// reported.
pub struct JoinError {
    id: u64,
    repr: Repr,
}

impl JoinError {
    /// The task was cancelled (`abort()` or runtime shutdown).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The id of the task.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The panic payload. Panics if the task was cancelled; see
    /// [`try_into_panic`](JoinError::try_into_panic).
    ///
    /// ```
    /// let rt = gosched::Runtime::builder().procs(1).build().unwrap();
    /// let err = rt.block_on(async {
    ///     gosched::spawn(async { panic!("boom") }).await.unwrap_err()
    /// });
    /// assert!(err.is_panic());
    /// assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("JoinError::into_panic on a cancelled task")
    }

    /// The panic payload, or the error back when the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(p) => Ok(p.0),
            Repr::Cancelled => Err(self),
        }
    }
}

fn panic_message(p: &(dyn Any + Send)) -> Option<&str> {
    p.downcast_ref::<&str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(|s| s.as_str()))
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Panic(p) => match panic_message(&*p.0) {
                Some(m) => write!(f, "task {} panicked with message {m:?}", self.id),
                None => write!(f, "task {} panicked", self.id),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({})", self.id),
            Repr::Panic(p) => match panic_message(&*p.0) {
                Some(m) => write!(f, "JoinError::Panic({}, {m:?})", self.id),
                None => write!(f, "JoinError::Panic({}, ...)", self.id),
            },
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(e: JoinError) -> std::io::Error {
        std::io::Error::other(e.to_string())
    }
}
