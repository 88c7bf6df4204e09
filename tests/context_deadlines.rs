//! Context deadlines inside a gosched runtime run on its timer wheel: no
//! `gosched-context-timer` thread is ever started. (A file of its own, so
//! that no other test in the process makes a deadline outside a runtime,
//! which would start that thread.)

use std::time::Duration;

use gosched::sync::context::{Context, ContextError};

/// Names of this process's threads, from /proc/self/task/*/comm (each
/// cut to 15 bytes by the kernel).
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim_end().to_string())
        .collect()
}

#[gosched::test(procs = 2)]
async fn a_deadline_fires_without_a_context_timer_thread() {
    let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(2));
    ctx.done().await;
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    let names = thread_names();
    assert!(
        !names.iter().any(|n| n.starts_with("gosched-context")),
        "no context timer thread: {names:?}"
    );
}

#[gosched::test(start_paused)]
async fn an_hour_long_deadline_runs_at_once_on_the_paused_clock() {
    let start = gosched::time::now();
    let (ctx, _cancel) = Context::background().with_timeout(Duration::from_secs(3600));
    let done = ctx.done_chan();
    let (_tx, never) = gosched::sync::chan::bounded::<()>(0);
    gosched::select! {
        _ = done.recv() => {},
        _ = never.recv() => unreachable!(),
    }
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    assert!(gosched::time::now() - start >= Duration::from_secs(3600));
}
