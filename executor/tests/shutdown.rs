//! Shutdown that makes progress whatever is stuck, and the thread roles
//! around blocking code: `block_on` inside `block_in_place`, and
//! `spawn_blocking` closures that run in their runtime's context.
//!
//! Every wait here is a hang guard, never a timing assertion.

use std::sync::mpsc;
use std::time::Duration;

use gosched_executor::{block_in_place, yield_now, Handle, Runtime};

/// Runs `f` on a thread and fails the test if it has not returned within
/// `secs` (a hang guard for shutdown bugs, generous for loaded machines).
fn within<R: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(_) => panic!("{what}: still running after {secs} s"),
    }
}

#[test]
fn dropping_the_runtime_does_not_hang_when_a_block_in_place_task_waits_on_a_parked_task() {
    within(60, "runtime drop", || {
        let rt = Runtime::builder().procs(2).build().unwrap();
        let (tx, rx) = mpsc::channel::<u32>();
        let (in_place_tx, in_place) = mpsc::channel();
        // Parked forever, owning the only sender.
        rt.spawn(async move {
            let _tx = tx;
            futures::future::pending::<()>().await;
        });
        // Blocked in place on the receive: only the drop of the parked
        // task's future ends it.
        rt.spawn(async move {
            block_in_place(|| {
                in_place_tx.send(()).unwrap();
                assert!(rx.recv().is_err(), "the sender was dropped, never used");
            });
        });
        in_place.recv().unwrap();
        drop(rt);
    });
}

#[test]
fn shutdown_timeout_returns_while_a_worker_is_stuck_in_a_poll() {
    let (release_tx, release) = mpsc::channel::<()>();
    let clean = within(60, "shutdown_timeout", move || {
        let rt = Runtime::builder().procs(1).build().unwrap();
        let (started_tx, started) = mpsc::channel();
        rt.spawn(async move {
            started_tx.send(()).unwrap();
            // Blocks its worker until the test lets it go.
            let _ = release.recv();
        });
        started.recv().unwrap();
        rt.shutdown_timeout(Duration::from_millis(50))
    });
    assert!(!clean, "a worker was still inside its poll");
    // The stuck worker, once free, exits and frees the scheduler.
    release_tx.send(()).unwrap();
}

#[test]
fn shutdown_timeout_reports_a_clean_shutdown_when_nothing_is_stuck() {
    let clean = within(60, "shutdown_timeout", || {
        let rt = Runtime::builder().procs(2).build().unwrap();
        for _ in 0..100 {
            rt.spawn(futures::future::pending::<()>());
        }
        rt.shutdown_timeout(Duration::from_secs(30))
    });
    assert!(clean);
}

#[test]
fn shutdown_background_leaves_a_running_blocking_closure_behind_and_cancels_the_rest() {
    let (release_tx, release) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let rt = Runtime::builder()
        .procs(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let running = rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        let _ = release.recv();
        7
    });
    started.recv().unwrap();
    // Queued behind the running one on the only pool thread.
    let queued = rt.spawn_blocking(|| 8);
    let parked = rt.spawn(futures::future::pending::<()>());
    within(60, "shutdown_background", move || rt.shutdown_background());
    release_tx.send(()).unwrap();
    assert_eq!(gosched_executor::block_on(running).unwrap(), 7);
    assert!(gosched_executor::block_on(queued)
        .unwrap_err()
        .is_cancelled());
    assert!(gosched_executor::block_on(parked)
        .unwrap_err()
        .is_cancelled());
}

#[test]
fn block_on_runs_inside_block_in_place_with_yields_spawns_and_nested_block_in_place() {
    let rt = Runtime::builder().procs(2).build().unwrap();
    let out = rt.block_on(rt.spawn(async {
        block_in_place(|| {
            Handle::current().block_on(async {
                for _ in 0..10 {
                    yield_now().await;
                }
                let lock = futures::lock::Mutex::new(1);
                *lock.lock().await += 1;
                let spawned = gosched_executor::spawn(async { 40 }).await.unwrap();
                let nested = block_in_place(|| 0);
                let total = spawned + *lock.lock().await + nested;
                total
            })
        })
    }));
    assert_eq!(out.unwrap(), 42);
}

#[test]
fn block_on_on_a_worker_still_panics_with_advice() {
    let rt = Runtime::builder().procs(1).build().unwrap();
    let err = rt
        .block_on(rt.spawn(async { Handle::current().block_on(async {}) }))
        .unwrap_err();
    let msg = err.into_panic();
    let msg = msg
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| msg.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap();
    assert!(
        msg.contains("block_on called from inside a runtime worker"),
        "{msg}"
    );
}

#[test]
fn spawn_blocking_closures_run_in_their_runtime_and_spawn_onto_it() {
    let rt = Runtime::builder().procs(1).build().unwrap();
    let handle = rt.handle().clone();
    let (same_runtime, spawned_here) = rt
        .block_on(rt.spawn_blocking(move || {
            let current = Handle::try_current();
            let same = current.as_ref() == Some(&handle);
            // A spawn from the closure lands on this runtime, not the
            // global one: its task sees this runtime as current.
            let inner = gosched_executor::spawn(async { Handle::try_current() });
            let inner = gosched_executor::block_on(inner).unwrap();
            (same, inner == Some(handle))
        }))
        .unwrap();
    assert!(same_runtime, "the closure ran outside its runtime");
    assert!(spawned_here, "the closure's spawn went to another runtime");
}

#[test]
fn zero_blocking_threads_is_rejected_with_a_clear_error() {
    let err = Runtime::builder()
        .max_blocking_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("max_blocking_threads"), "{err}");
}
