//! Mutex: exclusion, cancellation, and Go's starvation mode.
#![cfg(not(gosched_loom))]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use futures::executor::block_on;
use futures::task::noop_waker;
use gosched_sync::{Mutex, MutexGuard, STARVATION_THRESHOLD};

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    Pin::new(f).poll(&mut cx)
}

#[test]
fn four_threads_incrementing_under_the_lock_lose_no_update() {
    let m = Arc::new(Mutex::new(0u64));
    let ts: Vec<_> = (0..4)
        .map(|_| {
            let m = m.clone();
            thread::spawn(move || {
                block_on(async {
                    for _ in 0..20_000 {
                        let mut g = m.lock().await;
                        let v = *g;
                        *g = v + 1; // a read-modify-write that needs exclusion
                    }
                })
            })
        })
        .collect();
    ts.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(*block_on(m.lock()), 80_000);
}

#[test]
fn guard_is_send_so_it_can_cross_an_await_in_a_spawned_task() {
    fn assert_send<T: Send>() {}
    assert_send::<MutexGuard<'static, Vec<u8>>>();
    assert_send::<gosched_sync::LockFuture<'static, Vec<u8>>>();
}

#[test]
fn try_lock_fails_while_held_and_succeeds_after() {
    let m = Mutex::new(());
    let g = m.try_lock().unwrap();
    assert!(m.try_lock().is_none());
    assert!(m.try_lock().is_none(), "a failed try_lock must not unlock");
    drop(g);
    assert!(m.try_lock().is_some());
}

#[test]
fn dropped_lock_future_that_was_woken_passes_the_wakeup_on() {
    let m = Mutex::new(0);
    let g = m.try_lock().unwrap();
    let mut f1 = m.lock();
    let mut f2 = m.lock();
    assert!(poll_once(&mut f1).is_pending());
    assert!(poll_once(&mut f2).is_pending());
    drop(g); // normal mode: wakes f1
    drop(f1); // f1 never runs: its wake-up must go to f2
    assert!(poll_once(&mut f2).is_ready());
}

#[test]
fn dropped_queued_lock_future_leaves_no_waiter() {
    let m = Mutex::new(0);
    let g = m.try_lock().unwrap();
    let mut f = m.lock();
    assert!(poll_once(&mut f).is_pending());
    drop(f);
    drop(g);
    assert!(
        m.try_lock().is_some(),
        "unlock found no waiter and freed the lock"
    );
}

#[test]
fn waiter_that_lost_after_the_threshold_switches_to_direct_handoff() {
    let m = Mutex::new(0);
    let g = m.try_lock().unwrap();
    let mut waiter = m.lock();
    assert!(poll_once(&mut waiter).is_pending());
    // Let the waiter's wait exceed the threshold (a precondition, not a
    // timing assertion).
    thread::sleep(STARVATION_THRESHOLD * 3);
    drop(g); // normal mode: the waiter is woken ...
    let barger = m.try_lock().expect("... but a newcomer barges in first");
    assert!(poll_once(&mut waiter).is_pending(), "the waiter lost");
    assert!(
        m.is_starving(),
        "losing after 1 ms turns on starvation mode"
    );
    drop(barger); // starvation mode: ownership goes straight to the waiter
    assert!(m.try_lock().is_none(), "newcomers cannot barge any more");
    let guard = match poll_once(&mut waiter) {
        Poll::Ready(g) => g,
        Poll::Pending => panic!("the lock was not handed off"),
    };
    assert!(!m.is_starving(), "the queue drained: back to normal mode");
    drop(guard);
    assert!(m.try_lock().is_some());
}

#[test]
fn waiter_behind_a_hot_lock_loop_gets_the_lock_within_bounded_handoffs() {
    // A thread re-locks in a tight loop; another waits. Without starvation
    // mode the waiter can lose every race. With it, the waiter gets the
    // lock once it has waited 1 ms, long before the hot loop's bound.
    const BOUND: u64 = 50_000_000;
    let m = Arc::new(Mutex::new(()));
    let got = Arc::new(AtomicBool::new(false));
    let mut g = block_on(m.lock());
    let waiter = {
        let (m, got) = (m.clone(), got.clone());
        thread::spawn(move || {
            let _g = block_on(m.lock());
            got.store(true, Ordering::SeqCst);
        })
    };
    // Usually lets the waiter park before the hot loop starts; the test
    // holds either way.
    thread::sleep(Duration::from_millis(5));
    let mut iterations = 0u64;
    while !got.load(Ordering::SeqCst) && iterations < BOUND {
        drop(g);
        g = block_on(m.lock());
        iterations += 1;
    }
    drop(g);
    waiter.join().unwrap();
    assert!(got.load(Ordering::SeqCst));
    assert!(
        iterations < BOUND,
        "waiter starved for {iterations} re-locks"
    );
}

#[test]
fn owned_guard_moves_into_a_spawned_task_and_unlocks_there() {
    use gosched_sync::OwnedMutexGuard;
    fn assert_send_static<T: Send + 'static>(_: &T) {}
    let m = Arc::new(Mutex::new(0));
    let mut g = block_on(m.clone().lock_owned());
    assert_send_static(&g);
    *g += 1;
    assert!(m.try_lock().is_none());
    let rt = gosched_executor::Runtime::builder()
        .procs(1)
        .build()
        .unwrap();
    rt.block_on(async move {
        gosched_executor::spawn(async move {
            let _held: OwnedMutexGuard<i32> = g;
        })
        .await
        .unwrap();
    });
    assert_eq!(*m.try_lock().expect("unlocked by the task"), 1);
}
