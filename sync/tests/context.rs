//! Context: cancel trees, deadlines, values.
#![cfg(not(gosched_loom))]

use std::thread;
use std::time::{Duration, Instant};

use futures::executor::block_on;
use gosched_sync::context::{Context, ContextError};

#[test]
fn cancelling_a_parent_cancels_every_descendant_through_value_nodes() {
    let (root, cancel) = Context::background().with_cancel();
    let v = root.with_value(5u8);
    let (child, _c1) = v.with_cancel();
    let (grandchild, _c2) = child.with_value("x").with_cancel();
    assert_eq!(grandchild.err(), None);
    cancel.cancel();
    for ctx in [&root, &v, &child, &grandchild] {
        assert_eq!(ctx.err(), Some(ContextError::Cancelled));
    }
    assert_eq!(grandchild.value::<u8>(), Some(&5));
}

#[test]
fn cancelling_a_child_leaves_the_parent_and_siblings_alone() {
    let (parent, _p) = Context::background().with_cancel();
    let (a, cancel_a) = parent.with_cancel();
    let (b, _cb) = parent.with_cancel();
    cancel_a.cancel();
    assert_eq!(a.err(), Some(ContextError::Cancelled));
    assert_eq!(parent.err(), None);
    assert_eq!(b.err(), None);
}

#[test]
fn child_of_a_cancelled_parent_is_born_cancelled_with_the_parents_error() {
    let (parent, _c) = Context::background().with_deadline(Instant::now());
    assert_eq!(parent.err(), Some(ContextError::DeadlineExceeded));
    let (child, _cc) = parent.with_cancel();
    assert_eq!(child.err(), Some(ContextError::DeadlineExceeded));
}

#[test]
fn done_wakes_a_task_parked_on_another_thread() {
    let (ctx, cancel) = Context::background().with_cancel();
    let waiter = thread::spawn(move || {
        block_on(ctx.done());
        ctx.err()
    });
    thread::sleep(Duration::from_millis(10));
    cancel.cancel();
    assert_eq!(waiter.join().unwrap(), Some(ContextError::Cancelled));
}

#[test]
fn timeout_fires_deadline_exceeded_through_the_default_timer() {
    let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(20));
    let (child, _c) = ctx.with_cancel();
    block_on(child.done());
    assert_eq!(child.err(), Some(ContextError::DeadlineExceeded));
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
}

#[test]
fn child_deadline_is_capped_by_the_parents_earlier_deadline() {
    let early = Instant::now() + Duration::from_secs(30);
    let (parent, _p) = Context::background().with_deadline(early);
    let (child, _c) = parent.with_timeout(Duration::from_secs(3600));
    assert_eq!(child.deadline(), Some(early));
}

#[test]
fn cancel_before_deadline_reports_cancelled_not_deadline_exceeded() {
    let (ctx, cancel) = Context::background().with_timeout(Duration::from_secs(3600));
    cancel.cancel();
    assert_eq!(ctx.err(), Some(ContextError::Cancelled));
}

#[test]
fn deadline_driven_by_any_future_cancels_when_it_completes() {
    let (tx, rx) = gosched_sync::oneshot::channel::<()>();
    let (ctx, _c, driver) = Context::background().with_deadline_driven(
        Instant::now() + Duration::from_secs(3600),
        async move {
            let _ = rx.await;
        },
    );
    let t = thread::spawn(move || block_on(driver));
    assert_eq!(ctx.err(), None);
    tx.send(()).unwrap(); // "the timer fired"
    t.join().unwrap();
    assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
}

#[test]
fn background_done_never_completes() {
    use std::future::Future;
    use std::task::Context as Cx;
    let ctx = Context::background();
    let mut done = Box::pin(ctx.done());
    let waker = futures::task::noop_waker();
    assert!(done.as_mut().poll(&mut Cx::from_waker(&waker)).is_pending());
}

#[test]
fn done_chan_is_closed_on_cancel_and_works_in_select() {
    use gosched_sync::{chan, select};
    let (ctx, cancel) = Context::background().with_cancel();
    let done = ctx.done_chan();
    let (tx, rx) = chan::bounded::<u32>(0);
    let t = thread::spawn(move || {
        block_on(async {
            let mut sent = 0;
            loop {
                select! {
                    r = tx.send(sent) => { r.unwrap(); sent += 1; }
                    _ = done.recv() => return sent,
                }
            }
        })
    });
    for i in 0..100 {
        assert_eq!(block_on(rx.recv()), Some(i));
    }
    cancel.cancel();
    assert_eq!(t.join().unwrap(), 100, "the pending send lost to done");
    assert_eq!(
        block_on(ctx.done_chan().recv()),
        None,
        "made after cancel: closed"
    );
}

#[test]
fn dropping_a_200k_deep_context_chain_does_not_overflow_a_256k_stack() {
    const DEPTH: usize = 200_000;
    let t = thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let (root, cancel) = Context::background().with_cancel();
            let mut ctx = root.clone();
            for i in 0..DEPTH {
                ctx = if i % 8 == 0 {
                    ctx.with_value(i)
                } else {
                    ctx.with_cancel().0
                };
            }
            drop(root);
            drop(cancel);
            // The last handle: every level goes with it.
            drop(ctx);
        })
        .unwrap();
    t.join().expect("the drop overflowed the small stack");
}
