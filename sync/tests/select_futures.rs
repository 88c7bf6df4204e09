//! `select!` with arms that are plain futures beside channel operations,
//! refutable patterns that disable arms, and `else`.
#![cfg(not(gosched_loom))]

use std::future::{pending, ready, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use futures::executor::block_on;
use gosched_sync::chan::{self, TryRecvError};
use gosched_sync::{oneshot, select};

/// A future that is pending until `ready` is set (polled again after a
/// wake), then yields its id; counts its polls and records its drop.
struct Gate {
    ready: Arc<AtomicBool>,
    dropped: Arc<AtomicBool>,
    polls: Arc<AtomicUsize>,
}

impl Future for Gate {
    type Output = u32;
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u32> {
        self.polls.fetch_add(1, Ordering::Relaxed);
        if self.ready.load(Ordering::Acquire) {
            Poll::Ready(7)
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::Release);
    }
}

fn gate(ready: bool) -> (Gate, Arc<AtomicBool>) {
    let dropped = Arc::new(AtomicBool::new(false));
    (
        Gate {
            ready: Arc::new(AtomicBool::new(ready)),
            dropped: dropped.clone(),
            polls: Arc::new(AtomicUsize::new(0)),
        },
        dropped,
    )
}

#[test]
fn ready_channel_and_future_arms_are_each_chosen_over_20_percent_of_10000_rounds() {
    let (atx, arx) = chan::unbounded::<u8>();
    let (btx, brx) = chan::bounded::<u8>(1);
    let mut wins = [0u32; 4];
    block_on(async {
        for _ in 0..10_000 {
            atx.try_send(0).unwrap();
            btx.try_send(1).unwrap();
            let arm = select! {
                _ = arx.recv() => 0,
                _ = brx.recv() => 1,
                _ = ready(()) => 2,
                n = async { 3 } => n,
            };
            wins[arm] += 1;
            // Drain the losers so every arm is exactly one-ready next round.
            let _ = arx.try_recv();
            let _ = brx.try_recv();
        }
    });
    assert_eq!(wins.iter().sum::<u32>(), 10_000);
    for (arm, &w) in wins.iter().enumerate() {
        assert!(w > 2_000, "arm {arm} chosen {w} times of 10000: {wins:?}");
    }
}

#[test]
fn losing_channel_arms_take_and_send_nothing_when_a_ready_future_wins() {
    let (tx, rx) = chan::bounded::<u32>(1);
    let (out_tx, out_rx) = chan::bounded::<u32>(1);
    let mut future_wins = 0;
    block_on(async {
        for i in 0..1_000 {
            tx.try_send(i).unwrap();
            let won_by_future = select! {
                v = rx.recv() => { assert_eq!(v, Some(i)); false }
                r = out_tx.send(i) => { r.unwrap(); false }
                _ = ready(()) => true,
            };
            if won_by_future {
                future_wins += 1;
                assert_eq!(rx.try_recv(), Ok(i), "the losing receive took the value");
                assert_eq!(
                    out_rx.try_recv(),
                    Err(TryRecvError::Empty),
                    "the losing send sent"
                );
            } else {
                let _ = rx.try_recv();
                let _ = out_rx.try_recv();
            }
        }
    });
    assert!(future_wins > 0, "the future arm never won in 1000 rounds");
}

#[test]
fn parked_select_woken_by_its_future_arm_completes_no_channel_arm() {
    // Rendezvous channels that nobody else uses: both channel arms park.
    let (tx, rx) = chan::bounded::<u32>(0);
    let (_tx2, rx2) = chan::bounded::<u32>(0);
    let (reply_tx, reply_rx) = oneshot::channel::<&str>();
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        reply_tx.send("reply").unwrap();
    });
    let got = block_on(async {
        let mut reply = reply_rx;
        select! {
            r = tx.send(1) => { r.unwrap(); "sent" }
            _ = rx2.recv() => "received",
            r = &mut reply => r.unwrap(),
        }
    });
    sender.join().unwrap();
    assert_eq!(got, "reply");
    // The send arm left the channel: nobody is parked on it any more.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn parked_select_with_a_pending_future_arm_takes_a_value_sent_later() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        block_on(tx.send(5)).unwrap();
    });
    let (never, dropped) = gate(false);
    let polls = never.polls.clone();
    let got = block_on(async {
        select! {
            v = rx.recv() => v.unwrap(),
            n = never => n,
        }
    });
    sender.join().unwrap();
    assert_eq!(got, 5);
    assert!(polls.load(Ordering::Relaxed) >= 1);
    assert!(
        dropped.load(Ordering::Acquire),
        "the losing future was dropped"
    );
}

