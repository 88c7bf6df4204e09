//! [`TcpStream`]: a TCP connection, with `futures::io` reads and writes.
//!
//! # Connecting
//!
//! `connect(2)` on a non-blocking socket returns at once (EINPROGRESS);
//! the kernel reports the outcome as write readiness. When the socket is
//! writable we read `SO_ERROR` (`take_error`): an error there is the
//! connect's (ECONNREFUSED, ...). No error and a peer address means
//! connected; no peer yet means the readiness was stale (the optimistic
//! initial readiness of a new registration), so we clear it and wait.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::task::{ready, Context, Poll};

use super::addr::{each_addr, ToSocketAddrs};
use super::tcp_split::{OwnedReadHalf, OwnedWriteHalf};
use crate::reactor::io_state::Direction;
use crate::reactor::poll_io::PollIo;
use crate::reactor::Reactor;

/// A TCP connection.
///
/// Reads and writes go through `futures::io::{AsyncRead, AsyncWrite}`,
/// implemented for `TcpStream` and for `&TcpStream` (one task may read
/// while another writes through a shared reference, or use
/// [`TcpStream::into_split`]). A stream keeps one waiting task per
/// direction; two tasks reading (or writing) it at once both get woken,
/// but race for the bytes, so share a stream's direction through a lock
/// or a channel instead.
///
/// ```
/// use gosched::io::{AsyncReadExt, AsyncWriteExt};
/// use gosched::net::{TcpListener, TcpStream};
/// gosched::run(async {
///     let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = l.local_addr().unwrap();
///     let (a, c) = futures::join!(l.accept(), TcpStream::connect(addr));
///     let (mut server, mut client) = (a.unwrap().0, c.unwrap());
///     client.write_all(b"hi").await.unwrap();
///     client.close().await.unwrap();
///     let mut got = Vec::new();
///     server.read_to_end(&mut got).await.unwrap();
///     assert_eq!(got, b"hi");
/// });
/// ```
pub struct TcpStream {
    pub(super) io: PollIo<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`, trying each of its addresses in turn.
    ///
    /// Fails with `ConnectionRefused` when nobody listens.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// gosched::run(async {
    ///     // Bind then drop, to find a port with no listener.
    ///     let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    ///     let err = gosched::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    /// });
    /// ```
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        let reactor = Reactor::current();
        each_addr(addr, |a| {
            let reactor = reactor.clone();
            async move {
                let stream = TcpStream::from_mio(reactor, mio::net::TcpStream::connect(a)?)?;
                poll_fn(|cx| stream.poll_connected(cx)).await?;
                Ok(stream)
            }
        })
        .await
    }

    /// Wraps a connected std stream (set to non-blocking here) and
    /// registers it with the current reactor.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// let s = gosched::net::TcpStream::from_std(s).unwrap();
    /// assert_eq!(s.peer_addr().unwrap(), l.local_addr().unwrap());
    /// ```
    #[track_caller]
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(Reactor::current(), mio::net::TcpStream::from_std(stream))
    }

    pub(crate) fn from_mio(reactor: Reactor, s: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
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
                Err(e)
                    if e.kind() == io::ErrorKind::NotConnected
                        || e.raw_os_error() == Some(libc::EINPROGRESS) =>
                {
                    self.io.clear(event);
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// The local address of the connection.
    ///
    /// ```
    /// # let rt = gosched::Runtime::new().unwrap();
    /// # let _enter = rt.handle().enter();
    /// # let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// # let s = gosched::net::TcpStream::from_std(std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap()).unwrap();
    /// assert!(s.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The remote address of the connection.
    ///
    /// ```
    /// # let rt = gosched::Runtime::new().unwrap();
    /// # let _enter = rt.handle().enter();
    /// # let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// # let s = gosched::net::TcpStream::from_std(std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap()).unwrap();
    /// assert_eq!(s.peer_addr().unwrap(), l.local_addr().unwrap());
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm).
    ///
    /// ```
    /// # let rt = gosched::Runtime::new().unwrap();
    /// # let _enter = rt.handle().enter();
    /// # let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// # let s = gosched::net::TcpStream::from_std(std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap()).unwrap();
    /// s.set_nodelay(true).unwrap();
    /// assert!(s.nodelay().unwrap());
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// ```
    /// # let rt = gosched::Runtime::new().unwrap();
    /// # let _enter = rt.handle().enter();
    /// # let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// # let s = gosched::net::TcpStream::from_std(std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap()).unwrap();
    /// let _ = s.nodelay().unwrap();
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Shuts down the read half, the write half or both. Shutting down
    /// writes sends FIN: the peer reads EOF.
    ///
    /// ```
    /// # let rt = gosched::Runtime::new().unwrap();
    /// # let _enter = rt.handle().enter();
    /// # let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// # let s = gosched::net::TcpStream::from_std(std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap()).unwrap();
    /// s.shutdown(std::net::Shutdown::Write).unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Splits into a read half and a write half that can move to different
    /// tasks. Dropping the write half shuts down writes.
    ///
    /// ```
    /// # let rt = gosched::Runtime::new().unwrap();
    /// # let _enter = rt.handle().enter();
    /// # let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// # let s = gosched::net::TcpStream::from_std(std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap()).unwrap();
    /// let (read_half, write_half) = s.into_split();
    /// assert_eq!(read_half.peer_addr().unwrap(), write_half.peer_addr().unwrap());
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        super::tcp_split::split(self)
    }

    pub(crate) fn poll_close_priv(&self) -> Poll<io::Result<()>> {
        match self.shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            r => Poll::Ready(r),
        }
    }
}

impl_async_io!(TcpStream);
impl_async_io!(&TcpStream);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

impl_as_fd!(TcpStream);
