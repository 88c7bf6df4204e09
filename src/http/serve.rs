//! [`serve`]: the accept loop and one task per connection.
//!
//! # Accepting
//!
//! 1. Take a permit from the connection limit ([`Serve::max_connections`]);
//!    while every permit is out the loop does not accept, so the kernel's
//!    backlog, and then the clients, feel the back-pressure instead of the
//!    server's memory.
//! 2. Accept. The listener itself backs off and retries on EMFILE/ENFILE
//!    (`gosched::net::TcpListener`); any other accept error is logged and,
//!    after a short pause, the loop goes on: no error ends it.
//! 3. Spawn the connection's task, which holds the permit until it ends.
//!
//! # A connection
//!
//! With [`Protocol::Auto`] the task first reads until the bytes either
//! differ from HTTP/2's client preface (`PRI * HTTP/2.0...`) or match all
//! 24 of them (h2c with prior knowledge), within the header-read timeout,
//! then hands those bytes back to hyper ahead of the socket ([`Rewind`]).
//! HTTP/1.1 connections get hyper's header-read timeout (slowloris: a
//! client that sends half a request and stalls is cut off) and upgrades.
//! Connection errors (resets, malformed requests after hyper has answered
//! them) are logged at debug level and end only their connection.
//!
//! # Graceful shutdown ([`Serve::graceful`])
//!
//! When the context is done:
//! 1. The loop stops accepting and drops the listener: new connections are
//!    refused.
//! 2. Every connection is told to shut down gracefully (hyper's
//!    `graceful_shutdown`): idle keep-alive connections close at once,
//!    in-flight requests finish and their connections close after the
//!    response; HTTP/2 sends GOAWAY.
//! 3. A connection still open [`Serve::shutdown_timeout`] after it was told
//!    is dropped (its socket closed, its handler futures dropped).
//! 4. The serve future returns once every connection task has ended, with
//!    counts of the connections that finished and those dropped.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::mem::MaybeUninit;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{ready, Context as TaskContext, Poll};
use std::time::Duration;

use futures::future::{select, Either};
use futures::io::AsyncWrite;
use gosched_netpoll::net::AsyncReadUninit;
use hyper::body::{Body, Incoming};
use hyper::service::Service;
use hyper::{Request, Response};

use super::rt::ConnTimer;
use super::{HyperExecutor, HyperIo};
use crate::net::{TcpListener, UnixListener};
use crate::sync::context::Context;
use crate::sync::{Semaphore, WaitGroup};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// HTTP/2's client connection preface.
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A hyper service [`serve`] can run on every connection: any
/// `Service<Request<Incoming>>` answering `Response<B>`, cloneable and
/// shareable across connections, whose future can move between workers.
/// Implemented for every such type; it only names the bounds once.
pub trait ServeService<B>:
    Service<
        Request<Incoming>,
        Response = Response<B>,
        Future: Send + 'static,
        Error: Into<BoxError>,
    > + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S, B> ServeService<B> for S where
    S: Service<
            Request<Incoming>,
            Response = Response<B>,
            Future: Send + 'static,
            Error: Into<BoxError>,
        > + Clone
        + Send
        + Sync
        + 'static
{
}

/// A response body [`serve`] can send: any `Body` whose chunks and
/// errors can cross threads. Implemented for every such type.
pub trait ServeBody: Body<Data: Send, Error: Into<BoxError>> + Send + 'static {}

impl<B> ServeBody for B where B: Body<Data: Send, Error: Into<BoxError>> + Send + 'static {}

/// A listener [`serve`] can accept on: [`TcpListener`] and
/// [`UnixListener`].
pub trait Listener: Send + Sync + 'static {
    /// The accepted stream.
    type Io: AsyncReadUninit + AsyncWrite + Unpin + Send + 'static;
    /// The peer's address.
    type Addr: fmt::Debug + Send + Sync;

    /// Accepts the next connection.
    fn accept(&self) -> impl Future<Output = io::Result<(Self::Io, Self::Addr)>> + Send + '_;
}

impl Listener for TcpListener {
    type Io = crate::net::TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&self) -> io::Result<(Self::Io, Self::Addr)> {
        let (stream, addr) = TcpListener::accept(self).await?;
        // Small responses go out at once instead of waiting for an ACK
        // (Nagle), as every HTTP server does.
        stream.set_nodelay(true)?;
        Ok((stream, addr))
    }
}

impl Listener for UnixListener {
    type Io = crate::net::UnixStream;
    type Addr = crate::net::UnixSocketAddr;

