//! Tick lateness while something misbehaves: 1000 tickers wake every
//! millisecond while one task blocks its thread, hogs the CPU, or loops on
//! always-ready channel operations. The criterion "time" reported per
//! iteration is the run's **p99 tick lateness** (`iter_custom`); p50 and
//! max are printed for each run.
//!
//! - idle_p50 / idle_p99 (2 procs, with smol as a third peer): nothing
//!   misbehaves; the timers' own precision. Reported as p50 and as p99.
//! - blocking_victim (1 proc): one task calls `std::thread::sleep(200 ms)`.
//! - cpu_hog (1 proc): one task spins 200 ms of CPU with no await.
//! - budget_hog (2 procs): two tasks loop forever on a channel that always
//!   holds values (send then receive), so only the coop budget makes them
//!   yield.
//!
//! gosched relies on sysmon handing a stuck P to another thread (after
//! 10 ms) and on the coop budget in its channels; tokio has the budget but
//! no hand-off. Run: `cargo bench -p gosched-benches --bench tick_lateness`.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};

const TICKERS: usize = 1000;
const TICK: Duration = Duration::from_millis(1);
/// The misbehaviour starts after this and lasts `BAD`; the run ends `TAIL` later.
const LEAD: Duration = Duration::from_millis(50);
const BAD: Duration = Duration::from_millis(200);
const TAIL: Duration = Duration::from_millis(50);

#[derive(Clone, Copy)]
enum Bad {
    /// Nothing misbehaves (run with no hogs).
    Idle,
    Block,
    Cpu,
    Budget,
}

fn stats(mut late: Vec<Duration>) -> (Duration, Duration, Duration) {
    late.sort();
    let p = |q: f64| late[((late.len() - 1) as f64 * q).round() as usize];
    (p(0.5), p(0.99), *late.last().unwrap())
}

