//! Stress: many tasks on 2 procs with both cores busy; every task counted
//! exactly once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use gosched_executor::{spawn, yield_now, Runtime};

#[test]
fn one_million_tasks_on_two_procs_each_run_exactly_once() {
    let rt = Runtime::builder().procs(2).build().unwrap();
    let n: u64 = if cfg!(debug_assertions) {
        200_000
    } else {
        1_000_000
    };
    let seen = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect::<Vec<_>>());
    let s = seen.clone();
    let sum = rt.block_on(async move {
        // Spawned from two tasks at once, so both Ps spawn and steal.
        let halves: Vec<_> = (0..2u64)
            .map(|half| {
                let s = s.clone();
                spawn(async move {
                    let mut hs = Vec::with_capacity((n / 2) as usize);
                    for i in (half..n).step_by(2) {
                        let s = s.clone();
                        hs.push(spawn(async move {
                            if i % 7 == 0 {
                                yield_now().await;
                            }
                            s[i as usize].fetch_add(1, Ordering::Relaxed);
                            i
                        }));
                    }
                    let mut sum = 0;
                    for h in hs {
                        sum += h.await.unwrap();
                    }
                    sum
                })
            })
            .collect();
        let mut sum = 0;
        for h in halves {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, n * (n - 1) / 2);
    assert!(seen.iter().all(|c| c.load(Ordering::Relaxed) == 1));
}

#[test]
fn remote_spawns_and_wakes_from_many_threads_are_all_delivered() {
    let rt = Runtime::builder().procs(2).build().unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let h = rt.handle().clone();
            let c = count.clone();
            std::thread::spawn(move || {
                let mut hs = Vec::new();
                for _ in 0..20_000 {
                    let c = c.clone();
                    let (tx, rx) = futures::channel::oneshot::channel::<()>();
                    hs.push(h.spawn(async move {
                        rx.await.unwrap();
                        c.fetch_add(1, Ordering::Relaxed);
                    }));
                    // Wake from outside the runtime.
                    tx.send(()).unwrap();
                }
                for j in hs {
                    futures::executor::block_on(j).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(count.load(Ordering::Relaxed), 80_000);
}

#[test]
fn a_full_ring_overflows_to_the_global_queue_without_loss() {
    // One task spawns far more than 256 children without yielding, so the
    // ring overflows (runqputslow) many times.
    let rt = Runtime::builder().procs(1).build().unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let c = count.clone();
    rt.block_on(rt.spawn(async move {
        let hs: Vec<_> = (0..10_000)
            .map(|_| {
                let c = c.clone();
                spawn(async move {
                    c.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    }))
    .unwrap();
    assert_eq!(count.load(Ordering::Relaxed), 10_000);
}

#[test]
fn a_remote_spawn_racing_the_last_m_going_idle_is_never_stranded() {
    // One P: the only M goes idle between tasks, racing each remote push
    // into the global queue. A lost wake-up strands the task; the watchdog
    // turns that into a failure instead of a hang.
    let rt = Runtime::builder().procs(1).build().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    for i in 0..50_000u32 {
        let tx = tx.clone();
        drop(rt.spawn(async move { tx.send(i).unwrap() }));
        match rx.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok(got) => assert_eq!(got, i),
            Err(_) => panic!(
                "task {i} stranded in the global queue with the M asleep\n{}\n{:?}",
                rt.handle().schedtrace(true),
                rt.handle().metrics()
            ),
        }
    }
}
