//! `select!` with Go's rules: fair choice, default, losers have no effect.
#![cfg(not(gosched_loom))]

use std::collections::HashSet;
use std::thread;

use futures::executor::block_on;
use gosched_sync::chan::{self, TryRecvError};
use gosched_sync::select;

#[test]
fn two_always_ready_arms_are_each_chosen_40_to_60_percent_of_10000_times() {
    let (atx, arx) = chan::unbounded::<u8>();
    let (btx, brx) = chan::unbounded::<u8>();
    let (mut a, mut b) = (0u32, 0u32);
    block_on(async {
        for _ in 0..10_000 {
            atx.try_send(0).unwrap();
            btx.try_send(1).unwrap();
            select! {
                _ = arx.recv() => a += 1,
                _ = brx.recv() => b += 1,
            }
            // Drain the loser so both stay exactly one-ready next round.
            let _ = arx.try_recv();
            let _ = brx.try_recv();
        }
    });
    assert_eq!(a + b, 10_000);
    assert!((4_000..=6_000).contains(&a), "arm a chosen {a} times");
}

#[test]
fn default_runs_when_no_arm_is_ready_and_the_send_does_not_happen() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let ran_default = block_on(async {
        select! {
            _ = tx.send(1) => false,
            v = rx.recv() => { let _ = v; false }
            default => true,
        }
    });
    assert!(ran_default);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn losing_receive_arm_takes_no_value() {
    let (atx, arx) = chan::bounded::<u32>(1);
    let (btx, brx) = chan::bounded::<u32>(1);
    atx.try_send(1).unwrap();
    let got = block_on(async {
        select! {
            v = arx.recv() => v,
            v = brx.recv() => v,
        }
    });
    assert_eq!(got, Some(1));
    btx.try_send(2).unwrap();
    assert_eq!(
        brx.try_recv(),
        Ok(2),
        "b's value was not taken by the loser"
    );
}

#[test]
fn losing_send_arm_sends_nothing_on_an_unbuffered_channel() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let (rtx, rrx) = chan::bounded::<u32>(1);
    rtx.try_send(9).unwrap();
    let got = block_on(async {
        select! {
            r = tx.send(1) => { r.unwrap(); None }
            v = rrx.recv() => v,
        }
    });
    assert_eq!(got, Some(9));
    assert_eq!(
        rx.try_recv(),
        Err(TryRecvError::Empty),
        "the send never happened"
    );
}

#[test]
fn select_send_on_closed_channel_returns_the_value() {
    let (tx, rx) = chan::bounded::<String>(0);
    drop(rx);
    let r = block_on(async {
        select! {
            r = tx.send("mine".to_string()) => r,
        }
    });
    assert_eq!(r.unwrap_err().0, "mine");
}

#[test]
fn select_receive_sees_close_as_none() {
    let (tx, rx) = chan::bounded::<u8>(0);
    let t = thread::spawn(move || drop(tx));
    let v = block_on(async {
        select! {
            v = rx.recv() => v,
        }
    });
    t.join().unwrap();
    assert_eq!(v, None);
}

#[test]
fn parked_select_on_rendezvous_channels_completes_exactly_one_arm() {
    // A select parks on two unbuffered channels; two threads then send on
    // both. Exactly one value is received by the select; the other send
    // must still be pending and is taken afterwards by a plain receive.
    for _ in 0..200 {
        let (atx, arx) = chan::bounded::<u32>(0);
        let (btx, brx) = chan::bounded::<u32>(0);
        let ta = thread::spawn(move || block_on(atx.send(1)).is_ok());
        let tb = thread::spawn(move || block_on(btx.send(2)).is_ok());
        let first = block_on(async {
            select! {
                v = arx.recv() => v.unwrap(),
                v = brx.recv() => v.unwrap(),
            }
        });
        let second = if first == 1 {
            block_on(brx.recv()).unwrap()
        } else {
            block_on(arx.recv()).unwrap()
        };
        assert!(ta.join().unwrap() && tb.join().unwrap());
        assert_eq!(
            [first, second].into_iter().collect::<HashSet<_>>(),
            HashSet::from([1, 2])
        );
    }
}

