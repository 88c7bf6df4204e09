//! A registered mio source and the loop every I/O operation runs
//! (Go's `pollDesc` plus `fd.Read`'s `for { ... waitRead }` loop).
//!
//! # The operation loop ([`PollIo::poll_io`])
//!
//! 1. Take a coop unit ([`coop::poll_proceed`]); a spent budget returns
//!    `Pending` (the task was woken and goes to the back of the queue).
//! 2. Wait for readiness in the operation's direction
//!    ([`IoState::poll_ready`]); not ready: the waker is stored, the task
//!    is marked `IO wait`, the unit is refunded and we return `Pending`.
//! 3. Try the syscall. `WouldBlock`: clear the readiness we saw (only if no
//!    newer event arrived, see `io_state`) and go to step 2. Anything else,
//!    success or error, completes the operation and keeps the unit spent.
//!
//! Streams wait in their direction's single slot ([`PollIo::poll_io`]);
//! listeners and datagram sockets wait in a wait-list entry of their own
//! ([`PollIo::poll_io_listed`] with a [`ListedWait`]), so several tasks can
//! wait on one direction (`io_state`, "Waiters").
//!
//! Stream reads and writes use [`PollIo::poll_stream_io`], which adds one
//! rule: a read that returns fewer bytes than asked for drained the
//! socket's receive buffer, and a write that took fewer bytes than offered
//! filled the send buffer, so readiness is cleared right away (the same
//! tick-guarded clear) and the next operation waits for the next edge
//! instead of spending a syscall to learn `WouldBlock`.
//!
//! Dropping a `PollIo` deregisters the source before closing it, so the
//! kernel can never report an event for a closed fd under our token, and
//! frees the token (stale from then on).

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use gosched_executor::coop;
use mio::event::Source;

use super::io_state::{Direction, IoState, ReadyEvent, WaitKey};
use super::{shutdown_error, Reactor};

/// A mio source registered with a reactor.
pub(crate) struct PollIo<E: Source> {
    /// `Some` until drop or `into_inner`.
    io: Option<E>,
    reactor: Reactor,
    state: Arc<IoState>,
    token: usize,
}

impl<E: Source> PollIo<E> {
    /// Registers `io` with the current reactor.
    #[track_caller]
    pub(crate) fn new(io: E, interest: mio::Interest) -> io::Result<PollIo<E>> {
        PollIo::with_reactor(Reactor::current(), io, interest)
    }

    /// Registers `io` with `reactor`.
    pub(crate) fn with_reactor(
        reactor: Reactor,
        mut io: E,
        interest: mio::Interest,
    ) -> io::Result<PollIo<E>> {
        let (token, state) = reactor.register(&mut io, interest)?;
        Ok(PollIo {
            io: Some(io),
            reactor,
            state,
            token,
        })
    }

    /// The source.
    pub(crate) fn get_ref(&self) -> &E {
        self.io.as_ref().expect("PollIo used after into_inner")
    }

    /// The reactor this source is registered with.
    pub(crate) fn reactor(&self) -> &Reactor {
        &self.reactor
    }

    /// Runs `op` when the source is ready in `direction`; see the module
    /// docs for the loop. The task waits in the direction's single slot
    /// (streams; `io_state`, "Waiters").
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_op(cx, Wait::Slot(direction), op, |_, _| {})
    }

    /// [`PollIo::poll_io`] for listeners and datagram sockets: the task
    /// waits in `wait`'s wait-list entry, so several tasks may wait on one
    /// direction at once.
    pub(crate) fn poll_io_listed<R>(
        &self,
        cx: &mut Context<'_>,
        wait: &mut ListedWait<'_>,
        op: impl FnMut(&E) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_op(cx, Wait::Listed(wait), op, |_, _| {})
    }

    /// [`PollIo::poll_io`] for a stream read or write of `len` bytes (see
    /// the module docs for the short-transfer rule).
    pub(crate) fn poll_stream_io(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        len: usize,
        op: impl FnMut(&E) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_op(cx, Wait::Slot(direction), op, |result, event| {
            if let Ok(n) = *result {
                if n > 0 && n < len {
                    self.state.clear_readiness(event);
                }
            }
        })
    }

    /// The operation loop of the module docs, waiting as `wait` says;
    /// `done` sees the outcome and the event it ran on before it is
    /// returned.
    #[inline]
    fn poll_op<R>(
        &self,
        cx: &mut Context<'_>,
        mut wait: Wait<'_, '_>,
        mut op: impl FnMut(&E) -> io::Result<R>,
        done: impl FnOnce(&io::Result<R>, ReadyEvent),
    ) -> Poll<io::Result<R>> {
        let progress = ready!(coop::poll_proceed(cx));
        loop {
            let event = ready!(match &mut wait {
                Wait::Slot(direction) => self.state.poll_ready(cx, *direction),
                Wait::Listed(w) => self.state.poll_ready_listed(cx, w.direction, &mut w.key),
            });
            if event.is_shutdown() {
                return Poll::Ready(Err(shutdown_error()));
            }
            match op(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.state.clear_readiness(event);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => {
                    done(&result, event);
                    progress.made_progress();
                    return Poll::Ready(result);
                }
            }
        }
    }

    /// A wait-list entry for one operation (or one accept stream) in
    /// `direction`; see [`ListedWait`].
    pub(crate) fn listed_wait(&self, direction: Direction) -> ListedWait<'_> {
        ListedWait {
            state: &self.state,
            direction,
            key: WaitKey::default(),
        }
    }

    /// Waits until the source is ready in `direction` without running an
    /// operation. The caller must call [`PollIo::clear`]-style logic
    /// itself; used by connect, which checks `take_error` instead.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        let event = ready!(self.state.poll_ready(cx, direction));
        if event.is_shutdown() {
            return Poll::Ready(Err(shutdown_error()));
        }
        Poll::Ready(Ok(event))
    }

    /// Forgets readiness seen in `event` (after a `WouldBlock`-like
    /// outcome of a custom operation).
    pub(crate) fn clear(&self, event: ReadyEvent) {
        self.state.clear_readiness(event);
    }

    /// [`PollIo::poll_io_listed`] as a future, with a wait-list entry of
    /// its own: datagram sends and receives, which any number of tasks may
    /// wait on at once.
    pub(crate) async fn io<R>(
        &self,
        direction: Direction,
        mut op: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        let mut wait = self.listed_wait(direction);
        poll_fn(|cx| self.poll_io_listed(cx, &mut wait, &mut op)).await
    }
}

