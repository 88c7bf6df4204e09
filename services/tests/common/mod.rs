//! Shared by the HTTP tests: a test service, a listener that counts
//! accepts, and a hyper client on gosched.

#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gosched::http::body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use gosched::http::hyper::body::{Frame, Incoming};
use gosched::http::hyper::service::Service;
use gosched::http::hyper::{Request, Response};
use gosched::http::{Bytes, HyperExecutor, HyperIo, HyperTimer, Listener};
use gosched::sync::WaitGroup;

/// Runs `f` on a fresh 2-P runtime, failing after `limit` instead of
/// hanging; a panic inside `f` is re-raised here.
pub fn run_within<F: Future<Output = ()> + Send + 'static>(limit: std::time::Duration, f: F) {
    let rt = gosched::Runtime::builder().procs(2).build().unwrap();
    let done = rt.spawn(f);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(rt.block_on(done));
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => std::panic::resume_unwind(e.into_panic()),
        Err(_) => panic!("test hung for {limit:?}"),
    }
}

/// hyper itself, for the client side.
pub use gosched::http::hyper;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Body = BoxBody<Bytes, Error>;

pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|e: Infallible| match e {})
        .boxed()
}

/// A body of `chunks` frames with no length: sent chunked over HTTP/1.1.
pub fn chunked(chunks: Vec<Bytes>) -> Body {
    let frames = chunks.into_iter().map(|c| Ok::<_, Error>(Frame::data(c)));
    StreamBody::new(futures::stream::iter(frames)).boxed()
}

/// What the test service's handlers wait on.
#[derive(Clone, Default)]
pub struct Gates {
    /// `/gate`: every request calls `done` then waits for all.
    pub gate: Arc<std::sync::Mutex<Option<WaitGroup>>>,
    /// `/slow`: tells the test it started, then waits to be released.
    pub slow_started: Option<gosched::sync::chan::Sender<()>>,
    pub slow_release: Option<gosched::sync::chan::Receiver<()>>,
}

/// The test service:
/// - `/echo`: streams the request body back (chunked);
/// - `/chunks`: a chunked response of five frames;
/// - `/gate`: waits until every request expected by `gates.gate` arrived;
/// - `/slow`: waits for the test to release it;
/// - `/stuck`: tells the test it started (if asked to), never answers;
/// - anything else: `hello`.
#[derive(Clone, Default)]
pub struct TestService {
    pub gates: Gates,
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send>>;

impl Service<Request<Incoming>> for TestService {
    type Response = Response<Body>;
    type Error = Error;
    type Future = BoxFuture;

    fn call(&self, req: Request<Incoming>) -> BoxFuture {
        let gates = self.gates.clone();
        Box::pin(async move {
            let resp = match req.uri().path() {
                "/echo" => Response::new(req.into_body().map_err(Error::from).boxed()),
                "/chunks" => Response::new(chunked(
                    (0..5).map(|i| Bytes::from(format!("chunk{i};"))).collect(),
                )),
                "/gate" => {
                    let wg = gates.gate.lock().unwrap().clone().expect("no gate set");
                    wg.done();
                    wg.wait().await;
                    Response::new(full("through"))
                }
                "/slow" => {
                    gates.slow_started.unwrap().send(()).await.unwrap();
                    gates.slow_release.unwrap().recv().await;
                    Response::new(full("slow done"))
                }
                "/stuck" => {
                    if let Some(started) = gates.slow_started {
                        started.send(()).await.unwrap();
                    }
                    std::future::pending().await
                }
                _ => Response::new(full("hello")),
            };
            Ok(resp)
        })
    }
}

/// A TCP listener that counts the connections it accepted.
pub struct Counting {
    pub inner: gosched::net::TcpListener,
    pub accepted: Arc<AtomicUsize>,
}

impl Listener for Counting {
    type Io = gosched::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&self) -> io::Result<(Self::Io, Self::Addr)> {
        let accepted = Listener::accept(&self.inner).await?;
        self.accepted.fetch_add(1, Ordering::SeqCst);
        Ok(accepted)
    }
}

/// An HTTP/1.1 client connection to `addr`, driven by its own task.
pub async fn h1(addr: SocketAddr) -> hyper::client::conn::http1::SendRequest<Body> {
    let stream = gosched::net::TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(HyperIo::new(stream))
        .await
        .unwrap();
    drop(gosched::spawn(async move {
        let _ = conn.await;
    }));
    sender
}

/// An HTTP/2 (h2c, prior knowledge) client connection to `addr`.
pub async fn h2(addr: SocketAddr) -> hyper::client::conn::http2::SendRequest<Body> {
    let stream = gosched::net::TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http2::Builder::new(HyperExecutor::new())
        .timer(HyperTimer)
        .handshake(HyperIo::new(stream))
        .await
        .unwrap();
    drop(gosched::spawn(async move {
        let _ = conn.await;
    }));
    sender
}

pub fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .header("host", "test")
        .body(full(Bytes::new()))
        .unwrap()
}

pub async fn text(resp: Response<Incoming>) -> String {
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

/// Raises the soft open-file limit to the hard one (1,000 connections
/// need 2,000 descriptors in one process).
pub fn raise_fd_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for getrlimit to fill.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    lim.rlim_cur = lim.rlim_max;
    // SAFETY: `lim` is a valid rlimit; raising the soft limit up to the
    // hard one needs no privilege.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
}
