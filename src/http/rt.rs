//! hyper's `Executor` and `Timer` on gosched: [`HyperExecutor`] spawns
//! hyper's background futures (HTTP/2 streams and connection drivers) as
//! gosched tasks; [`HyperTimer`] puts hyper's timeouts (header read,
//! keep-alive pings) on the netpoller's timer wheel, and resets an
//! existing one in place instead of allocating a new sleep.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::Handle;

/// Spawns hyper's background futures as gosched tasks: on the runtime of
/// the [`Handle`] it was made with, or else on the current one (the
/// process's runtime outside any).
///
/// ```
/// use gosched::http::HyperExecutor;
/// use gosched::http::hyper::rt::Executor;
/// gosched::run(async {
///     let (tx, rx) = gosched::sync::oneshot::channel();
///     HyperExecutor::new().execute(async move { tx.send(7).unwrap() });
///     assert_eq!(rx.await.unwrap(), 7);
/// });
/// ```
#[derive(Clone, Debug, Default)]
pub struct HyperExecutor {
    handle: Option<Handle>,
}

impl HyperExecutor {
    /// Spawns on whichever runtime is current when hyper calls it.
    pub fn new() -> Self {
        HyperExecutor { handle: None }
    }

    /// Spawns on `handle`'s runtime.
    pub fn with_handle(handle: Handle) -> Self {
        HyperExecutor {
            handle: Some(handle),
        }
    }
}

impl<F> hyper::rt::Executor<F> for HyperExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        // The task is detached: hyper tracks its own futures.
        match &self.handle {
            Some(handle) => drop(handle.spawn(fut)),
            None => drop(crate::spawn(fut)),
        }
    }
}

/// hyper's timer on gosched's timer wheel.
///
/// ```
/// use std::time::Duration;
/// use gosched::http::HyperTimer;
/// use gosched::http::hyper::rt::Timer;
/// gosched::run(async {
///     HyperTimer::new().sleep(Duration::from_millis(1)).await;
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperTimer;

impl HyperTimer {
    /// The timer (it holds nothing: each sleep finds its reactor).
    pub fn new() -> Self {
        HyperTimer
    }
}

/// A wheel sleep as hyper's `Sleep` (which must also be `Sync`).
struct WheelSleep {
    sleep: crate::time::Sleep,
}

impl Future for WheelSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.sleep).poll(cx)
    }
}

impl hyper::rt::Sleep for WheelSleep {}

impl hyper::rt::Timer for HyperTimer {
    /// The runtime's clock ([`crate::time::now`]), so hyper's timeouts
    /// follow a paused test clock too.
    fn now(&self) -> Instant {
        crate::time::now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(WheelSleep {
            sleep: crate::time::sleep(duration),
        })
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(WheelSleep {
            sleep: crate::time::sleep_until(deadline),
        })
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<WheelSleep>() {
            Some(mut ours) => ours.sleep.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
