//! [`HyperIo`]: hyper's `Read`/`Write` on any gosched byte stream.
//!
//! Reads fill hyper's `ReadBufCursor` in place through
//! [`AsyncReadUninit`]: `read(2)` writes into the unfilled part without
//! the buffer being zeroed first (with `futures::io::AsyncRead` alone, a
//! server would memset hyper's whole spare capacity before every read).
//! Writes go to `futures::io::AsyncWrite`; shutdown is `poll_close` (a
//! write-side shutdown). Every type that implements `AsyncReadUninit` is
//! a socket, and sockets take `writev(2)`, so the wrapper reports
//! vectored writes as supported and hyper hands it its header and body
//! buffers in one call.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures::io::AsyncWrite;
use gosched_netpoll::net::AsyncReadUninit;

/// A gosched stream ([`TcpStream`](crate::net::TcpStream),
/// [`UnixStream`](crate::net::UnixStream), a reference to either, or
/// a split half) as hyper I/O, for hyper's client and server connection
/// builders. [`serve`](super::serve) wraps its connections in it.
///
/// ```
/// use gosched::http::HyperIo;
/// gosched::run(async {
///     let (a, _b) = gosched::net::UnixStream::pair().unwrap();
///     let io = HyperIo::new(a);
///     // `io` can now go to hyper::client::conn::http1::handshake(io).
///     let _stream: gosched::net::UnixStream = io.into_inner();
/// });
/// ```
#[derive(Debug)]
pub struct HyperIo<T> {
    inner: T,
}

impl<T> HyperIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        HyperIo { inner }
    }

    /// The wrapped stream.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream, mutably.
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncReadUninit + Unpin> hyper::rt::Read for HyperIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: `poll_read_uninit` only writes into the slice (it is
        // read(2)'s destination), so no initialised byte is de-initialised.
        let unfilled = unsafe { buf.as_mut() };
        let n = ready!(Pin::new(&mut self.inner).poll_read_uninit(cx, unfilled))?;
        // SAFETY: on `Ok(n)` the read initialised the first `n` bytes of
        // the unfilled part (`AsyncReadUninit`'s contract).
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncReadUninit + AsyncWrite + Unpin> hyper::rt::Write for HyperIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
