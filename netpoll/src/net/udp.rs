//! [`UdpSocket`]: datagrams over UDP.
//!
//! Every method takes `&self`, so a socket can be shared (`Arc`) between
//! tasks: any number of them may wait to receive, or to send, at once;
//! each waits in an entry of its own in the socket's wait list (see
//! `reactor/io_state.rs`, "Waiters").

use std::fmt;
use std::io;
use std::net::SocketAddr;

use super::addr::{each_addr, first_addr, ToSocketAddrs};
use crate::reactor::io_state::Direction;
use crate::reactor::poll_io::PollIo;

/// A UDP socket.
///
/// ```
/// use gosched::net::UdpSocket;
/// gosched::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     a.send_to(b"hello", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!((&buf[..n], from), (&b"hello"[..], a.local_addr().unwrap()));
/// });
/// ```
pub struct UdpSocket {
    io: PollIo<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr` (the first of its addresses that binds).
    ///
    /// ```
    /// let s = gosched::run(gosched::net::UdpSocket::bind("127.0.0.1:0")).unwrap();
    /// assert_ne!(s.local_addr().unwrap().port(), 0);
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        each_addr(addr, |a| async move {
            UdpSocket::from_mio(mio::net::UdpSocket::bind(a)?)
        })
        .await
    }

    /// Wraps a std socket (set to non-blocking here) and registers it with
    /// the current reactor.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let s = gosched::net::UdpSocket::from_std(s).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    #[track_caller]
    fn from_mio(s: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            io: PollIo::new(s, mio::Interest::READABLE | mio::Interest::WRITABLE)?,
        })
    }

    /// Sets the default peer for [`send`](UdpSocket::send) and filters
    /// [`recv`](UdpSocket::recv) to it.
    ///
    /// ```
    /// use gosched::net::UdpSocket;
    /// gosched::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     b.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.send(b"x").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 1);
    /// });
    /// ```
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        each_addr(addr, |a| async move { self.io.get_ref().connect(a) }).await
    }

    /// Sends `buf` to `target`; returns the bytes sent.
    ///
    /// See [`UdpSocket`] for an example.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let to = first_addr(target).await?;
        self.io.io(Direction::Write, |s| s.send_to(buf, to)).await
    }

    /// Receives a datagram; returns its length and sender.
    ///
    /// See [`UdpSocket`] for an example.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(Direction::Read, |s| s.recv_from(buf)).await
    }

    /// Sends `buf` to the connected peer.
    ///
    /// See [`UdpSocket::connect`] for an example.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(Direction::Write, |s| s.send(buf)).await
    }

    /// Receives a datagram from the connected peer.
    ///
    /// See [`UdpSocket::connect`] for an example.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| s.recv(buf)).await
    }

    /// The local address.
    ///
    /// See [`UdpSocket`] for an example.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// ```
    /// use gosched::net::UdpSocket;
    /// gosched::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(a.peer_addr().is_err());
    ///     a.connect("127.0.0.1:9").await.unwrap();
    ///     assert_eq!(a.peer_addr().unwrap().port(), 9);
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl_as_fd!(UdpSocket);
