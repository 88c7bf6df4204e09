//! idle_1m: one million tasks, each parked forever on a pending future.
//!
//! Two figures for gosched and tokio (2 workers each):
//! - resident memory per task, measured in a fresh child process per
//!   runtime (VmRSS after all tasks have parked minus VmRSS before, over
//!   the task count), printed before the timings;
//! - criterion timing of spawning the million and waiting until every one
//!   has been polled once and parked.
//!
//! Run: `cargo bench -p gosched-benches --bench idle_1m`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use criterion::{criterion_group, Criterion};

const TASKS: usize = 1_000_000;
const CHILD_ENV: &str = "GOSCHED_IDLE_1M_CHILD";

/// Polls of [`ParkForever`] so far.
static POLLED: AtomicUsize = AtomicUsize::new(0);

/// Pending forever, like `std::future::pending()`, and zero-sized like it;
/// counts its polls. Nobody wakes it, so each task is polled exactly once.
struct ParkForever;

impl Future for ParkForever {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        POLLED.fetch_add(1, Ordering::Relaxed);
        Poll::Pending
    }
}

fn wait_for(start: usize, n: usize) {
    while POLLED.load(Ordering::Relaxed) - start < n {
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn gosched_idle(n: usize) -> gosched::Runtime {
    let rt = gosched::Runtime::builder().procs(2).build().unwrap();
    let start = POLLED.load(Ordering::Relaxed);
    for _ in 0..n {
        drop(rt.spawn(ParkForever));
    }
    wait_for(start, n);
    rt
}

fn tokio_idle(n: usize) -> tokio::runtime::Runtime {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let start = POLLED.load(Ordering::Relaxed);
    for _ in 0..n {
        drop(rt.spawn(ParkForever));
    }
    wait_for(start, n);
    rt
}

/// In a child: build the runtime, park the million, print bytes per task.
fn child(which: &str) {
    // Warm up the runtime's threads and allocator arenas first.
    let before;
    let after;
    match which {
        "gosched" => {
            drop(gosched_idle(1000));
            before = rss_kib();
            let rt = gosched_idle(TASKS);
            after = rss_kib();
            std::mem::forget(rt);
        }
        _ => {
            drop(tokio_idle(1000));
            before = rss_kib();
            let rt = tokio_idle(TASKS);
            after = rss_kib();
            std::mem::forget(rt);
        }
    }
    println!(
        "{}",
        (after.saturating_sub(before) * 1024) as f64 / TASKS as f64
    );
}

fn memory_per_task() {
    let exe = std::env::current_exe().expect("bench executable");
    let mut results = Vec::new();
    for which in ["gosched", "tokio"] {
        let out = std::process::Command::new(&exe)
            .env(CHILD_ENV, which)
            .output()
            .expect("child run");
        let text = String::from_utf8_lossy(&out.stdout);
        let bytes: f64 = text.trim().parse().unwrap_or(f64::NAN);
        results.push((which, bytes));
    }
    println!("idle_1m resident memory per parked task (1M tasks, 2 workers):");
    for (which, bytes) in &results {
        println!("  {which:8} {bytes:7.1} bytes");
    }
    if let [(_, g), (_, t)] = results[..] {
        println!("  gosched/tokio ratio {:.2}", g / t);
    }
}

fn idle_1m(c: &mut Criterion) {
    let mut group = c.benchmark_group("idle_1m");
    group.sample_size(10);
    group.bench_function("gosched", |b| b.iter(|| drop(gosched_idle(TASKS))));
    group.bench_function("tokio", |b| b.iter(|| drop(tokio_idle(TASKS))));
    group.finish();
}

criterion_group!(benches, idle_1m);

fn main() {
    if let Ok(which) = std::env::var(CHILD_ENV) {
        child(&which);
        return;
    }
    // `cargo bench --no-run` never gets here; `cargo test --benches` runs
    // with `--bench` absent: skip the expensive memory run then.
    if std::env::args().any(|a| a == "--bench") {
        memory_per_task();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
