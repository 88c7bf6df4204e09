//! A pipeline of stages joined by channels, cancelled by a Context
//! deadline: Go's "pipelines and cancellation" pattern.
//!
//! generate -> square -> (fan-in) -> main; every stage selects between
//! sending its next value and the context's done channel, so when the
//! deadline passes, every stage returns and every channel closes.
//!
//! Run: `cargo run --example pipeline`

use std::time::Duration;

use gosched::select;
use gosched::sync::chan::{self, Receiver};
use gosched::sync::context::{Context, ContextError};

/// Emits 0, 1, 2, ... until the context is done.
fn generate(ctx: &Context) -> Receiver<u64> {
    let (tx, rx) = chan::bounded(0);
    let done = ctx.done_chan();
    gosched::spawn(async move {
        let mut n = 0;
        loop {
            select! {
                r = tx.send(n) => { if r.is_err() { return; } n += 1; }
                _ = done.recv() => return,
            }
        }
    });
    rx
}

/// Squares what it receives until the input closes or the context is done.
fn square(ctx: &Context, input: Receiver<u64>) -> Receiver<u64> {
    let (tx, rx) = chan::bounded(16);
    let done = ctx.done_chan();
    gosched::spawn(async move {
        while let Some(v) = input.recv().await {
            select! {
                r = tx.send(v * v) => if r.is_err() { return },
                _ = done.recv() => return,
            }
        }
    });
    rx
}

fn main() {
    gosched::run(async {
        let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(50));
        let numbers = generate(&ctx);
        // Fan out to two squarers reading the same channel; fan in through
        // one channel (both squarers send into `merged` via their outputs).
        let a = square(&ctx, numbers.clone());
        let b = square(&ctx, numbers);
        let (merged_tx, merged) = chan::unbounded();
        for out in [a, b] {
            let merged_tx = merged_tx.clone();
            gosched::spawn(async move {
                while let Some(v) = out.recv().await {
                    if merged_tx.send(v).await.is_err() {
                        return;
                    }
                }
            });
        }
        drop(merged_tx);

        let mut count = 0u64;
        let mut last = 0;
        while let Some(v) = merged.recv().await {
            count += 1;
            last = v;
        }
        // Every stage returned, so every channel closed and the loop ended.
        assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
        println!("deadline exceeded after {count} squares (last one seen: {last})");
    });
}
