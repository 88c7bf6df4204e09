//! [`UnixStream`]: a Unix-domain stream connection.
//!
//! Connecting follows `tcp_stream.rs`: wait for write readiness, then
//! read `SO_ERROR` and check for a peer.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{ready, Context, Poll};

use crate::reactor::io_state::Direction;
use crate::reactor::poll_io::PollIo;
use crate::reactor::Reactor;

/// A Unix-domain stream socket; `futures::io` reads and writes are
/// implemented for it and for `&UnixStream`. Like `TcpStream`, it keeps
/// one waiting task per direction; a second one is queued, never lost.
///
/// ```
/// use gosched::io::{AsyncReadExt, AsyncWriteExt};
/// gosched::run(async {
///     let (mut a, mut b) = gosched::net::UnixStream::pair().unwrap();
///     a.write_all(b"ping").await.unwrap();
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"ping");
/// });
/// ```
pub struct UnixStream {
    pub(super) io: PollIo<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket file `path`.
    ///
    /// See [`crate::net::UnixListener`] for an example.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let s = mio::net::UnixStream::connect(path)?;
        let stream = UnixStream::from_mio(Reactor::current(), s)?;
        poll_fn(|cx| stream.poll_connected(cx)).await?;
        Ok(stream)
    }

    /// A connected pair of sockets.
    ///
    /// See [`UnixStream`] for an example.
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        let r = Reactor::current();
        Ok((
            UnixStream::from_mio(r.clone(), a)?,
            UnixStream::from_mio(r, b)?,
        ))
    }

    /// Wraps a std stream (set to non-blocking here) and registers it with
    /// the current reactor.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// let a = gosched::net::UnixStream::from_std(a).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(Reactor::current(), mio::net::UnixStream::from_std(stream))
    }

    pub(crate) fn from_mio(reactor: Reactor, s: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: PollIo::with_reactor(
                reactor,
                s,
                mio::Interest::READABLE | mio::Interest::WRITABLE,
            )?,
        })
    }

    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let event = ready!(self.io.poll_ready(cx, Direction::Write))?;
            if let Some(e) = self.io.get_ref().take_error()? {
                return Poll::Ready(Err(e));
            }
            match self.io.get_ref().peer_addr() {
                Ok(_) => return Poll::Ready(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => self.io.clear(event),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// The local address.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let (a, _b) = gosched::net::UnixStream::pair().unwrap();
    /// assert!(a.local_addr().unwrap().is_unnamed());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let (a, _b) = gosched::net::UnixStream::pair().unwrap();
    /// assert!(a.peer_addr().unwrap().is_unnamed());
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down reads, writes or both.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let (a, _b) = gosched::net::UnixStream::pair().unwrap();
    /// a.shutdown(std::net::Shutdown::Both).unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    pub(crate) fn poll_close_priv(&self) -> Poll<io::Result<()>> {
        match self.shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            r => Poll::Ready(r),
        }
    }
}

impl_async_io!(UnixStream);
impl_async_io!(&UnixStream);

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

impl_as_fd!(UnixStream);
