//! Loom model of the P hand-off racing a push by the M that loses the P:
//! the pushed task must never be stranded in the old ring, which nobody
//! but that M will look at again (`handoff.rs`, steps 2 and 5).

use std::sync::Arc;

use super::idle::MPark;
use super::runq::{Local, RunQueue};
use super::worker::MContext;
use super::Shared;
use crate::loom::lock;
use crate::task::new_blocking_task;

#[test]
fn a_push_racing_the_handoff_is_never_stranded_in_the_old_ring() {
    loom::model(|| {
        let shared = Shared::new_for_loom(1);
        let park = MPark::new();
        // The M that will lose its P takes P0 first.
        let token = {
            let mut lists = lock(&shared.idle.lists);
            shared.idle.pidleget(&mut lists).unwrap()
        };
        let stuck = {
            let shared = shared.clone();
            let park = park.clone();
            loom::thread::spawn(move || {
                let ctx = MContext::new(shared.clone(), park);
                ctx.acquire(token);
                let ring = ctx.ring().unwrap().queue() as *const RunQueue as usize;
                // A wake from inside the long poll: the local fast path of
                // `Shared::schedule` (push, wakep's fence, the check).
                let (task, join) = new_blocking_task(async {});
                drop(join);
                shared.schedule_local_for_loom(&ctx, task);
                ring
            })
        };
        let handed = shared.handoff(0, &park);
        let old_ring = stuck.join().unwrap() as *const RunQueue;
        // SAFETY: arena rings live as long as `shared`.
        let old_ring = unsafe { &*old_ring };
        let new_ring = shared.procs[0].runq();
        let queued = new_ring.len() + shared.inject.len();
        if handed {
            assert!(old_ring.is_empty(), "task stranded in the old ring");
            assert_eq!(queued, 1);
        } else {
            assert_eq!(old_ring.len() + shared.inject.len(), 1);
        }
        // Release the queue references before the model ends.
        // SAFETY: both Ms are gone; this thread is the only one left.
        let (old_owner, new_owner) = unsafe { (Local::new(old_ring), Local::new(new_ring)) };
        while let Some((t, _)) = old_owner.pop() {
            drop(t);
        }
        while let Some(t) = shared.inject.pop() {
            drop(t);
        }
        if !std::ptr::eq(old_ring, new_ring) {
            while let Some((t, _)) = new_owner.pop() {
                drop(t);
            }
        }
        drop(Arc::clone(&shared));
    });
}
