//! The primitives under the gosched runtime itself: many tasks on 2 Ps,
//! with the coop budget and wait reasons live. The 4x4 sizes scale with
//! `GOSCHED_STRESS_SCALE` (e.g. 50 in release: 1M+ messages per kind).
#![cfg(not(gosched_loom))]

use gosched_executor::{spawn, Runtime};
use gosched_sync::chan::{self, Receiver, Sender};
use gosched_sync::{select, Mutex, WaitGroup};
use std::sync::Arc;

/// `n` times the `GOSCHED_STRESS_SCALE` environment variable (default 1).
fn scaled(n: u64) -> u64 {
    let scale = std::env::var("GOSCHED_STRESS_SCALE")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(1);
    n * scale.max(1)
}

fn run_4x4(make: fn() -> (Sender<u64>, Receiver<u64>), per: u64) {
    let per = scaled(per);
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

#[test]
fn recv_loop_on_a_ready_channel_yields_to_other_tasks_through_the_coop_budget() {
    use std::sync::atomic::{AtomicBool, Ordering};
    // One P: another task can only run if the looping task yields.
    let rt = Runtime::builder().procs(1).build().unwrap();
    let ran_meanwhile = rt.block_on(async {
        spawn(async {
            let (tx, rx) = chan::unbounded::<u32>();
            for i in 0..10_000 {
                tx.try_send(i).unwrap();
            }
            let flag = Arc::new(AtomicBool::new(false));
            rx.recv().await.unwrap();
            let f = flag.clone();
            spawn(async move { f.store(true, Ordering::SeqCst) });
            // Every receive is ready: without the budget this loop would
            // finish in one poll and the task above would not run first.
            for _ in 1..10_000 {
                rx.recv().await.unwrap();
            }
            flag.load(Ordering::SeqCst)
        })
        .await
        .unwrap()
    });
    assert!(ran_meanwhile);
}

#[test]
fn parked_operations_report_go_wait_reasons_in_the_task_dump() {
    use gosched_executor::task::{TaskState, WaitReason};
    use gosched_sync::context::Context;
    use gosched_sync::{Cond, Notify, OnceCell, RwLock, Semaphore};

    let rt = Runtime::builder().procs(2).build().unwrap();
    let (recv_tx, recv_rx) = chan::bounded::<()>(0);
    let (send_tx, send_rx) = chan::bounded::<()>(0);
    let (sel_a_tx, sel_a) = chan::bounded::<()>(0);
    let (sel_b_tx, sel_b) = chan::bounded::<()>(0);
    let mutex = Arc::new(Mutex::new(()));
    let held = mutex.try_lock().unwrap();
    let rw = Arc::new(RwLock::new(()));
    let writer = rw.try_write().unwrap();
    let sem = Arc::new(Semaphore::new(0));
    let wg = WaitGroup::new();
    let wg_token = wg.token();
    let cond = Arc::new((Mutex::new(()), Cond::new()));
    let notify = Arc::new(Notify::new());
    let (ctx, cancel) = Context::background().with_cancel();
    let once = Arc::new(OnceCell::<()>::new());

    let _enter = rt.handle().enter();
    let mut hs = Vec::new();
    hs.push(spawn(async move { recv_rx.recv().await.is_none() }));
    hs.push(spawn(async move { send_tx.send(()).await.is_err() }));
    hs.push(spawn(async move {
        select! {
            _ = sel_a.recv() => true,
            _ = sel_b.recv() => true,
        }
    }));
    let m = mutex.clone();
    hs.push(spawn(async move {
        drop(m.lock().await);
        true
    }));
    let r = rw.clone();
    hs.push(spawn(async move {
        drop(r.read().await);
        true
    }));
    let s = sem.clone();
    hs.push(spawn(async move {
        drop(s.acquire().await);
        true
    }));
    let w = wg.clone();
    hs.push(spawn(async move {
        w.wait().await;
        true
    }));
    let c = cond.clone();
    hs.push(spawn(async move {
        let g = c.0.lock().await;
        drop(c.1.wait(g).await);
        true
    }));
    let n = notify.clone();
    hs.push(spawn(async move {
        n.notified().await;
        true
    }));
    let cx = ctx.clone();
    hs.push(spawn(async move {
        cx.done().await;
        true
    }));
    let (o1, o2) = (once.clone(), once.clone());
    let (init_started_tx, init_started) = chan::bounded::<()>(1);
    let (init_go_tx, init_go) = chan::bounded::<()>(0);
    hs.push(spawn(async move {
        o1.get_or_init(|| async move {
            init_started_tx.send(()).await.unwrap();
            let _ = init_go.recv().await;
        })
        .await;
        true
    }));
    hs.push(spawn(async move {
        init_started.recv().await;
        o2.get_or_init(|| async {}).await;
        true
    }));

    let expected = [
        WaitReason::ChanReceive,
        WaitReason::ChanSend,
        WaitReason::Select,
        WaitReason::MutexLock,
        WaitReason::RwLockRead,
        WaitReason::Semacquire,
        WaitReason::WaitGroupWait,
        WaitReason::CondWait,
        WaitReason::Notify,
        WaitReason::ContextDone,
        WaitReason::OnceWait,
    ];
    // Wait (without any timing assertion) until every task has parked.
    let mut reasons = Vec::new();
    for _ in 0..10_000 {
        reasons = rt
            .handle()
            .dump()
            .into_iter()
            .filter(|t| t.state == TaskState::Waiting)
            .map(|t| t.wait_reason)
            .collect::<Vec<_>>();
        if expected.iter().all(|r| reasons.contains(r)) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    for r in expected {
        assert!(reasons.contains(&r), "no task parked with {r}: {reasons:?}");
    }

    // Release everything; every task must finish.
    drop((recv_tx, send_rx, sel_a_tx, sel_b_tx, held, writer));
    sem.add_permits(1);
    drop(wg_token);
    cond.1.broadcast();
    notify.notify_one();
    cancel.cancel();
    drop(init_go_tx);
    rt.block_on(async move {
        for h in hs {
            assert!(h.await.unwrap());
        }
    });
}
