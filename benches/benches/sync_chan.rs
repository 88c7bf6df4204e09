//! Channel throughput: gosched's `chan` against tokio::sync::mpsc,
//! futures::channel::mpsc and async-channel, all on the gosched runtime
//! with 2 Ps (so the channel is the only variable), plus tokio mpsc on
//! tokio's runtime with 2 workers as a reference point.
//!
//! Workloads (issue 5): N u64 through bounded(1024) and unbounded with 1
//! and 4 producers and one consumer (N = 1M), and through a rendezvous
//! channel (N = 100k; capacity 1 where the library has no 0).
//!
//! Plus `select/pingpong`: 100k round trips through a server task waiting
//! in a two-arm select, gosched's `select!` over rendezvous channels against
//! `tokio::select!` over tokio mpsc(1).
//!
//! Plus `chan_blocking_roundtrip`: a plain thread's round trip through a
//! task with `send_blocking`/`recv_blocking`, against tokio mpsc's
//! `blocking_send`/`blocking_recv` with a tokio task.
//!
//! Run: `cargo bench -p gosched-benches --bench sync_chan` (quiet 2-core machine).
//! Go's numbers for orientation (same machine): 1M via 1024 slots, 1
//! producer: 82 ms; 4 producers: 45 ms; 100k rendezvous: 17 ms.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::{SinkExt, StreamExt};
use gosched_executor::{spawn, Runtime};

const PROCS: usize = 2;
const N_BUFFERED: u64 = 1_000_000;
const N_RENDEZVOUS: u64 = 100_000;

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Unbuffered; capacity 1 for peers without 0.
    Rendezvous,
    Bounded1024,
    Unbounded,
}

impl Kind {
    fn n(self) -> u64 {
        match self {
            Kind::Rendezvous => N_RENDEZVOUS,
            _ => N_BUFFERED,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Rendezvous => "rendezvous",
            Kind::Bounded1024 => "bounded1024",
            Kind::Unbounded => "unbounded",
        }
    }
}

async fn gosched_chan(kind: Kind, producers: u64) {
    use gosched_sync::chan;
    let n = kind.n() / producers;
    let (tx, rx) = match kind {
        Kind::Rendezvous => chan::bounded(0),
        Kind::Bounded1024 => chan::bounded(1024),
        Kind::Unbounded => chan::unbounded(),
    };
    for _ in 0..producers {
        let tx = tx.clone();
        spawn(async move {
            for i in 0..n {
                tx.send(i).await.unwrap();
            }
        });
    }
    drop(tx);
    let mut got = 0;
    while rx.recv().await.is_some() {
        got += 1;
    }
    assert_eq!(got, n * producers);
}

async fn tokio_mpsc(
    kind: Kind,
    producers: u64,
    spawn_fn: fn(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>),
) {
    use tokio::sync::mpsc;
    let n = kind.n() / producers;
    let mut got = 0;
    match kind {
        Kind::Unbounded => {
            let (tx, mut rx) = mpsc::unbounded_channel();
            for _ in 0..producers {
                let tx = tx.clone();
                spawn_fn(Box::pin(async move {
                    for i in 0..n {
                        tx.send(i).unwrap();
                    }
                }));
            }
            drop(tx);
            while rx.recv().await.is_some() {
                got += 1;
            }
        }
        _ => {
            let cap = if let Kind::Rendezvous = kind { 1 } else { 1024 };
            let (tx, mut rx) = mpsc::channel(cap);
            for _ in 0..producers {
                let tx = tx.clone();
                spawn_fn(Box::pin(async move {
                    for i in 0..n {
                        tx.send(i).await.unwrap();
                    }
                }));
            }
            drop(tx);
            while rx.recv().await.is_some() {
                got += 1;
            }
        }
    }
    assert_eq!(got, n * producers);
}

async fn futures_mpsc(kind: Kind, producers: u64) {
    use futures::channel::mpsc;
    let n = kind.n() / producers;
    let mut got = 0;
    match kind {
        Kind::Unbounded => {
            let (tx, mut rx) = mpsc::unbounded();
            for _ in 0..producers {
                let tx = tx.clone();
                spawn(async move {
                    for i in 0..n {
                        tx.unbounded_send(i).unwrap();
                    }
                });
            }
            drop(tx);
            while rx.next().await.is_some() {
                got += 1;
            }
        }
        _ => {
            // futures' buffer is `cap + senders`; 0 is its closest rendezvous.
            let cap = if let Kind::Rendezvous = kind { 0 } else { 1024 };
            let (tx, mut rx) = mpsc::channel(cap);
            for _ in 0..producers {
                let mut tx = tx.clone();
                spawn(async move {
                    for i in 0..n {
                        tx.send(i).await.unwrap();
                    }
                });
            }
            drop(tx);
            while rx.next().await.is_some() {
                got += 1;
            }
        }
    }
    assert_eq!(got, n * producers);
}

