//! 10,000 concurrent connections on one listener.
//!
//! Both ends of 10,000 connections need 20,000 descriptors, and this
//! machine's hard RLIMIT_NOFILE is 20,000; so the clients live in a child
//! process (this test binary, re-run with `--exact clients_child_process`)
//! and each process raises its own soft limit. If the hard limit cannot
//! hold 10,000 connections plus slack, the test scales down and says so
//! on stderr.
//!
//! What it proves: every connection is accepted and served while all the
//! others are still open (the server counts live connections and sees
//! the full number at once), and the listener keeps accepting throughout.

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::stream::{self, StreamExt};
use futures::{AsyncReadExt, AsyncWriteExt};
use gosched_netpoll::net::{TcpListener, TcpStream};
use gosched_netpoll::Reactor;

const WANTED: usize = 10_000;
const CHILD_ENV: &str = "GOSCHED_NETPOLL_CLIENTS_ADDR";
const COUNT_ENV: &str = "GOSCHED_NETPOLL_CLIENTS_COUNT";

/// How many connections this process can hold one end of.
fn connections_we_can_hold() -> usize {
    let soft = common::raise_nofile(WANTED as libc::rlim_t + 200) as usize;
    let n = soft.saturating_sub(100).min(WANTED);
    if n < WANTED {
        eprintln!(
            "many_connections: RLIMIT_NOFILE hard limit {soft} is too low for {WANTED} \
             connections; scaled down to {n}"
        );
    }
    n
}

#[test]
fn ten_thousand_concurrent_connections_on_one_listener() {
    let n = connections_we_can_hold();
    let (rt, reactor) = common::runtime(2);
    let live = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let served = rt.block_on({
        let (live, peak) = (live.clone(), peak.clone());
        async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let child = Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "clients_child_process",
                    "--ignored",
                    "--nocapture",
                ])
                .env(CHILD_ENV, addr.to_string())
                .env(COUNT_ENV, n.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut handlers = Vec::with_capacity(n);
            for _ in 0..n {
                let (mut s, _) = listener.accept().await.unwrap();
                let (live, peak) = (live.clone(), peak.clone());
                handlers.push(gosched_executor::spawn(async move {
                    let now = live.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    let mut b = [0u8; 1];
                    s.read_exact(&mut b).await.unwrap();
                    s.write_all(&b).await.unwrap();
                    // Hold the connection until the client closes it.
                    let mut rest = Vec::new();
                    s.read_to_end(&mut rest).await.unwrap();
                    live.fetch_sub(1, Ordering::SeqCst);
                }));
            }
            for h in handlers {
                h.await.unwrap();
            }
            let out = gosched_executor::spawn_blocking(move || child.wait_with_output())
                .await
                .unwrap()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && stdout.contains("1 passed"),
                "client process failed: {}\n{stdout}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            n
        }
    });
    assert_eq!(served, n);
    assert_eq!(
        peak.load(Ordering::SeqCst),
        n,
        "all connections were open at once"
    );
    drop(rt);
    assert_eq!(reactor.num_registrations(), 0);
}

/// The client side, run in a child process by the test above.
#[test]
#[ignore = "run by ten_thousand_concurrent_connections_on_one_listener in a child process"]
fn clients_child_process() {
    let Ok(addr) = std::env::var(CHILD_ENV) else {
        return;
    };
    let n: usize = std::env::var(COUNT_ENV).unwrap().parse().unwrap();
    common::raise_nofile(n as libc::rlim_t + 200);
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        // Connect with bounded concurrency: the listen backlog is 128.
        let streams: Vec<TcpStream> = stream::iter(0..n)
            .map(|i| {
                let addr = addr.clone();
                async move {
                    let mut s = TcpStream::connect(addr.as_str()).await.unwrap();
                    let b = [(i % 251) as u8];
                    s.write_all(&b).await.unwrap();
                    let mut back = [0u8; 1];
                    s.read_exact(&mut back).await.unwrap();
                    assert_eq!(back, b);
                    s
                }
            })
            .buffer_unordered(64)
            .collect()
            .await;
        assert_eq!(streams.len(), n);
        drop(streams);
    });
}