/// How an operation waits (`io_state`, "Waiters").
enum Wait<'a, 'b> {
    /// In the direction's single slot: streams.
    Slot(Direction),
    /// In a wait-list entry: listeners and datagram sockets.
    Listed(&'a mut ListedWait<'b>),
}

/// One operation's entry in a socket's wait list for one direction, for
/// the socket types several tasks commonly wait on at once (listeners and
/// datagram sockets). Make one per operation (an `accept()` call) or per
/// stream of operations (`incoming()`), and keep it for the whole wait:
/// re-polls reuse its entry, and dropping it (the operation completed or
/// was cancelled) frees the entry, so cancelled waiters leave nothing.
pub(crate) struct ListedWait<'a> {
    state: &'a IoState,
    direction: Direction,
    key: WaitKey,
}

impl Drop for ListedWait<'_> {
    fn drop(&mut self) {
        self.state.release(self.direction, &mut self.key);
    }
}

impl fmt::Debug for ListedWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListedWait")
            .field("direction", &self.direction)
            .field("key", &self.key)
            .finish()
    }
}

/// Byte-stream reads and writes, for every stream type (`TcpStream`,
/// `UnixStream`) and the split halves. Each waits in its direction's single
/// slot: one waiter per direction is the fast path, and a second
/// concurrent one is queued behind it, never lost (`io_state`, "Waiters").
impl<E: Source> PollIo<E>
where
    for<'a> &'a E: Read + Write,
{
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_stream_io(cx, Direction::Read, buf.len(), |mut s| s.read(buf))
    }

    /// Reads into possibly uninitialised memory: `read(2)` on the raw fd
    /// writes straight into `buf`, so callers with spare capacity (hyper's
    /// and tokio's read buffers) need not zero it first. On `Ok(n)` the
    /// first `n` bytes of `buf` are initialised.
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>
    where
        E: std::os::fd::AsRawFd,
    {
        let len = buf.len();
        let ptr = buf.as_mut_ptr().cast::<libc::c_void>();
        self.poll_stream_io(cx, Direction::Read, len, |s| {
            // SAFETY: `ptr` points at `len` writable bytes borrowed from
            // `buf` for this whole call; read(2) only writes into them
            // (never reads), so their being uninitialised is fine, and the
            // fd is this source's, open while `self` lives.
            let n = unsafe { libc::read(s.as_raw_fd(), ptr, len) };
            if n < 0 {
                Err(io::Error::last_os_error())
            } else {
                Ok(n as usize)
            }
        })
    }

    pub(crate) fn poll_read_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Read, |mut s| s.read_vectored(bufs))
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_stream_io(cx, Direction::Write, buf.len(), |mut s| s.write(buf))
    }

    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_io(cx, Direction::Write, |mut s| s.write_vectored(bufs))
    }
}

impl<E: Source> Drop for PollIo<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            self.reactor.deregister(&mut io, self.token);
        }
    }
}

impl<E: Source + fmt::Debug> fmt::Debug for PollIo<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollIo")
            .field("io", &self.io)
            .field("token", &self.token)
            .finish()
    }
}
