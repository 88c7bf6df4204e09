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
fn semaphore_last_waiter_cancelled_leaves_the_fast_path_open() {
    // The queue empties by a cancel, with no permit free: the queued flag
    // must clear then (not only on a grant), or the permits released
    // later sit behind a flag that sends every acquirer to wait forever.
    let sem = Semaphore::new(1);
    let held = sem.try_acquire().unwrap();
    let mut w = sem.acquire();
    assert!(poll_once(&mut w).is_pending());
    drop(w);
    drop(held);
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.try_acquire().is_some());
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

#[test]
fn oneshot_receiver_closed_then_polled_completes_with_an_error_and_the_later_send_fails() {
    // The reproduction: close, poll, then a send that fails. The receiver
    // must not be left parked with nothing to wake it.
    let (tx, mut rx) = oneshot::channel::<u8>();
    rx.close();
    assert_eq!(poll_once(&mut rx), Poll::Ready(Err(oneshot::RecvError)));
    assert_eq!(tx.send(1), Err(1));
    assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));

    // Already parked when closed: the next poll completes at once.
    let (tx, mut rx) = oneshot::channel::<u8>();
    assert!(poll_once(&mut rx).is_pending());
    rx.close();
    assert_eq!(tx.send(2), Err(2));
    assert_eq!(poll_once(&mut rx), Poll::Ready(Err(oneshot::RecvError)));
}

#[test]
fn oneshot_value_sent_before_close_is_still_received_after_close() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    tx.send(3).unwrap();
    rx.close();
    assert_eq!(poll_once(&mut rx), Poll::Ready(Ok(3)));

    let (tx, mut rx) = oneshot::channel::<u8>();
    tx.send(4).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(4));
    assert_eq!(rx.try_recv(), Err(oneshot::TryRecvError::Closed));
}

#[test]
fn oncecell_runs_exactly_one_initializer_among_racing_threads() {
    use gosched_sync::OnceCell;
    let cell = Arc::new(OnceCell::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let ts: Vec<_> = (0..8)
        .map(|i| {
            let (cell, runs) = (cell.clone(), runs.clone());
            thread::spawn(move || {
                *block_on(cell.get_or_init(|| async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    i
                }))
            })
        })
        .collect();
    let vals: Vec<u32> = ts.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(vals.iter().all(|v| *v == vals[0]), "everyone saw one value");
}

#[test]
fn oncecell_cancelled_initializer_lets_the_next_caller_initialize() {
    use gosched_sync::OnceCell;
    let cell = OnceCell::new();
    {
        let mut first = Box::pin(cell.get_or_init(std::future::pending::<u8>));
        assert!(poll_once(&mut first).is_pending());
        let mut second = Box::pin(cell.get_or_init(|| async { 2 }));
        assert!(poll_once(&mut second).is_pending(), "waits for the first");
        drop(first); // cancelled mid-initialization
        assert_eq!(poll_once(&mut second), Poll::Ready(&2));
    }
    assert_eq!(cell.get(), Some(&2));
}

#[test]
fn cond_signal_wakes_one_waiter_and_broadcast_wakes_all() {
    use gosched_sync::{Cond, Mutex};
    let m = Mutex::new(0u32);
    let c = Cond::new();
    block_on(async {
        let mut w1 = Box::pin(async {
            let g = m.lock().await;
            let g = c.wait(g).await;
            *g
        });
        assert!(poll_once(&mut w1).is_pending());
        let mut w2 = Box::pin(async {
            let g = m.lock().await;
            let g = c.wait(g).await;
            *g
        });
        assert!(poll_once(&mut w2).is_pending());
        *m.lock().await = 7; // both waiters released the mutex
        c.signal();
        assert_eq!(poll_once(&mut w1), Poll::Ready(7));
        assert!(poll_once(&mut w2).is_pending(), "signal wakes only one");
        c.broadcast();
        assert_eq!(poll_once(&mut w2), Poll::Ready(7));
    });
}

#[test]
fn cond_producer_consumer_across_threads_sees_every_item() {
    use gosched_sync::{Cond, Mutex};
    let shared = Arc::new((Mutex::new(Vec::<u32>::new()), Cond::new()));
    let s2 = shared.clone();
    let consumer = thread::spawn(move || {
        block_on(async {
            let mut seen = 0u32;
            while seen < 1_000 {
                let mut q = s2.0.lock().await;
                while q.is_empty() {
                    q = s2.1.wait(q).await;
                }
                seen += q.drain(..).count() as u32;
            }
            seen
        })
    });
    block_on(async {
        for i in 0..1_000 {
            shared.0.lock().await.push(i);
            shared.1.signal();
        }
    });
    assert_eq!(consumer.join().unwrap(), 1_000);
}

#[test]
fn rwlock_readers_share_and_a_waiting_writer_blocks_new_readers() {
    use gosched_sync::RwLock;
    let l = RwLock::new(0);
    let r1 = l.try_read().unwrap();
    let r2 = l.try_read().unwrap();
    let mut w = l.write();
    assert!(poll_once(&mut w).is_pending());
    assert!(
        l.try_read().is_none(),
        "Go's rule: a pending writer blocks readers"
    );
    let mut r3 = l.read();
    assert!(poll_once(&mut r3).is_pending());
    drop(r1);
    drop(r2);
    let mut wg = match poll_once(&mut w) {
        Poll::Ready(g) => g,
        Poll::Pending => panic!("writer not granted"),
    };
    *wg = 1;
    assert!(poll_once(&mut r3).is_pending());
    drop(wg);
    match poll_once(&mut r3) {
        Poll::Ready(g) => assert_eq!(*g, 1),
        Poll::Pending => panic!("reader not granted after the writer"),
    };
}

#[test]
fn rwlock_writers_and_readers_across_threads_never_overlap() {
    use gosched_sync::RwLock;
    let l = Arc::new(RwLock::new((0u64, 0u64)));
    let ts: Vec<_> = (0..4)
        .map(|i| {
            let l = l.clone();
            thread::spawn(move || {
                block_on(async {
                    for _ in 0..5_000 {
                        if i % 2 == 0 {
                            let mut g = l.write().await;
                            g.0 += 1;
                            g.1 += 1;
                        } else {
                            let g = l.read().await;
                            assert_eq!(g.0, g.1, "a reader saw a half-done write");
                        }
                    }
                })
            })
        })
        .collect();
    ts.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(block_on(l.read()).0, 10_000);
}

#[test]
fn rwlock_cancelled_waiting_writer_releases_the_readers_behind_it() {
    use gosched_sync::RwLock;
    let l = RwLock::new(());
    let r1 = l.try_read().unwrap();
    let mut w = l.write();
    assert!(poll_once(&mut w).is_pending());
    let mut r2 = l.read();
    assert!(poll_once(&mut r2).is_pending());
    drop(w);
    assert!(poll_once(&mut r2).is_ready());
    drop(r1);
}