#[test]
fn losing_future_arm_is_dropped_before_the_winning_body_runs() {
    let (pending_gate, dropped) = gate(false);
    let (tx, rx) = chan::bounded::<u8>(1);
    tx.try_send(1).unwrap();
    let dropped_in_body = block_on(async {
        select! {
            _ = rx.recv() => dropped.load(Ordering::Acquire),
            _ = pending_gate => false,
        }
    });
    assert!(dropped_in_body);
}

#[test]
fn default_runs_when_the_only_future_arm_is_pending_and_the_future_is_dropped() {
    let (g, dropped) = gate(false);
    let polls = g.polls.clone();
    let v = block_on(async {
        select! {
            n = g => n,
            default => 0,
        }
    });
    assert_eq!(v, 0);
    assert_eq!(
        polls.load(Ordering::Relaxed),
        1,
        "polled once before default"
    );
    assert!(dropped.load(Ordering::Acquire));
    let (tx, rx) = chan::bounded::<u8>(0);
    let v = block_on(async {
        select! {
            _ = pending::<()>() => 1,
            _ = tx.send(1) => 2,
            default => 3,
        }
    });
    assert_eq!(v, 3);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn refutable_pattern_disables_the_arm_and_the_select_waits_for_the_others() {
    let (closed_tx, closed_rx) = chan::bounded::<u32>(1);
    drop(closed_tx);
    let (tx, rx) = chan::bounded::<u32>(0);
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        block_on(tx.send(9)).unwrap();
    });
    let got = block_on(async {
        select! {
            Some(v) = closed_rx.recv() => v,
            Some(v) = rx.recv() => v + 1,
        }
    });
    sender.join().unwrap();
    assert_eq!(got, 10);
}

#[test]
fn refutable_pattern_on_a_future_arm_disables_it() {
    let (tx, rx) = chan::bounded::<u32>(1);
    tx.try_send(4).unwrap();
    let mut rounds = 0;
    block_on(async {
        for _ in 0..200 {
            tx.try_send(4).ok();
            let v = select! {
                Ok(v) = ready(Err::<u32, ()>(())) => v,
                Some(v) = rx.recv() => v,
            };
            assert_eq!(v, 4);
            rounds += 1;
        }
    });
    assert_eq!(rounds, 200);
}

#[test]
fn refutable_pattern_with_mut_bindings_moves_a_non_copy_value() {
    let (tx, rx) = chan::bounded::<(String, Vec<u8>)>(1);
    tx.try_send(("a".to_string(), vec![1])).unwrap();
    let got = block_on(async {
        select! {
            Some((mut s, mut v)) = rx.recv() => {
                s.push('b');
                v.push(2);
                (s, v)
            }
            else => (String::new(), Vec::new()),
        }
    });
    assert_eq!(got, ("ab".to_string(), vec![1, 2]));
}

#[test]
fn every_arm_disabled_runs_else_or_else_default() {
    let (atx, arx) = chan::bounded::<u8>(1);
    let (btx, brx) = chan::bounded::<u8>(1);
    drop((atx, btx));
    let with_else = block_on(async {
        select! {
            Some(v) = arx.recv() => v,
            Some(v) = brx.recv() => v,
            Some(v) = ready(None::<u8>) => v,
            else => 42,
        }
    });
    assert_eq!(with_else, 42);
    let with_default = block_on(async {
        select! {
            Some(v) = arx.recv() => v,
            default => { 43 }
        }
    });
    assert_eq!(with_default, 43);
}