async fn async_chan(kind: Kind, producers: u64) {
    let n = kind.n() / producers;
    let (tx, rx) = match kind {
        Kind::Rendezvous => async_channel::bounded(1),
        Kind::Bounded1024 => async_channel::bounded(1024),
        Kind::Unbounded => async_channel::unbounded(),
    };
    for _ in 0..producers {
        let tx = tx.clone();
        spawn(async move {
            for i in 0..n {
                tx.send(i).await.unwrap();
            }
        });
    }
    drop(tx);
    let mut got = 0;
    while rx.recv().await.is_ok() {
        got += 1;
    }
    assert_eq!(got, n * producers);
}

/// Runs the workload inside a spawned task, so its consumer is a task on a
/// P like its producers (and like the tokio reference).
fn on_gosched<F: std::future::Future<Output = ()> + Send + 'static>(rt: &Runtime, f: F) {
    rt.block_on(async move { spawn(f).await.unwrap() })
}

fn gosched_spawn(f: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) {
    drop(spawn(f));
}

fn tokio_spawn(f: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) {
    drop(tokio::spawn(f));
}

fn chan_throughput(c: &mut Criterion) {
    let rt = Runtime::builder().procs(PROCS).build().unwrap();
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(PROCS)
        .build()
        .unwrap();
    for kind in [Kind::Bounded1024, Kind::Unbounded, Kind::Rendezvous] {
        for producers in [1u64, 4] {
            let mut g = c.benchmark_group(format!("chan/{}/{}p", kind.name(), producers));
            g.throughput(Throughput::Elements(kind.n()));
            g.sample_size(10);
            g.warm_up_time(Duration::from_secs(1));
            g.measurement_time(Duration::from_secs(5));
            g.bench_function(BenchmarkId::new("gosched_chan", "gosched_rt"), |b| {
                b.iter(|| on_gosched(&rt, gosched_chan(kind, producers)))
            });
            g.bench_function(BenchmarkId::new("tokio_mpsc", "gosched_rt"), |b| {
                b.iter(|| on_gosched(&rt, tokio_mpsc(kind, producers, gosched_spawn)))
            });
            g.bench_function(BenchmarkId::new("futures_mpsc", "gosched_rt"), |b| {
                b.iter(|| on_gosched(&rt, futures_mpsc(kind, producers)))
            });
            g.bench_function(BenchmarkId::new("async_channel", "gosched_rt"), |b| {
                b.iter(|| on_gosched(&rt, async_chan(kind, producers)))
            });
            g.bench_function(BenchmarkId::new("tokio_mpsc", "tokio_rt"), |b| {
                b.iter(|| {
                    tokio_rt.block_on(async {
                        // Run inside a task, as the gosched cases do.
                        tokio::spawn(tokio_mpsc(kind, producers, tokio_spawn))
                            .await
                            .unwrap()
                    })
                })
            });
            g.finish();
        }
    }
}

/// Round trips through a server task that waits in a two-arm select
/// (ping or quit) and answers on a second channel.
const ROUND_TRIPS: u64 = 100_000;

async fn gosched_select_pingpong() {
    use gosched_sync::{chan, select};
    let (ping_tx, ping_rx) = chan::bounded::<u64>(0);
    let (pong_tx, pong_rx) = chan::bounded::<u64>(0);
    let (quit_tx, quit_rx) = chan::bounded::<()>(0);
    spawn(async move {
        loop {
            select! {
                v = ping_rx.recv() => { pong_tx.send(v.unwrap() + 1).await.unwrap(); }
                _ = quit_rx.recv() => break,
            }
        }
    });
    let mut v = 0;
    for _ in 0..ROUND_TRIPS {
        ping_tx.send(v).await.unwrap();
        v = pong_rx.recv().await.unwrap();
    }
    quit_tx.send(()).await.unwrap();
    assert_eq!(v, ROUND_TRIPS);
}

