//! Go's channels: `chan T` as multi-producer, multi-consumer async channels.
//!
//! ```
//! use gosched::sync::chan;
//!
//! futures::executor::block_on(async {
//!     let (tx, rx) = chan::bounded(0); // unbuffered: a rendezvous
//!     let t = std::thread::spawn(move || {
//!         futures::executor::block_on(async move { tx.send(42).await.unwrap() })
//!     });
//!     assert_eq!(rx.recv().await, Some(42));
//!     t.join().unwrap();
//!     assert_eq!(rx.recv().await, None); // every sender is gone: closed
//! });
//! ```
//!
//! # Semantics (as Go)
//!
//! - [`bounded(0)`](bounded) is unbuffered: a send completes only when a
//!   receiver has taken the value. [`bounded(n)`](bounded) buffers `n`
//!   values; [`unbounded`] never blocks senders.
//! - [`Sender`] and [`Receiver`] both clone.
//! - Closing: [`Sender::close`], or the last `Sender` dropped. Receivers
//!   first drain the buffer, then [`Receiver::recv`] returns `None`.
//! - A send on a closed channel returns [`SendError`] with the value: never
//!   a panic. When every `Receiver` is gone, sends fail the same way.
//! - [`select!`](crate::select) waits on several operations at once.
//!
//! # Rust additions
//!
//! - Cancellation: dropping a send or receive future removes its waiter and
//!   loses no value (a value already handed to a dropped receive future goes
//!   back into the channel).
//! - Budget: every completed operation spends one unit of gosched's coop
//!   budget; a parked one records `chan send` / `chan receive` as the task's
//!   wait reason. Both are no-ops on other executors.
//! - `Receiver` is a `futures::Stream`; `Sender` is a `futures::Sink`.
//!
//! The design (Go's `hchan`: waiter queues under a lock, plus, for buffered
//! channels, a lock-free value queue that the fast path uses without the
//! lock) is described in `state.rs`, which says where each piece lives:
//! one file per flavor (`zero.rs`, `buffered.rs`), the claim protocol
//! (`claim.rs`), `select!` (`select.rs`, `snapshot.rs`). This file holds
//! the handles and the one dispatch on the flavor.

mod arm;
mod buffer;
mod buffered;
mod claim;
mod error;
#[cfg(all(test, gosched_loom))]
mod loom_buffered;
#[cfg(all(test, gosched_loom))]
mod loom_chan;
#[cfg(all(test, gosched_loom))]
mod loom_snapshot;
pub mod select;
mod snapshot;
mod state;
mod zero;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

pub use error::{RecvTimeoutError, SendError, TryRecvError, TrySendError};

use crate::loom::atomic::Ordering;
use crate::loom::Arc;
use crate::waitlist::Key;
use buffer::Buffer;
use select::{Deferred, Registered, SelectCore, SelectOp};
use state::Chan;

/// What kind of channel a [`Chan`] is, and so which file's code runs each
/// operation: `zero.rs` or `buffered.rs`. Fixed when the channel is made.
enum Flavor<'a, T> {
    /// `bounded(0)`: a rendezvous, everything under the channel lock.
    Zero,
    /// `bounded(n > 0)` or `unbounded()`: values in a lock-free queue.
    Buffered(&'a Buffer<T>),
}

