//! Executor benchmarks: gosched against tokio's multi-thread runtime and
//! smol's executor, two worker threads each, in the same criterion group.
//!
//! The workloads follow tokio's own `rt_multi_threaded` benches so the
//! numbers compare with what tokio tracks; ping_pong uses
//! `futures::channel::oneshot` so neither runtime gets its own channel.
//!
//! Run: `cargo bench -p gosched-benches --bench executor` (on a quiet 2-core machine).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::future::Future;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{mpsc, Arc};

use criterion::{criterion_group, Criterion};

const WORKERS: usize = 2;
const NUM_SPAWN: usize = 10_000;
const NUM_YIELD: usize = 1_000;
const TASKS_PER_YIELD: usize = 200;
const NUM_PINGS: usize = 1_000;
const CHAIN: usize = 1_000;

/// The part of a runtime the workloads need.
trait Rt: Clone + Send + Sync + 'static {
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F);
    fn spawn_join<F: Future<Output = ()> + Send + 'static>(
        &self,
        f: F,
    ) -> Box<dyn Future<Output = ()> + Send + Unpin>;
    fn block_on<F: Future>(&self, f: F) -> F::Output;
    fn yield_now() -> impl Future<Output = ()> + Send;
}

#[derive(Clone)]
struct Gosched(gosched::Handle, Arc<gosched::Runtime>);

impl Gosched {
    fn new() -> Self {
        let rt = gosched::Runtime::builder().procs(WORKERS).build().unwrap();
        Gosched(rt.handle().clone(), Arc::new(rt))
    }
}

impl Rt for Gosched {
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) {
        drop(self.0.spawn(f));
    }
    fn spawn_join<F: Future<Output = ()> + Send + 'static>(
        &self,
        f: F,
    ) -> Box<dyn Future<Output = ()> + Send + Unpin> {
        let h = self.0.spawn(f);
        Box::new(futures::FutureExt::map(h, |r| r.unwrap()))
    }
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.1.block_on(f)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        gosched::yield_now()
    }
}

#[derive(Clone)]
struct Tokio(Arc<tokio::runtime::Runtime>);

impl Tokio {
    fn new() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .enable_all()
            .build()
            .unwrap();
        Tokio(Arc::new(rt))
    }
}

impl Rt for Tokio {
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) {
        drop(self.0.spawn(f));
    }
    fn spawn_join<F: Future<Output = ()> + Send + 'static>(
        &self,
        f: F,
    ) -> Box<dyn Future<Output = ()> + Send + Unpin> {
        let h = self.0.spawn(f);
        Box::new(futures::FutureExt::map(h, |r| r.unwrap()))
    }
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

/// smol's `async-executor`, run by two threads.
#[derive(Clone)]
struct Smol(Arc<smol::Executor<'static>>);

impl Smol {
    fn new() -> Self {
        let ex = Arc::new(smol::Executor::new());
        for _ in 0..WORKERS {
            let ex = ex.clone();
            // Runs for the life of the bench process.
            std::thread::spawn(move || smol::block_on(ex.run(smol::future::pending::<()>())));
        }
        Smol(ex)
    }
}

impl Rt for Smol {
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) {
        self.0.spawn(f).detach();
    }
    fn spawn_join<F: Future<Output = ()> + Send + 'static>(
        &self,
        f: F,
    ) -> Box<dyn Future<Output = ()> + Send + Unpin> {
        Box::new(self.0.spawn(f))
    }
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        smol::block_on(f)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        smol::future::yield_now()
    }
}

/// 10k spawns from inside a task, then wait for all.
fn spawn_many_local<R: Rt>(rt: &R) {
    let (tx, rx) = mpsc::sync_channel(1);
    let rem = Arc::new(AtomicUsize::new(NUM_SPAWN));
    let r = rt.clone();
    rt.block_on(async move {
        for _ in 0..NUM_SPAWN {
            let rem = rem.clone();
            let tx = tx.clone();
            r.spawn(async move {
                if rem.fetch_sub(1, Relaxed) == 1 {
                    tx.send(()).unwrap();
                }
            });
        }
    });
    rx.recv().unwrap();
}

/// 10k spawns from a thread outside the runtime, workers idle.
fn spawn_many_remote_idle<R: Rt>(rt: &R) {
    let handles: Vec<_> = (0..NUM_SPAWN).map(|_| rt.spawn_join(async {})).collect();
    rt.block_on(async {
        for h in handles {
            h.await;
        }
    });
}

/// 10k spawns from outside while every worker is kept busy by a task
/// that yields in a loop.
fn spawn_many_remote_busy<R: Rt>(rt: &R) {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy: Vec<_> = (0..WORKERS)
        .map(|_| {
            let stop = stop.clone();
            rt.spawn_join(async move {
                while !stop.load(Relaxed) {
                    R::yield_now().await;
                }
            })
        })
        .collect();
    let handles: Vec<_> = (0..NUM_SPAWN).map(|_| rt.spawn_join(async {})).collect();
    rt.block_on(async {
        for h in handles {
            h.await;
        }
    });
    stop.store(true, Relaxed);
    rt.block_on(async {
        for h in busy {
            h.await;
        }
    });
}

