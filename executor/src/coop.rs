//! Cooperative scheduling budget: gosched's stand-in for Go's async preemption.
//! Also the one question a leaf may ask about its thread: [`on_worker`],
//! whether blocking it would stall a P.
//!
//! Go preempts a goroutine that runs too long by signalling its thread. A
//! future cannot be interrupted from outside, so gosched does what it can from
//! inside: every poll of a task starts with a budget of [`BUDGET`] units, and
//! every *leaf* future that gosched ships (channel ops, locks, I/O, timers,
//! `JoinHandle`, `yield_now`) spends one unit each time it is ready. When the
//! budget is spent, the next leaf returns `Poll::Pending` after waking its own
//! task, so a task that loops on always-ready operations still goes back to
//! the run queue and lets the others run.
//!
//! # Protocol for a leaf future
//!
//! 1. Call [`poll_proceed`] *before* trying the operation. `Pending` means the
//!    budget is spent: return `Pending` at once (the task was already woken).
//! 2. Try the operation. When it completes, call [`Progress::made_progress`]
//!    so the unit stays spent. When it would block, just drop the
//!    [`Progress`]: the unit is refunded, since waiting is not progress.
//!
//! # Invariants
//!
//! - The budget lives in a thread-local; it is *constrained* only while a
//!   worker polls a task (set by `with_budget`). Everywhere else, on any
//!   other executor, in `block_on`, or on a plain thread, the budget is
//!   unconstrained and [`poll_proceed`] is always ready: the calls are no-ops.
//! - Refunds never raise the budget above [`BUDGET`].

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
#[cfg(not(gosched_observe_off))]
use std::sync::atomic::AtomicU64;
use std::task::{Context, Poll};

/// Units of budget a task gets for one poll (tokio uses the same figure).
pub const BUDGET: u8 = 128;

/// `None` means unconstrained: outside a task poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Budget(Option<u8>);

thread_local! {
    static CURRENT: Cell<Budget> = const { Cell::new(Budget(None)) };
    /// The forced-yield counter of the P this thread's M holds (null off a
    /// worker, or while it holds none). Set when an M takes a P, so the
    /// hot path reads nothing per poll; only a forced yield, which is
    /// rare, touches it.
    #[cfg(not(gosched_observe_off))]
    static FORCED_YIELDS: Cell<*const AtomicU64> = const { Cell::new(std::ptr::null()) };
}

/// A unit of budget taken by [`poll_proceed`].
///
/// Dropping it without calling [`made_progress`](Progress::made_progress)
/// gives the unit back.
#[must_use = "call made_progress() when the operation completed, or drop it to refund the unit"]
#[derive(Debug)]
pub struct Progress {
    refund: bool,
}

// Both inline: every channel, lock and timer operation ends in one of
// them, and out of line (another crate, not generic) each was a call plus
// the drop's refund check on a flag the caller had just cleared.
impl Progress {
    /// The operation completed: keep the unit spent.
    #[inline]
    pub fn made_progress(mut self) {
        self.refund = false;
    }
}

impl Drop for Progress {
    #[inline]
    fn drop(&mut self) {
        if self.refund {
            let _ = CURRENT.try_with(|c| {
                if let Budget(Some(n)) = c.get() {
                    c.set(Budget(Some(n.saturating_add(1).min(BUDGET))));
                }
            });
        }
    }
}

