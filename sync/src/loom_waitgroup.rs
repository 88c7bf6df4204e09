//! Loom model of `WaitGroup`: `wait` returns only after every `done`.

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

use crate::WaitGroup;

#[test]
fn loom_waitgroup_wait_sees_every_done() {
    loom::model(|| {
        let wg = WaitGroup::new();
        let work = Arc::new(AtomicUsize::new(0));
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let (t, work) = (wg.token(), work.clone());
                thread::spawn(move || {
                    work.fetch_add(1, Ordering::Relaxed);
                    drop(t);
                })
            })
            .collect();
        block_on(wg.wait());
        assert_eq!(work.load(Ordering::Relaxed), 2);
        ts.into_iter().for_each(|t| t.join().unwrap());
    });
}