impl<T> Chan<T> {
    /// This channel's flavor (see [`Flavor`]).
    #[inline]
    fn flavor(&self) -> Flavor<'_, T> {
        match self.queue.as_deref() {
            None => Flavor::Zero,
            Some(q) => Flavor::Buffered(q),
        }
    }

    // The one dispatch point: each operation, on each flavor. Every other
    // file calls these, never a flavor's function directly.

    fn len(&self) -> usize {
        match self.flavor() {
            Flavor::Zero => self.zero_len(),
            Flavor::Buffered(q) => q.len(),
        }
    }

    fn is_closed(&self) -> bool {
        match self.flavor() {
            Flavor::Zero => self.zero_is_closed(),
            Flavor::Buffered(q) => q.is_closed(),
        }
    }

    /// Non-blocking send.
    fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.flavor() {
            Flavor::Zero => self.zero_try_send(value),
            Flavor::Buffered(q) => self.buf_try_send(q, value),
        }
    }

    /// Non-blocking receive.
    fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.flavor() {
            Flavor::Zero => self.zero_try_recv(),
            Flavor::Buffered(q) => self.buf_try_recv(q),
        }
    }

    /// Drives a send future. `value` holds the value until it is parked;
    /// `key` the parked waiter. Both are `None` once this returns `Ready`.
    fn poll_send(
        &self,
        cx: &mut Context<'_>,
        value: &mut Option<T>,
        key: &mut Option<Key>,
    ) -> Poll<Result<(), SendError<T>>> {
        match self.flavor() {
            Flavor::Zero => self.zero_poll_send(cx, value, key),
            Flavor::Buffered(q) => self.buf_poll_send(q, cx, value, key),
        }
    }

    /// Removes a parked sender whose future was dropped.
    fn cancel_send(&self, key: Key) {
        match self.flavor() {
            Flavor::Zero => self.zero_cancel_send(key),
            Flavor::Buffered(_) => self.buf_cancel_send(key),
        }
    }

    /// Drives a receive future; `key` is the parked waiter, `None` once
    /// this returns `Ready`.
    fn poll_recv(&self, cx: &mut Context<'_>, key: &mut Option<Key>) -> Poll<Option<T>> {
        match self.flavor() {
            Flavor::Zero => self.zero_poll_recv(cx, key),
            Flavor::Buffered(q) => self.buf_poll_recv(q, cx, key),
        }
    }

    /// Removes a parked receiver whose future was dropped.
    fn cancel_recv(&self, key: Key) {
        match self.flavor() {
            Flavor::Zero => self.zero_cancel_recv(key),
            Flavor::Buffered(_) => self.buf_cancel_recv(key),
        }
    }

    /// Closes the channel; returns false if it was already closed.
    fn close(&self) -> bool {
        match self.flavor() {
            Flavor::Zero => self.zero_close(),
            Flavor::Buffered(q) => self.buf_close(q, false),
        }
    }

    /// The last receiver is gone: fail parked and future sends, and drop
    /// the values nobody can receive any more.
    fn disconnect(&self) {
        match self.flavor() {
            Flavor::Zero => self.zero_disconnect(),
            Flavor::Buffered(q) => {
                self.buf_close(q, true);
            }
        }
    }

    /// First select pass for a receive arm: complete now or do nothing.
    fn select_try_recv(&self) -> Option<Option<T>> {
        match self.try_recv() {
            Ok(v) => Some(Some(v)),
            Err(TryRecvError::Closed) => Some(None),
            Err(TryRecvError::Empty) => None,
        }
    }

    /// First select pass for a send arm: complete now or keep the value.
    fn select_try_send(&self, value: &mut Option<T>) -> Option<Result<(), SendError<T>>> {
        let v = value.take().expect("select send arm without a value");
        match self.try_send(v) {
            Ok(()) => Some(Ok(())),
            Err(TrySendError::Closed(v)) => Some(Err(SendError(v))),
            Err(TrySendError::Full(v)) => {
                *value = Some(v);
                None
            }
        }
    }

    /// Second select pass for a receive arm.
    fn select_register_recv(&self, core: &Arc<SelectCore>, case: usize) -> Registered<Option<T>> {
        match self.flavor() {
            Flavor::Zero => self.zero_select_register_recv(core, case),
            Flavor::Buffered(q) => self.buf_select_register_recv(q, core, case),
        }
    }

    /// The select committed to this receive arm: take its result.
    fn select_finish_recv(&self, key: Key) -> Option<T> {
        match self.flavor() {
            Flavor::Zero => self.zero_select_finish_recv(key),
            Flavor::Buffered(q) => self.buf_select_finish_recv(q, key),
        }
    }

    /// Second select pass for a send arm; on `Waiting` the value moved
    /// into the waiter, on `Lost` it is back in `value`.
    fn select_register_send(
        &self,
        value: &mut Option<T>,
        core: &Arc<SelectCore>,
        case: usize,
    ) -> Registered<Result<(), SendError<T>>> {
        match self.flavor() {
            Flavor::Zero => self.zero_select_register_send(value, core, case),
            Flavor::Buffered(q) => self.buf_select_register_send(q, value, core, case),
        }
    }

    /// The select committed to this send arm: take its result.
    fn select_finish_send(&self, key: Key) -> Result<(), SendError<T>> {
        match self.flavor() {
            Flavor::Zero => self.zero_select_finish_send(key),
            Flavor::Buffered(_) => self.buf_select_finish_send(key),
        }
    }

    /// A woken, uncommitted select retries its registered receive arm:
    /// only a buffered arm can have been notified without being committed.
    fn select_retry_recv(
        &self,
        key: Key,
        core: &Arc<SelectCore>,
        case: usize,
    ) -> Registered<Option<T>> {
        match self.flavor() {
            Flavor::Zero => Registered::Waiting(key),
            Flavor::Buffered(q) => self.buf_select_retry_recv(q, key, core, case),
        }
    }

    /// Removes an unselected send arm's waiter, handing its value back.
    fn select_unregister_send(&self, key: Key) -> Option<T> {
        match self.flavor() {
            Flavor::Zero => self.zero_select_unregister_send(key),
            Flavor::Buffered(_) => self.buf_select_unregister_send(key),
        }
    }
}

