//! [`UnixListener`]: accepts Unix-domain stream connections.
//!
//! The same accept loop as `tcp_listener.rs`, with the same EMFILE
//! back-off and ECONNABORTED skip (`backoff.rs`), and the same support for
//! any number of tasks accepting at once.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{ready, Context, Poll};

use super::backoff::{classify, AcceptError, Backoff};
use super::unix_stream::UnixStream;
use crate::reactor::io_state::Direction;
use crate::reactor::poll_io::{ListedWait, PollIo};

/// A Unix-domain socket server.
///
/// ```
/// use gosched::net::{UnixListener, UnixStream};
/// let dir = std::env::temp_dir().join(format!("gosched-doc-{}", std::process::id()));
/// let _ = std::fs::remove_file(&dir);
/// gosched::run(async {
///     let l = UnixListener::bind(&dir).unwrap();
///     let (a, c) = futures::join!(l.accept(), UnixStream::connect(&dir));
///     assert!(a.is_ok() && c.is_ok());
/// });
/// std::fs::remove_file(&dir).unwrap();
/// ```
pub struct UnixListener {
    io: PollIo<mio::net::UnixListener>,
}

impl UnixListener {
    /// Binds to the socket file `path` and listens, with a backlog of 1024
    /// (capped by the system's `somaxconn`).
    ///
    /// See [`UnixListener`] for an example.
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let l = mio::net::UnixListener::bind(path)?;
        super::backlog::widen(&l)?;
        Ok(UnixListener {
            io: PollIo::new(l, mio::Interest::READABLE)?,
        })
    }

    /// Wraps a std listener (set to non-blocking here) and registers it
    /// with the current reactor.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("gosched-doc-fs-{}", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
    /// let l = gosched::net::UnixListener::from_std(l).unwrap();
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    #[track_caller]
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: PollIo::new(
                mio::net::UnixListener::from_std(listener),
                mio::Interest::READABLE,
            )?,
        })
    }

    /// Accepts a connection.
    ///
    /// See [`UnixListener`] for an example.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let mut backoff = Backoff::default();
        let mut wait = self.io.listed_wait(Direction::Read);
        poll_fn(|cx| self.poll_accept_with(cx, &mut backoff, &mut wait)).await
    }

    /// The address the listener is bound to.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("gosched-doc-la-{}", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _enter = rt.handle().enter();
    /// let l = gosched::net::UnixListener::bind(&path).unwrap();
    /// assert_eq!(l.local_addr().unwrap().as_pathname(), Some(path.as_path()));
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    fn poll_accept_with(
        &self,
        cx: &mut Context<'_>,
        backoff: &mut Backoff,
        wait: &mut ListedWait<'_>,
    ) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        loop {
            ready!(backoff.poll_wait(cx));
            match ready!(self.io.poll_io_listed(cx, wait, |l| l.accept())) {
                Ok((stream, peer)) => {
                    backoff.reset();
                    let stream = UnixStream::from_mio(self.io.reactor().clone(), stream);
                    return Poll::Ready(stream.map(|s| (s, peer)));
                }
                Err(e) => match classify(e) {
                    AcceptError::Skip => {}
                    AcceptError::BackOff => backoff.start(self.io.reactor()),
                    AcceptError::Fatal(e) => return Poll::Ready(Err(e)),
                },
            }
        }
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl_as_fd!(UnixListener);
