//! Contended async mutex (issue 5): 100 tasks x 10k lock/unlock each on 2
//! Ps. gosched's `Mutex` against tokio::sync::Mutex and
//! futures::lock::Mutex, all on the gosched runtime, plus tokio's Mutex on
//! tokio's runtime (2 workers) as a reference point.
//!
//! Run: `cargo bench -p gosched-benches --bench sync_mutex`. Go's sync.Mutex on the same
//! workload: 51 ms; tokio Mutex: 282 ms.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gosched_executor::{spawn, Runtime};

const PROCS: usize = 2;
const TASKS: usize = 100;
const ITERS: u64 = 10_000;

/// Spawns `TASKS` copies of `body` with `spawn_fn` and awaits them all.
async fn contend<F, Fut, J>(body: F, spawn_fn: impl Fn(Fut) -> J)
where
    F: Fn() -> Fut,
    J: Future,
{
    let handles: Vec<J> = (0..TASKS).map(|_| spawn_fn(body())).collect();
    for h in handles {
        h.await;
    }
}

fn mutex_contended(c: &mut Criterion) {
    let rt = Runtime::builder().procs(PROCS).build().unwrap();
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(PROCS)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("mutex/100x10k");
    g.throughput(Throughput::Elements(TASKS as u64 * ITERS));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));

    g.bench_function(BenchmarkId::new("gosched_mutex", "gosched_rt"), |b| {
        b.iter(|| {
            let m = Arc::new(gosched_sync::Mutex::new(0u64));
            let m2 = m.clone();
            rt.block_on(async move {
                contend(
                    || {
                        let m = m2.clone();
                        async move {
                            for _ in 0..ITERS {
                                *m.lock().await += 1;
                            }
                        }
                    },
                    spawn,
                )
                .await
            });
            assert_eq!(*rt.block_on(m.lock()), TASKS as u64 * ITERS);
        })
    });
    g.bench_function(BenchmarkId::new("tokio_mutex", "gosched_rt"), |b| {
        b.iter(|| {
            let m = Arc::new(tokio::sync::Mutex::new(0u64));
            rt.block_on(contend(
                || {
                    let m = m.clone();
                    async move {
                        for _ in 0..ITERS {
                            *m.lock().await += 1;
                        }
                    }
                },
                spawn,
            ));
        })
    });
    g.bench_function(BenchmarkId::new("futures_mutex", "gosched_rt"), |b| {
        b.iter(|| {
            let m = Arc::new(futures::lock::Mutex::new(0u64));
            rt.block_on(contend(
                || {
                    let m = m.clone();
                    async move {
                        for _ in 0..ITERS {
                            *m.lock().await += 1;
                        }
                    }
                },
                spawn,
            ));
        })
    });
    g.bench_function(BenchmarkId::new("tokio_mutex", "tokio_rt"), |b| {
        b.iter(|| {
            let m = Arc::new(tokio::sync::Mutex::new(0u64));
            tokio_rt.block_on(contend(
                || {
                    let m = m.clone();
                    async move {
                        for _ in 0..ITERS {
                            *m.lock().await += 1;
                        }
                    }
                },
                tokio::spawn,
            ));
        })
    });
    g.finish();
}

criterion_group!(benches, mutex_contended);
criterion_main!(benches);
