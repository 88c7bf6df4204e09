//! Running one future to completion on the calling thread, with the
//! reactor as its only driver.
//!
//! This is the smallest executor that can run gosched's I/O and timers:
//! poll the future; when it is pending, park in the reactor until its
//! waker fires. Tests use it, and so can a program that needs one socket
//! without a runtime.
//!
//! # Protocol
//!
//! 1. The waker sets `woken` and unparks the reactor.
//! 2. The loop polls the future whenever it swaps `woken` from true.
//! 3. Otherwise it parks; the park checks `woken` again *after* taking the
//!    poller lock. A second thread may be parked in the same reactor and
//!    may consume our unpark; checking under the lock means we either see
//!    the flag or are the poller the next unpark will hit.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Wake, Waker};

use super::{Inner, Reactor};
use crate::loom::lock_std as lock;

struct BlockOnWaker {
    /// Set by a wake, swapped back by the polling loop.
    woken: AtomicBool,
    /// Weak, so a waker left in a registration never keeps the reactor
    /// alive.
    reactor: Weak<Inner>,
}

impl Wake for BlockOnWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Release pairs with the Acquire swap and load in `block_on`.
        self.woken.store(true, Ordering::Release);
        if let Some(inner) = self.reactor.upgrade() {
            inner.unpark();
        }
    }
}

impl Reactor {
    /// Runs `future` to completion on this thread, parking in this reactor
    /// while it waits. The reactor is entered (see [`Reactor::enter`]) for
    /// the duration.
    ///
    /// ```
    /// use std::time::Duration;
    /// let reactor = gosched::runtime::Reactor::new().unwrap();
    /// let v = reactor.block_on(async {
    ///     gosched::time::sleep(Duration::from_millis(2)).await;
    ///     7
    /// });
    /// assert_eq!(v, 7);
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = self.enter();
        let flag = Arc::new(BlockOnWaker {
            woken: AtomicBool::new(true),
            reactor: Arc::downgrade(&self.inner),
        });
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            // Acquire pairs with the Release store in `wake_by_ref`.
            if flag.woken.swap(false, Ordering::Acquire) {
                if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                    return v;
                }
                continue;
            }
            let mut poller = lock(&self.inner.poller);
            self.inner.turn(&mut poller, None, true, &|| {
                flag.woken.load(Ordering::Acquire)
            });
        }
    }
}