/// Takes one unit of the current task's budget.
///
/// Returns `Poll::Pending` (after waking the task through `cx`) when the
/// budget is spent; outside a gosched task poll it is always ready.
///
/// ```
/// use std::task::{Context, Poll};
/// use gosched::coop;
///
/// fn poll_ready_op(cx: &mut Context<'_>) -> Poll<u32> {
///     let progress = std::task::ready!(coop::poll_proceed(cx));
///     // ... the operation was ready:
///     progress.made_progress();
///     Poll::Ready(7)
/// }
/// let waker = futures::task::noop_waker();
/// let mut cx = Context::from_waker(&waker);
/// assert_eq!(poll_ready_op(&mut cx), Poll::Ready(7));
/// ```
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<Progress> {
    let taken = CURRENT
        .try_with(|c| match c.get() {
            Budget(None) => Some(false),
            Budget(Some(0)) => None,
            Budget(Some(n)) => {
                c.set(Budget(Some(n - 1)));
                Some(true)
            }
        })
        .unwrap_or(Some(false));
    match taken {
        Some(refund) => Poll::Ready(Progress { refund }),
        None => {
            #[cfg(not(gosched_observe_off))]
            count_forced_yield();
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Whether the current task still has budget left (always true outside a
/// gosched task poll).
pub fn has_budget_remaining() -> bool {
    CURRENT
        .try_with(|c| c.get() != Budget(Some(0)))
        .unwrap_or(true)
}

/// Whether the calling thread is a gosched worker that holds a P, where
/// blocking the thread would stall every task queued on that P. Code that
/// is about to block its thread (the executor's `block_on`, the
/// `*_blocking` methods of gosched-sync) refuses to run here. False on any
/// other thread, and on a worker inside `block_in_place` (it handed its P
/// off first).
///
/// ```
/// assert!(!gosched::coop::on_worker());
/// let rt = gosched::Runtime::builder().procs(1).build().unwrap();
/// let in_task = rt.block_on(gosched::spawn(async { gosched::coop::on_worker() }));
/// assert!(in_task.unwrap());
/// ```
pub fn on_worker() -> bool {
    crate::sched::worker::on_worker()
}

/// Runs `f` with a fresh budget of [`BUDGET`] units, restoring the previous
/// budget afterwards, even if `f` panics. Used by workers around each poll.
pub(crate) fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(Budget);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = CURRENT.try_with(|c| c.set(self.0));
        }
    }
    let prev = CURRENT.with(|c| c.replace(Budget(Some(BUDGET))));
    let _reset = Reset(prev);
    f()
}

/// Calls `f` with the budget unconstrained (blocking-pool closures).
pub(crate) fn unconstrained_call<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(Budget);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = CURRENT.try_with(|c| c.set(self.0));
        }
    }
    let prev = CURRENT.with(|c| c.replace(Budget(None)));
    let _reset = Reset(prev);
    f()
}

/// Points this thread's forced-yield count at `counter` (a P's metric),
/// or at nothing.
///
/// # Safety
///
/// `counter`, when not null, must stay valid until the thread calls this
/// again or exits. Workers pass a counter of a P in their runtime's
/// `Shared`, which the worker keeps alive (it holds an `Arc`) until after
/// it resets this to null on its way out.
#[cfg(not(gosched_observe_off))]
pub(crate) unsafe fn set_forced_yield_counter(counter: *const AtomicU64) {
    let _ = FORCED_YIELDS.try_with(|f| f.set(counter));
}

#[cfg(not(gosched_observe_off))]
#[cold]
fn count_forced_yield() {
    let _ = FORCED_YIELDS.try_with(|f| {
        // SAFETY: non-null only between a worker's calls to
        // `set_forced_yield_counter`, whose contract keeps it valid. An
        // atomic add: after a hand-off the old M may still count here
        // while the P's new M does too.
        if let Some(c) = unsafe { f.get().as_ref() } {
            c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
}

/// Wraps a future so that it runs without a budget: leaf futures inside it
/// never yield because of the budget. Use sparingly: it turns off the one
/// protection against a task that loops on always-ready operations.
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { future }
}

pin_project_lite::pin_project! {
    /// Future returned by [`unconstrained`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Unconstrained<F> {
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let prev = CURRENT.with(|c| c.replace(Budget(None)));
        struct Reset(Budget);
        impl Drop for Reset {
            fn drop(&mut self) {
                let _ = CURRENT.try_with(|c| c.set(self.0));
            }
        }
        let _reset = Reset(prev);
        this.future.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_a_task_the_budget_is_unconstrained() {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        for _ in 0..1000 {
            match poll_proceed(&mut cx) {
                Poll::Ready(p) => p.made_progress(),
                Poll::Pending => panic!("budget constrained outside a task"),
            }
        }
        assert!(has_budget_remaining());
    }

    #[test]
    fn inside_with_budget_the_129th_unit_is_refused() {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        with_budget(|| {
            for _ in 0..BUDGET {
                match poll_proceed(&mut cx) {
                    Poll::Ready(p) => p.made_progress(),
                    Poll::Pending => panic!("refused early"),
                }
            }
            assert!(!has_budget_remaining());
            assert!(poll_proceed(&mut cx).is_pending());
        });
        assert!(has_budget_remaining());
    }

    #[test]
    fn dropping_progress_refunds_the_unit() {
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        with_budget(|| {
            for _ in 0..1000 {
                let p = poll_proceed(&mut cx);
                assert!(p.is_ready());
                drop(p);
            }
            assert!(has_budget_remaining());
        });
    }
}