/// Creates a channel that buffers up to `cap` values; `bounded(0)` is an
/// unbuffered rendezvous channel.
///
/// ```
/// let (tx, rx) = gosched::sync::chan::bounded(2);
/// tx.try_send('a').unwrap();
/// tx.try_send('b').unwrap();
/// assert!(tx.try_send('c').unwrap_err().is_full());
/// assert_eq!(rx.try_recv(), Ok('a'));
/// ```
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        cap < usize::MAX,
        "use chan::unbounded() for an unbounded channel"
    );
    new(cap)
}

/// Creates a channel whose buffer grows without limit: sends never wait.
///
/// ```
/// let (tx, rx) = gosched::sync::chan::unbounded();
/// for i in 0..10_000 {
///     tx.try_send(i).unwrap();
/// }
/// assert_eq!(rx.len(), 10_000);
/// assert_eq!(rx.capacity(), None);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    new(usize::MAX)
}

fn new<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan::new(cap));
    (
        Sender {
            chan: chan.clone(),
            sink: None,
            counted: true,
        },
        Receiver {
            chan,
            stream_key: None,
        },
    )
}

fn capacity_of<T>(chan: &Chan<T>) -> Option<usize> {
    (chan.cap() != usize::MAX).then_some(chan.cap())
}

/// The sending half of a channel. Clone it for more producers.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
    /// A send started through `Sink::start_send` and not yet completed.
    sink: Option<SinkSend<T>>,
    /// Whether this handle still counts in `senders` (it stops counting
    /// after `Sink::poll_close`, as if dropped).
    counted: bool,
}

