//! Loom model of Go's syscall protocol (`syscall.rs`): an M entering and
//! leaving a blocking call races sysmon's retake of its P. Whatever the
//! interleaving, the P ends with exactly one owner, and the tasks queued
//! before and during the call are still queued somewhere an M will look.

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

use super::idle::{MPark, Wakeup};
use super::runq::{Local, RunQueue};
use super::syscall::syscall_on;
use super::worker::MContext;
use super::Shared;
use crate::loom::lock;
use crate::task::new_blocking_task;

#[test]
fn loom_a_syscall_racing_a_retake_leaves_the_p_one_owner_and_no_task_stranded() {
    loom::model(|| {
        let shared = Shared::new_for_loom(1);
        // The M in the call holds P0; the M listed idle at start is the one
        // a hand-off gives the P to.
        let park = MPark::new();
        let token = {
            let mut lists = lock(&shared.idle.lists);
            shared.idle.pidleget(&mut lists).unwrap()
        };
        let spare = lock(&shared.idle.lists).midle[0].clone();
        let m = {
            let (shared, park) = (shared.clone(), park.clone());
            loom::thread::spawn(move || {
                let ctx = MContext::new(shared.clone(), park);
                ctx.acquire(token);
                let ring = ctx.ring().unwrap().queue() as *const RunQueue as usize;
                // Work queued on the P before the call.
                let (task, join) = new_blocking_task(async {});
                drop(join);
                shared.schedule_local_for_loom(&ctx, task);
                // A wake from inside the call goes to the global queue
                // (the call runs off the worker).
                let (inside, join) = new_blocking_task(async {});
                drop(join);
                syscall_on(&ctx, || drop(shared.schedule(inside, false)));
                (ctx, ring)
            })
        };
        // sysmon: the M is inside the call and work waits for its P.
        let handed = park.in_syscall.load(SeqCst) && shared.handoff(0, &park);
        let (ctx, old_ring) = m.join().unwrap();
        // A hand-off decided just before the exit lands after it: the M
        // learns of it at its next look at `retaken` (after the poll, in
        // `Worker::execute`), as for any retaken poll.
        if ctx.park.retaken.load(SeqCst) {
            ctx.drop_lost_p();
        }
        let m_holds_p = ctx.p.get().is_some();
        let spare_got_p = matches!(lock(&spare.slot).as_ref(), Some(Wakeup::P(..)));
        assert_eq!(handed, spare_got_p);
        assert!(
            m_holds_p ^ spare_got_p,
            "P0 has one owner (M in the call: {m_holds_p}, spare: {spare_got_p})"
        );
        // SAFETY: arena rings live as long as `shared`.
        let old_ring = unsafe { &*(old_ring as *const RunQueue) };
        let new_ring = shared.procs[0].runq();
        let queued = if std::ptr::eq(old_ring, new_ring) {
            new_ring.len()
        } else {
            old_ring.len() + new_ring.len()
        } + shared.inject.len();
        assert_eq!(queued, 2, "both queued tasks are runnable somewhere");
        if !m_holds_p {
            assert!(old_ring.is_empty(), "a P-less M keeps no queued task");
        }
        drop(ctx);
        // Release the queue references before the model ends.
        // SAFETY: both Ms are done; this thread is the only one left.
        let (old_owner, new_owner) = unsafe { (Local::new(old_ring), Local::new(new_ring)) };
        while let Some((t, _)) = old_owner.pop() {
            drop(t);
        }
        if !std::ptr::eq(old_ring, new_ring) {
            while let Some((t, _)) = new_owner.pop() {
                drop(t);
            }
        }
        while let Some(t) = shared.inject.pop() {
            drop(t);
        }
        drop(Arc::clone(&shared));
    });
}
