//! blocking_child: a task spawns a child and then blocks its own thread
//! (`std::thread::sleep`); how long does the child wait to start?
//!
//! On tokio the child sits in the LIFO slot, which cannot be stolen
//! (tokio-rs/tokio #4941), so it waits out the whole block. On gosched it
//! sits in `runnext`, which an idle P steals after a 3 µs pause. The
//! criterion time reported per iteration *is* the child's start latency
//! (measured with `iter_custom`), not the block.
//!
//! Run: `cargo bench -p gosched-benches --bench blocking_child`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

/// How long the parent blocks its thread: 20 ms keeps the bench short and
/// still dwarfs a stolen start (tens of microseconds).
const BLOCK: Duration = Duration::from_millis(20);

fn gosched_child_latency(rt: &gosched::Runtime) -> Duration {
    let (tx, rx) = mpsc::channel();
    let parent = rt.spawn(async move {
        let t0 = Instant::now();
        let _child = gosched::spawn(async move { tx.send(t0.elapsed()).unwrap() });
        std::thread::sleep(BLOCK);
    });
    let lat = rx.recv().unwrap();
    rt.block_on(parent).unwrap();
    lat
}

fn tokio_child_latency(rt: &tokio::runtime::Runtime) -> Duration {
    let (tx, rx) = mpsc::channel();
    let parent = rt.spawn(async move {
        let t0 = Instant::now();
        let _child = tokio::spawn(async move { tx.send(t0.elapsed()).unwrap() });
        std::thread::sleep(BLOCK);
    });
    let lat = rx.recv().unwrap();
    rt.block_on(parent).unwrap();
    lat
}

fn blocking_child(c: &mut Criterion) {
    let g = gosched::Runtime::builder().procs(2).build().unwrap();
    let t = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("blocking_child");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(100))
        .measurement_time(Duration::from_secs(2));
    group.bench_function("gosched", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| gosched_child_latency(&g)).sum())
    });
    group.bench_function("tokio", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| tokio_child_latency(&t)).sum())
    });
    group.finish();
}

criterion_group!(benches, blocking_child);
criterion_main!(benches);
