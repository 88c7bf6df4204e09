//! The paused clock: `pause`, `advance`, `resume`, and auto-advance once
//! the runtime has nothing else to do. Every assertion is on the virtual
//! clock (`time::now`), never on wall-clock time.

mod common;

use std::time::Duration;

use gosched_netpoll::time;

const HOUR: Duration = Duration::from_secs(3600);

/// Longer than any of these tests takes on a loaded machine; only a hang
/// reaches it.
const HANG_GUARD: Duration = Duration::from_secs(60);

#[test]
fn an_hour_long_timeout_completes_at_once_on_a_paused_clock() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, reactor) = common::runtime(2);
        rt.block_on(time::track(async move {
            time::pause();
            let start = time::now();
            let r = time::timeout(HOUR, std::future::pending::<()>()).await;
            assert!(r.is_err(), "timed out");
            assert!(time::now() - start >= HOUR);
            assert_eq!(reactor.num_timers(), 0);
        }));
    });
}

#[test]
fn auto_advance_waits_for_every_p_and_fires_each_task_s_sleep_in_turn() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, _reactor) = common::runtime(4);
        rt.block_on(time::track(async {
            time::pause();
            let start = time::now();
            let tasks: Vec<_> = (1..=8u64)
                .map(|h| {
                    gosched_executor::spawn(async move {
                        time::sleep(HOUR * h as u32).await;
                        time::now()
                    })
                })
                .collect();
            for (h, t) in (1..=8u32).zip(tasks) {
                let woke = t.await.unwrap();
                assert!(woke - start >= HOUR * h, "never before its deadline");
                assert!(
                    woke - start < HOUR * h + Duration::from_secs(1),
                    "the clock jumped to it"
                );
            }
        }));
    });
}

#[test]
fn a_busy_p_holds_a_paused_clock_still() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, reactor) = common::runtime(2);
        rt.block_on(time::track(async move {
            time::pause();
            let start = time::now();
            let sleeper = gosched_executor::spawn(async move {
                time::sleep(HOUR).await;
                time::now()
            });
            while reactor.num_timers() < 1 {
                gosched_executor::yield_now().await;
            }
            // Keeps a P busy for 20 ms of real time (yielding, so it is
            // polled again and again) while this future is parked on its
            // join: the only pending timer is the hour-long sleep, and the
            // clock must not jump to it while the P works.
            let busy = gosched_executor::spawn(async move {
                let t = time::now();
                let real = std::time::Instant::now();
                let mut still = true;
                while real.elapsed() < Duration::from_millis(20) {
                    still &= time::now() == t;
                    gosched_executor::yield_now().await;
                }
                still
            });
            assert!(busy.await.unwrap(), "held still while a P was busy");
            assert!(sleeper.await.unwrap() - start >= HOUR, "then it jumped");
        }));
    });
}

#[test]
fn advance_fires_timers_in_deadline_order_and_not_the_later_ones() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, reactor) = common::runtime(1);
        rt.block_on(time::track(async move {
            time::pause();
            let (tx, rx) = gosched_sync::chan::unbounded();
            for secs in [3u64, 1, 10, 2] {
                let tx = tx.clone();
                gosched_executor::spawn(async move {
                    time::sleep(Duration::from_secs(secs)).await;
                    let _ = tx.send(secs).await;
                });
            }
            // Wait until all four sleeps are in the wheel.
            while reactor.num_timers() < 4 {
                gosched_executor::yield_now().await;
            }
            time::advance(Duration::from_secs(5)).await;
            let mut got = Vec::new();
            for _ in 0..3 {
                got.push(rx.recv().await.unwrap());
            }
            assert_eq!(got, [1, 2, 3]);
            assert_eq!(reactor.num_timers(), 1, "the 10 s sleep is still pending");
        }));
    });
}

#[test]
fn resume_goes_back_to_real_time_without_going_back() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, _reactor) = common::runtime(2);
        rt.block_on(time::track(async {
            time::pause();
            let paused_at = time::now();
            time::advance(HOUR).await;
            time::resume();
            let resumed_at = time::now();
            assert!(resumed_at >= paused_at + HOUR, "the hour is kept");
            // A real sleep: the clock moves with wall time again.
            time::sleep(Duration::from_millis(5)).await;
            assert!(time::now() >= resumed_at + Duration::from_millis(5));
            std::thread::sleep(Duration::from_millis(2));
            assert!(time::now() > resumed_at + Duration::from_millis(5));
        }));
    });
}

#[test]
fn a_paused_clock_belongs_to_its_own_runtime() {
    common::hang_guard(HANG_GUARD, || {
        let (paused_rt, _r1) = common::runtime(1);
        let (real_rt, _r2) = common::runtime(1);
        paused_rt.block_on(time::track(async { time::pause() }));
        let (a, b) = real_rt.block_on(time::track(async {
            let a = time::now();
            time::sleep(Duration::from_millis(2)).await;
            (a, time::now())
        }));
        assert!(
            b >= a + Duration::from_millis(2),
            "real time on the other runtime"
        );
        let frozen = paused_rt.block_on(time::track(async {
            let t = time::now();
            std::thread::sleep(Duration::from_millis(2));
            (t, time::now())
        }));
        assert_eq!(frozen.0, frozen.1);
    });
}