struct SinkSend<T> {
    value: Option<T>,
    key: Option<Key>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for buffer room or, when unbuffered, for a
    /// receiver to take it. Fails with the value if the channel is closed.
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, rx) = gosched::sync::chan::bounded(1);
    ///     tx.send(5).await.unwrap();
    ///     assert_eq!(rx.recv().await, Some(5));
    /// });
    /// ```
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture {
            chan: &self.chan,
            value: Some(value),
            key: None,
        }
    }

    /// Sends `value` from a thread that is not running tasks, parking the
    /// thread until there is room or, when unbuffered, until a receiver
    /// takes it. Fails with the value if the channel is closed.
    ///
    /// # Panics
    ///
    /// On a gosched worker thread, where it would stall the tasks queued
    /// on it: use `.send(v).await` there (or `gosched::block_in_place`).
    ///
    /// ```
    /// let (tx, rx) = gosched::sync::chan::bounded(0);
    /// let t = std::thread::spawn(move || rx.recv_blocking());
    /// tx.send_blocking(3).unwrap();
    /// assert_eq!(t.join().unwrap(), Some(3));
    /// ```
    #[track_caller]
    pub fn send_blocking(&self, value: T) -> Result<(), SendError<T>> {
        crate::blocking::forbid_on_worker(
            "Sender::send_blocking",
            "use `.send(v).await` inside a task",
        );
        crate::blocking::wait(self.send(value))
    }

    /// Sends without waiting.
    ///
    /// ```
    /// let (tx, rx) = gosched::sync::chan::bounded(0);
    /// // Unbuffered and nobody is receiving: full.
    /// assert!(tx.try_send(1).unwrap_err().is_full());
    /// # drop(rx);
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }

    /// Closes the channel for everyone (Go's `close(ch)`). Returns `false`
    /// if it was already closed. Buffered values can still be received.
    ///
    /// ```
    /// let (tx, rx) = gosched::sync::chan::bounded(1);
    /// tx.try_send(1).unwrap();
    /// assert!(tx.close());
    /// assert!(!tx.close());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(rx.try_recv().is_err());
    /// ```
    pub fn close(&self) -> bool {
        self.chan.close()
    }

    /// Whether the channel is closed or has no receivers left.
    ///
    /// ```
    /// let (tx, rx) = gosched::sync::chan::bounded::<()>(1);
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Number of buffered values (Go's `len(ch)`).
    ///
    /// ```
    /// let (tx, _rx) = gosched::sync::chan::bounded(4);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no value is buffered.
    ///
    /// ```
    /// let (tx, _rx) = gosched::sync::chan::bounded::<u8>(4);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Buffer capacity (Go's `cap(ch)`), `None` when unbounded.
    ///
    /// ```
    /// let (tx, _rx) = gosched::sync::chan::bounded::<u8>(0);
    /// assert_eq!(tx.capacity(), Some(0));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        capacity_of(&self.chan)
    }

    /// Whether both senders belong to the same channel.
    ///
    /// ```
    /// let (tx, _rx) = gosched::sync::chan::bounded::<u8>(0);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

// The pending sink value is never pinned: it is moved in and out by value.
impl<T> Unpin for Sender<T> {}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.senders.fetch_add(1, Ordering::Relaxed);
        Sender {
            chan: self.chan.clone(),
            sink: None,
            counted: true,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(SinkSend { key: Some(k), .. }) = self.sink.take() {
            self.chan.cancel_send(k);
        }
        self.uncount();
    }
}

impl<T> Sender<T> {
    /// Stops this handle from keeping the channel open; closes the channel
    /// if it was the last one that did.
    fn uncount(&mut self) {
        if !std::mem::replace(&mut self.counted, false) {
            return;
        }
        // AcqRel: the last sender's decrement must see every other sender's
        // (Release) decrement, so the close below happens after their sends.
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.close();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

impl<T> futures::Sink<T> for Sender<T> {
    type Error = SendError<T>;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        let this = self.get_mut();
        let Some(pending) = &mut this.sink else {
            return Poll::Ready(Ok(()));
        };
        let res = std::task::ready!(this
            .chan
            .poll_send(cx, &mut pending.value, &mut pending.key));
        this.sink = None;
        Poll::Ready(res)
    }

    fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), SendError<T>> {
        let this = self.get_mut();
        debug_assert!(this.sink.is_none(), "start_send without poll_ready");
        if let Some(SinkSend { key: Some(k), .. }) = this.sink.take() {
            this.chan.cancel_send(k);
        }
        this.sink = Some(SinkSend {
            value: Some(item),
            key: None,
        });
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        self.poll_ready(cx)
    }

    /// Flushes the pending send, then lets go of the channel as if this
    /// sender were dropped: when it was the last sender, the channel closes
    /// and receivers see the end of the stream (what `StreamExt::forward`
    /// expects). Other senders keep it open; [`Sender::close`] closes it
    /// for everyone.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        let this = self.get_mut();
        let res = std::task::ready!(Pin::new(&mut *this).poll_ready(cx));
        this.uncount();
        Poll::Ready(res)
    }
}