    fn accept(&self) -> impl Future<Output = io::Result<(Self::Io, Self::Addr)>> + Send + '_ {
        UnixListener::accept(self)
    }
}

/// Which HTTP versions a connection may speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1, or HTTP/2 when the client opens with HTTP/2's preface
    /// (h2c with prior knowledge). The default.
    Auto,
    /// HTTP/1.x only.
    Http1,
    /// HTTP/2 only (h2c with prior knowledge).
    Http2,
}

/// How a [`serve`] ended (it ends only after its context is done).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stopped {
    /// Connections that closed on their own after the shutdown began.
    pub finished: usize,
    /// Connections dropped at the shutdown deadline.
    pub dropped: usize,
}

/// Serves `service` on every connection `listener` accepts, one task per
/// connection, until the [`graceful`](Serve::graceful) context is done
/// (without one, forever). Configure with the methods of [`Serve`], then
/// `.await` it.
///
/// `service` is any hyper `Service` (such as `hyper::service::service_fn`);
/// it is cloned for each connection. For a `tower::Service` (an axum
/// `Router`), use [`serve_tower`](super::serve_tower).
///
/// ```
/// use std::convert::Infallible;
/// use std::future::IntoFuture;
/// use std::time::Duration;
/// use gosched::http::body_util::Full;
/// use gosched::http::hyper::{service::service_fn, Request, Response};
/// use gosched::http::Bytes;
/// use gosched::sync::context::Context;
///
/// gosched::run(async {
///     let listener = gosched::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let (ctx, stop) = Context::background().with_cancel();
///     let hello = service_fn(|_req: Request<_>| async {
///         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hello"))))
///     });
///     let server = gosched::spawn(
///         gosched::http::serve(listener, hello)
///             .graceful(&ctx)
///             .shutdown_timeout(Duration::from_secs(5))
///             .header_read_timeout(Duration::from_secs(10))
///             .max_connections(10_000)
///             .into_future(),
///     );
///     stop.cancel();
///     let stopped = server.await.unwrap();
///     assert_eq!(stopped.dropped, 0);
/// });
/// ```
pub fn serve<L, S, B>(listener: L, service: S) -> Serve<L, S>
where
    L: Listener,
    S: ServeService<B>,
    B: ServeBody,
{
    Serve {
        listener,
        service,
        config: Config {
            ctx: None,
            shutdown_timeout: Duration::from_secs(30),
            header_read_timeout: Some(Duration::from_secs(30)),
            max_connections: 25_000,
            protocol: Protocol::Auto,
        },
    }
}

/// A configured server, returned by [`serve`]; `.await` it to run.
pub struct Serve<L, S> {
    listener: L,
    service: S,
    config: Config,
}

#[derive(Clone)]
struct Config {
    ctx: Option<Context>,
    shutdown_timeout: Duration,
    header_read_timeout: Option<Duration>,
    max_connections: usize,
    protocol: Protocol,
}

impl<L, S> Serve<L, S> {
    /// Shuts the server down gracefully when `ctx` is done (see the module
    /// docs): stop accepting, let in-flight requests finish, close idle
    /// connections, and drop whatever is left after
    /// [`shutdown_timeout`](Serve::shutdown_timeout).
    pub fn graceful(mut self, ctx: &Context) -> Self {
        self.config.ctx = Some(ctx.clone());
        self
    }

    /// How long a connection may take to finish after the shutdown began
    /// before it is dropped. Default 30 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.config.shutdown_timeout = timeout;
        self
    }

    /// How long a client may take to send a request's headers (and, with
    /// [`Protocol::Auto`], its first bytes) before its connection is
    /// closed; `None` waits forever. Default 30 s.
    pub fn header_read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.header_read_timeout = timeout.into();
        self
    }

    /// The most connections open at once; at the limit the server stops
    /// accepting until one closes. Default 25,000. Panics if `n` is 0.
    pub fn max_connections(mut self, n: usize) -> Self {
        assert!(n > 0, "max_connections must be at least 1");
        self.config.max_connections = n;
        self
    }

    /// Which HTTP versions to speak. Default [`Protocol::Auto`].
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.config.protocol = protocol;
        self
    }
}

impl<L, S> fmt::Debug for Serve<L, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("graceful", &self.config.ctx.is_some())
            .field("shutdown_timeout", &self.config.shutdown_timeout)
            .field("header_read_timeout", &self.config.header_read_timeout)
            .field("max_connections", &self.config.max_connections)
            .field("protocol", &self.config.protocol)
            .finish()
    }
}

