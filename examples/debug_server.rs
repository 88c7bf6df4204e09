//! A small service with two bugs to find from its debug pages
//! (`gosched::debug`, feature `debug-http`):
//!
//! - a task leak: every request to `/order` starts a watcher task that
//!   waits for a cancel message nobody ever sends;
//! - a blocked worker: every few seconds one task calls a blocking
//!   function (`std::thread::sleep`) inside its poll, holding its thread;
//!   sysmon hands the P to another thread, which the dashboard shows as a
//!   hand-off.
//!
//! A built-in client keeps the service busy, so the pages have something
//! to show without any traffic of your own.
//!
//! ```text
//! cargo run --example debug_server --features debug-http
//! open http://127.0.0.1:6060/debug/gosched/dashboard
//! curl 'http://127.0.0.1:6060/debug/gosched/goroutine?debug=1'
//! curl http://127.0.0.1:6060/debug/gosched/metrics
//! curl -o trace.json 'http://127.0.0.1:6060/debug/gosched/trace?seconds=2'
//! ```
//!
//! The service listens on 127.0.0.1:8080 and the debug pages on
//! 127.0.0.1:6060; the first and second arguments change them. Ctrl-C
//! stops it.

use std::convert::Infallible;
use std::future::IntoFuture;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gosched::http::body_util::Full;
use gosched::http::hyper::body::Incoming;
use gosched::http::hyper::service::service_fn;
use gosched::http::hyper::{Request, Response, StatusCode};
use gosched::http::Bytes;
use gosched::io::{AsyncReadExt, AsyncWriteExt};
use gosched::sync::chan;

/// Open orders; the bug is that their cancel senders are kept forever.
type Orders = Arc<std::sync::Mutex<Vec<chan::Sender<()>>>>;

/// `/order` starts a watcher that leaks (see the module docs); `/` says
/// hello after a short wait on the timer wheel.
async fn app(
    req: Request<Incoming>,
    orders: Orders,
    served: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    served.fetch_add(1, Ordering::Relaxed);
    let body = match req.uri().path() {
        "/order" => {
            let (cancel, cancelled) = chan::bounded::<()>(0);
            gosched::spawn(async move {
                // The leak: nobody sends, and the sender is kept in `orders`.
                let _ = cancelled.recv().await;
            });
            orders.lock().unwrap().push(cancel);
            "order placed\n"
        }
        "/" => {
            gosched::time::sleep(Duration::from_millis(2)).await;
            "hello\n"
        }
        _ => {
            let mut resp = Response::new(Full::new(Bytes::from_static(b"not found\n")));
            *resp.status_mut() = StatusCode::NOT_FOUND;
            return Ok(resp);
        }
    };
    Ok(Response::new(Full::new(Bytes::from_static(
        body.as_bytes(),
    ))))
}

/// One HTTP/1.0 request over a fresh connection; the reply's length.
async fn get(addr: std::net::SocketAddr, path: &str) -> std::io::Result<usize> {
    let mut stream = gosched::net::TcpStream::connect(addr).await?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").as_bytes())
        .await?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await?;
    Ok(reply.len())
}

/// The built-in client: a few loops of requests, one order in ten.
fn start_client(addr: std::net::SocketAddr) {
    for worker in 0..8u64 {
        gosched::spawn(async move {
            let mut n = 0u64;
            loop {
                let path = if (n + worker) % 10 == 0 {
                    "/order"
                } else {
                    "/"
                };
                if let Err(e) = get(addr, path).await {
                    eprintln!("debug_server: client: {e}");
                    gosched::time::sleep(Duration::from_secs(1)).await;
                }
                n += 1;
                gosched::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }
}

/// The blocked worker: every 5 s, a task blocks its thread for 300 ms.
fn start_blocker() {
    gosched::spawn(async {
        loop {
            gosched::time::sleep(Duration::from_secs(5)).await;
            // The bug: a blocking call inside a task (it belongs in
            // gosched::spawn_blocking). sysmon hands the P off meanwhile.
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    // Its well-behaved sibling: the same work on the blocking pool.
    gosched::spawn(async {
        loop {
            gosched::time::sleep(Duration::from_secs(3)).await;
            let _ =
                gosched::spawn_blocking(|| std::thread::sleep(Duration::from_millis(500))).await;
        }
    });
}

fn main() {
    let app_addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let debug_addr = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "127.0.0.1:6060".to_string());
    gosched::run(async move {
        let listener = match gosched::net::TcpListener::bind(app_addr.as_str()).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("debug_server: cannot listen on {app_addr}: {e}");
                std::process::exit(1);
            }
        };
        let local = listener.local_addr().unwrap();
        let debug_listener = match gosched::net::TcpListener::bind(debug_addr.as_str()).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("debug_server: cannot listen on {debug_addr}: {e}");
                std::process::exit(1);
            }
        };
        let debug_local = debug_listener.local_addr().unwrap();
        println!("debug_server: service on http://{local}/");
        println!("debug_server: debug pages on http://{debug_local}/debug/gosched/");
        println!("debug_server: dashboard at http://{debug_local}/debug/gosched/dashboard");
        gosched::spawn(
            gosched::http::serve(debug_listener, gosched::debug::router()).into_future(),
        );

        let orders: Orders = Arc::default();
        let served = Arc::new(AtomicU64::new(0));
        let service = {
            let served = served.clone();
            service_fn(move |req| app(req, orders.clone(), served.clone()))
        };
        let (ctx, _stop) = gosched::signal::notify_context(
            &gosched::sync::context::Context::background(),
            &[
                gosched::signal::Signal::Interrupt,
                gosched::signal::Signal::Terminate,
            ],
        )
        .expect("signal handler");
        let server = gosched::spawn(
            gosched::http::serve(listener, service)
                .graceful(&ctx)
                .shutdown_timeout(Duration::from_secs(1))
                .into_future(),
        );
        start_client(local);
        start_blocker();
        let _ = server.await;
        println!(
            "debug_server: served {} requests",
            served.load(Ordering::Relaxed)
        );
    });
}
