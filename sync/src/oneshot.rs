//! `oneshot`: a channel for exactly one value (Go's `make(chan T, 1)` used
//! once, a common idiom for a reply).
//!
//! # Design
//!
//! A std mutex guards `{ value, receiver's waker, sender alive, receiver
//! alive }`. Both halves own an `Arc` of it.
//!
//! 1. [`Sender::send`] consumes the sender: if the receiver is gone (or
//!    closed) the value comes back as `Err(value)`; otherwise it is stored
//!    and the receiver woken.
//! 2. Polling the [`Receiver`] takes the value if present; if the sender is
//!    gone without sending, or the receiver was closed, it fails with
//!    [`RecvError`]; otherwise it stores its waker and parks
//!    (`WaitReason::ChanReceive`).
//! 3. Dropping the sender without sending wakes the receiver (step 2 then
//!    reports the error).
//! 4. [`Receiver::close`] clears `rx_alive` under the lock: a send after it
//!    fails (step 1), so no value can arrive any more, and step 2 reports
//!    the error at once instead of parking a receiver that nothing would
//!    wake. A value stored before the close is still handed out first.
//!
//! # Invariants
//!
//! - At most one value is ever stored; once taken, the receiver reports
//!   closed.
//! - The receiver parks only while both `tx_alive` and `rx_alive` hold:
//!   the only events that can end such a wait (a send, or the sender's
//!   drop) both take `rx_waker` and wake it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use gosched_executor::coop;
use gosched_executor::task::{set_wait_reason, WaitReason};

use crate::loom::{lock, Arc, Mutex as StdMutex};
use crate::waitlist::update_waker;

struct Shared<T> {
    value: Option<T>,
    rx_waker: Option<Waker>,
    tx_alive: bool,
    rx_alive: bool,
}

/// Creates a oneshot channel.
///
/// ```
/// futures::executor::block_on(async {
///     let (tx, rx) = gosched::sync::oneshot::channel();
///     std::thread::spawn(move || tx.send("done").unwrap());
///     assert_eq!(rx.await, Ok("done"));
/// });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(StdMutex::new(Shared {
        value: None,
        rx_waker: None,
        tx_alive: true,
        rx_alive: true,
    }));
    (
        Sender {
            shared: Some(shared.clone()),
        },
        Receiver { shared },
    )
}

/// No value will arrive: the sender was dropped without sending, or the
/// receiver was [closed](Receiver::close) before a value was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot channel closed without a value")
    }
}

impl std::error::Error for RecvError {}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Not sent yet.
    Empty,
    /// The sender is gone without sending, the receiver was closed before
    /// a value was sent, or the value was already taken.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("oneshot value not sent yet"),
            TryRecvError::Closed => f.write_str("oneshot channel closed"),
        }
    }
}

impl std::error::Error for TryRecvError {}

/// Sends the one value.
pub struct Sender<T> {
    /// `None` once used.
    shared: Option<Arc<StdMutex<Shared<T>>>>,
}

impl<T> Sender<T> {
    /// Sends the value; gives it back if the receiver is gone.
    ///
    /// ```
    /// let (tx, rx) = gosched::sync::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let shared = self.shared.take().expect("sender used once");
        let mut st = lock(&shared);
        st.tx_alive = false;
        if !st.rx_alive {
            return Err(value);
        }
        st.value = Some(value);
        let waker = st.rx_waker.take();
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Whether the receiver is gone (a send would fail).
    ///
    /// ```
    /// let (tx, mut rx) = gosched::sync::oneshot::channel::<()>();
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.as_ref().is_none_or(|s| !lock(s).rx_alive)
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            let mut st = lock(&shared);
            st.tx_alive = false;
            let waker = st.rx_waker.take();
            drop(st);
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").finish_non_exhaustive()
    }
}

/// Receives the one value; a future resolving to it.
pub struct Receiver<T> {
    shared: Arc<StdMutex<Shared<T>>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it was sent.
    ///
    /// ```
    /// use gosched::sync::oneshot::{self, TryRecvError};
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(3).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut st = lock(&self.shared);
        match st.value.take() {
            Some(v) => Ok(v),
            None if st.tx_alive && st.rx_alive => Err(TryRecvError::Empty),
            None => Err(TryRecvError::Closed),
        }
    }

    /// Waits for the value from a thread that is not running tasks,
    /// parking the thread. Fails with [`RecvError`] if the sender is gone
    /// without sending (or the receiver was closed).
    ///
    /// # Panics
    ///
    /// On a gosched worker thread, where it would stall the tasks queued
    /// on it: use `rx.await` there (or `gosched::block_in_place`).
    ///
    /// ```
    /// let (tx, rx) = gosched::sync::oneshot::channel();
    /// std::thread::spawn(move || tx.send(5).unwrap());
    /// assert_eq!(rx.blocking_recv(), Ok(5));
    /// ```
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        crate::blocking::forbid_on_worker(
            "oneshot::Receiver::blocking_recv",
            "use `rx.await` inside a task",
        );
        crate::blocking::wait(self)
    }

    /// Refuses the value: a later send fails and returns it.
    ///
    /// After `close`, awaiting the receiver (or polling it again, if it was
    /// already waiting) completes at once: with the value if one was sent
    /// *before* the close, otherwise with [`RecvError`]; it never waits for
    /// a send that can no longer succeed. [`try_recv`](Self::try_recv)
    /// likewise returns a value sent before the close, else
    /// [`TryRecvError::Closed`].
    ///
    /// ```
    /// use gosched::sync::oneshot::{self, RecvError};
    /// futures::executor::block_on(async {
    ///     let (tx, mut rx) = oneshot::channel::<u32>();
    ///     rx.close();
    ///     assert_eq!(tx.send(1), Err(1));
    ///     assert_eq!(rx.await, Err(RecvError));
    ///
    ///     let (tx, mut rx) = oneshot::channel();
    ///     tx.send(2).unwrap();
    ///     rx.close(); // too late to refuse: the value is already here
    ///     assert_eq!(rx.await, Ok(2));
    /// });
    /// ```
    pub fn close(&mut self) {
        let mut st = lock(&self.shared);
        st.rx_alive = false;
        // Nothing will wake this waker now (step 4); drop it outside the lock.
        let waker = st.rx_waker.take();
        drop(st);
        drop(waker);
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let progress = std::task::ready!(coop::poll_proceed(cx));
        let mut st = lock(&self.shared);
        if let Some(v) = st.value.take() {
            drop(st);
            progress.made_progress();
            return Poll::Ready(Ok(v));
        }
        if !st.tx_alive || !st.rx_alive {
            // The sender is gone, or `close` refused any later value.
            drop(st);
            progress.made_progress();
            return Poll::Ready(Err(RecvError));
        }
        update_waker(&mut st.rx_waker, cx.waker());
        drop(st);
        drop(progress);
        set_wait_reason(WaitReason::ChanReceive);
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut st = lock(&self.shared);
        st.rx_alive = false;
        let value = st.value.take();
        drop(st);
        drop(value);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}
