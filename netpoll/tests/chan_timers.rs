//! Go's channel timers: `after`, `tick`, `Timer`, `Ticker`, `after_func`,
//! fired by the wheel with no task or thread of their own, and freeing
//! their entries when stopped, dropped or done.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gosched_executor::task::TaskState;
use gosched_netpoll::time::{self, Ticker, Timer};

/// Longer than any of these tests takes on a loaded machine; only a hang
/// reaches it.
const HANG_GUARD: Duration = Duration::from_secs(60);

#[test]
fn after_sends_the_fire_time_once_then_closes_and_frees_its_entry() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, reactor) = common::runtime(2);
        rt.block_on(async move {
            let start = time::now();
            let rx = time::after(Duration::from_millis(3));
            assert_eq!(reactor.num_timers(), 1);
            let fired = rx.recv().await.expect("a value");
            assert!(fired >= start + Duration::from_millis(3));
            assert_eq!(rx.recv().await, None, "closed after its one value");
            assert_eq!(reactor.num_timers(), 0);
        });
    });
}

#[test]
fn timer_stop_is_true_only_when_it_stopped_a_pending_timer() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, reactor) = common::runtime(2);
        rt.block_on(async move {
            let t = Timer::new(Duration::from_secs(3600));
            assert!(t.stop(), "stopped a pending timer");
            assert!(!t.stop(), "already stopped");
            assert_eq!(reactor.num_timers(), 0, "stop freed the entry");
            assert!(t.c().try_recv().is_err(), "a stopped timer sends nothing");

            let fired = Timer::new(Duration::from_millis(1));
            fired.c().recv().await.expect("fired");
            assert!(!fired.stop(), "already fired");
            assert_eq!(reactor.num_timers(), 0, "firing freed the entry");
        });
    });
}

#[test]
fn timer_reset_reports_whether_it_was_active_and_rearms() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, reactor) = common::runtime(2);
        rt.block_on(async move {
            let t = Timer::new(Duration::from_secs(3600));
            assert!(t.reset(Duration::from_millis(1)), "was active");
            assert_eq!(reactor.num_timers(), 1, "one entry, re-armed");
            t.c().recv().await.expect("fired after the reset");
            assert!(!t.reset(Duration::from_millis(1)), "had fired");
            t.c().recv().await.expect("fired again");
            assert!(!t.stop(), "had fired");
            assert!(!t.reset(Duration::from_secs(3600)), "was not active");
            assert!(t.reset(Duration::from_secs(3600)), "was active");
            drop(t);
            assert_eq!(reactor.num_timers(), 0, "dropping freed the entry");
        });
    });
}

#[test]
fn a_dropped_timer_frees_its_entry_and_its_channel_stays_open_while_it_lives() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, reactor) = common::runtime(1);
        rt.block_on(async move {
            let timers: Vec<Timer> = (0..100)
                .map(|i| Timer::new(Duration::from_secs(60 + i)))
                .collect();
            assert_eq!(reactor.num_timers(), 100);
            let t = Timer::new(Duration::from_secs(60));
            t.stop();
            assert!(!t.c().is_closed(), "Go's timer channel never closes");
            drop(timers);
            drop(t);
            assert_eq!(reactor.num_timers(), 0);
        });
    });
}

#[test]
fn a_ticker_drops_ticks_for_a_slow_receiver_and_keeps_its_schedule() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, reactor) = common::runtime(2);
        rt.block_on(time::track(async move {
            time::pause();
            let t0 = time::now();
            let ticker = Ticker::new(Duration::from_secs(1));
            for _ in 0..5 {
                time::advance(Duration::from_secs(1)).await;
            }
            assert_eq!(ticker.c().len(), 1, "one tick kept, four dropped");
            assert_eq!(
                ticker.c().try_recv().unwrap(),
                t0 + Duration::from_secs(1),
                "the first tick waits; the later ones found the channel full"
            );
            // 3.5 s more: one tick (the first missed one), and the next
            // stays on the whole-second schedule.
            time::advance(Duration::from_millis(3500)).await;
            assert_eq!(
                ticker.c().try_recv().unwrap(),
                t0 + Duration::from_millis(8500)
            );
            time::advance(Duration::from_millis(500)).await;
            assert_eq!(ticker.c().try_recv().unwrap(), t0 + Duration::from_secs(9));
            assert_eq!(reactor.num_timers(), 1, "one entry, re-filed each tick");
            ticker.stop();
            assert_eq!(reactor.num_timers(), 0);
            time::advance(Duration::from_secs(5)).await;
            assert!(ticker.c().try_recv().is_err(), "a stopped ticker is quiet");
        }));
    });
}

