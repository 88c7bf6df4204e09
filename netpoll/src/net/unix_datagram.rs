//! [`UnixDatagram`]: datagrams over Unix-domain sockets.
//!
//! Like `udp.rs`: every method takes `&self`, and any number of tasks may
//! wait to receive or to send at once.

use std::fmt;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use crate::reactor::io_state::Direction;
use crate::reactor::poll_io::PollIo;

/// A Unix-domain datagram socket.
///
/// ```
/// gosched::run(async {
///     let (a, b) = gosched::net::UnixDatagram::pair().unwrap();
///     a.send(b"dgram").await.unwrap();
///     let mut buf = [0; 8];
///     let n = b.recv(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"dgram");
/// });
/// ```
pub struct UnixDatagram {
    io: PollIo<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    #[track_caller]
    fn from_mio(s: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: PollIo::new(s, mio::Interest::READABLE | mio::Interest::WRITABLE)?,
        })
    }

    /// Binds to the socket file `path`.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("gosched-doc-dg-{}", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// gosched::run(async {
    ///     let server = gosched::net::UnixDatagram::bind(&path).unwrap();
    ///     let client = gosched::net::UnixDatagram::unbound().unwrap();
    ///     client.send_to(b"hi", &path).await.unwrap();
    ///     let mut buf = [0; 2];
    ///     let (n, _from) = server.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"hi");
    /// });
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no address.
    ///
    /// See [`UnixDatagram::bind`] for an example.
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// A connected pair of sockets.
    ///
    /// See [`UnixDatagram`] for an example.
    #[track_caller]
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_mio(a)?, UnixDatagram::from_mio(b)?))
    }

    /// Wraps a std socket (set to non-blocking here) and registers it with
    /// the current reactor.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let s = std::os::unix::net::UnixDatagram::unbound().unwrap();
    /// let s = gosched::net::UnixDatagram::from_std(s).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::from_std(socket))
    }

    /// Sets the default peer to the socket file `path`.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("gosched-doc-dgc-{}", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let server = gosched::net::UnixDatagram::bind(&path).unwrap();
    /// let client = gosched::net::UnixDatagram::unbound().unwrap();
    /// client.connect(&path).unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends `buf` to the socket file `path`.
    ///
    /// See [`UnixDatagram::bind`] for an example.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.io.io(Direction::Write, |s| s.send_to(buf, path)).await
    }

    /// Receives a datagram and its sender's address.
    ///
    /// See [`UnixDatagram::bind`] for an example.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(Direction::Read, |s| s.recv_from(buf)).await
    }

    /// Sends `buf` to the connected peer.
    ///
    /// See [`UnixDatagram`] for an example.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(Direction::Write, |s| s.send(buf)).await
    }

    /// Receives a datagram from the connected peer.
    ///
    /// See [`UnixDatagram`] for an example.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| s.recv(buf)).await
    }

    /// The local address.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let s = gosched::net::UnixDatagram::unbound().unwrap();
    /// assert!(s.local_addr().unwrap().is_unnamed());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let (a, _b) = gosched::net::UnixDatagram::pair().unwrap();
    /// assert!(a.peer_addr().unwrap().is_unnamed());
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl_as_fd!(UnixDatagram);
