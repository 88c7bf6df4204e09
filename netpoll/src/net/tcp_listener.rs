//! [`TcpListener`]: accepts TCP connections.
//!
//! Accepting is the read direction of the listening socket: the operation
//! loop of `reactor/poll_io.rs` runs `accept(2)` when the socket is
//! readable. Errors are sorted by `backoff.rs`: ECONNABORTED is skipped,
//! EMFILE/ENFILE back off on the timer (5 ms doubling to 1 s) and retry,
//! anything else goes to the caller. The back-off state belongs to one
//! accept loop: one `accept()` call, or one [`Incoming`] stream.
//!
//! Any number of tasks may accept on one listener at once (share it in an
//! `Arc`): each accept loop waits in an entry of its own in the listener's
//! wait list (`reactor/io_state.rs`, "Waiters"), every waiter is woken when
//! connections arrive, and a dropped `accept()` frees its entry.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{ready, Context, Poll};

use futures::Stream;

use super::addr::{each_addr, ToSocketAddrs};
use super::backoff::{classify, AcceptError, Backoff};
use super::tcp_stream::TcpStream;
use crate::reactor::io_state::Direction;
use crate::reactor::poll_io::{ListedWait, PollIo};

/// A TCP socket server, listening for connections.
///
/// ```
/// use gosched::net::{TcpListener, TcpStream};
/// gosched::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let (accepted, connected) = futures::join!(listener.accept(), TcpStream::connect(addr));
///     let (server_side, peer) = accepted.unwrap();
///     assert_eq!(peer, connected.unwrap().local_addr().unwrap());
///     assert_eq!(server_side.local_addr().unwrap(), addr);
/// });
/// ```
pub struct TcpListener {
    io: PollIo<mio::net::TcpListener>,
    /// Back-offs taken on EMFILE/ENFILE, over every accept loop.
    backoffs: AtomicU64,
}

impl TcpListener {
    /// Binds to `addr` (the first of its addresses that binds) and
    /// listens, with a backlog of 1024 (capped by the system's
    /// `somaxconn`).
    ///
    /// ```
    /// let l = gosched::run(gosched::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    /// assert_ne!(l.local_addr().unwrap().port(), 0);
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        each_addr(addr, |a| async move {
            let listener = mio::net::TcpListener::bind(a)?;
            super::backlog::widen(&listener)?;
            TcpListener::from_mio(listener)
        })
        .await
    }

    /// Wraps a listener made with std (set to non-blocking here) and
    /// registers it with the current reactor.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let l = gosched::net::TcpListener::from_std(std_listener).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    #[track_caller]
    fn from_mio(l: mio::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: PollIo::new(l, mio::Interest::READABLE)?,
            backoffs: AtomicU64::new(0),
        })
    }

    /// Accepts a connection; returns it and the peer's address.
    ///
    /// ```
    /// use gosched::net::{TcpListener, TcpStream};
    /// gosched::run(async {
    ///     let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = l.local_addr().unwrap();
    ///     let (a, c) = futures::join!(l.accept(), TcpStream::connect(addr));
    ///     assert!(a.is_ok() && c.is_ok());
    /// });
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let mut backoff = Backoff::default();
        let mut wait = self.io.listed_wait(Direction::Read);
        poll_fn(|cx| self.poll_accept_with(cx, &mut backoff, &mut wait)).await
    }

    /// The accepted connections as a stream; never ends.
    ///
    /// ```
    /// use futures::StreamExt;
    /// use gosched::net::{TcpListener, TcpStream};
    /// gosched::run(async {
    ///     let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = l.local_addr().unwrap();
    ///     let mut incoming = l.incoming();
    ///     let (s, c) = futures::join!(incoming.next(), TcpStream::connect(addr));
    ///     assert!(s.unwrap().is_ok() && c.is_ok());
    /// });
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            listener: self,
            backoff: Backoff::default(),
            wait: self.io.listed_wait(Direction::Read),
        }
    }

    /// The address the listener is bound to.
    ///
    /// ```
    /// let l = gosched::run(gosched::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    /// assert!(l.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// How many times accepting backed off because no file descriptor
    /// was free (EMFILE/ENFILE), over the listener's life.
    ///
    /// ```
    /// let l = gosched::run(gosched::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    /// assert_eq!(l.accept_backoffs(), 0);
    /// ```
    pub fn accept_backoffs(&self) -> u64 {
        self.backoffs.load(Ordering::Relaxed)
    }

    fn poll_accept_with(
        &self,
        cx: &mut Context<'_>,
        backoff: &mut Backoff,
        wait: &mut ListedWait<'_>,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        loop {
            ready!(backoff.poll_wait(cx));
            match ready!(self.io.poll_io_listed(cx, wait, |l| l.accept())) {
                Ok((stream, peer)) => {
                    backoff.reset();
                    let stream = TcpStream::from_mio(self.io.reactor().clone(), stream);
                    return Poll::Ready(stream.map(|s| (s, peer)));
                }
                Err(e) => match classify(e) {
                    AcceptError::Skip => {}
                    AcceptError::BackOff => {
                        self.backoffs.fetch_add(1, Ordering::Relaxed);
                        backoff.start(self.io.reactor());
                    }
                    AcceptError::Fatal(e) => return Poll::Ready(Err(e)),
                },
            }
        }
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// Stream of accepted connections, from [`TcpListener::incoming`]. It
/// never ends; it keeps its own EMFILE back-off state between items.
///
/// ```
/// use futures::StreamExt;
/// use gosched::net::{TcpListener, TcpStream};
/// gosched::run(async {
///     let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = l.local_addr().unwrap();
///     let accepted = l.incoming().take(2).collect::<Vec<_>>();
///     let (accepted, _c1, _c2) =
///         futures::join!(accepted, TcpStream::connect(addr), TcpStream::connect(addr));
///     assert_eq!(accepted.len(), 2);
/// });
/// ```
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
    backoff: Backoff,
    /// This stream's place among the listener's waiting acceptors.
    wait: ListedWait<'a>,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.listener
            .poll_accept_with(cx, &mut this.backoff, &mut this.wait)
            .map(|r| Some(r.map(|(s, _)| s)))
    }
}

impl_as_fd!(TcpListener);
