//! A tokio-bound client (reqwest) called from gosched tasks through
//! `gosched::compat`, against gosched's own HTTP server.
//!
//! ```sh
//! cargo run --release -p gosched-services --example compat_client            # serves and fetches itself
//! cargo run --release -p gosched-services --example compat_client -- http://127.0.0.1:3000/health
//! ```
//!
//! reqwest's connections run in the one background thread of the tokio
//! context (`gosched-tokio`); the tasks that await the responses, and the
//! server, run on gosched's workers.

use std::convert::Infallible;
use std::future::IntoFuture;

use gosched::compat::CompatExt;
use gosched::http::body_util::Full;
use gosched::http::hyper::{body::Incoming, service::service_fn, Request, Response};
use gosched::http::Bytes;
use gosched::sync::context::Context;

async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("hello from gosched, you asked for {}\n", req.uri().path());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

fn main() {
    let url = std::env::args().nth(1);
    gosched::run(async move {
        let (ctx, stop) = Context::background().with_cancel();
        let (urls, server) = match url {
            Some(url) => (vec![url], None),
            None => {
                let listener = gosched::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .unwrap();
                let addr = listener.local_addr().unwrap();
                let server = gosched::spawn(
                    gosched::http::serve(listener, service_fn(hello))
                        .graceful(&ctx)
                        .into_future(),
                );
                let urls = (0..8).map(|i| format!("http://{addr}/item/{i}")).collect();
                (urls, Some(server))
            }
        };
        let client = reqwest::Client::new();
        // One gosched task per request; each awaits reqwest inside the
        // tokio context.
        let fetches: Vec<_> = urls
            .into_iter()
            .map(|url| {
                let client = client.clone();
                gosched::spawn(async move {
                    let resp = client.get(&url).send().compat().await?;
                    let status = resp.status();
                    let text = resp.text().compat().await?;
                    Ok::<_, reqwest::Error>((url, status, text))
                })
            })
            .collect();
        let mut failed = false;
        for fetch in fetches {
            match fetch.await.expect("fetch task panicked") {
                Ok((url, status, text)) => print!("{url}: {status}: {text}"),
                Err(e) => {
                    eprintln!("compat_client: {e}");
                    failed = true;
                }
            }
        }
        stop.cancel();
        if let Some(server) = server {
            server.await.unwrap();
        }
        if failed {
            std::process::exit(1);
        }
    });
}
