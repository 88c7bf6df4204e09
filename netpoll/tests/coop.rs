//! Every ready I/O operation spends a unit of the task's coop budget, so a
//! task looping on a socket that is always ready still lets the other
//! tasks of its P run; and a timeout around a future that spends the whole
//! budget, or keeps waking itself, still fires.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use gosched_netpoll::net::UnixStream;
use gosched_netpoll::time::timeout;
use gosched_netpoll::Reactor;

#[test]
fn a_task_looping_on_always_ready_reads_lets_its_neighbour_run() {
    const BYTES: usize = 50_000;
    let (rt, _reactor) = common::runtime(1);
    let neighbour_ran_first = rt.block_on(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        // Every byte is in the socket before the reader starts: each read
        // is ready at once and never returns Pending on its own.
        a.write_all(&[1u8; BYTES]).await.unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let reader = {
            let ran = ran.clone();
            gosched_executor::spawn(async move {
                let mut byte = [0u8; 1];
                for _ in 0..BYTES {
                    b.read_exact(&mut byte).await.unwrap();
                }
                ran.load(Ordering::SeqCst)
            })
        };
        let neighbour = gosched_executor::spawn(async move {
            ran.store(true, Ordering::SeqCst);
        });
        let r = reader.await.unwrap();
        neighbour.await.unwrap();
        drop(a);
        r
    });
    assert!(
        neighbour_ran_first,
        "the reader never yielded: ready reads did not spend budget"
    );
}

/// Spends every unit of the task's budget on each poll and stays pending
/// (waking itself when the budget runs out): a loop over an always-ready
/// operation, such as a channel receive that always has a value.
fn burn_budget_forever() -> impl std::future::Future<Output = ()> {
    std::future::poll_fn(|cx| loop {
        match gosched_executor::coop::poll_proceed(cx) {
            Poll::Ready(progress) => progress.made_progress(),
            Poll::Pending => return Poll::Pending,
        }
    })
}

/// A generous hang guard: the timeouts below are 1 ms.
const HANG: Duration = Duration::from_secs(60);

#[test]
fn a_timeout_fires_around_a_future_that_spends_the_whole_budget_every_poll() {
    common::hang_guard(HANG, || {
        let (rt, reactor) = common::runtime(1);
        let r = rt.block_on(async {
            gosched_executor::spawn(timeout(Duration::from_millis(1), burn_budget_forever()))
                .await
                .unwrap()
        });
        assert!(r.is_err(), "the timeout fired");
        drop(rt);
        assert_eq!(reactor.num_timers(), 0);
    });
}

#[test]
fn a_timeout_fires_around_a_future_that_is_always_ready_but_yields() {
    common::hang_guard(HANG, || {
        let (rt, _reactor) = common::runtime(1);
        let r = rt.block_on(async {
            gosched_executor::spawn(timeout(Duration::from_millis(1), async {
                loop {
                    gosched_executor::yield_now().await;
                }
            }))
            .await
            .unwrap()
        });
        assert!(r.is_err(), "the timeout fired");
    });
}

#[test]
fn a_timeout_fires_in_reactor_block_on_around_a_future_that_wakes_itself() {
    // `Reactor::block_on` never parks while its future keeps waking
    // itself, so nothing turns the wheel: the sleep must read the clock.
    common::hang_guard(HANG, || {
        let reactor = Reactor::new().unwrap();
        let r = reactor.block_on(async {
            let wakes_itself = std::future::poll_fn(|cx| {
                cx.waker().wake_by_ref();
                Poll::<()>::Pending
            });
            timeout(Duration::from_millis(1), wakes_itself).await
        });
        assert!(r.is_err(), "the timeout fired");
    });
}
