//! Loom models of buffered and unbounded channels: the lock-free fast path
//! racing the parking protocol (`buffered.rs`, "Buffered and unbounded
//! channels"). The value queue is the loom stand-in of `buffer.rs`, whose
//! failed operations create no happens-before edge, so these models check
//! the channel's own fences. A lost wake-up shows up as a loom deadlock.
//! Run with
//! `LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg gosched_loom" cargo test -p gosched-sync --lib --release loom`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use loom::future::block_on;
use loom::thread;

use crate::chan::{self, TryRecvError, TrySendError};

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    Pin::new(f).poll(&mut cx)
}

/// S1-S3 against R1-R3: the receiver parks while the value is pushed; the
/// Dekker pair of fences means one of them sees the other.
#[test]
fn loom_buffered_send_racing_a_parking_receiver_wakes_it() {
    loom::model(|| {
        let (tx, rx) = chan::bounded::<u32>(1);
        let t = thread::spawn(move || {
            block_on(tx.send(1)).unwrap();
            tx
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        let tx = t.join().unwrap();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// The same race on an unbounded channel, with two values.
#[test]
fn loom_unbounded_sends_racing_a_parking_receiver_deliver_both_in_order() {
    loom::model(|| {
        let (tx, rx) = chan::unbounded::<u32>();
        let t = thread::spawn(move || {
            tx.try_send(1).unwrap();
            tx.try_send(2).unwrap();
        });
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        t.join().unwrap();
        assert_eq!(block_on(rx.recv()), None);
    });
}

/// S4-S5 against R4-R5: a sender parks on a full buffer while a receiver
/// frees the slot; the value is moved in (or pushed by the retry) exactly
/// once, in order.
#[test]
fn loom_full_buffer_sender_racing_a_receiver_gets_its_value_in() {
    loom::model(|| {
        let (tx, rx) = chan::bounded::<u32>(1);
        tx.try_send(1).unwrap();
        let t = thread::spawn(move || block_on(tx.send(2)).unwrap());
        assert_eq!(block_on(rx.recv()), Some(1));
        assert_eq!(block_on(rx.recv()), Some(2));
        t.join().unwrap();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// C1-C3 against a parked sender and a draining receiver: every value
/// that a send reported as sent is received, then `None`.
#[test]
fn loom_close_racing_a_parked_sender_and_a_receiver_loses_nothing() {
    loom::model(|| {
        let (tx, rx) = chan::bounded::<u32>(1);
        tx.try_send(1).unwrap();
        let closer = tx.clone();
        let t1 = thread::spawn(move || match block_on(tx.send(2)) {
            Ok(()) => true,
            Err(e) => {
                assert_eq!(e.0, 2, "the failed send got its own value back");
                false
            }
        });
        let t2 = thread::spawn(move || {
            assert!(closer.close());
        });
        let mut got = Vec::new();
        while let Some(v) = block_on(rx.recv()) {
            got.push(v);
        }
        let sent = t1.join().unwrap();
        t2.join().unwrap();
        let want: &[u32] = if sent { &[1, 2] } else { &[1] };
        assert_eq!(got, want);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// C1 against S1: a send that races close either lands before it (and is
/// received) or fails with its value; a receiver never sees `None` while a
/// value sent "successfully" is still on its way.
#[test]
fn loom_close_racing_a_fast_path_send_never_strands_a_value() {
    loom::model(|| {
        let (tx, rx) = chan::unbounded::<u32>();
        let closer = tx.clone();
        let t = thread::spawn(move || tx.try_send(1));
        closer.close();
        let got = block_on(rx.recv());
        let sent = t.join().unwrap();
        match sent {
            Ok(()) => assert_eq!(got, Some(1)),
            Err(e) => {
                assert_eq!(e, TrySendError::Closed(1));
                assert_eq!(got, None);
            }
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// R6: the first of two parked receivers is notified and then dropped
/// before it pops; its wake-up must reach the second one.
#[test]
fn loom_cancelled_woken_receiver_passes_its_wake_up_on() {
    loom::model(|| {
        let (tx, rx) = chan::bounded::<u32>(1);
        let rx2 = rx.clone();
        let mut first = rx.recv();
        assert!(poll_once(&mut first).is_pending());
        let t = thread::spawn(move || block_on(rx2.recv()));
        let s = thread::spawn(move || {
            tx.try_send(5).unwrap();
            tx
        });
        // Cancel: maybe after the sender notified `first`.
        drop(first);
        assert_eq!(t.join().unwrap(), Some(5));
        drop(s.join().unwrap());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// A select with a buffered arm (notify-only) and a rendezvous arm (claimed
/// by its counterpart): it completes exactly one, and the other arm took
/// nothing.
#[test]
fn loom_select_on_a_buffered_and_a_rendezvous_channel_completes_exactly_one_arm() {
    loom::model(|| {
        let (atx, arx) = chan::bounded::<u32>(1);
        let (btx, brx) = chan::bounded::<u32>(0);
        let ta = thread::spawn(move || {
            atx.try_send(1).unwrap();
            atx
        });
        // Both senders stay alive, so neither arm can see a close.
        let tb = thread::spawn(move || (btx.try_send(2).is_ok(), btx));
        let got = block_on(async {
            crate::select! {
                v = arx.recv() => v,
                v = brx.recv() => v,
            }
        });
        let _atx = ta.join().unwrap();
        let (sent_b, _btx) = tb.join().unwrap();
        match got {
            Some(1) => {
                assert!(!sent_b, "b's value went to the losing arm");
                assert_eq!(arx.try_recv(), Err(TryRecvError::Empty));
            }
            Some(2) => {
                assert!(sent_b);
                assert_eq!(arx.try_recv(), Ok(1), "a's value is still buffered");
            }
            other => panic!("impossible outcome {other:?}"),
        }
    });
}

/// A select parked on two buffered channels is woken by one notification
/// and then dropped: the value stays for another receiver, which gets it.
#[test]
fn loom_dropped_notified_select_arm_passes_its_wake_up_on() {
    loom::model(|| {
        let (atx, arx) = chan::bounded::<u32>(1);
        let (_btx, brx) = chan::bounded::<u32>(1);
        let arx2 = arx.clone();
        let mut sel = Box::pin(async {
            crate::select! {
                v = arx.recv() => v,
                v = brx.recv() => v,
            }
        });
        assert!(poll_once(&mut sel).is_pending());
        let t = thread::spawn(move || block_on(arx2.recv()));
        atx.try_send(7).unwrap();
        drop(sel); // maybe after the send notified the select's arm
        assert_eq!(t.join().unwrap(), Some(7));
    });
}

/// R5 on a select's send arm: a receiver that frees a slot moves the parked
/// select's value in (claiming its core across the push) unless the select
/// completed its rendezvous arm first; never both.
#[test]
fn loom_select_send_arm_on_a_full_buffer_is_moved_in_or_not_at_all() {
    loom::model(|| {
        let (atx, arx) = chan::bounded::<u32>(1);
        atx.try_send(0).unwrap();
        let (btx, brx) = chan::bounded::<u32>(0);
        let r = thread::spawn(move || {
            assert_eq!(block_on(arx.recv()), Some(0));
            arx
        });
        let b = thread::spawn(move || (btx.try_send(2).is_ok(), btx));
        let arm = block_on(async {
            crate::select! {
                res = atx.send(1) => { res.unwrap(); 'a' }
                v = brx.recv() => { assert_eq!(v, Some(2)); 'b' }
            }
        });
        let arx = r.join().unwrap();
        let (sent_b, _btx) = b.join().unwrap();
        match arm {
            'a' => {
                assert!(!sent_b, "b's value went to the losing arm");
                assert_eq!(arx.try_recv(), Ok(1));
            }
            _ => {
                assert!(sent_b);
                assert_eq!(arx.try_recv(), Err(TryRecvError::Empty), "a sent nothing");
            }
        }
    });
}