/// The receiving half of a channel. Clone it for more consumers; each value
/// goes to exactly one receiver.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
    /// The parked waiter of `Stream::poll_next`, if any.
    stream_key: Option<Key>,
}

impl<T> Receiver<T> {
    /// Receives a value, waiting if none is buffered. `None` once the
    /// channel is closed and drained.
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, rx) = gosched::sync::chan::unbounded();
    ///     tx.send("hi").await.unwrap();
    ///     drop(tx);
    ///     assert_eq!(rx.recv().await, Some("hi"));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn recv(&self) -> RecvFuture<'_, T> {
        RecvFuture {
            chan: &self.chan,
            key: None,
        }
    }

    /// Receives a value from a thread that is not running tasks, parking
    /// the thread until one arrives. `None` once the channel is closed and
    /// drained.
    ///
    /// # Panics
    ///
    /// On a gosched worker thread, where it would stall the tasks queued
    /// on it: use `.recv().await` there (or `gosched::block_in_place`).
    ///
    /// ```
    /// let (tx, rx) = gosched::sync::chan::bounded(1);
    /// std::thread::spawn(move || tx.send_blocking("hi").unwrap());
    /// assert_eq!(rx.recv_blocking(), Some("hi"));
    /// assert_eq!(rx.recv_blocking(), None); // the sender is gone
    /// ```
    #[track_caller]
    pub fn recv_blocking(&self) -> Option<T> {
        crate::blocking::forbid_on_worker(
            "Receiver::recv_blocking",
            "use `.recv().await` inside a task",
        );
        crate::blocking::wait(self.recv())
    }

    /// [`recv_blocking`](Self::recv_blocking) for at most `timeout`.
    /// Fails with [`RecvTimeoutError::Timeout`] when nothing arrived in
    /// time (nothing is taken from the channel then), and with
    /// [`RecvTimeoutError::Closed`] once the channel is closed and drained.
    ///
    /// # Panics
    ///
    /// On a gosched worker thread, as `recv_blocking`: inside a task, race
    /// `rx.recv()` against a sleep in `select!`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use gosched::sync::chan::{self, RecvTimeoutError};
    /// let (tx, rx) = chan::bounded::<u8>(1);
    /// let wait = Duration::from_millis(5);
    /// assert_eq!(rx.recv_timeout(wait), Err(RecvTimeoutError::Timeout));
    /// tx.send_blocking(1).unwrap();
    /// assert_eq!(rx.recv_timeout(wait), Ok(1));
    /// drop(tx);
    /// assert_eq!(rx.recv_timeout(wait), Err(RecvTimeoutError::Closed));
    /// ```
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        crate::blocking::forbid_on_worker(
            "Receiver::recv_timeout",
            "use `select!` over `rx.recv()` and a sleep inside a task",
        );
        let got = match Instant::now().checked_add(timeout) {
            Some(deadline) => crate::blocking::wait_until(self.recv(), deadline),
            // Too far away to represent: no deadline.
            None => Some(crate::blocking::wait(self.recv())),
        };
        match got {
            Some(Some(v)) => Ok(v),
            Some(None) => Err(RecvTimeoutError::Closed),
            None => Err(RecvTimeoutError::Timeout),
        }
    }

    /// Receives without waiting.
    ///
    /// ```
    /// use gosched::sync::chan::{self, TryRecvError};
    /// let (tx, rx) = chan::bounded(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(3).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Whether the channel is closed (values may still be buffered).
    ///
    /// ```
    /// let (tx, rx) = gosched::sync::chan::bounded::<()>(1);
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Number of buffered values.
    ///
    /// ```
    /// let (tx, rx) = gosched::sync::chan::unbounded();
    /// tx.try_send(()).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Whether no value is buffered.
    ///
    /// ```
    /// let (_tx, rx) = gosched::sync::chan::bounded::<u8>(4);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Buffer capacity, `None` when unbounded.
    ///
    /// ```
    /// let (_tx, rx) = gosched::sync::chan::bounded::<u8>(8);
    /// assert_eq!(rx.capacity(), Some(8));
    /// ```
    pub fn capacity(&self) -> Option<usize> {
        capacity_of(&self.chan)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver {
            chan: self.chan.clone(),
            stream_key: None,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(k) = self.stream_key.take() {
            self.chan.cancel_recv(k);
        }
        // AcqRel: as for `Sender::drop`.
        if self.chan.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.disconnect();
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

impl<T> futures::Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.chan.poll_recv(cx, &mut this.stream_key)
    }
}

