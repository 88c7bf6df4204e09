//! http_hello: an in-process hyper client making 10,000 keep-alive
//! requests (10 connections x 1,000 sequential requests) to a hyper
//! "Hello, World!" server over loopback: the server and the client on
//! gosched (`gosched::http::serve`, `HyperIo`) against the same two on
//! tokio (hyper-util's `TokioIo` and auto builder), 2 workers each, in
//! the same criterion group. One iteration is the whole 10,000.
//!
//! The wrk/h2load comparison with separate server processes is
//! `scripts/http_bench.sh`; this bench keeps the HTTP path compiling in
//! CI and gives a quick in-process figure.
//!
//! Run: `cargo bench -p gosched-benches --bench http_hello` (on a quiet 2-core machine).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::convert::Infallible;
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};

const WORKERS: usize = 2;
const CONNS: usize = 10;
const REQUESTS: usize = 1000;

async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

fn request(addr: SocketAddr) -> Request<Empty<Bytes>> {
    Request::get(format!("http://{addr}/"))
        .header("host", "bench")
        .body(Empty::new())
        .unwrap()
}

fn gosched_run(rt: &gosched::Runtime, addr: SocketAddr) {
    use gosched::http::HyperIo;
    rt.block_on(async move {
        let clients: Vec<_> = (0..CONNS)
            .map(|_| {
                gosched::spawn(async move {
                    let stream = gosched::net::TcpStream::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let (mut send, conn) =
                        hyper::client::conn::http1::handshake(HyperIo::new(stream))
                            .await
                            .unwrap();
                    drop(gosched::spawn(conn));
                    for _ in 0..REQUESTS {
                        send.ready().await.unwrap();
                        let resp = send.send_request(request(addr)).await.unwrap();
                        let body = resp.into_body().collect().await.unwrap().to_bytes();
                        assert_eq!(body.len(), 13);
                    }
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
    });
}

fn tokio_run(rt: &tokio::runtime::Runtime, addr: SocketAddr) {
    use hyper_util::rt::TokioIo;
    rt.block_on(async move {
        let clients: Vec<_> = (0..CONNS)
            .map(|_| {
                tokio::spawn(async move {
                    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    let (mut send, conn) =
                        hyper::client::conn::http1::handshake(TokioIo::new(stream))
                            .await
                            .unwrap();
                    tokio::spawn(conn);
                    for _ in 0..REQUESTS {
                        send.ready().await.unwrap();
                        let resp = send.send_request(request(addr)).await.unwrap();
                        let body = resp.into_body().collect().await.unwrap().to_bytes();
                        assert_eq!(body.len(), 13);
                    }
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
    });
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("http_hello");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));

    let grt = gosched::Runtime::builder().procs(WORKERS).build().unwrap();
    let gaddr = grt.block_on(async {
        let listener = gosched::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        drop(gosched::spawn(
            gosched::http::serve(listener, service_fn(hello))
                .protocol(gosched::http::Protocol::Http1)
                .into_future(),
        ));
        addr
    });
    group.bench_function("gosched", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                gosched_run(&grt, gaddr);
            }
            start.elapsed()
        })
    });

    let trt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .unwrap();
    let taddr = trt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service_fn(hello))
                        .await;
                });
            }
        });
        addr
    });
    group.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                tokio_run(&trt, taddr);
            }
            start.elapsed()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
