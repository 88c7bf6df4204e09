//! TaskGroup on the gosched runtime.
#![cfg(not(gosched_loom))]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gosched_executor::Runtime;
use gosched_sync::TaskGroup;

#[test]
fn first_error_is_returned_and_cancels_the_siblings_context() {
    let rt = Runtime::builder().procs(2).build().unwrap();
    let stopped = Arc::new(AtomicUsize::new(0));
    let res = rt.block_on(async {
        let mut g = TaskGroup::new();
        for _ in 0..3 {
            let ctx = g.context().clone();
            let stopped = stopped.clone();
            g.spawn(async move {
                ctx.done().await; // would wait forever without the failure
                stopped.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        }
        g.spawn(async { Err("boom") });
        g.wait().await
    });
    assert_eq!(res, Err("boom"));
    assert_eq!(stopped.load(Ordering::SeqCst), 3);
}

#[test]
fn all_ok_waits_for_every_task() {
    let rt = Runtime::builder().procs(2).build().unwrap();
    let n = Arc::new(AtomicUsize::new(0));
    let res: Result<(), ()> = rt.block_on(async {
        let mut g = TaskGroup::new();
        for _ in 0..50 {
            let n = n.clone();
            g.spawn(async move {
                n.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
        }
        let ctx = g.context().clone();
        g.wait().await?;
        assert!(
            ctx.err().is_some(),
            "wait cancels the group's context, as Go"
        );
        Ok(())
    });
    assert!(res.is_ok());
    assert_eq!(n.load(Ordering::SeqCst), 50);
}

#[test]
#[should_panic(expected = "task panicked")]
fn a_panicking_task_resumes_its_panic_in_wait() {
    let rt = Runtime::builder().procs(1).build().unwrap();
    let _ = rt.block_on(async {
        let mut g = TaskGroup::<()>::new();
        g.spawn(async { panic!("task panicked") });
        g.wait().await
    });
}
