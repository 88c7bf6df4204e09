//! Loom model of the run queue: owner push/pop against a thief's steal,
//! with the ring shrunk to 4 slots so overflow and wrap-around are reached.
//! Every task must come out exactly once, through exactly one path.

use std::collections::HashSet;
use std::sync::Arc;

use super::inject::Injector;
use super::runq::{Local, RunQueue};
use crate::task::{new_blocking_task, Notified};

fn task() -> (Notified, u64) {
    let (t, join) = new_blocking_task(async {});
    let id = join.id();
    drop(join);
    (t, id)
}

/// The owner's handle on `q`.
///
/// # Safety
/// As [`Local::new`]: only the calling loom thread owns `q` meanwhile.
unsafe fn owner(q: &RunQueue) -> Local<'_> {
    // SAFETY: guaranteed by the caller.
    unsafe { Local::new(q) }
}

fn drain(q: &Local<'_>, inject: &Injector, seen: &mut Vec<u64>) {
    while let Some((t, _)) = q.pop() {
        seen.push(t.header().id());
    }
    while let Some(t) = inject.pop() {
        seen.push(t.header().id());
    }
}

#[test]
fn steal_racing_pop_and_overflow_loses_and_duplicates_nothing() {
    loom::model(|| {
        let victim_q = Arc::new(RunQueue::new());
        // SAFETY: this thread is the victim's owner; the thief only steals.
        let victim = unsafe { owner(&victim_q) };
        let inject = Arc::new(Injector::new());
        let mut ids = HashSet::new();
        // Three tasks in the ring (capacity 4 under loom), none in runnext.
        for _ in 0..3 {
            let (t, id) = task();
            ids.insert(id);
            victim.put(t, false, &inject);
        }
        let thief = {
            let victim = victim_q.clone();
            loom::thread::spawn(move || {
                let mine_q = RunQueue::new();
                // SAFETY: a local of the thief's thread.
                let mine = unsafe { owner(&mine_q) };
                let scratch = Injector::new();
                let mut got = Vec::new();
                if let Some(t) = mine.steal_from(&victim, false, false) {
                    got.push(t.header().id());
                }
                drain(&mine, &scratch, &mut got);
                got
            })
        };
        // Meanwhile the owner pops one and pushes three: unless the thief
        // got there first, the last push finds the ring full and moves
        // half of it to the global queue (runqputslow).
        let mut seen = Vec::new();
        if let Some(t) = victim.pop_ring() {
            seen.push(t.header().id());
        }
        for _ in 0..3 {
            let (t, id) = task();
            ids.insert(id);
            victim.put(t, false, &inject);
        }
        let stolen = thief.join().unwrap();
        drain(&victim, &inject, &mut seen);
        seen.extend(stolen);
        assert_eq!(seen.len(), ids.len(), "lost or duplicated: {seen:?}");
        let unique: HashSet<u64> = seen.into_iter().collect();
        assert_eq!(unique, ids);
    });
}

#[test]
fn runnext_taken_by_either_owner_or_thief_never_both() {
    loom::model(|| {
        let victim_q = Arc::new(RunQueue::new());
        // SAFETY: this thread is the victim's owner; the thief only steals.
        let victim = unsafe { owner(&victim_q) };
        let inject = Injector::new();
        let (t, id) = task();
        victim.put(t, true, &inject);
        let thief = {
            let victim = victim_q.clone();
            loom::thread::spawn(move || {
                let mine_q = RunQueue::new();
                // SAFETY: a local of the thief's thread.
                let mine = unsafe { owner(&mine_q) };
                mine.steal_from(&victim, true, true)
                    .map(|t| t.header().id())
            })
        };
        let owner = victim.pop().map(|(t, _)| t.header().id());
        let stolen = thief.join().unwrap();
        let got: Vec<u64> = owner.into_iter().chain(stolen).collect();
        assert_eq!(got, vec![id]);
    });
}
