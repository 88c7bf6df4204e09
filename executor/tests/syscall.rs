//! Go's syscall model: a blocking call made through `syscall` keeps its
//! P while it is quick, and has the P handed to another thread when it
//! stays blocked while other tasks wait.

use std::sync::mpsc;
use std::time::Duration;

use gosched_executor::{syscall, Runtime};

/// Fails the test if `f` has not returned within `secs` (a hang guard).
fn within<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("still running after {secs} s"))
}

fn handoffs(rt: &Runtime) -> u64 {
    rt.handle().metrics().procs.iter().map(|p| p.handoffs).sum()
}

#[test]
fn a_blocked_syscall_has_its_p_handed_off_so_the_task_that_unblocks_it_runs() {
    within(60, || {
        // One P: unless sysmon hands it off, the waker below never runs.
        let rt = Runtime::builder().procs(1).build().unwrap();
        let (tx, rx) = mpsc::channel::<u32>();
        let (started_tx, started) = mpsc::channel();
        let blocked = rt.spawn(async move {
            syscall(move || {
                started_tx.send(()).unwrap();
                rx.recv().unwrap()
            })
        });
        started.recv().unwrap();
        let waker = rt.spawn(async move { tx.send(7).unwrap() });
        assert_eq!(rt.block_on(blocked).unwrap(), 7);
        rt.block_on(waker).unwrap();
        assert!(handoffs(&rt) >= 1, "sysmon retook the P");
    });
}

#[test]
fn quick_syscalls_with_nothing_else_to_run_never_hand_the_p_off() {
    let rt = Runtime::builder().procs(1).build().unwrap();
    let sum = rt
        .block_on(rt.spawn(async {
            let mut sum = 0u64;
            for i in 0..10_000u64 {
                sum += syscall(|| i);
            }
            sum
        }))
        .unwrap();
    assert_eq!(sum, 10_000 * 9_999 / 2);
    // No other task waited for the P, so sysmon had no reason to move it.
    assert_eq!(handoffs(&rt), 0);
}

#[test]
fn a_syscall_off_a_worker_just_runs_and_one_may_block_on_inside() {
    assert_eq!(syscall(|| 5), 5);
    let rt = Runtime::builder().procs(1).build().unwrap();
    let v =
        rt.block_on(rt.spawn(async {
            syscall(|| gosched_executor::Handle::current().block_on(async { 6 }))
        }))
        .unwrap();
    assert_eq!(v, 6);
}

#[test]
fn a_panic_inside_a_syscall_reaches_the_join_handle_and_the_worker_keeps_running() {
    let rt = Runtime::builder().procs(1).build().unwrap();
    let err = rt
        .block_on(rt.spawn(async { syscall(|| panic!("in the call")) }))
        .unwrap_err();
    assert!(err.is_panic());
    assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
}
