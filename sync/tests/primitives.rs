//! Semaphore, WaitGroup, Notify and oneshot.
#![cfg(not(gosched_loom))]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;

use futures::executor::block_on;
use futures::task::noop_waker;
use gosched_sync::{oneshot, Notify, Semaphore, WaitGroup};

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    Pin::new(f).poll(&mut cx)
}

#[test]
fn semaphore_never_lets_more_than_its_permits_in() {
    let sem = Arc::new(Semaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let ts: Vec<_> = (0..6)
        .map(|_| {
            let (sem, inside, max) = (sem.clone(), inside.clone(), max.clone());
            thread::spawn(move || {
                block_on(async {
                    for _ in 0..2_000 {
                        let _p = sem.acquire().await;
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        max.fetch_max(now, Ordering::SeqCst);
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
        })
        .collect();
    ts.into_iter().for_each(|t| t.join().unwrap());
    assert!(max.load(Ordering::SeqCst) <= 3);
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn semaphore_is_fifo_a_large_request_at_the_front_blocks_smaller_ones() {
    let sem = Semaphore::new(2);
    let held = sem.try_acquire_many(2).unwrap();
    let mut big = sem.acquire_many(2);
    let mut small = sem.acquire_many(1);
    assert!(poll_once(&mut big).is_pending());
    assert!(poll_once(&mut small).is_pending());
    assert!(sem.try_acquire().is_none(), "queued waiters come first");
    drop(held);
    assert!(poll_once(&mut small).is_pending(), "small waits behind big");
    let big_permit = match poll_once(&mut big) {
        Poll::Ready(p) => p,
        Poll::Pending => panic!("big was granted first"),
    };
    drop(big_permit);
    assert!(poll_once(&mut small).is_ready());
}

#[test]
fn semaphore_cancelled_front_waiter_lets_the_next_one_in() {
    let sem = Semaphore::new(1);
    let mut big = sem.acquire_many(2);
    let mut small = sem.acquire();
    assert!(poll_once(&mut big).is_pending());
    assert!(poll_once(&mut small).is_pending());
    drop(big);
    assert!(poll_once(&mut small).is_ready());
}

#[test]
fn semaphore_cancelled_granted_waiter_returns_its_permits() {
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut w = sem.acquire();
    assert!(poll_once(&mut w).is_pending());
    drop(held); // grants w
    assert_eq!(sem.available_permits(), 0);
    drop(w); // never polled again: the permit comes back
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn waitgroup_wait_returns_after_every_done() {
    let wg = WaitGroup::new();
    let done = Arc::new(AtomicUsize::new(0));
    let ts: Vec<_> = (0..8)
        .map(|_| {
            let (token, done) = (wg.token(), done.clone());
            thread::spawn(move || {
                done.fetch_add(1, Ordering::SeqCst);
                drop(token);
            })
        })
        .collect();
    block_on(wg.wait());
    assert_eq!(done.load(Ordering::SeqCst), 8);
    ts.into_iter().for_each(|t| t.join().unwrap());
}

#[test]
fn waitgroup_releases_all_waiters_and_can_be_reused() {
    let wg = WaitGroup::new();
    wg.add(1);
    let mut w1 = wg.wait();
    let mut w2 = wg.wait();
    assert!(poll_once(&mut w1).is_pending());
    assert!(poll_once(&mut w2).is_pending());
    wg.done();
    assert!(poll_once(&mut w1).is_ready() && poll_once(&mut w2).is_ready());
    wg.add(1);
    let mut w3 = wg.wait();
    assert!(poll_once(&mut w3).is_pending(), "a new round");
    wg.done();
    assert!(poll_once(&mut w3).is_ready());
}

#[test]
#[should_panic(expected = "negative WaitGroup counter")]
fn waitgroup_done_below_zero_panics_like_go() {
    WaitGroup::new().done();
}

#[test]
fn notify_one_before_wait_is_kept_as_one_permit() {
    let n = Notify::new();
    n.notify_one();
    n.notify_one();
    let mut a = n.notified();
    let mut b = n.notified();
    assert!(poll_once(&mut a).is_ready());
    assert!(poll_once(&mut b).is_pending(), "only one permit is stored");
}

#[test]
fn notify_waiters_wakes_everyone_waiting_and_stores_nothing() {
    let n = Notify::new();
    let mut a = n.notified();
    let mut b = n.notified();
    assert!(poll_once(&mut a).is_pending());
    assert!(poll_once(&mut b).is_pending());
    n.notify_waiters();
    assert!(poll_once(&mut a).is_ready() && poll_once(&mut b).is_ready());
    let mut c = n.notified();
    assert!(poll_once(&mut c).is_pending());
}

#[test]
fn notify_one_picked_future_dropped_passes_the_notification_on() {
    let n = Notify::new();
    let mut a = n.notified();
    let mut b = n.notified();
    assert!(poll_once(&mut a).is_pending());
    assert!(poll_once(&mut b).is_pending());
    n.notify_one(); // picks a
    drop(a);
    assert!(poll_once(&mut b).is_ready(), "b inherited a's notification");
}

#[test]
fn oneshot_delivers_across_threads_and_reports_dropped_sender() {
    let (tx, rx) = oneshot::channel();
    let t = thread::spawn(move || tx.send(vec![1, 2]).unwrap());
    assert_eq!(block_on(rx), Ok(vec![1, 2]));
    t.join().unwrap();
    let (tx, rx) = oneshot::channel::<u8>();
    drop(tx);
    assert_eq!(block_on(rx), Err(oneshot::RecvError));
}
