//! Errors of channel operations.
//!
//! Every error that can carry the value back does: a failed send never
//! destroys what the caller tried to send (Go panics on a send to a closed
//! channel; gosched hands the value back instead). The `Debug` impls do not
//! require `T: Debug`, so `.unwrap()` works on any channel: they say why
//! the operation failed and name the type of the value inside, not the
//! value itself.

use std::fmt;

/// The channel is closed (or has no receivers); the value comes back.
///
/// ```
/// let (tx, rx) = gosched::sync::chan::bounded::<u8>(1);
/// drop(rx);
/// let err = futures::executor::block_on(tx.send(9)).unwrap_err();
/// assert_eq!(err.into_inner(), 9);
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

impl<T> SendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// `SendError(channel closed, value: u32)`: what `.unwrap()` prints.
///
/// ```
/// let err = gosched::sync::chan::SendError(7u32);
/// assert_eq!(format!("{err:?}"), "SendError(channel closed, value: u32)");
/// ```
impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SendError(channel closed, value: {})",
            std::any::type_name::<T>()
        )
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a closed channel")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// Why [`Sender::try_send`](super::Sender::try_send) failed; the value
/// comes back either way.
///
/// ```
/// use gosched::sync::chan::{self, TrySendError};
/// let (tx, rx) = chan::bounded(1);
/// tx.try_send(1).unwrap();
/// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
/// drop(rx);
/// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The buffer is full (or, unbuffered, no receiver is waiting).
    Full(T),
    /// The channel is closed or has no receivers.
    Closed(T),
}

impl<T> TrySendError<T> {
    /// The value that was not sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Closed(v) => v,
        }
    }

    /// Whether the channel was full.
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// Whether the channel was closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, TrySendError::Closed(_))
    }
}

/// `Full(channel full, value: u32)` or `Closed(channel closed, value: u32)`.
///
/// ```
/// use gosched::sync::chan::TrySendError;
/// assert_eq!(
///     format!("{:?}", TrySendError::Closed(1u8)),
///     "Closed(channel closed, value: u8)"
/// );
/// ```
impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ty = std::any::type_name::<T>();
        match self {
            TrySendError::Full(_) => write!(f, "Full(channel full, value: {ty})"),
            TrySendError::Closed(_) => write!(f, "Closed(channel closed, value: {ty})"),
        }
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("sending on a full channel"),
            TrySendError::Closed(_) => f.write_str("sending on a closed channel"),
        }
    }
}

impl<T> std::error::Error for TrySendError<T> {}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(e: SendError<T>) -> Self {
        TrySendError::Closed(e.0)
    }
}

/// Why [`Receiver::try_recv`](super::Receiver::try_recv) failed.
///
/// ```
/// use gosched::sync::chan::{self, TryRecvError};
/// let (tx, rx) = chan::bounded::<u8>(1);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryRecvError {
    /// Nothing to receive right now.
    Empty,
    /// The channel is closed and drained.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving on an empty channel"),
            TryRecvError::Closed => f.write_str("receiving on a closed channel"),
        }
    }
}

impl std::error::Error for TryRecvError {}

/// Why [`Receiver::recv_timeout`](super::Receiver::recv_timeout) failed.
///
/// ```
/// use std::time::Duration;
/// use gosched::sync::chan::{self, RecvTimeoutError};
/// let (tx, rx) = chan::bounded::<u8>(0);
/// assert_eq!(rx.recv_timeout(Duration::from_millis(1)), Err(RecvTimeoutError::Timeout));
/// drop(tx);
/// assert_eq!(rx.recv_timeout(Duration::from_millis(1)), Err(RecvTimeoutError::Closed));
/// ```
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum RecvTimeoutError {
    /// Nothing arrived before the timeout.
    Timeout,
    /// The channel is closed and drained.
    Closed,
}

impl RecvTimeoutError {
    /// Whether the wait timed out (the channel may still deliver later).
    pub fn is_timeout(&self) -> bool {
        matches!(self, RecvTimeoutError::Timeout)
    }

    /// Whether the channel is closed and drained.
    pub fn is_closed(&self) -> bool {
        matches!(self, RecvTimeoutError::Closed)
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.write_str("timed out receiving on a channel"),
            RecvTimeoutError::Closed => f.write_str("receiving on a closed channel"),
        }
    }
}

impl std::error::Error for RecvTimeoutError {}
