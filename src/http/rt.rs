//! hyper's `Executor` and `Timer` on gosched: [`HyperExecutor`] spawns
//! hyper's background futures (HTTP/2 streams and connection drivers) as
//! gosched tasks; [`HyperTimer`] puts hyper's timeouts (header read,
//! keep-alive pings) on the netpoller's timer wheel, and resets an
//! existing one in place instead of allocating a new sleep.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
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

/// A wheel sleep as hyper's `Sleep` (which must also be `Sync`); made by
/// a [`ConnTimer`], it goes back to that timer's cache when dropped.
struct WheelSleep {
    /// `Some` until drop.
    sleep: Option<crate::time::Sleep>,
    cache: Option<Arc<Mutex<Option<crate::time::Sleep>>>>,
}

impl WheelSleep {
    fn new(sleep: crate::time::Sleep) -> Self {
        WheelSleep {
            sleep: Some(sleep),
            cache: None,
        }
    }

    fn sleep(&mut self) -> &mut crate::time::Sleep {
        self.sleep.as_mut().expect("present until drop")
    }
}

impl Future for WheelSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(self.sleep()).poll(cx)
    }
}

impl Drop for WheelSleep {
    fn drop(&mut self) {
        if let (Some(cache), Some(sleep)) = (&self.cache, self.sleep.take()) {
            let mut slot = cache.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                *slot = Some(sleep);
            }
        }
    }
}

/// hyper's timer for one server connection: [`HyperTimer`] plus a cache
/// of one sleep. hyper makes a header-read timeout for every request and
/// drops it once the headers are in; here the dropped sleep keeps its
/// wheel entry and the next request's timeout reuses it, moved later
/// (`Sleep::reset` to a later deadline touches no wheel), so a
/// keep-alive connection files its timeout once per timeout period, not
/// twice per request. The lock is the connection's own, uncontended.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConnTimer {
    cache: Arc<Mutex<Option<crate::time::Sleep>>>,
}

impl hyper::rt::Timer for ConnTimer {
    fn now(&self) -> Instant {
        crate::time::now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(crate::time::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        let cached = self.cache.lock().unwrap_or_else(|e| e.into_inner()).take();
        let sleep = match cached {
            Some(mut sleep) => {
                sleep.reset(deadline);
                sleep
            }
            None => crate::time::sleep_until(deadline),
        };
        Box::pin(WheelSleep {
            sleep: Some(sleep),
            cache: Some(self.cache.clone()),
        })
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<WheelSleep>() {
            Some(mut ours) => ours.sleep().reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
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
        Box::pin(WheelSleep::new(crate::time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(WheelSleep::new(crate::time::sleep_until(deadline)))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<WheelSleep>() {
            Some(mut ours) => ours.sleep().reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
