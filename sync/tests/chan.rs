//! Channel behaviour: Go semantics, cancellation, and multi-thread stress.
//!
//! The stress sizes are modest for debug builds; scale them with
//! `GOSCHED_STRESS_SCALE=40 cargo test --release -p gosched-sync --test chan stress`
//! (40 gives issue 5's 1M messages per channel kind).
#![cfg(not(gosched_loom))]

use std::collections::HashSet;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};
use std::thread;

use futures::executor::block_on;
use futures::task::noop_waker;
use futures::{SinkExt, StreamExt};
use gosched_sync::chan::{self, Receiver, Sender, TryRecvError, TrySendError};

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    std::pin::Pin::new(f).poll(&mut cx)
}

#[test]
fn rendezvous_send_completes_only_after_a_receiver_takes_the_value() {
    let (tx, rx) = chan::bounded(0);
    let mut send = tx.send(7u32);
    assert!(poll_once(&mut send).is_pending(), "no receiver yet");
    assert_eq!(rx.len(), 0, "an unbuffered channel buffers nothing");
    assert_eq!(rx.try_recv(), Ok(7));
    assert!(matches!(poll_once(&mut send), Poll::Ready(Ok(()))));
}

#[test]
fn buffered_channel_keeps_fifo_order_across_parked_senders() {
    let (tx, rx) = chan::bounded(2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    let mut s3 = tx.send(3);
    let mut s4 = tx.send(4);
    assert!(poll_once(&mut s3).is_pending());
    assert!(poll_once(&mut s4).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.len(), 2, "a parked sender's value refilled the buffer");
    assert!(matches!(poll_once(&mut s3), Poll::Ready(Ok(()))));
    assert_eq!(
        (rx.try_recv(), rx.try_recv(), rx.try_recv()),
        (Ok(2), Ok(3), Ok(4))
    );
    assert!(matches!(poll_once(&mut s4), Poll::Ready(Ok(()))));
}

#[test]
fn close_lets_receivers_drain_then_reports_none() {
    let (tx, rx) = chan::bounded(4);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert!(tx.close());
    assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    block_on(async {
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn send_on_closed_channel_returns_the_value_and_never_panics() {
    let (tx, rx) = chan::bounded::<String>(0);
    tx.close();
    let err = block_on(tx.send("kept".to_string())).unwrap_err();
    assert_eq!(err.0, "kept");
    drop(rx);
}

#[test]
fn dropping_all_receivers_fails_parked_and_new_sends_with_their_values() {
    let (tx, rx) = chan::bounded(0);
    let mut parked = tx.send(1u8);
    assert!(poll_once(&mut parked).is_pending());
    drop(rx);
    match poll_once(&mut parked) {
        Poll::Ready(Err(e)) => assert_eq!(e.0, 1),
        other => panic!("parked send not failed: {other:?}"),
    }
    assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
    assert!(tx.is_closed());
}

#[test]
fn last_sender_drop_closes_and_wakes_parked_receivers() {
    let (tx, rx) = chan::bounded::<u8>(1);
    let tx2 = tx.clone();
    let mut recv = rx.recv();
    assert!(poll_once(&mut recv).is_pending());
    drop(tx);
    assert!(
        poll_once(&mut recv).is_pending(),
        "one sender is still alive"
    );
    drop(tx2);
    assert_eq!(poll_once(&mut recv), Poll::Ready(None));
}

#[test]
fn try_errors_distinguish_full_empty_and_closed() {
    let (tx, rx) = chan::bounded(1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.try_send(1).unwrap();
    assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    drop(tx);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn len_and_capacity_follow_go() {
    let (tx, rx) = chan::bounded(3);
    assert_eq!((tx.len(), tx.capacity()), (0, Some(3)));
    tx.try_send(()).unwrap();
    assert_eq!(rx.len(), 1);
    let (utx, _urx) = chan::unbounded::<()>();
    assert_eq!(utx.capacity(), None);
}

#[test]
fn dropped_recv_future_that_was_handed_a_value_gives_it_back() {
    let (tx, rx) = chan::bounded(0);
    let mut recv = rx.recv();
    assert!(poll_once(&mut recv).is_pending());
    // The sender hands the value straight to the parked receive future ...
    tx.try_send(5u32).unwrap();
    // ... which is dropped before it is polled again.
    drop(recv);
    assert_eq!(rx.try_recv(), Ok(5), "the value went back into the channel");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn dropped_recv_future_passes_its_value_to_the_next_parked_receiver() {
    let (tx, rx) = chan::bounded(0);
    let rx2 = rx.clone();
    let mut first = rx.recv();
    let mut second = rx2.recv();
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut second).is_pending());
    tx.try_send(9u32).unwrap();
    drop(first);
    assert_eq!(poll_once(&mut second), Poll::Ready(Some(9)));
}

#[test]
fn dropped_send_future_leaves_no_waiter_behind() {
    let (tx, rx) = chan::bounded(0);
    let mut send = tx.send(1u32);
    assert!(poll_once(&mut send).is_pending());
    drop(send);
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "no parked sender left"
    );
    let mut recv = rx.recv();
    assert!(poll_once(&mut recv).is_pending());
    drop(recv);
    assert!(
        tx.try_send(2).unwrap_err().is_full(),
        "no parked receiver left"
    );
}

#[test]
fn receiver_is_a_stream_and_sender_is_a_sink() {
    block_on(async {
        let (mut tx, rx) = chan::bounded(1);
        let producer = async move {
            for i in 0..100u32 {
                tx.send(i).await.unwrap();
            }
            SinkExt::close(&mut tx).await.unwrap();
            drop(tx);
        };
        let consumer = rx.collect::<Vec<u32>>();
        let ((), got) = futures::join!(producer, consumer);
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    });
}

#[test]
fn sink_send_fails_with_the_value_when_receivers_are_gone() {
    let (mut tx, rx) = chan::bounded::<u8>(0);
    drop(rx);
    let err = block_on(SinkExt::send(&mut tx, 4)).unwrap_err();
    assert_eq!(err.0, 4);
}

#[test]
fn stream_drop_with_parked_waiter_returns_value_to_other_receiver() {
    let (tx, mut rx) = chan::bounded(0);
    let rx2 = rx.clone();
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(rx.poll_next_unpin(&mut cx).is_pending());
    tx.try_send(3u8).unwrap();
    drop(rx);
    assert_eq!(rx2.try_recv(), Ok(3));
}

/// `n` times the `GOSCHED_STRESS_SCALE` environment variable (default 1).
fn scaled(n: u64) -> u64 {
    let scale = std::env::var("GOSCHED_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(1);
    n * scale.max(1)
}

/// 4 producers x 4 consumers over `make`; every value arrives exactly once.
fn stress(make: fn() -> (Sender<u64>, Receiver<u64>), per_producer: u64) {
    let per_producer = scaled(per_producer);
    const P: u64 = 4;
    const C: usize = 4;
    let (tx, rx) = make();
    let producers: Vec<_> = (0..P)
        .map(|p| {
            let tx = tx.clone();
            thread::spawn(move || {
                block_on(async move {
                    for i in 0..per_producer {
                        tx.send(p * per_producer + i).await.unwrap();
                    }
                })
            })
        })
        .collect();
    drop(tx);
    let consumers: Vec<_> = (0..C)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || {
                block_on(async move {
                    let mut got = Vec::new();
                    while let Some(v) = rx.recv().await {
                        got.push(v);
                    }
                    got
                })
            })
        })
        .collect();
    drop(rx);
    for p in producers {
        p.join().unwrap();
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for c in consumers {
        for v in c.join().unwrap() {
            assert!(seen.insert(v), "value {v} received twice");
            total += 1;
        }
    }
    assert_eq!(total, P * per_producer, "values lost");
}

#[test]
fn stress_rendezvous_4x4_every_value_exactly_once() {
    stress(|| chan::bounded(0), 25_000);
}

#[test]
fn stress_bounded64_4x4_every_value_exactly_once() {
    stress(|| chan::bounded(64), 50_000);
}

#[test]
fn stress_unbounded_4x4_every_value_exactly_once() {
    stress(chan::unbounded, 50_000);
}

#[test]
fn stress_consumers_dropping_recv_futures_lose_nothing() {
    // Consumers race each receive against a timeout-like second future and
    // often drop the receive future: handed-off values must come back.
    let (tx, rx) = chan::bounded::<u64>(0);
    let n = scaled(20_000);
    let producer = thread::spawn(move || {
        block_on(async move {
            for i in 0..n {
                tx.send(i).await.unwrap();
            }
        })
    });
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let mut recv = rx.recv();
                    match poll_once(&mut recv) {
                        Poll::Ready(Some(v)) => got.push(v),
                        Poll::Ready(None) => break,
                        Poll::Pending => {
                            thread::yield_now();
                            drop(recv); // cancel, possibly after a hand-off
                        }
                    }
                }
                got
            })
        })
        .collect();
    drop(rx);
    producer.join().unwrap();
    let mut all: Vec<u64> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..n).collect::<Vec<_>>());
}