#[test]
fn two_selects_pair_across_unbuffered_channels_without_losing_values() {
    // Thread A: select { send on c1, send on c2 }; thread B: select { recv
    // on c1, recv on c2 }; many rounds. Each round exactly one value moves.
    let (c1tx, c1rx) = chan::bounded::<u64>(0);
    let (c2tx, c2rx) = chan::bounded::<u64>(0);
    const N: u64 = 5_000;
    let a = thread::spawn(move || {
        block_on(async {
            for i in 0..N {
                select! {
                    r = c1tx.send(i) => r.unwrap(),
                    r = c2tx.send(i) => r.unwrap(),
                }
            }
        })
    });
    let b = thread::spawn(move || {
        block_on(async {
            let mut got = Vec::with_capacity(N as usize);
            for _ in 0..N {
                let v = select! {
                    v = c1rx.recv() => v.unwrap(),
                    v = c2rx.recv() => v.unwrap(),
                };
                got.push(v);
            }
            got
        })
    });
    a.join().unwrap();
    let got = b.join().unwrap();
    assert_eq!(got, (0..N).collect::<Vec<_>>());
}

#[test]
fn many_selects_on_shared_rendezvous_channels_deliver_each_value_once() {
    // 2 selecting senders and 2 selecting receivers over the same two
    // unbuffered channels, plus a plain receiver: pairs of selects must
    // claim each other atomically.
    let (c1tx, c1rx) = chan::bounded::<u64>(0);
    let (c2tx, c2rx) = chan::bounded::<u64>(0);
    const PER: u64 = 3_000;
    let senders: Vec<_> = (0..2u64)
        .map(|s| {
            let (c1, c2) = (c1tx.clone(), c2tx.clone());
            thread::spawn(move || {
                block_on(async {
                    for i in 0..PER {
                        let v = s * PER + i;
                        select! {
                            r = c1.send(v) => r.unwrap(),
                            r = c2.send(v) => r.unwrap(),
                        }
                    }
                })
            })
        })
        .collect();
    drop((c1tx, c2tx));
    let receivers: Vec<_> = (0..3)
        .map(|r| {
            let (c1, c2) = (c1rx.clone(), c2rx.clone());
            thread::spawn(move || {
                block_on(async {
                    let mut got = Vec::new();
                    let (mut c1_open, mut c2_open) = (true, true);
                    while c1_open || c2_open {
                        if r == 2 {
                            // a plain receiver mixed in
                            match c1.recv().await {
                                Some(v) => got.push(v),
                                None => break,
                            }
                            continue;
                        }
                        select! {
                            v = c1.recv() => match v { Some(v) => got.push(v), None => c1_open = false },
                            v = c2.recv() => match v { Some(v) => got.push(v), None => c2_open = false },
                        }
                        if !c1_open {
                            while let Some(v) = c2.recv().await {
                                got.push(v);
                            }
                            break;
                        }
                        if !c2_open {
                            while let Some(v) = c1.recv().await {
                                got.push(v);
                            }
                            break;
                        }
                    }
                    got
                })
            })
        })
        .collect();
    drop((c1rx, c2rx));
    for s in senders {
        s.join().unwrap();
    }
    let mut all: Vec<u64> = receivers
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..2 * PER).collect::<Vec<_>>());
}

#[test]
fn dropping_a_parked_select_unregisters_every_arm() {
    use std::future::Future;
    use std::task::{Context, Poll};
    let (atx, arx) = chan::bounded::<u8>(0);
    let (btx, brx) = chan::bounded::<u8>(0);
    {
        let mut fut = Box::pin(async {
            select! {
                v = arx.recv() => v,
                v = brx.recv() => v,
            }
        });
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(matches!(fut.as_mut().poll(&mut cx), Poll::Pending));
    }
    assert!(
        atx.try_send(1).unwrap_err().is_full(),
        "no receiver left on a"
    );
    assert!(
        btx.try_send(2).unwrap_err().is_full(),
        "no receiver left on b"
    );
}

