//! Loom models of the snapshot on which a non-blocking `select!` decides
//! `default` (`snapshot.rs`): Go's `TestNonblockSelectRace` and its
//! variants, where at every moment one arm is ready, so `default` must
//! never run. Under loom the select tries its arms in the order 1, 0
//! (`rand::below` returns 0), so arm 1 is the channel that becomes ready
//! and arm 0 the one that stops being ready: the order in which trying the
//! arms one at a time misses both.
//! Run with
//! `LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg gosched_loom" cargo test -p gosched-sync --lib --release loom`.

use loom::future::block_on;
use loom::thread;

use crate::chan;

/// `TestNonblockSelectRace`: `c1` holds a value; another thread sends to
/// `c2` (lock-free push), then takes `c1`'s value (lock-free pop).
#[test]
fn loom_nonblocking_select_never_takes_default_while_a_buffered_arm_is_ready() {
    loom::model(|| {
        let (c1_tx, c1_rx) = chan::bounded::<u32>(1);
        let (c2_tx, c2_rx) = chan::bounded::<u32>(1);
        c1_tx.try_send(1).unwrap();
        let c1 = c1_rx.clone();
        let t = thread::spawn(move || {
            c2_tx.try_send(2).unwrap();
            let took_c1 = c1.try_recv().is_ok();
            (took_c1, c2_tx)
        });
        let got = block_on(async {
            crate::select! {
                v = c1_rx.recv() => v,
                v = c2_rx.recv() => v,
                default => None,
            }
        });
        let (took_c1, c2_tx) = t.join().unwrap();
        assert!(got.is_some(), "default ran while c1 or c2 was ready");
        // Exactly the two values were taken, once each.
        let left = c1_rx
            .try_recv()
            .ok()
            .into_iter()
            .chain(c2_rx.try_recv().ok());
        let taken = usize::from(took_c1) + 1 + left.count();
        assert_eq!(taken, 2);
        drop((c1_tx, c2_tx));
    });
}

/// `TestNonblockSelectRace2`: as above, but the other thread closes an
/// unbuffered `c2` (under the lock) instead of sending to it.
#[test]
fn loom_nonblocking_select_never_takes_default_while_an_arm_is_ready_or_closed() {
    loom::model(|| {
        let (c1_tx, c1_rx) = chan::bounded::<u32>(1);
        let (c2_tx, c2_rx) = chan::bounded::<u32>(0);
        c1_tx.try_send(1).unwrap();
        let c1 = c1_rx.clone();
        let t = thread::spawn(move || {
            c2_tx.close();
            let _ = c1.try_recv();
        });
        let got = block_on(async {
            crate::select! {
                v = c1_rx.recv() => v.is_some(),
                v = c2_rx.recv() => v.is_none(),
                default => false,
            }
        });
        t.join().unwrap();
        assert!(got, "default ran while c1 was ready or c2 closed");
    });
}

/// The send-side mirror: `c1` has room, `c2` is full; another thread frees
/// `c2`'s slot (lock-free pop, R4), then fills `c1` (lock-free push). A
/// non-blocking select sending to both must send to one of them.
#[test]
fn loom_nonblocking_select_never_takes_default_while_a_send_arm_has_room() {
    loom::model(|| {
        let (c1_tx, c1_rx) = chan::bounded::<u32>(1);
        let (c2_tx, c2_rx) = chan::bounded::<u32>(1);
        c2_tx.try_send(20).unwrap();
        let c1 = c1_tx.clone();
        let t = thread::spawn(move || {
            assert_eq!(c2_rx.try_recv(), Ok(20));
            let filled_c1 = c1.try_send(10).is_ok();
            (filled_c1, c2_rx)
        });
        let sent = block_on(async {
            crate::select! {
                r = c1_tx.send(1) => r.is_ok(),
                r = c2_tx.send(2) => r.is_ok(),
                default => false,
            }
        });
        let (filled_c1, c2_rx) = t.join().unwrap();
        assert!(sent, "default ran while c1 or c2 had room");
        let in_c1 = usize::from(c1_rx.try_recv().is_ok());
        let in_c2 = usize::from(c2_rx.try_recv().is_ok());
        assert_eq!(in_c1 + in_c2, 1 + usize::from(filled_c1));
    });
}
