//! End-to-end behaviour of the executor: spawn, join, panics, abort,
//! shutdown, futures compatibility, and the runnext steal.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gosched_executor::{spawn, yield_now, Handle, Runtime};

fn rt(procs: usize) -> Runtime {
    Runtime::builder().procs(procs).build().unwrap()
}

#[test]
fn spawned_task_output_reaches_the_join_handle() {
    let rt = rt(2);
    let leaks = gosched_executor::leak::LeakGuard::new(rt.handle());
    assert_eq!(rt.block_on(async { spawn(async { 5 }).await.unwrap() }), 5);
    let h = rt.spawn(async { String::from("out") });
    assert_eq!(rt.block_on(h).unwrap(), "out");
    leaks.check().unwrap();
}

#[test]
fn a_panicking_task_reports_the_panic_and_the_worker_survives() {
    let rt = rt(1);
    let err = rt.block_on(async { spawn(async { panic!("kaboom") }).await.unwrap_err() });
    assert!(err.is_panic());
    assert!(!err.is_cancelled());
    assert!(err.to_string().contains("kaboom"), "{err}");
    // The single worker is still alive and runs more tasks.
    let v = rt.block_on(async {
        let hs: Vec<_> = (0..100).map(|i| spawn(async move { i })).collect();
        let mut s = 0;
        for h in hs {
            s += h.await.unwrap();
        }
        s
    });
    assert_eq!(v, 4950);
}

#[test]
fn panic_payload_is_returned_by_into_panic() {
    let rt = rt(1);
    let err = rt.block_on(async {
        spawn(async { std::panic::panic_any(17u32) })
            .await
            .unwrap_err()
    });
    assert_eq!(*err.into_panic().downcast::<u32>().unwrap(), 17);
}

#[test]
fn abort_cancels_a_parked_task_and_drops_its_future() {
    struct Flag(Arc<AtomicUsize>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let rt = rt(2);
    let dropped = Arc::new(AtomicUsize::new(0));
    let f = Flag(dropped.clone());
    let h = rt.spawn(async move {
        let _f = f;
        futures::future::pending::<()>().await;
    });
    std::thread::sleep(Duration::from_millis(10));
    assert!(!h.is_finished());
    h.abort();
    let err = rt.block_on(h).unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

#[test]
fn abort_after_completion_keeps_the_output() {
    let rt = rt(1);
    let h = rt.spawn(async { 3 });
    while !h.is_finished() {
        std::thread::yield_now();
    }
    h.abort();
    assert_eq!(rt.block_on(h).unwrap(), 3);
}

#[test]
fn dropping_the_runtime_drops_every_future_including_parked_ones() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Counted;
    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
        }
    }
    let rt = rt(2);
    let n = 100_000;
    for i in 0..n {
        let c = Counted;
        // Half parked forever on a future nobody wakes, half on a
        // never-completing channel whose sender is kept alive in the task.
        if i % 2 == 0 {
            drop(rt.spawn(async move {
                let _c = c;
                futures::future::pending::<()>().await;
            }));
        } else {
            drop(rt.spawn(async move {
                let _c = c;
                let (_tx, rx) = futures::channel::oneshot::channel::<()>();
                let _ = rx.await;
            }));
        }
    }
    // Wait until every task has parked (each has been polled once).
    let h = rt.handle().clone();
    while h.metrics().procs.iter().map(|p| p.polls).sum::<u64>() < n as u64 {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(h.num_tasks(), n);
    drop(rt);
    assert_eq!(DROPS.load(Ordering::SeqCst), n);
    assert_eq!(h.num_tasks(), 0);
}