#[test]
fn select_with_body_control_flow_breaks_the_outer_loop() {
    let (tx, rx) = chan::bounded::<u8>(3);
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    drop(tx);
    let n = block_on(async {
        let mut n = 0;
        loop {
            select! {
                v = rx.recv() => match v {
                    Some(_) => n += 1,
                    None => break,
                },
            }
        }
        n
    });
    assert_eq!(n, 3);
}

#[test]
fn select_with_only_default_runs_the_default() {
    let v = block_on(async {
        select! {
            default => 5,
        }
    });
    assert_eq!(v, 5);
}

#[test]
fn empty_select_parks_forever() {
    use std::future::Future;
    use std::task::{Context, Poll};
    let mut fut = Box::pin(async {
        select! {}
    });
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    for _ in 0..3 {
        let r: Poll<()> = fut.as_mut().poll(&mut cx);
        assert!(r.is_pending());
    }
}

#[test]
fn select_mixing_send_and_receive_on_the_same_rendezvous_channel_never_pairs_with_itself() {
    use std::future::Future;
    use std::task::{Context, Poll};
    let (tx, rx) = chan::bounded::<u8>(0);
    let mut fut = Box::pin(async {
        select! {
            r = tx.send(1) => { r.unwrap(); "sent" }
            v = rx.recv() => { assert_eq!(v, Some(2)); "received" }
        }
    });
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(
        matches!(fut.as_mut().poll(&mut cx), Poll::Pending),
        "cannot rendezvous with itself"
    );
    // The select is parked on both arms; a plain send pairs with its
    // receive arm, and the send arm (stale now) takes nothing.
    let tx2 = tx.clone();
    thread::spawn(move || tx2.try_send(2).unwrap())
        .join()
        .unwrap();
    assert!(matches!(
        fut.as_mut().poll(&mut cx),
        Poll::Ready("received")
    ));
    drop(fut);
    assert!(rx.try_recv().is_err(), "the select's send arm sent nothing");
}

#[test]
fn many_selects_on_shared_buffered_channels_deliver_each_value_once() {
    // Selecting senders and receivers over a bounded(2) and an unbounded
    // channel, plus a plain receiver: receive arms are only notified, so
    // woken selects race each other and the plain receiver for each value.
    let (c1tx, c1rx) = chan::bounded::<u64>(2);
    let (c2tx, c2rx) = chan::unbounded::<u64>();
    const PER: u64 = 5_000;
    let senders: Vec<_> = (0..2u64)
        .map(|s| {
            let (c1, c2) = (c1tx.clone(), c2tx.clone());
            thread::spawn(move || {
                block_on(async {
                    for i in 0..PER {
                        let v = s * PER + i;
                        select! {
                            r = c1.send(v) => r.unwrap(),
                            r = c2.send(v) => r.unwrap(),
                        }
                    }
                })
            })
        })
        .collect();
    drop((c1tx, c2tx));
    let receivers: Vec<_> = (0..3)
        .map(|r| {
            let (c1, c2) = (c1rx.clone(), c2rx.clone());
            thread::spawn(move || {
                block_on(async {
                    let mut got = Vec::new();
                    if r == 2 {
                        while let Some(v) = c1.recv().await {
                            got.push(v);
                        }
                        return got;
                    }
                    loop {
                        select! {
                            v = c1.recv() => match v {
                                Some(v) => got.push(v),
                                None => {
                                    while let Some(v) = c2.recv().await {
                                        got.push(v);
                                    }
                                    break;
                                }
                            },
                            v = c2.recv() => match v {
                                Some(v) => got.push(v),
                                None => {
                                    while let Some(v) = c1.recv().await {
                                        got.push(v);
                                    }
                                    break;
                                }
                            },
                        }
                    }
                    got
                })
            })
        })
        .collect();
    drop((c1rx, c2rx));
    for s in senders {
        s.join().unwrap();
    }
    let mut all: Vec<u64> = receivers
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..2 * PER).collect::<Vec<_>>());
}

