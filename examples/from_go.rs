//! A Go worker pool ported to gosched, line for line: `docs/from-go.md`
//! puts the two side by side.
//!
//! A producer feeds 20 jobs into an unbuffered channel; four workers
//! square them into a results channel; a `WaitGroup` closes the results
//! when every worker is done; the whole run is bounded by a context with a
//! 2 s timeout, and the reader gives up if no result comes for 500 ms.
//!
//! ```sh
//! cargo run --example from_go
//! ```

use std::time::Duration;

use gosched::select;
use gosched::sync::chan::{self, Receiver, Sender};
use gosched::sync::context::Context;
use gosched::sync::{WaitGroup, WaitGroupToken};
use gosched::time;

async fn worker(
    ctx: Context,
    id: u32,
    jobs: Receiver<u64>,
    results: Sender<String>,
    done: WaitGroupToken,
) {
    // `defer wg.Done()`: the token's drop, however this function returns.
    let _done = done;
    let cancelled = ctx.done_chan();
    loop {
        select! {
            job = jobs.recv() => {
                let Some(n) = job else { return };
                time::sleep(Duration::from_millis(n)).await; // the work
                if results.send(format!("worker {id}: {n} squared is {}", n * n)).await.is_err() {
                    return;
                }
            }
            _ = cancelled.recv() => return,
        }
    }
}

#[gosched::main]
async fn main() {
    let (ctx, cancel) = Context::background().with_timeout(Duration::from_secs(2));
    // `defer cancel()`: cancelling a finished context is harmless.
    let _cancel = cancel;

    let (jobs_tx, jobs) = chan::bounded::<u64>(0);
    let (results_tx, results) = chan::bounded::<String>(4);
    let wg = WaitGroup::new();
    for id in 1..=4 {
        gosched::spawn(worker(
            ctx.clone(),
            id,
            jobs.clone(),
            results_tx.clone(),
            wg.token(),
        ));
    }

    let producer_ctx = ctx.clone();
    gosched::spawn(async move {
        let cancelled = producer_ctx.done_chan();
        for n in 1..=20 {
            select! {
                _ = jobs_tx.send(n) => {}
                _ = cancelled.recv() => break,
            }
        }
        jobs_tx.close(); // `defer close(jobs)`
    });

    gosched::spawn(async move {
        wg.wait().await;
        results_tx.close();
    });

    let mut count = 0;
    loop {
        let give_up = time::after(Duration::from_millis(500));
        select! {
            r = results.recv() => match r {
                Some(line) => {
                    println!("{line}");
                    count += 1;
                }
                None => {
                    println!("done: {count} results");
                    return;
                }
            },
            _ = give_up.recv() => {
                println!("no result for 500ms, giving up");
                return;
            }
        }
    }
}