#[test]
fn ticker_reset_changes_the_period_and_drop_frees_the_entry() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, reactor) = common::runtime(1);
        rt.block_on(time::track(async move {
            time::pause();
            let t0 = time::now();
            let ticker = Ticker::new(Duration::from_secs(3600));
            ticker.reset(Duration::from_secs(2));
            time::advance(Duration::from_secs(2)).await;
            assert_eq!(ticker.c().try_recv().unwrap(), t0 + Duration::from_secs(2));
            assert_eq!(reactor.num_timers(), 1);
            drop(ticker);
            assert_eq!(reactor.num_timers(), 0);
        }));
    });
}

#[test]
#[should_panic(expected = "period must be positive")]
fn a_ticker_of_period_zero_panics_as_go_does() {
    let (rt, _reactor) = common::runtime(1);
    rt.block_on(async {
        let _ = Ticker::new(Duration::ZERO);
    });
}

#[test]
fn tick_frees_its_entry_at_the_first_tick_after_the_receiver_is_dropped() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, reactor) = common::runtime(1);
        rt.block_on(time::track(async move {
            time::pause();
            let rx = time::tick(Duration::from_secs(1));
            time::advance(Duration::from_secs(1)).await;
            assert!(rx.try_recv().is_ok());
            assert_eq!(reactor.num_timers(), 1);
            drop(rx);
            time::advance(Duration::from_secs(1)).await;
            assert_eq!(reactor.num_timers(), 0);
        }));
    });
}

#[test]
fn after_func_runs_its_function_in_a_task_of_its_own() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, reactor) = common::runtime(2);
        rt.block_on(async move {
            let (tx, rx) = gosched_sync::chan::bounded(1);
            let _t = time::after_func(Duration::from_millis(1), move || {
                // The task running this closure was spawned in timer.rs.
                let me = gosched_executor::Handle::current()
                    .dump()
                    .into_iter()
                    .any(|t| {
                        t.location.file().ends_with("timer.rs") && t.state == TaskState::Running
                    });
                let _ = tx.try_send(me);
            });
            assert_eq!(rx.recv().await, Some(true));
            assert_eq!(reactor.num_timers(), 0);
        });
    });
}

#[test]
fn after_func_stopped_never_runs_and_reset_runs_it_again() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, reactor) = common::runtime(2);
        rt.block_on(async move {
            let (tx, rx) = gosched_sync::chan::unbounded();
            let t = time::after_func(Duration::from_secs(3600), move || {
                let _ = tx.try_send(());
            });
            assert!(t.stop());
            assert_eq!(reactor.num_timers(), 0);
            assert!(!t.reset(Duration::from_millis(1)), "was stopped");
            rx.recv().await.unwrap();
            assert!(!t.reset(Duration::from_millis(1)), "had fired");
            rx.recv().await.unwrap();
            assert!(rx.try_recv().is_err(), "ran exactly twice");
        });
    });
}

#[test]
fn a_thousand_channel_timers_cost_no_task_and_no_thread() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, reactor) = common::runtime(2);
        let handle = rt.handle().clone();
        rt.block_on(time::track(async move {
            // Paused, so that none fires before they are counted.
            time::pause();
            let tasks_before = handle.num_tasks();
            let timers: Vec<Timer> = (0..1000)
                .map(|i| Timer::new(Duration::from_millis(1 + i % 5)))
                .collect();
            let tickers: Vec<Ticker> = (0..100)
                .map(|_| Ticker::new(Duration::from_millis(1)))
                .collect();
            assert_eq!(handle.num_tasks(), tasks_before, "no task per timer");
            assert_eq!(reactor.num_timers(), 1100);
            time::advance(Duration::from_millis(5)).await;
            for t in &timers {
                t.c().recv().await.unwrap();
            }
            for t in &tickers {
                t.c().recv().await.unwrap();
            }
            assert_eq!(reactor.num_timers(), 100, "the tickers' entries remain");
            drop(tickers);
            assert_eq!(reactor.num_timers(), 0);
        }));
    });
}

#[test]
fn timer_values_arrive_in_deadline_order_on_advance() {
    common::hang_guard(HANG_GUARD, || {
        let (rt, _reactor) = common::runtime(1);
        rt.block_on(time::track(async move {
            time::pause();
            let order = Arc::new(Mutex::new(Vec::new()));
            let mut keep = Vec::new();
            for secs in [3u64, 1, 2] {
                let order = order.clone();
                keep.push(time::after_func(Duration::from_secs(secs), move || {
                    order.lock().unwrap().push(secs);
                }));
            }
            time::advance(Duration::from_secs(5)).await;
            // after_func spawns; with one P the tasks run in spawn order,
            // which is firing order. Wait for all three.
            while order.lock().unwrap().len() < 3 {
                gosched_executor::yield_now().await;
            }
            assert_eq!(*order.lock().unwrap(), [1, 2, 3]);
        }));
    });
}
