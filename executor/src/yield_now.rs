//! `yield_now`: Go's `runtime.Gosched()`.
//!
//! The task wakes itself and returns `Pending` once. A wake during the
//! task's own poll sends it to the *tail* of the local ring (not to
//! `runnext`), so every task queued on the P runs before it again.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields to the other runnable tasks, then resumes (Go's
/// `runtime.Gosched()`): every task queued on this P runs before the
/// caller is polled again. A loop that computes for long without awaiting
/// calls it now and then; leaf futures of gosched already yield when the
/// task's coop budget is spent.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// let rt = gosched::Runtime::builder().procs(1).build().unwrap();
/// let order = rt.block_on(rt.spawn(async {
///     let log = Arc::new(Mutex::new(Vec::new()));
///     let l = log.clone();
///     let other = gosched::spawn(async move { l.lock().unwrap().push("other") });
///     gosched::yield_now().await; // `other`, queued on this P, runs first
///     log.lock().unwrap().push("caller");
///     other.await.unwrap();
///     let order = log.lock().unwrap().clone();
///     order
/// }));
/// assert_eq!(order.unwrap(), ["other", "caller"]);
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// Future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            // Resuming is progress: it spends a unit of the coop budget, so a
            // loop of yields still hits the budget like any other leaf.
            std::task::ready!(crate::coop::poll_proceed(cx)).made_progress();
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
