//! timer_churn: 1,000,000 timeouts created, armed and dropped before they
//! fire, gosched against tokio, in the same criterion group.
//!
//! Each timeout wraps a future that is pending, and is polled once: that
//! is what arms the timer in both runtimes (both skip the timer entirely
//! when the inner future is ready at once, which would measure nothing).
//! Then it is dropped, which must free the timer. This is the pattern of
//! a server wrapping every read in a timeout that almost never fires.
//! The loop runs inside one task on a two-worker runtime.
//!
//! Run: `cargo bench -p gosched-benches --bench timer_churn` (on a quiet 2-core machine).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use futures::FutureExt;

const WORKERS: usize = 2;
const TIMEOUTS: usize = 1_000_000;
const LONG: Duration = Duration::from_secs(60);

fn timer_churn(c: &mut Criterion) {
    let mut group = c.benchmark_group("timer_churn");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));

    let reactor = gosched_netpoll::Reactor::new().unwrap();
    let rt = gosched_executor::Runtime::builder()
        .procs(WORKERS)
        .driver(Arc::new(reactor.clone()))
        .build()
        .unwrap();
    group.bench_function("gosched", |b| {
        b.iter(|| {
            rt.block_on(rt.spawn(async {
                for _ in 0..TIMEOUTS {
                    let mut t =
                        gosched_netpoll::time::timeout(LONG, futures::future::pending::<()>());
                    assert!((&mut t).now_or_never().is_none());
                }
            }))
            .unwrap()
        })
    });
    assert_eq!(reactor.num_timers(), 0, "every entry was freed");
    drop(rt);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .unwrap();
    group.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(rt.spawn(async {
                for _ in 0..TIMEOUTS {
                    // tokio's Timeout is !Unpin: pin it on the stack.
                    let mut t = std::pin::pin!(tokio::time::timeout(
                        LONG,
                        futures::future::pending::<()>()
                    ));
                    assert!(t.as_mut().now_or_never().is_none());
                }
            }))
            .unwrap()
        })
    });
    drop(rt);

    group.finish();
}

criterion_group!(benches, timer_churn);
criterion_main!(benches);
