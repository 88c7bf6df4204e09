//! Loom models of `Notify`: a `notify_one` is never lost, whether it comes
//! before or after the waiter parks, or while the picked waiter is dropped.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

use crate::Notify;

#[test]
fn loom_notify_one_racing_notified_is_not_lost() {
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let t = thread::spawn(move || n2.notify_one());
        block_on(n.notified());
        t.join().unwrap();
    });
}

#[test]
fn loom_notify_one_to_a_dropped_waiter_passes_to_the_next() {
    loom::model(|| {
        let n = Arc::new(Notify::new());
        let n2 = n.clone();
        let t = thread::spawn(move || {
            let mut first = n2.notified();
            let waker = futures::task::noop_waker();
            let r = Pin::new(&mut first).poll(&mut Context::from_waker(&waker));
            drop(first); // maybe picked by notify_one: must pass it on
            r
        });
        n.notify_one();
        let first_got_it = t.join().unwrap() == Poll::Ready(());
        if !first_got_it {
            // The notification went to the permit (or was passed on).
            block_on(n.notified());
        }
    });
}
