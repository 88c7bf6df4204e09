//! The primitives under the gosched runtime itself: many tasks on 2 Ps,
//! with the coop budget and wait reasons live.
#![cfg(not(gosched_loom))]

use gosched_executor::{spawn, Runtime};
use gosched_sync::chan::{self, Receiver, Sender};
use gosched_sync::{select, Mutex, WaitGroup};
use std::sync::Arc;

fn run_4x4(make: fn() -> (Sender<u64>, Receiver<u64>), per: u64) {
    let rt = Runtime::builder().procs(2).build().unwrap();
    let mut all = rt.block_on(async move {
        let (tx, rx) = make();
        for p in 0..4 {
            let tx = tx.clone();
            spawn(async move {
                for i in 0..per {
                    tx.send(p * per + i).await.unwrap();
                }
            });
        }
        drop(tx);
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let rx = rx.clone();
                spawn(async move {
                    let mut got = Vec::new();
                    while let Some(v) = rx.recv().await {
                        got.push(v);
                    }
                    got
                })
            })
            .collect();
        let mut all = Vec::new();
        for c in consumers {
            all.extend(c.await.unwrap());
        }
        all
    });
    all.sort_unstable();
    assert_eq!(all, (0..4 * per).collect::<Vec<_>>());
}

#[test]
fn runtime_tasks_4x4_rendezvous_every_value_exactly_once() {
    run_4x4(|| chan::bounded(0), 20_000);
}

#[test]
fn runtime_tasks_4x4_bounded64_every_value_exactly_once() {
    run_4x4(|| chan::bounded(64), 50_000);
}

#[test]
fn runtime_tasks_4x4_unbounded_every_value_exactly_once() {
    run_4x4(chan::unbounded, 50_000);
}

#[test]
fn runtime_select_ping_pong_over_rendezvous_channels() {
    let rt = Runtime::builder().procs(2).build().unwrap();
    let n = rt.block_on(async {
        let (ping_tx, ping_rx) = chan::bounded::<u32>(0);
        let (pong_tx, pong_rx) = chan::bounded::<u32>(0);
        let (quit_tx, quit_rx) = chan::bounded::<()>(0);
        spawn(async move {
            loop {
                select! {
                    v = ping_rx.recv() => { pong_tx.send(v.unwrap() + 1).await.unwrap(); }
                    _ = quit_rx.recv() => break,
                }
            }
        });
        let mut v = 0;
        for _ in 0..10_000 {
            ping_tx.send(v).await.unwrap();
            v = pong_rx.recv().await.unwrap();
        }
        quit_tx.send(()).await.unwrap();
        v
    });
    assert_eq!(n, 10_000);
}

#[test]
fn runtime_100_tasks_contending_on_a_mutex_lose_no_update() {
    let rt = Runtime::builder().procs(2).build().unwrap();
    let total = rt.block_on(async {
        let m = Arc::new(Mutex::new(0u64));
        let wg = WaitGroup::new();
        for _ in 0..100 {
            let (m, t) = (m.clone(), wg.token());
            spawn(async move {
                for _ in 0..1_000 {
                    *m.lock().await += 1;
                }
                drop(t);
            });
        }
        wg.wait().await;
        let v = *m.lock().await;
        v
    });
    assert_eq!(total, 100_000);
}