#[test]
fn recv_future_pinned_on_stack_works_with_block_on() {
    let (tx, rx) = chan::bounded(0);
    let t = thread::spawn(move || block_on(tx.send(1u8)).unwrap());
    let fut = pin!(rx.recv());
    assert_eq!(block_on(fut), Some(1));
    t.join().unwrap();
}

#[test]
fn sink_close_of_the_last_sender_ends_the_stream_for_forward() {
    let (src_tx, src_rx) = chan::unbounded::<u32>();
    let (dst_tx, dst_rx) = chan::bounded::<u32>(4);
    for i in 0..10 {
        src_tx.try_send(i).unwrap();
    }
    drop(src_tx);
    let got = block_on(async move {
        let fwd = src_rx.map(Ok).forward(dst_tx); // closes dst_tx at the end
        let collect = dst_rx.collect::<Vec<u32>>();
        let (r, got) = futures::join!(fwd, collect);
        r.unwrap();
        got
    });
    assert_eq!(got, (0..10).collect::<Vec<_>>());
}

/// Consumers that poll a receive once and drop it: a buffered receiver that
/// was notified and dropped before its turn passes the wake-up on.
fn consumers_dropping_recv_futures(make: fn() -> (Sender<u64>, Receiver<u64>)) {
    let (tx, rx) = make();
    let n = scaled(20_000);
    let producer = thread::spawn(move || {
        block_on(async move {
            for i in 0..n {
                tx.send(i).await.unwrap();
            }
        })
    });
    let consumers: Vec<_> = (0..3)
        .map(|c| {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    if c == 0 {
                        // One consumer parks for real, so that wake-ups
                        // passed on by the others have somewhere to go.
                        match block_on(rx.recv()) {
                            Some(v) => got.push(v),
                            None => break,
                        }
                        continue;
                    }
                    let mut recv = rx.recv();
                    match poll_once(&mut recv) {
                        Poll::Ready(Some(v)) => got.push(v),
                        Poll::Ready(None) => break,
                        Poll::Pending => {
                            thread::yield_now();
                            drop(recv); // cancel, possibly after a notification
                        }
                    }
                }
                got
            })
        })
        .collect();
    drop(rx);
    producer.join().unwrap();
    let mut all: Vec<u64> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..n).collect::<Vec<_>>());
}

#[test]
fn stress_bounded_consumers_dropping_notified_recv_futures_lose_nothing() {
    consumers_dropping_recv_futures(|| chan::bounded(2));
}

#[test]
fn stress_unbounded_consumers_dropping_notified_recv_futures_lose_nothing() {
    consumers_dropping_recv_futures(chan::unbounded);
}

#[test]
fn send_error_debug_says_the_channel_is_closed_and_names_the_value_type() {
    let (tx, rx) = chan::bounded::<String>(1);
    drop(rx);
    let err = futures::executor::block_on(tx.send("x".to_string())).unwrap_err();
    let text = format!("{err:?}");
    assert!(text.contains("closed"), "{text}");
    assert!(text.contains("String"), "{text}");
    // What `.unwrap()` on the send prints.
    let payload = std::panic::catch_unwind(|| {
        futures::executor::block_on(tx.send("y".to_string())).unwrap();
    })
    .unwrap_err();
    let msg = payload.downcast_ref::<String>().unwrap();
    assert!(
        msg.contains("SendError(channel closed, value: alloc::string::String)"),
        "{msg}"
    );
}