/// 1000 tasks, each yielding 200 times.
fn yield_many<R: Rt>(rt: &R) {
    let (tx, rx) = mpsc::sync_channel(NUM_YIELD);
    for _ in 0..NUM_YIELD {
        let tx = tx.clone();
        rt.spawn(async move {
            for _ in 0..TASKS_PER_YIELD {
                R::yield_now().await;
            }
            tx.send(()).unwrap();
        });
    }
    for _ in 0..NUM_YIELD {
        rx.recv().unwrap();
    }
}

/// 1000 pairs of tasks exchanging one message each way through
/// `futures::channel::oneshot`.
fn ping_pong<R: Rt>(rt: &R) {
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let rem = Arc::new(AtomicUsize::new(NUM_PINGS));
    let r = rt.clone();
    rt.block_on(async move {
        for _ in 0..NUM_PINGS {
            let rem = rem.clone();
            let done_tx = done_tx.clone();
            let r2 = r.clone();
            r.spawn(async move {
                let (tx1, rx1) = futures::channel::oneshot::channel::<()>();
                let (tx2, rx2) = futures::channel::oneshot::channel::<()>();
                r2.spawn(async move {
                    rx1.await.unwrap();
                    tx2.send(()).unwrap();
                });
                tx1.send(()).unwrap();
                rx2.await.unwrap();
                if rem.fetch_sub(1, Relaxed) == 1 {
                    done_tx.send(()).unwrap();
                }
            });
        }
    });
    done_rx.recv().unwrap();
}

/// A chain of 1000 spawns, each task spawning the next.
fn chained_spawn<R: Rt>(rt: &R) {
    fn iter<R: Rt>(rt: R, done: mpsc::SyncSender<()>, n: usize) {
        if n == 0 {
            done.send(()).unwrap();
        } else {
            let r = rt.clone();
            rt.spawn(async move { iter(r, done, n - 1) });
        }
    }
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let r = rt.clone();
    rt.block_on(async move { iter(r, done_tx, CHAIN) });
    done_rx.recv().unwrap();
}

/// One workload on each runtime, in one criterion group.
macro_rules! bench_all {
    ($c:expr, $rts:expr, $name:ident) => {{
        let (g, t, s) = $rts;
        let mut group = $c.benchmark_group(stringify!($name));
        group.bench_function("gosched", |b| b.iter(|| $name::<Gosched>(g)));
        group.bench_function("tokio", |b| b.iter(|| $name::<Tokio>(t)));
        group.bench_function("smol", |b| b.iter(|| $name::<Smol>(s)));
        group.finish();
    }};
}

fn executor(c: &mut Criterion) {
    let (g, t, s) = (Gosched::new(), Tokio::new(), Smol::new());
    let rts = (&g, &t, &s);
    bench_all!(c, rts, spawn_many_local);
    bench_all!(c, rts, spawn_many_remote_idle);
    bench_all!(c, rts, spawn_many_remote_busy);
    bench_all!(c, rts, yield_many);
    bench_all!(c, rts, ping_pong);
    bench_all!(c, rts, chained_spawn);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_secs(1)).measurement_time(std::time::Duration::from_secs(3));
    targets = executor
}

/// Runs one gosched workload a fixed number of times on one P and exits,
/// for instruction counts under callgrind, which do not move with machine
/// noise (`scripts/observability_cost.py --callgrind`). Set
/// `GOSCHED_BENCH_WORKLOAD` to the workload's name and
/// `GOSCHED_BENCH_ITERS` to the count.
fn fixed_count(workload: &str, iters: usize) {
    let rt = gosched::Runtime::builder().procs(1).build().unwrap();
    let g = Gosched(rt.handle().clone(), Arc::new(rt));
    let f: fn(&Gosched) = match workload {
        "spawn_many_local" => spawn_many_local::<Gosched>,
        "spawn_many_remote_idle" => spawn_many_remote_idle::<Gosched>,
        "spawn_many_remote_busy" => spawn_many_remote_busy::<Gosched>,
        "yield_many" => yield_many::<Gosched>,
        "ping_pong" => ping_pong::<Gosched>,
        "chained_spawn" => chained_spawn::<Gosched>,
        other => panic!("GOSCHED_BENCH_WORKLOAD: no workload named {other:?}"),
    };
    for _ in 0..iters {
        f(&g);
    }
}

fn main() {
    if let Ok(w) = std::env::var("GOSCHED_BENCH_WORKLOAD") {
        let iters = std::env::var("GOSCHED_BENCH_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .expect("GOSCHED_BENCH_ITERS must be a count");
        fixed_count(&w, iters);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
