//! Loom model of a remote spawn racing the runtime's shutdown: whatever
//! the interleaving, the task's future is dropped exactly once and the task
//! is freed, so it cannot keep the scheduler alive (a task holds a strong
//! reference to its scheduler, and the scheduler owns the queue the task
//! would be stuck in).
//!
//! The spawner does what `Handle::spawn` does from a plain thread:
//! `new_task`, then `Shared::schedule` (which finds no M on this thread
//! and pushes to the global queue), then drops the leftovers it is handed
//! back. The main thread runs `Shared::shutdown`.
//!
//! Checked: making `schedule` ignore the shutdown flag fails the model
//! (the push after the final drain leaks the task). Not checked: the fence
//! between the push and the flag load; under loom the global queue is a
//! mutex-guarded `VecDeque` whose lock orders both sides already.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::Shared;
use crate::loom::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;

/// Counts its drops; pending forever.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

impl Future for Counted {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

#[test]
fn loom_a_remote_spawn_racing_shutdown_is_dropped_and_freed() {
    loom::model(|| {
        let shared = Shared::new_for_loom(1);
        let drops = Arc::new(AtomicUsize::new(0));
        let spawner = {
            let (shared, drops) = (shared.clone(), drops.clone());
            loom::thread::spawn(move || {
                let (task, join) =
                    crate::task::new_task(&shared, Counted(drops), std::panic::Location::caller());
                drop(join);
                if let Some(task) = task {
                    drop(shared.schedule(task, false));
                }
            })
        };
        shared.shutdown(None);
        spawner.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1, "the future is dropped exactly once");
        assert_eq!(
            Arc::strong_count(&shared),
            1,
            "no task is left holding the scheduler"
        );
    });
}
