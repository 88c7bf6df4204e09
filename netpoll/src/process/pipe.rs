//! A child's standard streams as async streams on the netpoller:
//! [`ChildStdin`] (`futures::io::AsyncWrite`), [`ChildStdout`] and
//! [`ChildStderr`] (`AsyncRead`). Each is a non-blocking pipe end
//! registered with the reactor, read and written with the same loop as a
//! socket (`reactor/poll_io.rs`).

use std::fmt;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};
use gosched_executor::coop;
use mio::unix::pipe;

use crate::reactor::io_state::Direction;
use crate::reactor::poll_io::PollIo;

/// Registers a pipe end, non-blocking, with the current reactor.
#[track_caller]
fn register<E: mio::event::Source>(
    end: E,
    set_nonblocking: impl FnOnce(&E) -> io::Result<()>,
    interest: mio::Interest,
) -> io::Result<PollIo<E>> {
    set_nonblocking(&end)?;
    PollIo::new(end, interest)
}

/// A child's standard input. Dropping it, or `close()`, closes the pipe,
/// so the child reads end-of-file.
pub struct ChildStdin {
    io: Option<PollIo<pipe::Sender>>,
}

impl ChildStdin {
    #[track_caller]
    pub(crate) fn new(std: std::process::ChildStdin) -> io::Result<ChildStdin> {
        let io = register(
            pipe::Sender::from(std),
            |s| s.set_nonblocking(true),
            mio::Interest::WRITABLE,
        )?;
        Ok(ChildStdin { io: Some(io) })
    }
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let Some(io) = &self.io else {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        };
        let progress = std::task::ready!(coop::poll_proceed(cx));
        let r = std::task::ready!(
            io.poll_stream_io(cx, Direction::Write, buf.len(), |mut s| s.write(buf))
        );
        progress.made_progress();
        Poll::Ready(r)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes the pipe (the child sees end-of-file).
    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io = None;
        Poll::Ready(Ok(()))
    }
}

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildStdin")
            .field("open", &self.io.is_some())
            .finish()
    }
}

/// A pipe the child writes to: its standard output or error.
pub struct ChildOutput {
    io: PollIo<pipe::Receiver>,
}

/// A child's standard output.
pub type ChildStdout = ChildOutput;
/// A child's standard error.
pub type ChildStderr = ChildOutput;

impl ChildOutput {
    #[track_caller]
    pub(crate) fn new(end: pipe::Receiver) -> io::Result<ChildOutput> {
        let io = register(end, |r| r.set_nonblocking(true), mio::Interest::READABLE)?;
        Ok(ChildOutput { io })
    }
}

impl AsyncRead for ChildOutput {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let progress = std::task::ready!(coop::poll_proceed(cx));
        let r =
            std::task::ready!(self
                .io
                .poll_stream_io(cx, Direction::Read, buf.len(), |mut r| r.read(buf)));
        progress.made_progress();
        Poll::Ready(r)
    }
}

impl fmt::Debug for ChildOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildOutput").finish_non_exhaustive()
    }
}
