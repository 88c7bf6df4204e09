//! The value queue of a buffered or unbounded channel: a lock-free MPMC
//! queue that can be *closed*, with one API for the real queue and for the
//! loom stand-in.
//!
//! # Why this queue
//!
//! `concurrent-queue` (smol-rs; the queue under async-channel) keeps the
//! closed mark in the same word as the tail index, so `close` and `push`
//! are ordered by one atomic: a push either lands before the close (and is
//! received) or fails with its value. `crossbeam_queue::ArrayQueue` and
//! `SegQueue`, which the executor uses, have no close: a send that checked
//! a separate closed flag, then was preempted, could push after receivers
//! had drained the queue and returned `None`, stranding a value that its
//! sender was told was sent. Closing that window around crossbeam needs an
//! in-flight-sender count, i.e. two more contended read-modify-writes per
//! send: the kind of cost the lock-free path exists to avoid. `bounded(n)` is a ring of `n`
//! slots allocated once (no allocation per message); `unbounded()` is a
//! list of 32-slot blocks.
//!
//! # The loom stand-in
//!
//! The real queue's atomics are invisible to loom, and its spin-waits would
//! hang a loom model. Under `cfg(gosched_loom)` a small queue with the same
//! API takes its place: a `loom` mutex around a `VecDeque` holds the
//! values, and one atomic word, `(len << 1) | CLOSED`, written only under
//! that mutex, tells whether the queue is empty, full or closed. A push or
//! pop that *fails* decides from that word alone, without taking the
//! mutex, so a failed operation creates no happens-before edge, exactly as
//! a failed operation on the real queue does not. The models therefore
//! check the channel's own fences (`buffered.rs`, steps S2, R3, R4, S5) rather
//! than leaning on the stand-in's lock. Operations are linearizable in
//! both implementations.

/// Why a push failed; the value comes back.
pub(crate) enum PushError<T> {
    /// A bounded queue has no free slot.
    Full(T),
    /// The queue was closed.
    Closed(T),
}

/// Why a pop failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PopError {
    /// No value now; more may come.
    Empty,
    /// No value, and the queue is closed: none will ever come.
    Closed,
}

#[cfg(not(gosched_loom))]
mod imp {
    use super::{PopError, PushError};
    use concurrent_queue::ConcurrentQueue;

    /// A closable MPMC queue (any thread may call anything).
    pub(crate) struct Buffer<T> {
        queue: ConcurrentQueue<T>,
    }

    impl<T> Buffer<T> {
        /// A queue of `cap` slots, allocated now; `cap > 0`.
        pub(crate) fn bounded(cap: usize) -> Self {
            Buffer {
                queue: ConcurrentQueue::bounded(cap),
            }
        }

        /// A queue without a size limit.
        pub(crate) fn unbounded() -> Self {
            Buffer {
                queue: ConcurrentQueue::unbounded(),
            }
        }

        #[inline]
        pub(crate) fn push(&self, value: T) -> Result<(), PushError<T>> {
            self.queue.push(value).map_err(|e| match e {
                concurrent_queue::PushError::Full(v) => PushError::Full(v),
                concurrent_queue::PushError::Closed(v) => PushError::Closed(v),
            })
        }

        #[inline]
        pub(crate) fn pop(&self) -> Result<T, PopError> {
            self.queue.pop().map_err(|e| {
                if e.is_closed() {
                    PopError::Closed
                } else {
                    PopError::Empty
                }
            })
        }

        /// Closes the queue: later pushes fail, pops drain what is left.
        pub(crate) fn close(&self) {
            self.queue.close();
        }

        pub(crate) fn is_closed(&self) -> bool {
            self.queue.is_closed()
        }

        pub(crate) fn len(&self) -> usize {
            self.queue.len()
        }
    }
}

#[cfg(gosched_loom)]
mod imp {
    use std::collections::VecDeque;

    use super::{PopError, PushError};
    use crate::loom::atomic::{AtomicUsize, Ordering};
    use crate::loom::{lock, Mutex};

    const CLOSED: usize = 1;
    const ONE: usize = 2;

    /// The loom stand-in (see the module doc).
    pub(crate) struct Buffer<T> {
        values: Mutex<VecDeque<T>>,
        /// `(len << 1) | CLOSED`; written only with `values` locked.
        state: AtomicUsize,
        cap: usize,
    }

    impl<T> Buffer<T> {
        pub(crate) fn bounded(cap: usize) -> Self {
            Buffer {
                values: Mutex::new(VecDeque::new()),
                state: AtomicUsize::new(0),
                cap,
            }
        }

        pub(crate) fn unbounded() -> Self {
            Self::bounded(usize::MAX)
        }

        pub(crate) fn push(&self, value: T) -> Result<(), PushError<T>> {
            // Acquire pairs with the Release stores below; a stale value
            // only makes the push fail, as a racing push on the real queue
            // can.
            let s = self.state.load(Ordering::Acquire);
            if s & CLOSED != 0 {
                return Err(PushError::Closed(value));
            }
            if s / ONE >= self.cap {
                return Err(PushError::Full(value));
            }
            let mut q = lock(&self.values);
            let s = self.state.load(Ordering::Relaxed);
            if s & CLOSED != 0 {
                return Err(PushError::Closed(value));
            }
            if q.len() >= self.cap {
                return Err(PushError::Full(value));
            }
            q.push_back(value);
            self.state.store(s + ONE, Ordering::Release);
            Ok(())
        }

        pub(crate) fn pop(&self) -> Result<T, PopError> {
            // Acquire pairs with the Release stores in `push`/`close`.
            let s = self.state.load(Ordering::Acquire);
            if s / ONE == 0 {
                return Err(if s & CLOSED != 0 {
                    PopError::Closed
                } else {
                    PopError::Empty
                });
            }
            let mut q = lock(&self.values);
            let s = self.state.load(Ordering::Relaxed);
            match q.pop_front() {
                Some(v) => {
                    self.state.store(s - ONE, Ordering::Release);
                    Ok(v)
                }
                None if s & CLOSED != 0 => Err(PopError::Closed),
                None => Err(PopError::Empty),
            }
        }

        pub(crate) fn close(&self) {
            let _q = lock(&self.values);
            let s = self.state.load(Ordering::Relaxed);
            self.state.store(s | CLOSED, Ordering::Release);
        }

        pub(crate) fn is_closed(&self) -> bool {
            self.state.load(Ordering::Acquire) & CLOSED != 0
        }

        pub(crate) fn len(&self) -> usize {
            self.state.load(Ordering::Acquire) / ONE
        }
    }
}

pub(crate) use imp::Buffer;