#[test]
fn losing_receive_arm_on_a_buffered_channel_takes_no_value() {
    // A select parked on two buffered channels; a value arrives on each
    // from other threads. Exactly one is taken, the other stays buffered.
    for _ in 0..500 {
        let (atx, arx) = chan::bounded::<u8>(1);
        let (btx, brx) = chan::unbounded::<u8>();
        let t = thread::spawn(move || {
            atx.try_send(1).unwrap();
            btx.try_send(2).unwrap();
            (atx, btx)
        });
        let got = block_on(async {
            select! {
                v = arx.recv() => v.unwrap(),
                v = brx.recv() => v.unwrap(),
            }
        });
        let _senders = t.join().unwrap();
        let left = if got == 1 {
            brx.try_recv()
        } else {
            arx.try_recv()
        };
        assert_eq!(left, Ok(3 - got), "the other value is still buffered");
        assert_eq!(arx.try_recv(), Err(TryRecvError::Empty));
        assert_eq!(brx.try_recv(), Err(TryRecvError::Empty));
    }
}

/// Iterations of the non-blocking select races below: Go's 100,000, unless
/// `GOSCHED_STRESS_SCALE` asks for a multiple (Go runs 1,000 in `-short`).
fn nonblock_race_iterations() -> usize {
    let scale = std::env::var("GOSCHED_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(1);
    100_000 * scale.max(1)
}

/// Go's `TestNonblockSelectRace`: select acts on the state of its channels
/// at one moment, not over a smeared window. One thread makes `c1` ready,
/// starts a second thread, makes `c2` ready, then makes `c1` not ready
/// (if it still can). From the second thread's start on, at least one of
/// `c1` and `c2` is always ready, so its non-blocking select must receive
/// from one of them and never run `default`.
#[test]
fn nonblock_select_never_takes_default_while_one_of_its_buffered_channels_is_ready() {
    let (done_tx, done_rx) = chan::bounded::<bool>(1);
    for _ in 0..nonblock_race_iterations() {
        let (c1_tx, c1_rx) = chan::bounded::<i32>(1);
        let (c2_tx, c2_rx) = chan::bounded::<i32>(1);
        c1_tx.try_send(1).unwrap();
        // The thread gets clones: the originals keep both channels open
        // (in Go, the garbage collector does).
        let (c1, c2, done) = (c1_rx.clone(), c2_rx.clone(), done_tx.clone());
        let t = thread::spawn(move || {
            block_on(async {
                select! {
                    _ = c1.recv() => {}
                    _ = c2.recv() => {}
                    default => {
                        done.send(false).await.unwrap();
                        return;
                    }
                }
                done.send(true).await.unwrap();
            })
        });
        block_on(async {
            c2_tx.send(1).await.unwrap();
            select! {
                _ = c1_rx.recv() => {}
                default => {}
            }
            assert!(done_rx.recv().await.unwrap(), "no chan is ready");
        });
        t.join().unwrap();
    }
}

/// Go's `TestNonblockSelectRace2`: as above, with `close(c2)` on an
/// unbuffered `c2` in place of the send.
#[test]
fn nonblock_select_never_takes_default_while_one_of_its_channels_is_ready_or_closed() {
    let (done_tx, done_rx) = chan::bounded::<bool>(1);
    for _ in 0..nonblock_race_iterations() {
        let (c1_tx, c1_rx) = chan::bounded::<i32>(1);
        let (c2_tx, c2_rx) = chan::bounded::<i32>(0);
        c1_tx.try_send(1).unwrap();
        // The thread gets clones: the originals keep both channels open
        // (in Go, the garbage collector does).
        let (c1, c2, done) = (c1_rx.clone(), c2_rx.clone(), done_tx.clone());
        let t = thread::spawn(move || {
            block_on(async {
                select! {
                    _ = c1.recv() => {}
                    _ = c2.recv() => {}
                    default => {
                        done.send(false).await.unwrap();
                        return;
                    }
                }
                done.send(true).await.unwrap();
            })
        });
        block_on(async {
            c2_tx.close();
            select! {
                _ = c1_rx.recv() => {}
                default => {}
            }
            assert!(done_rx.recv().await.unwrap(), "no chan is ready");
        });
        t.join().unwrap();
    }
}