#[test]
#[should_panic(expected = "every arm is disabled")]
fn every_arm_disabled_without_else_panics() {
    let (tx, rx) = chan::bounded::<u8>(1);
    drop(tx);
    block_on(async {
        select! {
            Some(v) = rx.recv() => v,
            Some(v) = ready(None::<u8>) => v,
        }
    });
}

async fn first_even(rx: &chan::Receiver<u32>) -> Result<u32, String> {
    let mut skipped = 0;
    loop {
        select! {
            Some(v) = rx.recv() => {
                if v % 2 == 1 {
                    skipped += 1;
                    continue;
                }
                if v == 100 {
                    return Err("hundred".to_string());
                }
                if v == 0 {
                    break;
                }
                let parsed: u32 = format!("{v}").parse().map_err(|_| "parse".to_string())?;
                return Ok(parsed + skipped);
            }
            // A future arm that is always disabled at once.
            Some(n) = ready(None::<u32>) => return Ok(n),
            else => return Err("closed".to_string()),
        }
    }
    Ok(skipped)
}

#[test]
fn break_continue_return_and_question_mark_reach_the_surrounding_code() {
    let (tx, rx) = chan::unbounded::<u32>();
    block_on(async {
        for v in [1, 3, 8] {
            tx.try_send(v).unwrap();
        }
        assert_eq!(first_even(&rx).await, Ok(10), "continue twice, then return");
        for v in [5, 0] {
            tx.try_send(v).unwrap();
        }
        assert_eq!(first_even(&rx).await, Ok(1), "break");
        tx.try_send(100).unwrap();
        assert_eq!(first_even(&rx).await, Err("hundred".to_string()));
        drop(tx);
        assert_eq!(first_even(&rx).await, Err("closed".to_string()), "else");
    });
}

#[test]
fn a_join_handle_is_an_arm() {
    let rt = gosched_executor::Runtime::builder()
        .procs(2)
        .build()
        .unwrap();
    let (_tx, rx) = chan::bounded::<u32>(0);
    // Spawned, so the select's future (with a future arm) must be Send.
    let got = rt.block_on(gosched_executor::spawn(async move {
        let task = gosched_executor::spawn(async { 6 * 7 });
        select! {
            r = task => r.unwrap(),
            v = rx.recv() => v.unwrap_or(0),
        }
    }));
    assert_eq!(got.unwrap(), 42);
}

#[test]
fn context_done_is_an_arm() {
    use gosched_sync::context::Context as GoContext;
    let (ctx, cancel) = GoContext::background().with_cancel();
    let (_tx, rx) = chan::bounded::<u32>(0);
    let canceller = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        cancel.cancel();
    });
    let got = block_on(async {
        select! {
            v = rx.recv() => v.map_or("closed", |_| "value"),
            _ = ctx.done() => "cancelled",
        }
    });
    canceller.join().unwrap();
    assert_eq!(got, "cancelled");
}

#[test]
fn else_waits_while_an_arm_is_enabled_but_default_does_not() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        block_on(tx.send(3)).unwrap();
        // Closing after the value: the next select sees every arm disabled.
    });
    let got = block_on(async {
        let nothing_ready = select! {
            Some(v) = rx.recv() => v,
            default => 0,
            else => 1,
        };
        let waited = select! {
            Some(v) = rx.recv() => v,
            else => 2,
        };
        (nothing_ready, waited)
    });
    sender.join().unwrap();
    assert_eq!(got, (0, 3));
    let closed = block_on(async {
        select! {
            Some(v) = rx.recv() => v,
            default => 4,
            else => 5,
        }
    });
    assert_eq!(closed, 5, "every arm disabled: else, not default");
}