#[test]
fn join_handles_outliving_the_runtime_report_cancelled() {
    let rt = rt(1);
    let h = rt.spawn(futures::future::pending::<()>());
    drop(rt);
    assert!(h.is_finished());
    let err = futures::executor::block_on(h).unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn spawn_after_shutdown_is_cancelled_not_leaked() {
    let rt = rt(1);
    let handle = rt.handle().clone();
    drop(rt);
    let h = handle.spawn(async { 1 });
    assert!(futures::executor::block_on(h).unwrap_err().is_cancelled());
}

#[test]
#[should_panic(expected = "block_on called from inside a runtime worker")]
fn block_on_inside_a_worker_panics_with_a_clear_message() {
    let rt = rt(1);
    let h = rt.handle().clone();
    let res = rt.block_on(rt.spawn(async move { h.block_on(async {}) }));
    std::panic::resume_unwind(res.unwrap_err().into_panic());
}

#[test]
fn bad_procs_values_are_errors_not_panics() {
    let err = Runtime::builder().procs(0).build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn futures_crate_code_runs_unchanged() {
    use futures::stream::{FuturesUnordered, StreamExt};
    use futures::task::SpawnExt;
    let rt = rt(2);
    let leaks = gosched_executor::leak::LeakGuard::new(rt.handle());
    let handle = rt.handle().clone();
    let total = rt.block_on(async move {
        // futures::task::Spawn
        let (tx, rx) = futures::channel::oneshot::channel();
        SpawnExt::spawn(&handle, async move { tx.send(7).unwrap() }).unwrap();
        let seven = rx.await.unwrap();
        // mpsc + FuturesUnordered + join_all + select
        let (mut mtx, mut mrx) = futures::channel::mpsc::channel::<u32>(4);
        let producer = spawn(async move {
            use futures::SinkExt;
            for i in 0..100 {
                mtx.send(i).await.unwrap();
            }
        });
        let mut sum = 0;
        while let Some(v) = mrx.next().await {
            sum += v;
        }
        producer.await.unwrap();
        let mut fu: FuturesUnordered<_> = (0..10u32).map(|i| spawn(async move { i })).collect();
        let mut fsum = 0;
        while let Some(v) = fu.next().await {
            fsum += v.unwrap();
        }
        let all = futures::future::join_all((0..5u32).map(|i| async move { i })).await;
        let lock = futures::lock::Mutex::new(0u32);
        *lock.lock().await += 1;
        let sel = futures::select! {
            a = futures::future::ready(1u32) => a,
        };
        let locked = *lock.lock().await;
        seven + sum + fsum + all.iter().sum::<u32>() + locked + sel
    });
    assert_eq!(total, 7 + 4950 + 45 + 10 + 1 + 1);
    leaks.check().unwrap();
}

#[test]
fn spawn_outside_any_runtime_uses_the_global_runtime() {
    let h = spawn(async { Handle::current().procs() });
    assert!(gosched_executor::block_on(h).unwrap() >= 1);
}

#[test]
fn run_starts_and_stops_a_runtime() {
    assert_eq!(
        gosched_executor::run(async { spawn(async { 1 }).await.unwrap() }),
        1
    );
}

#[test]
fn spawn_blocking_runs_off_the_workers() {
    let rt = rt(1);
    let v = rt.block_on(async {
        let hs: Vec<_> = (0..8)
            .map(|i| {
                gosched_executor::spawn_blocking(move || {
                    std::thread::sleep(Duration::from_millis(5));
                    i
                })
            })
            .collect();
        let mut s = 0;
        for h in hs {
            s += h.await.unwrap();
        }
        s
    });
    assert_eq!(v, 28);
}

#[test]
fn a_child_spawned_before_its_parent_blocks_is_stolen_from_runnext() {
    // The parent spawns a child (it lands in runnext) and then blocks its
    // thread until the child runs. On a runtime whose runnext cannot be
    // stolen this waits out the whole timeout.
    let rt = rt(2);
    let ran = rt.block_on(rt.spawn(async {
        let (tx, rx) = std::sync::mpsc::channel();
        let _child = spawn(async move { tx.send(()).unwrap() });
        rx.recv_timeout(Duration::from_secs(20)).is_ok()
    }));
    assert!(ran.unwrap(), "child never started while its parent blocked");
}

#[test]
fn yield_now_lets_every_queued_task_run() {
    // One P: a task that yields in a loop must not starve the others.
    let rt = rt(1);
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let v = rt.block_on(rt.spawn(async move {
        let hs: Vec<_> = (0..50)
            .map(|_| {
                let d = d.clone();
                spawn(async move {
                    d.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        let mut spins = 0;
        while d.load(Ordering::SeqCst) < 50 {
            yield_now().await;
            spins += 1;
            assert!(spins < 10_000, "yielding task starved the others");
        }
        for h in hs {
            h.await.unwrap();
        }
        d.load(Ordering::SeqCst)
    }));
    assert_eq!(v.unwrap(), 50);
    assert_eq!(done.load(Ordering::SeqCst), 50);
}

#[test]
fn two_tasks_waking_each_other_do_not_starve_a_third() {
    // Ping-pong through runnext on one P must leave room for the ring.
    let rt = rt(1);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (s1, s2) = (stop.clone(), stop.clone());
    let ok = rt.block_on(rt.spawn(async move {
        let (mut a_tx, mut a_rx) = futures::channel::mpsc::channel::<()>(0);
        let (mut b_tx, mut b_rx) = futures::channel::mpsc::channel::<()>(0);
        use futures::{SinkExt, StreamExt};
        let p1 = spawn(async move {
            while !s1.load(Ordering::SeqCst) {
                if a_tx.send(()).await.is_err() || b_rx.next().await.is_none() {
                    break;
                }
            }
        });
        let p2 = spawn(async move {
            while !s2.load(Ordering::SeqCst) {
                if a_rx.next().await.is_none() || b_tx.send(()).await.is_err() {
                    break;
                }
            }
        });
        let third = spawn(async { 1 });
        let r = third.await.unwrap();
        stop.store(true, Ordering::SeqCst);
        p1.abort();
        p2.abort();
        r
    }));
    assert_eq!(ok.unwrap(), 1);
}

#[test]
fn num_tasks_counts_live_tasks() {
    let rt = rt(2);
    let h = rt.handle().clone();
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let t = rt.spawn(async move {
        let _ = rx.await;
    });
    assert_eq!(h.num_tasks(), 1);
    let dump = h.dump();
    assert_eq!(dump.len(), 1);
    assert!(dump[0].location.file().ends_with("runtime.rs"));
    tx.send(()).unwrap();
    rt.block_on(t).unwrap();
    assert_eq!(h.num_tasks(), 0);
}

/// An always-ready leaf that spends coop budget, like a channel that
/// always holds a value.
struct AlwaysReady;

impl std::future::Future for AlwaysReady {
    type Output = ();
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        std::task::ready!(gosched_executor::coop::poll_proceed(cx)).made_progress();
        std::task::Poll::Ready(())
    }
}

#[test]
fn a_task_looping_on_ready_leaves_is_made_to_yield_by_the_budget() {
    let rt = rt(1);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let hog = rt.spawn(async move {
        let mut n = 0u64;
        while !s.load(Ordering::Relaxed) {
            AlwaysReady.await;
            n += 1;
        }
        n
    });
    // With one P, this task runs only if the hog yields.
    let other = rt.spawn(async { 7 });
    assert_eq!(rt.block_on(other).unwrap(), 7);
    stop.store(true, Ordering::Relaxed);
    assert!(rt.block_on(hog).unwrap() > 0);
    let forced: u64 = rt
        .handle()
        .metrics()
        .procs
        .iter()
        .map(|p| p.forced_yields)
        .sum();
    assert!(forced >= 1, "the budget never forced a yield");
}

#[test]
fn dump_grouped_counts_tasks_by_site_state_and_reason() {
    let rt = rt(1);
    let h = rt.handle().clone();
    let mut keep = Vec::new();
    for _ in 0..5 {
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        keep.push(tx);
        drop(rt.spawn(async move {
            // A JoinHandle wait sets the `join` wait reason.
            let _ = spawn(async move {
                let _ = rx.await;
            })
            .await;
        }));
    }
    // 5 parents waiting on join, 5 children waiting with no reason.
    let wait_until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let g = h.dump_grouped();
        if g.total == 10
            && g.groups
                .iter()
                .all(|g| g.state == gosched_executor::task::TaskState::Waiting)
        {
            assert_eq!(g.groups.len(), 2);
            assert!(g.groups.iter().all(|g| g.count == 5));
            assert!(g
                .groups
                .iter()
                .any(|g| g.wait_reason == gosched_executor::task::WaitReason::Join));
            let text = g.to_string();
            assert!(text.starts_with("tasks: total 10"), "{text}");
            assert!(text.contains("[waiting, join"), "{text}");
            break;
        }
        assert!(
            std::time::Instant::now() < wait_until,
            "tasks never parked: {}",
            h.dump_grouped()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(keep);
}

#[test]
fn leak_guard_names_a_leaked_task_and_passes_when_tasks_finish() {
    let rt = rt(1);
    let guard = gosched_executor::leak::LeakGuard::new(rt.handle());
    let done = rt.spawn(async { 1 });
    assert_eq!(rt.block_on(done).unwrap(), 1);
    guard.check().expect("a finished task is no leak");

    let guard =
        gosched_executor::leak::LeakGuard::new(rt.handle()).grace(Duration::from_millis(20));
    let (_tx, rx) = futures::channel::oneshot::channel::<()>();
    let leaked = rt.spawn(async move {
        let _ = rx.await;
    });
    let report = guard.check().unwrap_err();
    assert_eq!(report.leaked.len(), 1);
    assert_eq!(report.leaked[0].id, leaked.id());
    assert!(report.to_string().contains("tests/runtime.rs"), "{report}");
}

#[test]
fn schedtrace_prints_go_s_sched_line() {
    let rt = rt(2);
    let line = rt.handle().schedtrace(true);
    let first = line.lines().next().unwrap();
    assert!(
        first.starts_with("SCHED 0ms: gomaxprocs=2 idleprocs="),
        "{first}"
    );
    for field in ["threads=", "spinningthreads=", "idlethreads=", "runqueue="] {
        assert!(first.contains(field), "{first}");
    }
    assert!(first.ends_with(']'), "{first}");
    assert!(line.contains("  P0: status="), "{line}");
    assert!(line.contains("  M1: p="), "{line}");
}

#[test]
fn gosched_debug_schedtrace_prints_from_a_child_process() {
    // The runtime reads GOSCHED_DEBUG at build time; run this test binary
    // again as a child with it set, and look at what it printed.
    if std::env::var("GOSCHED_SCHEDTRACE_CHILD").is_ok() {
        let rt = rt(2);
        std::thread::sleep(Duration::from_millis(120));
        drop(rt);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "gosched_debug_schedtrace_prints_from_a_child_process",
            "--nocapture",
        ])
        .env("GOSCHED_SCHEDTRACE_CHILD", "1")
        .env("GOSCHED_DEBUG", "schedtrace=20")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert!(
        err.lines().filter(|l| l.starts_with("SCHED ")).count() >= 2,
        "{err}"
    );

    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "gosched_debug_schedtrace_prints_from_a_child_process",
            "--nocapture",
        ])
        .env("GOSCHED_SCHEDTRACE_CHILD", "1")
        .env("GOSCHED_DEBUG", "schedtrace=oops")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "a bad GOSCHED_DEBUG must not stop the program"
    );
    assert_eq!(
        err.matches("gosched: ignoring GOSCHED_DEBUG").count(),
        1,
        "{err}"
    );
}

#[test]
fn dumps_say_how_long_a_task_has_waited() {
    let rt = rt(1);
    let h = rt.handle().clone();
    // A parent waiting on its child's JoinHandle records the `join` reason.
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let parent = rt.spawn(async move {
        let _ = spawn(async move {
            let _ = rx.await;
        })
        .await;
    });
    std::thread::sleep(Duration::from_millis(300));
    let waiting: Vec<_> = h
        .dump()
        .into_iter()
        .filter(|t| t.wait_reason == gosched_executor::task::WaitReason::Join)
        .collect();
    assert_eq!(waiting.len(), 1);
    let waited = waiting[0]
        .waiting_for
        .expect("a join wait has a start time");
    assert!(
        waited >= Duration::from_millis(100),
        "waited only {waited:?}"
    );
    assert!(
        h.dump_grouped().to_string().contains("[waiting, join, "),
        "{}",
        h.dump_grouped()
    );
    tx.send(()).unwrap();
    rt.block_on(parent).unwrap();
}

/// Set in the child process of
/// `bad_gosched_procs_error_says_gosched_once_and_names_the_variable`.
const PROCS_CHILD_ENV: &str = "GOSCHED_TEST_BAD_PROCS_CHILD";

#[test]
fn bad_gosched_procs_error_says_gosched_once_and_names_the_variable() {
    if std::env::var_os(PROCS_CHILD_ENV).is_some() {
        // The child: GOSCHED_PROCS=abc, so `run` panics.
        gosched_executor::run(async {});
        return;
    }
    // The variable is process-wide, so the run happens in a child process
    // (this test binary, filtered to this test).
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "bad_gosched_procs_error_says_gosched_once_and_names_the_variable",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(PROCS_CHILD_ENV, "1")
        .env(gosched_executor::PROCS_ENV, "abc")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "run with GOSCHED_PROCS=abc succeeded"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("cannot start a runtime"))
        .unwrap_or_else(|| panic!("no panic message in the child's stderr:\n{stderr}"));
    assert!(
        line.contains(r#"gosched: cannot start a runtime: GOSCHED_PROCS must be a positive integer, got "abc""#),
        "{line}"
    );
    assert_eq!(line.matches("gosched:").count(), 1, "{line}");
}
