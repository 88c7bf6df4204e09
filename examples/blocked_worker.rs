//! A task that blocks its thread must not stall the others.
//!
//! 1000 tickers wake every millisecond on 2 Ps; after 200 ms two tasks call
//! `std::thread::sleep(200 ms)`, occupying both Ps' threads. sysmon sees
//! each P stuck inside one poll with its thread asleep in the kernel (after
//! 1 ms; a poll spinning on the CPU would take 10 ms) and hands it to a new
//! thread, so the tickers keep ticking. The program prints the tickers'
//! lateness percentiles and how many hand-offs happened.
//!
//! ```text
//! GOSCHED_DEBUG=schedtrace=100 cargo run --release --example blocked_worker
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TICKERS: usize = 1000;
const TICK: Duration = Duration::from_millis(1);
const RUN: Duration = Duration::from_millis(700);
const BLOCK: Duration = Duration::from_millis(200);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn main() {
    let rt = gosched::Runtime::builder()
        .procs(2)
        .build()
        .expect("runtime");
    let stop = Arc::new(AtomicBool::new(false));
    let lateness = rt.block_on(async {
        let tickers: Vec<_> = (0..TICKERS)
            .map(|_| {
                let stop = stop.clone();
                gosched::spawn(async move {
                    let mut late = Vec::new();
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
        gosched::time::sleep(Duration::from_millis(200)).await;
        println!("blocking both Ps' threads for {BLOCK:?} ...");
        let blockers: Vec<_> = (0..2)
            .map(|_| gosched::spawn(async { std::thread::sleep(BLOCK) }))
            .collect();
        gosched::time::sleep(RUN - Duration::from_millis(200)).await;
        stop.store(true, Ordering::Relaxed);
        for b in blockers {
            b.await.expect("blocker");
        }
        let mut all = Vec::new();
        for t in tickers {
            all.extend(t.await.expect("ticker"));
        }
        all
    });
    let mut sorted = lateness;
    sorted.sort();
    let handoffs: u64 = rt.handle().metrics().procs.iter().map(|p| p.handoffs).sum();
    println!(
        "{} ticks: lateness p50 {:?}, p99 {:?}, max {:?}; P hand-offs by sysmon: {handoffs}",
        sorted.len(),
        percentile(&sorted, 0.50),
        percentile(&sorted, 0.99),
        sorted.last().copied().unwrap_or_default()
    );
}
