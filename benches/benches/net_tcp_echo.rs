//! tcp_echo: 50 connections x 2000 round trips of 64 bytes over loopback,
//! gosched against tokio's multi-thread runtime, two workers each, in the
//! same criterion group. One iteration is the whole workload (100,000
//! round trips): connect 50 clients, run them to completion, join.
//!
//! Both servers are the same: one task per accepted connection, reading
//! into a 64-byte buffer and writing back what it read; `TCP_NODELAY` on
//! both ends so Nagle does not batch the tiny messages.
//!
//! Run: `cargo bench -p gosched-benches --bench net_tcp_echo` (on a quiet 2-core machine).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

const WORKERS: usize = 2;
const CONNS: usize = 50;
const ROUNDS: usize = 2000;
const MSG: usize = 64;

fn gosched_runtime() -> gosched_executor::Runtime {
    let reactor = gosched_netpoll::Reactor::new().unwrap();
    gosched_executor::Runtime::builder()
        .procs(WORKERS)
        .driver(Arc::new(reactor))
        .build()
        .unwrap()
}

fn gosched_server(rt: &gosched_executor::Runtime) -> SocketAddr {
    use futures::{AsyncReadExt, AsyncWriteExt};
    use gosched_netpoll::net::TcpListener;
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        gosched_executor::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                s.set_nodelay(true).unwrap();
                gosched_executor::spawn(async move {
                    let mut buf = [0u8; MSG];
                    loop {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if s.write_all(&buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                });
            }
        });
        addr
    })
}

async fn gosched_clients(addr: SocketAddr) {
    use futures::{AsyncReadExt, AsyncWriteExt};
    use gosched_netpoll::net::TcpStream;
    let clients: Vec<_> = (0..CONNS)
        .map(|_| {
            gosched_executor::spawn(async move {
                let mut c = TcpStream::connect(addr).await.unwrap();
                c.set_nodelay(true).unwrap();
                let msg = [7u8; MSG];
                let mut buf = [0u8; MSG];
                for _ in 0..ROUNDS {
                    c.write_all(&msg).await.unwrap();
                    c.read_exact(&mut buf).await.unwrap();
                }
            })
        })
        .collect();
    for c in clients {
        c.await.unwrap();
    }
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .unwrap()
}

fn tokio_server(rt: &tokio::runtime::Runtime) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                s.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let mut buf = [0u8; MSG];
                    loop {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if s.write_all(&buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                });
            }
        });
        addr
    })
}

async fn tokio_clients(addr: SocketAddr) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let clients: Vec<_> = (0..CONNS)
        .map(|_| {
            tokio::spawn(async move {
                let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
                c.set_nodelay(true).unwrap();
                let msg = [7u8; MSG];
                let mut buf = [0u8; MSG];
                for _ in 0..ROUNDS {
                    c.write_all(&msg).await.unwrap();
                    c.read_exact(&mut buf).await.unwrap();
                }
            })
        })
        .collect();
    for c in clients {
        c.await.unwrap();
    }
}

fn tcp_echo(c: &mut Criterion) {
    let mut group = c.benchmark_group("tcp_echo");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(10));

    let rt = gosched_runtime();
    let addr = gosched_server(&rt);
    group.bench_function("gosched", |b| b.iter(|| rt.block_on(gosched_clients(addr))));
    drop(rt);

    let rt = tokio_runtime();
    let addr = tokio_server(&rt);
    group.bench_function("tokio", |b| b.iter(|| rt.block_on(tokio_clients(addr))));
    drop(rt);

    group.finish();
}

criterion_group!(benches, tcp_echo);
criterion_main!(benches);
