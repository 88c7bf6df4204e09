//! Contended semaphore: 100 tasks x 10k acquire/release of one permit from
//! a semaphore of 4, on 2 Ps. gosched's `Semaphore` against
//! tokio::sync::Semaphore, both on the gosched runtime, plus tokio's on
//! tokio's runtime as a reference point.
//!
//! Run: `cargo bench -p gosched-benches --bench sync_semaphore`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gosched_executor::{spawn, Runtime};

const PROCS: usize = 2;
const TASKS: usize = 100;
const ITERS: u64 = 10_000;
const PERMITS: usize = 4;

fn semaphore_contended(c: &mut Criterion) {
    let rt = Runtime::builder().procs(PROCS).build().unwrap();
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(PROCS)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("semaphore/100x10k");
    g.throughput(Throughput::Elements(TASKS as u64 * ITERS));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));

    g.bench_function(BenchmarkId::new("gosched_semaphore", "gosched_rt"), |b| {
        b.iter(|| {
            let s = Arc::new(gosched_sync::Semaphore::new(PERMITS));
            rt.block_on(async {
                let hs: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let s = s.clone();
                        spawn(async move {
                            for _ in 0..ITERS {
                                drop(s.acquire().await);
                            }
                        })
                    })
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
            });
        })
    });
    g.bench_function(BenchmarkId::new("tokio_semaphore", "gosched_rt"), |b| {
        b.iter(|| {
            let s = Arc::new(tokio::sync::Semaphore::new(PERMITS));
            rt.block_on(async {
                let hs: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let s = s.clone();
                        spawn(async move {
                            for _ in 0..ITERS {
                                drop(s.acquire().await.unwrap());
                            }
                        })
                    })
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
            });
        })
    });
    g.bench_function(BenchmarkId::new("tokio_semaphore", "tokio_rt"), |b| {
        b.iter(|| {
            let s = Arc::new(tokio::sync::Semaphore::new(PERMITS));
            tokio_rt.block_on(async {
                let hs: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let s = s.clone();
                        tokio::spawn(async move {
                            for _ in 0..ITERS {
                                drop(s.acquire().await.unwrap());
                            }
                        })
                    })
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
            });
        })
    });
    g.finish();
}

criterion_group!(benches, semaphore_contended);
criterion_main!(benches);
