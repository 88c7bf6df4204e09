//! The default context timer frees an entry as soon as its context no
//! longer needs it. A file of its own: the entry count it checks is
//! process-wide, and other context tests schedule deadlines concurrently.
#![cfg(not(gosched_loom))]

use std::sync::Mutex;
use std::time::Duration;

use gosched_sync::context::{default_timer_pending, Context};

/// The tests below compare the process-wide count with a baseline, so they
/// must not run at the same time.
static SERIAL: Mutex<()> = Mutex::new(());

const CONTEXTS: usize = 200_000;

#[test]
fn cancelled_timeout_contexts_free_their_timer_entries_before_the_deadline() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let baseline = default_timer_pending();
    let (parent, _p) = Context::background().with_cancel();
    let mut ctxs = Vec::with_capacity(CONTEXTS);
    for _ in 0..CONTEXTS {
        ctxs.push(parent.with_timeout(Duration::from_secs(60)));
    }
    assert_eq!(default_timer_pending(), baseline + CONTEXTS);
    for (_, cancel) in &ctxs {
        cancel.cancel();
    }
    assert_eq!(
        default_timer_pending(),
        baseline,
        "cancel removes the timer entry at once"
    );
    drop(ctxs);
    assert_eq!(default_timer_pending(), baseline);
}

#[test]
fn dropped_timeout_contexts_free_their_timer_entries_before_the_deadline() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let baseline = default_timer_pending();
    let mut ctxs = Vec::with_capacity(CONTEXTS);
    for _ in 0..CONTEXTS {
        ctxs.push(Context::background().with_timeout(Duration::from_secs(60)));
    }
    assert_eq!(default_timer_pending(), baseline + CONTEXTS);
    drop(ctxs);
    assert_eq!(
        default_timer_pending(),
        baseline,
        "dropping the last handle removes the timer entry"
    );
}

#[test]
fn cancelling_a_parent_frees_the_timer_entries_of_its_deadline_children() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let baseline = default_timer_pending();
    let (parent, cancel) = Context::background().with_cancel();
    let ctxs: Vec<_> = (0..1000)
        .map(|i| parent.with_timeout(Duration::from_secs(60 + i)))
        .collect();
    assert_eq!(default_timer_pending(), baseline + 1000);
    cancel.cancel();
    assert_eq!(default_timer_pending(), baseline);
    drop(ctxs);
}