async fn tokio_select_pingpong() {
    use tokio::sync::mpsc;
    let (ping_tx, mut ping_rx) = mpsc::channel::<u64>(1);
    let (pong_tx, mut pong_rx) = mpsc::channel::<u64>(1);
    let (quit_tx, mut quit_rx) = mpsc::channel::<()>(1);
    spawn(async move {
        loop {
            tokio::select! {
                v = ping_rx.recv() => match v {
                    // mpsc(1) sends complete before the server sees them, so
                    // ping may close (None) before quit is picked.
                    Some(v) => pong_tx.send(v + 1).await.unwrap(),
                    None => break,
                },
                _ = quit_rx.recv() => break,
            }
        }
    });
    let mut v = 0;
    for _ in 0..ROUND_TRIPS {
        ping_tx.send(v).await.unwrap();
        v = pong_rx.recv().await.unwrap();
    }
    quit_tx.send(()).await.unwrap();
    assert_eq!(v, ROUND_TRIPS);
}

fn select_pingpong(c: &mut Criterion) {
    let rt = Runtime::builder().procs(PROCS).build().unwrap();
    let mut g = c.benchmark_group("select/pingpong");
    g.throughput(Throughput::Elements(ROUND_TRIPS));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));
    g.bench_function(BenchmarkId::new("gosched_select", "gosched_rt"), |b| {
        b.iter(|| on_gosched(&rt, gosched_select_pingpong()))
    });
    g.bench_function(BenchmarkId::new("tokio_select_mpsc1", "gosched_rt"), |b| {
        b.iter(|| on_gosched(&rt, tokio_select_pingpong()))
    });
    g.finish();
}

/// Round trips per iteration of `chan_blocking_roundtrip`.
const BLOCKING_ROUND_TRIPS: u64 = 1_000;

/// The plain (criterion) thread sends `BLOCKING_ROUND_TRIPS` values to an
/// echo task and waits for each reply, with `send_blocking` and
/// `recv_blocking` on gosched channels.
fn gosched_blocking_roundtrips(
    tx: &gosched_sync::chan::Sender<u64>,
    rx: &gosched_sync::chan::Receiver<u64>,
) {
    let mut v = 0;
    for _ in 0..BLOCKING_ROUND_TRIPS {
        tx.send_blocking(v).unwrap();
        v = rx.recv_blocking().unwrap();
    }
    assert!(v >= BLOCKING_ROUND_TRIPS);
}

/// A plain thread's round trip through a task: it sends with
/// `send_blocking`, the task answers on a second channel, the thread waits
/// with `recv_blocking`. gosched's channels (rendezvous and capacity 1) to
/// a gosched task against tokio mpsc(1) with `blocking_send` and
/// `blocking_recv` to a tokio task. Both runtimes have 2 workers; the
/// thread parks between the send and the reply, so this measures wake-up
/// latency in both directions (about 40 us per round trip for tokio on
/// the reference 2-core machine).
fn chan_blocking_roundtrip(c: &mut Criterion) {
    let mut g = c.benchmark_group("chan_blocking_roundtrip");
    g.throughput(Throughput::Elements(BLOCKING_ROUND_TRIPS));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));

    let rt = Runtime::builder().procs(PROCS).build().unwrap();
    for cap in [0usize, 1] {
        use gosched_sync::chan;
        let (req_tx, req_rx) = chan::bounded::<u64>(cap);
        let (resp_tx, resp_rx) = chan::bounded::<u64>(cap);
        let echo = rt.spawn(async move {
            while let Some(v) = req_rx.recv().await {
                if resp_tx.send(v + 1).await.is_err() {
                    break;
                }
            }
        });
        g.bench_function(
            BenchmarkId::new(format!("gosched_chan_cap{cap}"), "gosched_rt"),
            |b| b.iter(|| gosched_blocking_roundtrips(&req_tx, &resp_rx)),
        );
        drop((req_tx, resp_rx));
        rt.block_on(echo).unwrap();
    }

    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(PROCS)
        .build()
        .unwrap();
    let (req_tx, mut req_rx) = tokio::sync::mpsc::channel::<u64>(1);
    let (resp_tx, mut resp_rx) = tokio::sync::mpsc::channel::<u64>(1);
    let echo = tokio_rt.spawn(async move {
        while let Some(v) = req_rx.recv().await {
            if resp_tx.send(v + 1).await.is_err() {
                break;
            }
        }
    });
    g.bench_function(BenchmarkId::new("tokio_mpsc_cap1", "tokio_rt"), |b| {
        b.iter(|| {
            let mut v = 0;
            for _ in 0..BLOCKING_ROUND_TRIPS {
                req_tx.blocking_send(v).unwrap();
                v = resp_rx.blocking_recv().unwrap();
            }
            assert!(v >= BLOCKING_ROUND_TRIPS);
        })
    });
    drop((req_tx, resp_rx));
    tokio_rt.block_on(echo).unwrap();
    g.finish();
}

criterion_group!(
    benches,
    chan_throughput,
    select_pingpong,
    chan_blocking_roundtrip
);
criterion_main!(benches);
