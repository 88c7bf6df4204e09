//! Loom models of the channel: every interleaving of a few operations,
//! checked with exact counts. Run with
//! `LOOM_MAX_PREEMPTIONS=2 RUSTFLAGS="--cfg gosched_loom" cargo test -p gosched-sync --release loom`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use loom::future::block_on;
use loom::thread;

use crate::chan::{self, TryRecvError};

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    Pin::new(f).poll(&mut cx)
}

#[test]
fn loom_buffered_two_senders_one_receiver_gets_both_values_once() {
    loom::model(|| {
        let (tx, rx) = chan::bounded::<u32>(1);
        let tx2 = tx.clone();
        let t1 = thread::spawn(move || block_on(tx.send(1)).unwrap());
        let t2 = thread::spawn(move || block_on(tx2.send(2)).unwrap());
        let a = block_on(rx.recv()).unwrap();
        let b = block_on(rx.recv()).unwrap();
        assert_eq!(a + b, 3);
        assert_ne!(a, b);
        t1.join().unwrap();
        t2.join().unwrap();
        assert_eq!(block_on(rx.recv()), None, "closed after both senders left");
    });
}

#[test]
fn loom_rendezvous_hands_the_value_over_exactly_once() {
    loom::model(|| {
        let (tx, rx) = chan::bounded::<u32>(0);
        let t = thread::spawn(move || block_on(tx.send(7)).unwrap());
        assert_eq!(block_on(rx.recv()), Some(7));
        t.join().unwrap();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

#[test]
fn loom_close_racing_send_and_recv_loses_nothing() {
    loom::model(|| {
        let (tx, rx) = chan::bounded::<u32>(1);
        let closer = tx.clone();
        let t1 = thread::spawn(move || block_on(tx.send(1)).is_ok());
        let t2 = thread::spawn(move || {
            closer.close();
        });
        let mut got = 0;
        while let Some(v) = block_on(rx.recv()) {
            assert_eq!(v, 1);
            got += 1;
        }
        let sent = t1.join().unwrap();
        t2.join().unwrap();
        assert_eq!(got, sent as u32, "received exactly what was sent");
    });
}

#[test]
fn loom_cancelled_receiver_returns_a_handed_off_value() {
    loom::model(|| {
        let (tx, rx) = chan::bounded::<u32>(0);
        let rx2 = rx.clone();
        let t = thread::spawn(move || {
            let mut recv = rx2.recv();
            let r = poll_once(&mut recv);
            drop(recv); // cancel, maybe after the value was handed over
            r
        });
        let sent = tx.try_send(5).is_ok();
        let r = t.join().unwrap();
        let left = rx.try_recv().ok();
        match r {
            Poll::Ready(v) => assert_eq!((v, sent, left), (Some(5), true, None)),
            Poll::Pending => assert_eq!(left.is_some(), sent, "a sent value is still there"),
        }
    });
}

#[test]
fn loom_select_commits_exactly_one_rendezvous_arm() {
    loom::model(|| {
        let (atx, arx) = chan::bounded::<u32>(0);
        let (btx, brx) = chan::bounded::<u32>(0);
        let ta = thread::spawn(move || block_on(atx.send(1)).unwrap());
        let tb = thread::spawn(move || block_on(btx.send(2)).unwrap());
        let first = block_on(async {
            crate::select! {
                v = arx.recv() => v.unwrap(),
                v = brx.recv() => v.unwrap(),
            }
        });
        // The losing arm took nothing: its sender is still parked.
        let second = if first == 1 {
            block_on(brx.recv()).unwrap()
        } else {
            block_on(arx.recv()).unwrap()
        };
        assert_eq!(first + second, 3);
        ta.join().unwrap();
        tb.join().unwrap();
    });
}

#[test]
fn loom_two_selects_pair_atomically_across_two_rendezvous_channels() {
    loom::model(|| {
        let (c1tx, c1rx) = chan::bounded::<u32>(0);
        let (c2tx, c2rx) = chan::bounded::<u32>(0);
        let t = thread::spawn(move || {
            block_on(async {
                crate::select! {
                    r = c1tx.send(1) => { r.unwrap(); 1 }
                    r = c2tx.send(2) => { r.unwrap(); 2 }
                }
            })
        });
        let got = block_on(async {
            crate::select! {
                v = c1rx.recv() => v.unwrap(),
                v = c2rx.recv() => v.unwrap(),
            }
        });
        let sent = t.join().unwrap();
        assert_eq!(got, sent, "the one value sent is the one received");
        assert_eq!(c1rx.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(c2rx.try_recv(), Err(TryRecvError::Closed));
    });
}

#[test]
fn loom_close_racing_a_send_to_a_parked_select_completes_exactly_one_arm() {
    loom::model(|| {
        let (atx, arx) = chan::bounded::<u32>(0);
        let (btx, brx) = chan::bounded::<u32>(0);
        let t1 = thread::spawn(move || atx.try_send(1).is_ok());
        let t2 = thread::spawn(move || {
            btx.close();
        });
        let got = block_on(async {
            crate::select! {
                v = arx.recv() => (0, v),
                v = brx.recv() => (1, v),
            }
        });
        let sent = t1.join().unwrap();
        t2.join().unwrap();
        match got {
            // The value was received, so the send succeeded.
            (0, Some(1)) => assert!(sent),
            // a's sender was dropped (channel closed) before anything.
            (0, None) => assert!(!sent),
            // b's close won: a's try_send cannot have handed its value to
            // the select's losing arm (it would be lost).
            (1, None) => assert!(!sent, "a value went to a losing arm"),
            other => panic!("impossible outcome {other:?}"),
        }
    });
}

#[test]
fn loom_dropping_a_select_after_its_arm_was_handed_a_value_returns_the_value() {
    loom::model(|| {
        let (atx, arx) = chan::bounded::<u32>(0);
        let (_btx, brx) = chan::bounded::<u32>(0);
        let arx2 = arx.clone();
        let t = thread::spawn(move || atx.try_send(9).is_ok());
        let mut sel = Box::pin(async {
            crate::select! {
                v = arx2.recv() => v,
                v = brx.recv() => v,
            }
        });
        let first = poll_once(&mut sel);
        drop(sel); // maybe after the sender handed 9 to the parked arm
        let sent = t.join().unwrap();
        let left = arx.try_recv().ok();
        match first {
            Poll::Ready(Some(v)) => assert_eq!((v, sent, left), (9, true, None)),
            // The send failed and its sender was dropped: `a` closed.
            Poll::Ready(None) => assert_eq!((sent, left), (false, None)),
            Poll::Pending => assert_eq!(left.is_some(), sent, "sent value is back in the channel"),
        }
    });
}
