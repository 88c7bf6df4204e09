//! sleep_100k: 100,000 tasks each sleeping 10 ms; the time until all are
//! done, gosched against tokio's multi-thread runtime and smol's executor,
//! two workers each, in the same criterion group. The floor is 10 ms; the rest is spawning,
//! setting 100,000 timers, firing them and running the woken tasks.
//!
//! Run: `cargo bench -p gosched-benches --bench timer_sleep_100k` (on a quiet 2-core machine).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

const WORKERS: usize = 2;
const TASKS: usize = 100_000;
const SLEEP: Duration = Duration::from_millis(10);

fn sleep_100k(c: &mut Criterion) {
    let mut group = c.benchmark_group("sleep_100k");
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));

    let reactor = gosched_netpoll::Reactor::new().unwrap();
    let rt = gosched_executor::Runtime::builder()
        .procs(WORKERS)
        .driver(Arc::new(reactor))
        .build()
        .unwrap();
    group.bench_function("gosched", |b| {
        b.iter(|| {
            rt.block_on(async {
                let hs: Vec<_> = (0..TASKS)
                    .map(|_| gosched_executor::spawn(gosched_netpoll::time::sleep(SLEEP)))
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
            })
        })
    });
    drop(rt);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .unwrap();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let hs: Vec<_> = (0..TASKS)
                    .map(|_| tokio::spawn(tokio::time::sleep(SLEEP)))
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
            })
        })
    });
    drop(rt);

    // smol: async-executor on two threads, async-io's timers; the bench
    // thread spawns and joins from outside, as `block_on` does above.
    let ex = Arc::new(smol::Executor::new());
    let (stop, stopped) = smol::channel::bounded::<()>(1);
    let threads: Vec<_> = (0..WORKERS)
        .map(|_| {
            let ex = ex.clone();
            let stopped = stopped.clone();
            std::thread::spawn(move || smol::block_on(ex.run(stopped.recv())))
        })
        .collect();
    group.bench_function("smol", |b| {
        b.iter(|| {
            smol::block_on(async {
                let hs: Vec<_> = (0..TASKS)
                    .map(|_| {
                        ex.spawn(async {
                            smol::Timer::after(SLEEP).await;
                        })
                    })
                    .collect();
                for h in hs {
                    h.await;
                }
            })
        })
    });
    drop(stop);
    for t in threads {
        let _ = t.join();
    }

    group.finish();
}

criterion_group!(benches, sleep_100k);
criterion_main!(benches);
