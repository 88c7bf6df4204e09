//! Owned halves of a [`TcpStream`], for a reader task and a writer task.
//!
//! Both halves share the stream through an `Arc`. Readiness is tracked per
//! direction with one waker slot each (see `reactor/io_state.rs`), so the
//! reader and the writer park independently. Dropping (or closing) the
//! write half shuts down the write side, so the peer sees EOF; the socket
//! itself closes when both halves are gone.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};

use super::tcp_stream::TcpStream;

/// The read half of a [`TcpStream`], from [`TcpStream::into_split`].
///
/// ```
/// use gosched::io::{AsyncReadExt, AsyncWriteExt};
/// use gosched::net::{TcpListener, TcpStream};
/// gosched::run(async {
///     let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = l.local_addr().unwrap();
///     let (a, c) = futures::join!(l.accept(), TcpStream::connect(addr));
///     let (mut rd, mut wr) = a.unwrap().0.into_split();
///     let mut client = c.unwrap();
///     client.write_all(b"x").await.unwrap();
///     let mut b = [0; 1];
///     rd.read_exact(&mut b).await.unwrap();
///     wr.write_all(&b).await.unwrap();
///     client.read_exact(&mut b).await.unwrap();
///     assert_eq!(&b, b"x");
/// });
/// ```
pub struct OwnedReadHalf {
    pub(super) inner: Arc<TcpStream>,
}

/// The write half of a [`TcpStream`], from [`TcpStream::into_split`].
/// Dropping it shuts down the write side.
///
/// ```
/// use gosched::io::AsyncReadExt;
/// use gosched::net::{TcpListener, TcpStream};
/// gosched::run(async {
///     let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = l.local_addr().unwrap();
///     let (a, c) = futures::join!(l.accept(), TcpStream::connect(addr));
///     let (_rd, wr) = a.unwrap().0.into_split();
///     drop(wr);
///     let mut rest = Vec::new();
///     assert_eq!(c.unwrap().read_to_end(&mut rest).await.unwrap(), 0, "EOF");
/// });
/// ```
pub struct OwnedWriteHalf {
    inner: Arc<TcpStream>,
}

pub(crate) fn split(stream: TcpStream) -> (OwnedReadHalf, OwnedWriteHalf) {
    let inner = Arc::new(stream);
    (
        OwnedReadHalf {
            inner: inner.clone(),
        },
        OwnedWriteHalf { inner },
    )
}

impl OwnedReadHalf {
    /// The remote address.
    ///
    /// See [`TcpStream::into_split`] for an example.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    ///
    /// See [`TcpStream::into_split`] for an example.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl OwnedWriteHalf {
    /// The remote address.
    ///
    /// See [`TcpStream::into_split`] for an example.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    ///
    /// See [`TcpStream::into_split`] for an example.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        let _ = self.inner.shutdown(Shutdown::Write);
    }
}

impl AsyncRead for OwnedReadHalf {
    /// Reads into `buf`. One task waits per direction of a stream; a
    /// second concurrent reader (through the `TcpStream` this half shares
    /// its socket with, say) is queued, never lost (`reactor/io_state.rs`,
    /// "Waiters").
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.io.poll_read(cx, buf)
    }

    /// Reads into `bufs`. One task waits per direction of a stream; a
    /// second concurrent reader (through the `TcpStream` this half shares
    /// its socket with, say) is queued, never lost (`reactor/io_state.rs`,
    /// "Waiters").
    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner.io.poll_read_vectored(cx, bufs)
    }
}

impl AsyncWrite for OwnedWriteHalf {
    /// Writes from `buf`. One task waits per direction of a stream; a
    /// second concurrent writer is queued, never lost
    /// (`reactor/io_state.rs`, "Waiters").
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.io.poll_write(cx, buf)
    }

    /// Writes from `bufs`. One task waits per direction of a stream; a
    /// second concurrent writer is queued, never lost
    /// (`reactor/io_state.rs`, "Waiters").
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner.io.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.poll_close_priv()
    }
}

impl fmt::Debug for OwnedReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf").field(&self.inner).finish()
    }
}

impl fmt::Debug for OwnedWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf").field(&self.inner).finish()
    }
}