impl<L, S, B> IntoFuture for Serve<L, S>
where
    L: Listener,
    // The `Response` projection is what ties `B` to `S` here.
    S: ServeService<B> + Service<Request<Incoming>, Response = Response<B>>,
    B: ServeBody,
{
    type Output = Stopped;
    type IntoFuture = Pin<Box<dyn Future<Output = Stopped> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(accept_loop(self.listener, self.service, self.config))
    }
}

/// Counts shared by the loop and its connection tasks.
#[derive(Default)]
struct Counts {
    finished: AtomicUsize,
    dropped: AtomicUsize,
}

async fn accept_loop<L, S, B>(listener: L, service: S, config: Config) -> Stopped
where
    L: Listener,
    S: ServeService<B>,
    B: ServeBody,
{
    let limit = Arc::new(Semaphore::new(config.max_connections));
    let live = WaitGroup::new();
    let counts = Arc::new(Counts::default());
    let config = Arc::new(config);
    let background = Context::background();
    let ctx = config.ctx.clone().unwrap_or(background);
    loop {
        let permit = match select(pin!(limit.clone().acquire_owned()), pin!(ctx.done())).await {
            Either::Left((permit, _)) => permit,
            Either::Right(_) => break,
        };
        let accepted = match select(pin!(listener.accept()), pin!(ctx.done())).await {
            Either::Left((accepted, _)) => accepted,
            Either::Right(_) => break,
        };
        match accepted {
            Ok((io, peer)) => {
                let service = service.clone();
                let config = config.clone();
                let counts = counts.clone();
                let token = live.token();
                drop(crate::spawn(async move {
                    serve_connection(io, &peer, service, &config, &counts).await;
                    drop(permit);
                    drop(token);
                }));
            }
            Err(e) => {
                // EMFILE/ENFILE never get here (the listener backs off and
                // retries them); what does is rare and per-connection
                // (ECONNABORTED, EPERM from a firewall). A pause keeps a
                // persistent error from spinning.
                log::warn!("gosched::http::serve: accept failed: {e}");
                crate::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    drop(listener);
    live.wait().await;
    Stopped {
        finished: counts.finished.load(Ordering::Relaxed),
        dropped: counts.dropped.load(Ordering::Relaxed),
    }
}

/// The first bytes of a connection, read to tell HTTP/2 from HTTP/1.
enum Detected {
    Http1,
    Http2,
    /// The client closed (or failed) before a byte arrived.
    Closed,
}

/// Reads until the bytes differ from the HTTP/2 preface or match it whole.
async fn detect<T: AsyncReadUninit + Unpin>(
    io: &mut T,
    prefix: &mut [MaybeUninit<u8>; 24],
    len: &mut usize,
) -> io::Result<Detected> {
    loop {
        let n =
            std::future::poll_fn(|cx| Pin::new(&mut *io).poll_read_uninit(cx, &mut prefix[*len..]))
                .await?;
        if n == 0 {
            return Ok(if *len == 0 {
                Detected::Closed
            } else {
                Detected::Http1
            });
        }
        *len += n;
        // SAFETY: the reads initialised the first `len` bytes.
        let got = unsafe { std::slice::from_raw_parts(prefix.as_ptr().cast::<u8>(), *len) };
        if got != &H2_PREFACE[..*len] {
            return Ok(Detected::Http1);
        }
        if *len == H2_PREFACE.len() {
            return Ok(Detected::Http2);
        }
    }
}

async fn serve_connection<T, S, B>(
    mut io: T,
    peer: &(dyn fmt::Debug + Sync),
    service: S,
    config: &Config,
    counts: &Counts,
) where
    T: AsyncReadUninit + AsyncWrite + Unpin + Send + 'static,
    S: ServeService<B>,
    B: ServeBody,
{
    let mut prefix = [MaybeUninit::<u8>::uninit(); 24];
    let mut len = 0;
    let http2 = match config.protocol {
        Protocol::Http1 => false,
        Protocol::Http2 => true,
        Protocol::Auto => {
            // A connection that has sent nothing yet is idle: a shutdown
            // closes it at once, as hyper closes idle keep-alive ones.
            let detecting = async {
                let detecting = pin!(detect(&mut io, &mut prefix, &mut len));
                match &config.ctx {
                    Some(ctx) => match select(detecting, pin!(ctx.done())).await {
                        Either::Left((detected, _)) => Some(detected),
                        Either::Right(_) => None,
                    },
                    None => Some(detecting.await),
                }
            };
            let detected = match config.header_read_timeout {
                Some(limit) => match crate::time::timeout(limit, detecting).await {
                    Ok(d) => d,
                    Err(_) => {
                        log::debug!("gosched::http: {peer:?}: no request within {limit:?}");
                        return;
                    }
                },
                None => detecting.await,
            };
            let Some(detected) = detected else {
                counts.finished.fetch_add(1, Ordering::Relaxed);
                return;
            };
            match detected {
                Ok(Detected::Http1) => false,
                Ok(Detected::Http2) => true,
                Ok(Detected::Closed) => return,
                Err(e) => {
                    log::debug!("gosched::http: {peer:?}: {e}");
                    return;
                }
            }
        }
    };
    let io = Rewind {
        prefix,
        pos: 0,
        len,
        io: HyperIo::new(io),
    };
    let result = if http2 {
        let conn = hyper::server::conn::http2::Builder::new(HyperExecutor::new())
            .timer(ConnTimer::default())
            .serve_connection(io, service);
        drive(conn, config, counts).await
    } else {
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(ConnTimer::default())
            .header_read_timeout(config.header_read_timeout)
            .serve_connection(io, service)
            .with_upgrades();
        drive(conn, config, counts).await
    };
    if let Err(e) = result {
        log::debug!("gosched::http: {peer:?}: {e}");
    }
}

/// A hyper server connection that can be asked to finish gracefully.
trait Graceful: Future<Output = Result<(), hyper::Error>> {
    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I, S, B> Graceful for hyper::server::conn::http1::UpgradeableConnection<I, S>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming, ResBody = B>,
    S::Error: Into<BoxError>,
    B: Body + 'static,
    B::Error: Into<BoxError>,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        hyper::server::conn::http1::UpgradeableConnection::graceful_shutdown(self)
    }
}

impl<I, S, B> Graceful for hyper::server::conn::http2::Connection<I, S, HyperExecutor>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::HttpService<Incoming, ResBody = B>,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    fn graceful_shutdown(self: Pin<&mut Self>) {
        hyper::server::conn::http2::Connection::graceful_shutdown(self)
    }
}

/// Runs `conn` to its end, or, once the server's context is done, asks it
/// to finish and drops it at the shutdown deadline.
async fn drive<C: Graceful>(conn: C, config: &Config, counts: &Counts) -> Result<(), hyper::Error> {
    let mut conn = pin!(conn);
    let Some(ctx) = &config.ctx else {
        return conn.await;
    };
    if let Some(result) = or_done(conn.as_mut(), ctx).await {
        return result;
    }
    conn.as_mut().graceful_shutdown();
    match crate::time::timeout(config.shutdown_timeout, conn).await {
        Ok(result) => {
            counts.finished.fetch_add(1, Ordering::Relaxed);
            result
        }
        Err(_) => {
            counts.dropped.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    }
}

/// Runs `fut` until it completes (`Some`) or `ctx` is done (`None`).
///
/// Unlike a `select` with `ctx.done()`, which polls `Done` (a lock on the
/// context, shared by every connection) at each wake-up of the
/// connection's task, this registers with the context once and then only
/// reads its done flag: a connection task is woken for every request.
/// `Done` is polled first, so the task's wait reason is the connection's.
async fn or_done<F: Future>(mut fut: Pin<&mut F>, ctx: &Context) -> Option<F::Output> {
    let mut done = pin!(ctx.done());
    let mut registered = false;
    std::future::poll_fn(move |cx| {
        if !registered {
            if done.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            registered = true;
        } else if ctx.err().is_some() {
            return Poll::Ready(None);
        }
        fut.as_mut().poll(cx).map(Some)
    })
    .await
}

/// A stream with bytes already read from it put back in front.
struct Rewind<T> {
    prefix: [MaybeUninit<u8>; 24],
    pos: usize,
    len: usize,
    io: HyperIo<T>,
}

impl<T: AsyncReadUninit + Unpin> hyper::rt::Read for Rewind<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos < self.len {
            let n = (self.len - self.pos).min(buf.remaining());
            // SAFETY: bytes below `len` were initialised by the detecting
            // reads, and `pos + n <= len`.
            let bytes = unsafe {
                std::slice::from_raw_parts(self.prefix.as_ptr().add(self.pos).cast::<u8>(), n)
            };
            buf.put_slice(bytes);
            self.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncReadUninit + AsyncWrite + Unpin> hyper::rt::Write for Rewind<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        hyper::rt::Write::is_write_vectored(&self.io)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        ready!(Pin::new(&mut self.io).poll_shutdown(cx))?;
        Poll::Ready(Ok(()))
    }
}