/// Future returned by [`Sender::send`].
#[must_use = "futures do nothing unless polled"]
pub struct SendFuture<'a, T> {
    chan: &'a Chan<T>,
    /// The value, until it is parked in the channel or sent.
    value: Option<T>,
    /// The parked waiter (plain send or select arm).
    key: Option<Key>,
}

// The value is never pinned: it is moved in and out by value.
impl<T> Unpin for SendFuture<'_, T> {}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("parked", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.chan.poll_send(cx, &mut this.value, &mut this.key)
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            self.chan.cancel_send(k);
        }
    }
}

impl<T> SelectOp for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn try_select(&mut self) -> Option<Self::Output> {
        self.chan.select_try_send(&mut self.value)
    }

    fn snapshot_order(&self) -> usize {
        self.chan.snapshot_order()
    }

    fn freeze(&self) {
        self.chan.snapshot_freeze();
    }

    fn thaw(&self) {
        self.chan.snapshot_thaw();
    }

    fn try_frozen(&mut self, wakes: &mut Deferred) -> Option<Self::Output> {
        self.chan.snapshot_try_send(&mut self.value, wakes)
    }

    fn register_select(&mut self, core: &Arc<SelectCore>, case: usize) -> Registered<Self::Output> {
        let r = self.chan.select_register_send(&mut self.value, core, case);
        if let Registered::Waiting(k) = r {
            self.key = Some(k);
        }
        r
    }

    fn finish_select(&mut self) -> Self::Output {
        let k = self.key.take().expect("finish on an unregistered arm");
        self.chan.select_finish_send(k)
    }

    fn unregister_select(&mut self) {
        if let Some(k) = self.key.take() {
            self.value = self.chan.select_unregister_send(k);
        }
    }
}

/// Future returned by [`Receiver::recv`].
#[must_use = "futures do nothing unless polled"]
pub struct RecvFuture<'a, T> {
    chan: &'a Chan<T>,
    /// The parked waiter (plain receive or select arm).
    key: Option<Key>,
}

impl<T> fmt::Debug for RecvFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvFuture")
            .field("parked", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

impl<T> Future for RecvFuture<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.chan.poll_recv(cx, &mut this.key)
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            self.chan.cancel_recv(k);
        }
    }
}

impl<T> SelectOp for RecvFuture<'_, T> {
    type Output = Option<T>;

    fn try_select(&mut self) -> Option<Self::Output> {
        self.chan.select_try_recv()
    }

    fn snapshot_order(&self) -> usize {
        self.chan.snapshot_order()
    }

    fn freeze(&self) {
        self.chan.snapshot_freeze();
    }

    fn thaw(&self) {
        self.chan.snapshot_thaw();
    }

    fn try_frozen(&mut self, wakes: &mut Deferred) -> Option<Self::Output> {
        self.chan.snapshot_try_recv(wakes)
    }

    fn register_select(&mut self, core: &Arc<SelectCore>, case: usize) -> Registered<Self::Output> {
        let r = self.chan.select_register_recv(core, case);
        if let Registered::Waiting(k) = r {
            self.key = Some(k);
        }
        r
    }

    fn finish_select(&mut self) -> Self::Output {
        let k = self.key.take().expect("finish on an unregistered arm");
        self.chan.select_finish_recv(k)
    }

    fn retry_select(&mut self, core: &Arc<SelectCore>, case: usize) -> Registered<Self::Output> {
        let k = self.key.expect("retry on an unregistered arm");
        let r = self.chan.select_retry_recv(k, core, case);
        if let Registered::Done(_) = r {
            self.key = None;
        }
        r
    }

    fn unregister_select(&mut self) {
        if let Some(k) = self.key.take() {
            self.chan.cancel_recv(k);
        }
    }
}
