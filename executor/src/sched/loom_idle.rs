//! Loom model of an M going idle racing a remote spawn (Go's
//! `findRunnable` tail against `wakep`): whatever the interleaving, the
//! task pushed to the global queue runs. A lost wake-up leaves both the M
//! and the spawner asleep, which loom reports as a deadlock.
//!
//! The M runs the real worker loop (`Worker::run`: find_runnable, its
//! re-check after giving up the P, stopm). The spawner does what
//! `Shared::schedule` does off a worker: push to the global queue, then
//! `wakep`. (It calls those two directly: `schedule` finds its M through
//! a thread-local, and loom's threads share the OS thread's locals.)
//!
//! Checked: removing the M's re-check after it gives up its P fails the
//! first two models; removing `lose_p`'s stop-spinning fails the third.
//! Not checked here: the fence between that re-check and the queue read.
//! Under loom the global queue is a mutex-guarded `VecDeque`, whose lock
//! already orders the two sides; the real `SegQueue` is lock-free, which
//! is why the code keeps the fence (a Dekker pair with `wakep`'s).

use std::sync::Arc;

use super::idle::{Idle, MPark};
use super::processor::PToken;
use super::worker::Worker;
use super::Shared;
use crate::loom::{lock, AtomicBool};
use crate::task::{new_blocking_task, Notified};

/// A task that sets the returned flag and unparks the calling thread.
fn unparking_task() -> (Arc<AtomicBool>, Notified) {
    let ran = Arc::new(AtomicBool::new(false));
    let main = loom::thread::current();
    let (task, join) = {
        let ran = ran.clone();
        new_blocking_task(async move {
            ran.store(true, std::sync::atomic::Ordering::SeqCst);
            main.unpark();
        })
    };
    drop(join);
    (ran, task)
}

/// Parks the calling thread until the task of [`unparking_task`] ran.
fn wait_until_ran(ran: &AtomicBool) {
    while !ran.load(std::sync::atomic::Ordering::SeqCst) {
        loom::thread::park();
    }
}

/// Two Ms and one P: M1 (the scheduler's own) holds the returned token,
/// M2 (registered, on `midle`) sleeps.
fn two_ms_one_p(shared: &Shared) -> (Arc<MPark>, Arc<MPark>, PToken) {
    let park1 = shared.all_ms().pop().expect("one M");
    let park2 = MPark::new();
    let token = {
        let mut lists = lock(&shared.idle.lists);
        assert!(Idle::remove_m(&mut lists, &park1));
        lists.midle.push(park2.clone());
        shared.idle.pidleget(&mut lists).expect("one P")
    };
    lock(shared.ms_list()).push(park2.clone());
    (park1, park2, token)
}

/// The M starts holding the only P with nothing to run, so it spins,
/// gives the P back, re-checks and sleeps, while this thread spawns
/// "remotely" a task that sets `ran` and unparks it, then waits for it.
/// `first_idle` lets the M run ahead first.
fn remote_spawn_runs(first_idle: bool) {
    loom::model(move || {
        let shared = Shared::new_for_loom(1);
        let park = shared.all_ms().pop().expect("one M");
        let token = {
            let mut lists = lock(&shared.idle.lists);
            assert!(Idle::remove_m(&mut lists, &park));
            shared.idle.pidleget(&mut lists).expect("one P")
        };
        let m = {
            let shared = shared.clone();
            loom::thread::spawn(move || Worker::new(shared, park, 1).holding(token).run())
        };
        if first_idle {
            loom::thread::yield_now();
        }
        let (ran, task) = unparking_task();
        shared.inject.push(task);
        shared.wakep();
        wait_until_ran(&ran);
        shared.shutdown(None);
        m.join().unwrap();
        assert!(lock(&shared.idle.lists).shutdown);
    });
}

#[test]
fn a_remote_spawn_racing_an_m_going_idle_runs() {
    remote_spawn_runs(false);
}

#[test]
fn a_remote_spawn_after_the_m_went_idle_runs() {
    remote_spawn_runs(true);
}

/// sysmon's hand-off can take the P from an M that is spinning in
/// `findRunnable` (its thread was descheduled for 10 ms). That M must
/// stop counting as a spinner: `wakep` skips waking anyone while
/// `nmspinning > 0`, so a later remote spawn would be stranded with the P
/// idle. Two Ms, one P: M1 holds it, M2
/// sleeps; this thread hands the P to M2, then spawns remotely.
#[test]
fn a_spinning_m_that_loses_its_p_does_not_strand_a_remote_spawn() {
    loom::model(|| {
        let shared = Shared::new_for_loom(1);
        let (park1, park2, token) = two_ms_one_p(&shared);
        let m1 = {
            let (shared, park1) = (shared.clone(), park1.clone());
            loom::thread::spawn(move || Worker::new(shared, park1, 1).holding(token).run())
        };
        let m2 = {
            let shared = shared.clone();
            loom::thread::spawn(move || Worker::new(shared, park2, 2).run())
        };
        shared.handoff(0, &park1);
        let (ran, task) = unparking_task();
        shared.inject.push(task);
        shared.wakep();
        wait_until_ran(&ran);
        shared.shutdown(None);
        m1.join().unwrap();
        m2.join().unwrap();
    });
}

/// A driver wake-up with its `wakep` deferred (`worker::DeferWakeups`):
/// M2 was idle, blocked in the driver without a P, and its poll readied a
/// task into the global queue without waking anyone; it then looks for an
/// idle P itself (`take_p_for_ready_tasks`). Meanwhile M1, holding the
/// only P with nothing to run, goes idle. Whoever ends up with the P runs
/// the task: if M2 finds no idle P, M1's re-check after giving its P up
/// sees the push. A lost task leaves everyone asleep: a loom deadlock.
#[test]
fn a_task_readied_by_a_driver_poll_with_its_wakeup_deferred_runs() {
    loom::model(|| {
        let shared = Shared::new_for_loom(1);
        let (park1, park2, token) = two_ms_one_p(&shared);
        let m1 = {
            let shared = shared.clone();
            loom::thread::spawn(move || Worker::new(shared, park1, 1).holding(token).run())
        };
        let (ran, task) = unparking_task();
        let m2 = {
            let shared = shared.clone();
            loom::thread::spawn(move || {
                // The driver poll's `schedule`, wake-up deferred.
                shared.inject.push(task);
                crate::loom::fence(std::sync::atomic::Ordering::SeqCst);
                let worker = Worker::new(shared.clone(), park2.clone(), 2);
                match super::worker::take_p_for_ready_tasks(&shared, &park2, 1) {
                    Some(p) => worker.holding(p).run(),
                    None => worker.run(),
                }
            })
        };
        wait_until_ran(&ran);
        shared.shutdown(None);
        m1.join().unwrap();
        m2.join().unwrap();
    });
}
