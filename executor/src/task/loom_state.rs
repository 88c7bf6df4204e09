//! Loom models of the task state word, through the real task code: a wake
//! during a poll is not lost, a JoinHandle dropped while the task completes
//! frees the output exactly once, and abort racing completion ends in one
//! consistent outcome.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::loom::{lock, AtomicUsize, Mutex};
use crate::sched::Shared;
use std::sync::atomic::Ordering::SeqCst;

/// Counts its drops.
struct Counted(Arc<AtomicUsize>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Pending once, handing its waker out; ready on the next poll.
struct HandOut {
    slot: Arc<Mutex<Option<Waker>>>,
    polled: bool,
}
impl Future for HandOut {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.polled {
            return Poll::Ready(());
        }
        self.polled = true;
        *lock(&self.slot) = Some(cx.waker().clone());
        Poll::Pending
    }
}

fn run_queue(shared: &Shared) -> usize {
    let mut runs = 0;
    while let Some(t) = shared.inject.pop() {
        runs += 1;
        if let Some(again) = t.run() {
            shared.inject.push(again);
        }
    }
    runs
}

#[test]
fn a_wake_racing_the_poll_is_never_lost() {
    loom::model(|| {
        let shared = Shared::new_for_loom(1);
        let slot = Arc::new(Mutex::new(None));
        let (task, join) = super::new_task(
            &shared,
            HandOut {
                slot: slot.clone(),
                polled: false,
            },
            std::panic::Location::caller(),
        );
        let task = task.unwrap();
        let waker_thread = {
            let slot = slot.clone();
            loom::thread::spawn(move || {
                // Wake as soon as the waker is handed out, perhaps while
                // the poll that handed it out is still running.
                loop {
                    if let Some(w) = lock(&slot).take() {
                        w.wake();
                        return;
                    }
                    loom::thread::yield_now();
                }
            })
        };
        if let Some(again) = task.run() {
            shared.inject.push(again);
        }
        waker_thread.join().unwrap();
        run_queue(&shared);
        assert!(join.is_finished(), "the wake was lost");
        drop(join);
        assert_eq!(shared.registry.len(), 0);
    });
}

#[test]
fn join_handle_drop_racing_completion_drops_the_output_once() {
    loom::model(|| {
        let shared = Shared::new_for_loom(1);
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let (task, join) = super::new_task(
            &shared,
            async move { Counted(d) },
            std::panic::Location::caller(),
        );
        let task = task.unwrap();
        let runner = loom::thread::spawn(move || {
            assert!(task.run().is_none());
        });
        drop(join);
        runner.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
    });
}

#[test]
fn abort_racing_completion_gives_one_outcome() {
    loom::model(|| {
        let shared = Shared::new_for_loom(1);
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let (task, join) = super::new_task(
            &shared,
            async move { Counted(d) },
            std::panic::Location::caller(),
        );
        let task = task.unwrap();
        let join = Arc::new(Mutex::new(Some(join)));
        let aborter = {
            let join = join.clone();
            loom::thread::spawn(move || {
                if let Some(j) = lock(&join).as_ref() {
                    j.abort();
                }
            })
        };
        assert!(task.run().is_none());
        aborter.join().unwrap();
        run_queue(&shared);
        let j = lock(&join).take().unwrap();
        assert!(j.is_finished());
        let res = futures::executor::block_on(j);
        match res {
            Ok(out) => {
                assert_eq!(drops.load(SeqCst), 0);
                drop(out);
                assert_eq!(drops.load(SeqCst), 1);
            }
            Err(e) => {
                assert!(e.is_cancelled());
                // The future was dropped unfinished: no output was made.
                assert_eq!(drops.load(SeqCst), 0);
            }
        }
    });
}
