//! Timers: deadlines are honoured (never early), equal deadlines all fire,
//! firing follows deadline order, dropping an unfired timer frees its
//! entry, and an earlier timer interrupts a poller parked for a later one.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use gosched_netpoll::time::{self, MissedTickBehavior};
use gosched_netpoll::Reactor;

#[test]
fn ten_thousand_timers_at_one_deadline_all_fire_and_none_early() {
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let deadline = Instant::now() + Duration::from_millis(20);
        let mut all: FuturesUnordered<_> = (0..10_000)
            .map(|_| async move {
                time::sleep_until(deadline).await;
                assert!(Instant::now() >= deadline, "fired early");
            })
            .collect();
        let mut n = 0;
        while all.next().await.is_some() {
            n += 1;
        }
        assert_eq!(n, 10_000);
    });
    assert_eq!(reactor.num_timers(), 0);
}

#[test]
fn ten_thousand_tasks_sleeping_on_workers_all_wake() {
    let (rt, reactor) = common::runtime(2);
    rt.block_on(async {
        let handles: Vec<_> = (0..10_000)
            .map(|_| {
                gosched_executor::spawn(async {
                    let start = Instant::now();
                    time::sleep(Duration::from_millis(10)).await;
                    assert!(start.elapsed() >= Duration::from_millis(10));
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(reactor.num_timers(), 0);
}

#[test]
fn timers_fire_in_deadline_order() {
    let reactor = Reactor::new().unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    reactor.block_on(async {
        let base = Instant::now() + Duration::from_millis(5);
        // Deadlines 0..40 ms apart, set in a scrambled order, three timers
        // per deadline.
        let mut all = FuturesUnordered::new();
        for k in 0..120u64 {
            let slot = (k * 37) % 40;
            let order = order.clone();
            all.push(async move {
                let at = base + Duration::from_millis(slot);
                time::sleep_until(at).await;
                order.lock().unwrap().push(slot);
            });
        }
        while all.next().await.is_some() {}
    });
    let order = order.lock().unwrap();
    assert_eq!(order.len(), 120);
    assert!(
        order.windows(2).all(|w| w[0] <= w[1]),
        "fired out of order: {order:?}"
    );
}

#[test]
fn dropping_unfired_timeouts_frees_their_entries() {
    let reactor = Reactor::new().unwrap();
    let _enter = reactor.enter();
    for _ in 0..100_000 {
        let mut t = time::timeout(Duration::from_secs(60), futures::future::pending::<()>());
        assert!((&mut t).now_or_never().is_none(), "registered the timer");
        assert_eq!(reactor.num_timers(), 1);
        drop(t);
    }
    assert_eq!(reactor.num_timers(), 0);
    assert_eq!(reactor.timer_capacity(), 1, "entries are reused, not grown");
    assert!(reactor.next_timer().is_none());
}

#[test]
fn a_server_wrapping_every_read_in_a_timeout_does_not_grow_timer_memory() {
    use futures::{AsyncReadExt, AsyncWriteExt};
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let (mut a, mut b) = gosched_netpoll::net::UnixStream::pair().unwrap();
        let reader = async {
            let mut buf = [0u8; 8];
            for _ in 0..10_000 {
                time::timeout(Duration::from_secs(30), b.read_exact(&mut buf))
                    .await
                    .expect("no timeout")
                    .unwrap();
            }
        };
        let writer = async {
            for i in 0..10_000u64 {
                a.write_all(&i.to_le_bytes()).await.unwrap();
                if i % 64 == 0 {
                    // Let the reader catch up and park on an armed timeout.
                    time::sleep(Duration::from_micros(1)).await;
                }
            }
        };
        futures::join!(reader, writer);
    });
    assert_eq!(reactor.num_timers(), 0);
    assert!(
        reactor.timer_capacity() <= 4,
        "timer slab grew to {}",
        reactor.timer_capacity()
    );
}

#[test]
fn an_earlier_timer_interrupts_a_poller_parked_for_a_later_one() {
    let (rt, reactor) = common::runtime(2);
    let _long = rt.spawn(async {
        time::sleep(Duration::from_secs(3600)).await;
    });
    // Let every worker go idle: one blocks in the reactor with a one-hour
    // timeout, the other on its thread parker.
    std::thread::sleep(Duration::from_millis(50));
    let short = rt.spawn(async {
        time::sleep(Duration::from_millis(10)).await;
        7
    });
    // Without the unpark on an earlier deadline, this would hang for an
    // hour (the test harness would report it).
    assert_eq!(rt.block_on(short).unwrap(), 7);
    drop(rt);
    assert_eq!(reactor.num_timers(), 0, "runtime drop dropped the sleeper");
}

#[test]
fn interval_skip_drops_missed_ticks_and_burst_replays_them() {
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let period = Duration::from_millis(5);
        let mut skip = time::interval(period);
        skip.set_missed_tick_behavior(MissedTickBehavior::Skip);
        let mut burst = time::interval(period);
        let t0 = skip.tick().await;
        let b0 = burst.tick().await;
        // Miss about four ticks.
        std::thread::sleep(Duration::from_millis(22));
        let after = Instant::now();
        let s1 = skip.tick().await;
        assert_eq!(s1, t0 + period, "the first late tick is the scheduled one");
        let s2 = skip.tick().await;
        assert!(s2 > after, "skip jumps past the missed ticks");
        assert_eq!(
            (s2 - t0).as_nanos() % period.as_nanos(),
            0,
            "on the original grid"
        );
        let b1 = burst.tick().await;
        let b2 = burst.tick().await;
        assert_eq!((b1, b2), (b0 + period, b0 + 2 * period), "burst replays");
    });
}

#[test]
fn sleeps_and_timeouts_outside_any_runtime_panic_with_a_clear_message() {
    let err = std::panic::catch_unwind(|| time::sleep(Duration::from_millis(1))).unwrap_err();
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap();
    assert!(
        msg.contains("need a gosched runtime") && msg.contains("gosched::run"),
        "{msg}"
    );
}

#[test]
fn interval_of_duration_max_ticks_once_then_waits_without_overflowing() {
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        for behavior in [
            MissedTickBehavior::Burst,
            MissedTickBehavior::Delay,
            MissedTickBehavior::Skip,
        ] {
            let mut iv = time::interval(Duration::MAX);
            iv.set_missed_tick_behavior(behavior);
            iv.tick().await;
            assert!(
                iv.tick().now_or_never().is_none(),
                "the second tick is about never"
            );
            iv.reset();
            assert!(iv.tick().now_or_never().is_none());
        }
    });
    assert_eq!(reactor.num_timers(), 0);
}

#[test]
fn sleep_of_duration_max_waits_without_overflowing() {
    let reactor = Reactor::new().unwrap();
    let _enter = reactor.enter();
    let mut s = time::sleep(Duration::MAX);
    assert!(!s.is_elapsed());
    assert!((&mut s).now_or_never().is_none(), "registered, not fired");
    assert_eq!(reactor.num_timers(), 1);
    assert!(reactor.next_timer().is_some());
    // A park bounded by that far timer (with a zero timeout of its own)
    // computes its wake-up tick without overflowing.
    gosched_executor::Driver::park(&reactor, Some(Duration::ZERO));
    drop(s);
    assert_eq!(reactor.num_timers(), 0);
}

#[test]
fn timeout_of_duration_max_runs_its_future_and_otherwise_waits() {
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        assert_eq!(time::timeout(Duration::MAX, async { 9 }).await, Ok(9));
        let mut pending = time::timeout(Duration::MAX, futures::future::pending::<()>());
        assert!((&mut pending).now_or_never().is_none());
    });
    assert_eq!(reactor.num_timers(), 0);
}
