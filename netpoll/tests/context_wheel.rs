//! Context deadlines on the timer wheel (`time::ContextTimer`): no
//! `gosched-context-timer` thread, an entry per deadline that cancel and
//! drop free, and the paused clock moves them too.

mod common;

use std::time::Duration;

use gosched_netpoll::time;
use gosched_sync::context::{Context, ContextError};

/// Names of this process's threads, from /proc/self/task/*/comm (each
/// cut to 15 bytes by the kernel).
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim_end().to_string())
        .collect()
}

#[test]
fn deadlines_run_on_the_wheel_without_a_timer_thread_and_free_their_entries() {
    time::ContextTimer::install();
    let (rt, reactor) = common::runtime(2);
    rt.block_on(time::track(async move {
        let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(2));
        assert_eq!(reactor.num_timers(), 1, "the deadline is a wheel entry");
        ctx.done().await;
        assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
        assert_eq!(reactor.num_timers(), 0, "fired and freed");

        let mut live = Vec::new();
        for i in 0..100 {
            let (ctx, cancel) = Context::background().with_timeout(Duration::from_secs(3600));
            if i % 2 == 0 {
                cancel.cancel();
                assert_eq!(ctx.err(), Some(ContextError::Cancelled));
            } else {
                live.push((ctx, cancel));
            }
        }
        assert_eq!(reactor.num_timers(), 50, "a cancel frees its entry");
        drop(live);
        assert_eq!(reactor.num_timers(), 0, "a drop frees its entry");

        // A child whose parent's deadline is earlier needs no entry.
        let (parent, _p) = Context::background().with_timeout(Duration::from_secs(60));
        let (_child, _c) = parent.with_timeout(Duration::from_secs(3600));
        assert_eq!(reactor.num_timers(), 1);
    }));
    assert!(
        !thread_names()
            .iter()
            .any(|n| n.starts_with("gosched-context")),
        "no context timer thread: {:?}",
        thread_names()
    );
}

#[test]
fn a_paused_clock_moves_context_deadlines() {
    time::ContextTimer::install();
    let (rt, _reactor) = common::runtime(2);
    rt.block_on(time::track(async {
        time::pause();
        let start = time::now();
        let (ctx, _cancel) = Context::background().with_timeout(Duration::from_secs(3600));
        assert_eq!(ctx.deadline(), Some(start + Duration::from_secs(3600)));
        ctx.done().await;
        assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
        assert!(time::now() - start >= Duration::from_secs(3600));
    }));
}
