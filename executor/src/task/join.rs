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
/// running: unlike Go's `go`, a task can be awaited, but it never has to
/// be. A `JoinHandle` is `Send`, `Unpin` and a plain `Future`, so it can be
/// awaited from another task, passed to `block_on`, or raced in
/// `futures::select!`.
///
/// ```
/// let rt = gosched::Runtime::builder().procs(2).build().unwrap();
/// let out = rt.block_on(async {
///     let h = gosched::spawn(async { 6 * 7 });
///     h.await.unwrap()
/// });
/// assert_eq!(out, 42);
///
/// // Detached: the task runs to its end with nobody awaiting it.
/// let (tx, rx) = std::sync::mpsc::channel();
/// drop(rt.spawn(async move { tx.send("done").unwrap() }));
/// assert_eq!(rx.recv().unwrap(), "done");
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
    ///
    /// Cancellation is at await points, as in Go with a `context`: a task
    /// in the middle of a poll finishes that poll first. On a
    /// [`spawn_blocking`](crate::spawn_blocking) handle it does nothing:
    /// a closure cannot be stopped.
    ///
    /// ```
    /// gosched::run(async {
    ///     let h = gosched::spawn(std::future::pending::<()>());
    ///     h.abort();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    ///
    ///     let done = gosched::spawn(async { 1 });
    ///     while !done.is_finished() {
    ///         gosched::yield_now().await;
    ///     }
    ///     done.abort(); // too late: it finished
    ///     assert_eq!(done.await.unwrap(), 1);
    /// });
    /// ```
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

    /// Whether the task has finished (completed, panicked or cancelled):
    /// when true, awaiting the handle returns at once.
    ///
    /// ```
    /// gosched::run(async {
    ///     let (tx, rx) = gosched::sync::chan::bounded::<()>(0);
    ///     let h = gosched::spawn(async move { rx.recv().await });
    ///     assert!(!h.is_finished(), "parked on the channel");
    ///     drop(tx);
    ///     while !h.is_finished() {
    ///         gosched::yield_now().await;
    ///     }
    ///     assert_eq!(h.await.unwrap(), None);
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.header().state.load().is(COMPLETE)
    }

    /// The task's id (Go's goid): unique within the process, the id a
    /// [dump](crate::dump()) and a [`JoinError`] show.
    ///
    /// ```
    /// gosched::run(async {
    ///     let a = gosched::spawn(async {});
    ///     let b = gosched::spawn(async {});
    ///     assert_ne!(a.id(), b.id());
    /// });
    /// ```
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
///
/// To re-raise a task's panic in the task that awaits it, as an unjoined
/// goroutine's panic would end a Go program:
///
/// ```
/// gosched::run(async {
///     match gosched::spawn(async { 1 + 1 }).await {
///         Ok(v) => assert_eq!(v, 2),
///         Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
///         Err(e) => panic!("{e}"),
///     }
/// });
/// ```
///
/// It converts into `std::io::Error`, so `?` works in functions that
/// return `io::Result`.
pub struct JoinError {
    id: u64,
    repr: Repr,
}

impl JoinError {
    /// The task was cancelled (`abort()` or runtime shutdown).
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let parked = rt.spawn(std::future::pending::<()>());
    /// drop(rt); // shutdown cancels every task
    /// let err = gosched::block_on(parked).unwrap_err();
    /// assert!(err.is_cancelled() && !err.is_panic());
    /// assert_eq!(err.to_string(), format!("task {} was cancelled", err.id()));
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked. The worker that ran it caught the panic and
    /// kept running other tasks.
    ///
    /// ```
    /// gosched::run(async {
    ///     let err = gosched::spawn(async { panic!("bad input") }).await.unwrap_err();
    ///     assert!(err.is_panic() && !err.is_cancelled());
    ///     assert!(err.to_string().contains("bad input"));
    /// });
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The id of the task (see [`JoinHandle::id`]).
    ///
    /// ```
    /// gosched::run(async {
    ///     let h = gosched::spawn(async { panic!("boom") });
    ///     let id = h.id();
    ///     assert_eq!(h.await.unwrap_err().id(), id);
    /// });
    /// ```
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
    ///
    /// ```
    /// gosched::run(async {
    ///     let h = gosched::spawn(std::future::pending::<()>());
    ///     h.abort();
    ///     let err = h.await.unwrap_err();
    ///     let err = err.try_into_panic().unwrap_err();
    ///     assert!(err.is_cancelled());
    /// });
    /// ```
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
