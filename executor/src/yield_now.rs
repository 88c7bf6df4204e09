//! `yield_now`: Go's `runtime.Gosched()`.
//!
//! The task wakes itself and returns `Pending` once. A wake during the
//! task's own poll sends it to the *tail* of the local ring (not to
//! `runnext`), so every task queued on the P runs before it again.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields to the other runnable tasks, then resumes.
///
/// ```
/// let rt = gosched::Runtime::builder().procs(1).build().unwrap();
/// rt.block_on(async {
///     gosched::yield_now().await;
/// });
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
