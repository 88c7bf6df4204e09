//! Loom models of the mutex: normal-mode wake-ups, starvation hand-off and
//! cancellation, with exact counts. Under loom a waiter counts as starving
//! after losing once (see `LockWaiter::starving`), so small models reach
//! the hand-off path.

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

use crate::Mutex;

#[test]
fn loom_mutex_two_lockers_each_increment_once() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(0u32));
        let m2 = m.clone();
        let t = thread::spawn(move || {
            *block_on(m2.lock()) += 1;
        });
        *block_on(m.lock()) += 1;
        t.join().unwrap();
        assert_eq!(*block_on(m.lock()), 2);
    });
}

#[test]
fn loom_mutex_barging_relocker_and_waiter_reach_handoff_without_deadlock() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(0u32));
        let m2 = m.clone();
        let t = thread::spawn(move || {
            *block_on(m2.lock()) += 1;
        });
        for _ in 0..2 {
            *block_on(m.lock()) += 10;
        }
        t.join().unwrap();
        assert_eq!(*block_on(m.lock()), 21);
        assert!(!m.is_starving(), "the queue drained: normal mode");
    });
}

#[test]
fn loom_mutex_cancelled_waiter_does_not_strand_the_lock() {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::Context;
    loom::model(|| {
        let m = Arc::new(Mutex::new(0u32));
        let m2 = m.clone();
        let t = thread::spawn(move || {
            let mut f = m2.lock();
            let waker = futures::task::noop_waker();
            let mut cx = Context::from_waker(&waker);
            if let std::task::Poll::Ready(mut g) = Pin::new(&mut f).poll(&mut cx) {
                *g += 1;
            }
            // dropped: parked, woken, or granted — all must clean up
        });
        *block_on(m.lock()) += 10;
        t.join().unwrap();
        let v = *block_on(m.lock());
        assert!(v == 10 || v == 11, "{v}");
    });
}