fn misbehave_sync(bad: Bad) {
    match bad {
        Bad::Block => std::thread::sleep(BAD),
        Bad::Cpu => {
            let start = Instant::now();
            let mut x = 0u64;
            while start.elapsed() < BAD {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        Bad::Budget | Bad::Idle => unreachable!("async or no hog"),
    }
}

fn gosched_run(rt: &gosched::Runtime, bad: Bad, hogs: usize) -> Vec<Duration> {
    let stop = Arc::new(AtomicBool::new(false));
    rt.block_on(async {
        let tickers: Vec<_> = (0..TICKERS)
            .map(|_| {
                let stop = stop.clone();
                gosched::spawn(async move {
                    let mut late = Vec::with_capacity(400);
                    let mut next = Instant::now() + TICK;
                    while !stop.load(Ordering::Relaxed) {
                        gosched::time::sleep_until(next).await;
                        late.push(Instant::now().saturating_duration_since(next));
                        next += TICK;
                    }
                    late
                })
            })
            .collect();
        gosched::time::sleep(LEAD).await;
        let hogs: Vec<_> = (0..hogs)
            .map(|_| {
                let stop = stop.clone();
                gosched::spawn(async move {
                    match bad {
                        Bad::Budget => {
                            let (tx, rx) = gosched::sync::chan::bounded::<u64>(16);
                            for i in 0..16 {
                                tx.send(i).await.unwrap();
                            }
                            let t0 = Instant::now();
                            while t0.elapsed() < BAD && !stop.load(Ordering::Relaxed) {
                                let v = rx.recv().await.unwrap();
                                tx.send(v).await.unwrap();
                            }
                        }
                        b => misbehave_sync(b),
                    }
                })
            })
            .collect();
        gosched::time::sleep(BAD + TAIL).await;
        stop.store(true, Ordering::Relaxed);
        for h in hogs {
            h.await.unwrap();
        }
        let mut all = Vec::new();
        for t in tickers {
            all.extend(t.await.unwrap());
        }
        all
    })
}

fn tokio_run(rt: &tokio::runtime::Runtime, bad: Bad, hogs: usize) -> Vec<Duration> {
    let stop = Arc::new(AtomicBool::new(false));
    rt.block_on(async {
        let tickers: Vec<_> = (0..TICKERS)
            .map(|_| {
                let stop = stop.clone();
                tokio::spawn(async move {
                    let mut late = Vec::with_capacity(400);
                    let mut next = Instant::now() + TICK;
                    while !stop.load(Ordering::Relaxed) {
                        tokio::time::sleep_until(next.into()).await;
                        late.push(Instant::now().saturating_duration_since(next));
                        next += TICK;
                    }
                    late
                })
            })
            .collect();
        tokio::time::sleep(LEAD).await;
        let hogs: Vec<_> = (0..hogs)
            .map(|_| {
                let stop = stop.clone();
                tokio::spawn(async move {
                    match bad {
                        Bad::Budget => {
                            let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(16);
                            for i in 0..16 {
                                tx.send(i).await.unwrap();
                            }
                            let t0 = Instant::now();
                            while t0.elapsed() < BAD && !stop.load(Ordering::Relaxed) {
                                let v = rx.recv().await.unwrap();
                                tx.send(v).await.unwrap();
                            }
                        }
                        b => misbehave_sync(b),
                    }
                })
            })
            .collect();
        tokio::time::sleep(BAD + TAIL).await;
        stop.store(true, Ordering::Relaxed);
        for h in hogs {
            h.await.unwrap();
        }
        let mut all = Vec::new();
        for t in tickers {
            all.extend(t.await.unwrap());
        }
        all
    })
}

/// smol's executor on `threads` threads, its timers on async-io's reactor
/// (a timerfd-precise epoll wait).
fn smol_run(ex: &Arc<smol::Executor<'static>>) -> Vec<Duration> {
    let stop = Arc::new(AtomicBool::new(false));
    smol::block_on(ex.run(async {
        let tickers: Vec<_> = (0..TICKERS)
            .map(|_| {
                let stop = stop.clone();
                ex.spawn(async move {
                    let mut late = Vec::with_capacity(400);
                    let mut next = Instant::now() + TICK;
                    while !stop.load(Ordering::Relaxed) {
                        smol::Timer::at(next).await;
                        late.push(Instant::now().saturating_duration_since(next));
                        next += TICK;
                    }
                    late
                })
            })
            .collect();
        smol::Timer::after(LEAD + BAD + TAIL).await;
        stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        for t in tickers {
            all.extend(t.await);
        }
        all
    }))
}

/// The idle runtime: p50 and p99 lateness of the tickers alone, gosched,
/// tokio and smol with two threads each.
fn idle(c: &mut Criterion) {
    const PROCS: usize = 2;
    let g = gosched::Runtime::builder().procs(PROCS).build().unwrap();
    let t = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(PROCS)
        .enable_all()
        .build()
        .unwrap();
    // Two threads run the executor; the bench thread's `block_on` is the
    // third, as tokio's and gosched's `block_on` thread is.
    let ex = Arc::new(smol::Executor::new());
    for _ in 0..PROCS {
        let ex = ex.clone();
        std::thread::spawn(move || smol::block_on(ex.run(smol::future::pending::<()>())));
    }
    type Run<'a> = Box<dyn Fn() -> Vec<Duration> + 'a>;
    let runs: [(&str, Run); 3] = [
        ("gosched", Box::new(|| gosched_run(&g, Bad::Idle, 0))),
        ("tokio", Box::new(|| tokio_run(&t, Bad::Idle, 0))),
        ("smol", Box::new(|| smol_run(&ex))),
    ];
    for (name, pick) in [
        (
            "idle_p50",
            (|s: (Duration, Duration, Duration)| s.0) as fn(_) -> _,
        ),
        ("idle_p99", |s| s.1),
    ] {
        let mut group = c.benchmark_group(name);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(4));
        for (peer, run) in &runs {
            group.bench_function(*peer, |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| {
                            let s = stats(run());
                            eprintln!("{name}/{peer}: p50 {:?} p99 {:?} max {:?}", s.0, s.1, s.2);
                            pick(s)
                        })
                        .sum()
                })
            });
        }
        group.finish();
    }
}

fn scenario(c: &mut Criterion, name: &str, bad: Bad, procs: usize, hogs: usize) {
    let g = gosched::Runtime::builder().procs(procs).build().unwrap();
    let t = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(procs)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("gosched", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (p50, p99, max) = stats(gosched_run(&g, bad, hogs));
                    eprintln!("{name}/gosched: p50 {p50:?} p99 {p99:?} max {max:?}");
                    p99
                })
                .sum()
        })
    });
    group.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    let (p50, p99, max) = stats(tokio_run(&t, bad, hogs));
                    eprintln!("{name}/tokio: p50 {p50:?} p99 {p99:?} max {max:?}");
                    p99
                })
                .sum()
        })
    });
    group.finish();
}

fn tick_lateness(c: &mut Criterion) {
    idle(c);
    scenario(c, "blocking_victim", Bad::Block, 1, 1);
    scenario(c, "cpu_hog", Bad::Cpu, 1, 1);
    scenario(c, "budget_hog", Bad::Budget, 2, 2);
}

criterion_group!(benches, tick_lateness);
criterion_main!(benches);
