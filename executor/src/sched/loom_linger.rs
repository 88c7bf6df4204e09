//! Loom model of a lingering M (`worker.rs`, "Why linger") against a push
//! to the global queue: the M counts as spinning while it sleeps, so the
//! pusher's `wakep` skips it, and only `Shared::unpark_lingering` can cut
//! its sleep short. Whatever the interleaving, the M either sees the task
//! before it sleeps or is unparked for it. A lost wake-up leaves the M
//! parked forever (here `sleep` is a park without a timeout), which loom
//! reports as a deadlock.
//!
//! Checked: with the registration's count left out of
//! `unpark_lingering`'s view (the pusher returning at once), the model
//! deadlocks. Not checked: the fences themselves. Under loom the global
//! queue is a mutex-guarded `VecDeque`, whose lock already orders the two
//! sides, as in `loom_idle.rs`.

use super::idle::MPark;
use super::Shared;
use crate::task::new_blocking_task;

#[test]
fn a_push_to_the_global_queue_reaches_a_lingering_m() {
    loom::model(|| {
        let shared = Shared::new_for_loom(1);
        let park = MPark::new();
        let m = {
            let (shared, park) = (shared.clone(), park.clone());
            loom::thread::spawn(move || {
                park.register_current_thread();
                shared.linger_sleep(&park, loom::thread::park);
                assert!(!shared.inject.is_empty(), "woken without the task");
            })
        };
        let (task, join) = new_blocking_task(async {});
        drop(join);
        shared.inject.push(task);
        crate::loom::fence(std::sync::atomic::Ordering::SeqCst);
        shared.unpark_lingering();
        m.join().unwrap();
        assert_eq!(
            shared
                .idle
                .nmlinger
                .load(std::sync::atomic::Ordering::SeqCst),
            0
        );
        while let Some(t) = shared.inject.pop() {
            drop(t);
        }
    });
}
