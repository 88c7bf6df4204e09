//! A hyper client on gosched against `gosched::http::serve`, over real
//! loopback sockets: keep-alive, chunked bodies, a 16 MiB upload, 1,000
//! concurrent connections, 100 HTTP/2 streams on one connection, and the
//! connection limit.

mod common;

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use gosched::http::body_util::BodyExt;
use gosched::http::hyper::{header, Request};
use gosched::http::Bytes;
use gosched::sync::context::Context;
use gosched::sync::WaitGroup;

/// Starts `serve` with `service` on a counting loopback listener.
async fn start(
    service: TestService,
    max_connections: usize,
) -> (
    std::net::SocketAddr,
    Arc<AtomicUsize>,
    gosched::sync::context::CancelHandle,
) {
    let (inner, addr) = gosched_services::loopback_listener().await;
    let accepted = Arc::new(AtomicUsize::new(0));
    let listener = Counting {
        inner,
        accepted: accepted.clone(),
    };
    let (ctx, cancel) = Context::background().with_cancel();
    drop(gosched::spawn(
        gosched::http::serve(listener, service)
            .graceful(&ctx)
            .max_connections(max_connections)
            .into_future(),
    ));
    (addr, accepted, cancel)
}

/// Runs `f` on a fresh 2-P runtime, failing after 60 s instead of hanging.
fn run<F: std::future::Future<Output = ()> + Send + 'static>(f: F) {
    run_within(Duration::from_secs(60), f);
}

#[test]
fn keep_alive_serves_a_hundred_requests_on_one_connection() {
    run(async {
        let (addr, accepted, _stop) = start(TestService::default(), 100).await;
        let mut client = h1(addr).await;
        for _ in 0..100 {
            client.ready().await.unwrap();
            let resp = client.send_request(get("/")).await.unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(text(resp).await, "hello");
        }
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "keep-alive was not reused"
        );
    });
}

#[test]
fn chunked_request_and_response_bodies_round_trip() {
    run(async {
        let (addr, _, _stop) = start(TestService::default(), 100).await;
        let mut client = h1(addr).await;
        let chunks: Vec<Bytes> = (0..10).map(|i| Bytes::from(vec![b'a' + i; 1000])).collect();
        let want: Vec<u8> = chunks.iter().flat_map(|c| c.to_vec()).collect();
        let req = Request::post("/echo")
            .header("host", "test")
            .body(chunked(chunks))
            .unwrap();
        let resp = client.send_request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers().get(header::TRANSFER_ENCODING).unwrap(),
            "chunked"
        );
        let got = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(got, want);

        client.ready().await.unwrap();
        let resp = client.send_request(get("/chunks")).await.unwrap();
        assert_eq!(
            resp.headers().get(header::TRANSFER_ENCODING).unwrap(),
            "chunked"
        );
        assert_eq!(text(resp).await, "chunk0;chunk1;chunk2;chunk3;chunk4;");
    });
}

#[test]
fn a_16_mib_upload_is_echoed_byte_for_byte() {
    run(async {
        let (addr, _, _stop) = start(TestService::default(), 100).await;
        let mut client = h1(addr).await;
        let body: Vec<u8> = (0..16u32 << 20).map(|i| (i * 7 % 251) as u8).collect();
        let req = Request::post("/echo")
            .header("host", "test")
            .body(full(body.clone()))
            .unwrap();
        let resp = client.send_request(req).await.unwrap();
        let got = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(got.len(), body.len());
        assert!(got == body, "the echoed body differs");
    });
}

#[test]
fn a_thousand_connections_are_served_at_once() {
    raise_fd_limit();
    run(async {
        const N: usize = 1000;
        let service = TestService::default();
        let wg = WaitGroup::new();
        wg.add(N);
        *service.gates.gate.lock().unwrap() = Some(wg);
        let (addr, accepted, _stop) = start(service, 25_000).await;
        // Every request waits in the server until all N have arrived, so
        // all N connections are open and in a request at one moment.
        let clients: Vec<_> = (0..N)
            .map(|_| {
                gosched::spawn(async move {
                    let mut client = h1(addr).await;
                    let resp = client.send_request(get("/gate")).await.unwrap();
                    assert_eq!(resp.status(), 200);
                    text(resp).await
                })
            })
            .collect();
        for c in clients {
            assert_eq!(c.await.unwrap(), "through");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), N);
    });
}

#[test]
fn http2_carries_a_hundred_concurrent_streams_on_one_connection() {
    run(async {
        const N: usize = 100;
        let service = TestService::default();
        let wg = WaitGroup::new();
        wg.add(N);
        *service.gates.gate.lock().unwrap() = Some(wg);
        let (addr, accepted, _stop) = start(service, 100).await;
        let client = h2(addr).await;
        let streams: Vec<_> = (0..N)
            .map(|_| {
                let mut client = client.clone();
                gosched::spawn(async move {
                    let req = Request::get("http://test/gate").body(full("")).unwrap();
                    let resp = client.send_request(req).await.unwrap();
                    assert_eq!(resp.version(), gosched::http::hyper::Version::HTTP_2);
                    text(resp).await
                })
            })
            .collect();
        for s in streams {
            assert_eq!(s.await.unwrap(), "through");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn at_the_connection_limit_the_server_stops_accepting_until_one_closes() {
    run(async {
        let (addr, accepted, _stop) = start(TestService::default(), 2).await;
        let mut first = h1(addr).await;
        let mut second = h1(addr).await;
        for c in [&mut first, &mut second] {
            let resp = c.send_request(get("/")).await.unwrap();
            assert_eq!(text(resp).await, "hello");
        }
        // The third connects (the kernel's backlog takes it) but is not
        // accepted while two are open.
        let mut third = h1(addr).await;
        let pending = gosched::spawn(async move {
            let resp = third.send_request(get("/")).await.unwrap();
            text(resp).await
        });
        gosched::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(accepted.load(Ordering::SeqCst), 2);
        assert!(!pending.is_finished(), "served beyond the limit");
        drop(first);
        assert_eq!(pending.await.unwrap(), "hello");
        assert_eq!(accepted.load(Ordering::SeqCst), 3);
    });
}

#[test]
fn serve_accepts_on_a_unix_listener() {
    run(async {
        let dir = std::env::temp_dir().join(format!("gosched-http-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("serve.sock");
        let _ = std::fs::remove_file(&path);
        let listener = gosched::net::UnixListener::bind(&path).unwrap();
        let (ctx, stop) = Context::background().with_cancel();
        let server = gosched::spawn(
            gosched::http::serve(listener, TestService::default())
                .graceful(&ctx)
                .into_future(),
        );
        let stream = gosched::net::UnixStream::connect(&path).await.unwrap();
        let (mut client, conn) =
            hyper::client::conn::http1::handshake(gosched::http::HyperIo::new(stream))
                .await
                .unwrap();
        drop(gosched::spawn(conn));
        for _ in 0..3 {
            client.ready().await.unwrap();
            let resp = client.send_request(get("/")).await.unwrap();
            assert_eq!(text(resp).await, "hello");
        }
        drop(client);
        stop.cancel();
        assert_eq!(server.await.unwrap().dropped, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    });
}
