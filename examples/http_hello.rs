//! The HTTP benchmark server: "Hello, World!" over HTTP/1.1 and h2c on
//! gosched (hyper 1.x through `gosched::http::serve`).
//!
//! ```sh
//! cargo run --release --example http_hello --features hyper -- 127.0.0.1:8080
//! curl http://127.0.0.1:8080/
//! ```
//!
//! The address defaults to 127.0.0.1:8080; `GOSCHED_PROCS` sets the number
//! of Ps. Ctrl-C stops it gracefully (in-flight requests finish).

use std::convert::Infallible;
use std::time::Duration;

use gosched::http::body_util::Full;
use gosched::http::hyper::body::Incoming;
use gosched::http::hyper::header::{HeaderValue, CONTENT_TYPE};
use gosched::http::hyper::service::service_fn;
use gosched::http::hyper::{Request, Response};
use gosched::http::Bytes;

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut resp = Response::new(Full::new(Bytes::from_static(b"Hello, World!")));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    Ok(resp)
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    gosched::run(async move {
        let listener = match gosched::net::TcpListener::bind(addr.as_str()).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("http_hello: cannot listen on {addr}: {e}");
                std::process::exit(1);
            }
        };
        println!(
            "http_hello: listening on {}",
            listener.local_addr().unwrap()
        );
        let (ctx, _stop) = gosched::signal::notify_context(
            &gosched::sync::context::Context::background(),
            &[
                gosched::signal::Signal::Interrupt,
                gosched::signal::Signal::Terminate,
            ],
        )
        .expect("http_hello: cannot watch for signals");
        let stopped = gosched::http::serve(listener, service_fn(hello))
            .graceful(&ctx)
            .shutdown_timeout(Duration::from_secs(5))
            .await;
        println!(
            "http_hello: stopped ({} connections finished, {} dropped)",
            stopped.finished, stopped.dropped
        );
    });
}
