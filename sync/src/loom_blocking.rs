//! Loom models of the thread parker behind the `*_blocking` methods
//! (`blocking.rs`): no wake is lost, whether it lands before the sleep,
//! during it, or racing a timeout, and what the waker published before
//! waking is seen after the wake-up.

use std::time::{Duration, Instant};

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

use crate::blocking::Parker;

/// The other thread writes a plain value and wakes the parker's thread,
/// which parks once and then reads the value. The only wake is that one,
/// so `park` returns only after consuming it; the read races the write
/// unless the wake's Release/Acquire orders them, and the model deadlocks
/// if the wake is lost.
#[test]
fn loom_blocking_park_sees_the_wake_and_what_it_published() {
    loom::model(|| {
        let parker = Arc::new(Parker::new());
        let value = Arc::new(UnsafeCell::new(0u32));
        let waker = {
            let (parker, value) = (parker.clone(), value.clone());
            thread::spawn(move || {
                // SAFETY: the parker's thread reads `value` only after it
                // consumed the wake below, which follows this write.
                value.with_mut(|v| unsafe { *v = 7 });
                parker.unpark();
            })
        };
        parker.park();
        // SAFETY: `park` returned by consuming the one wake (Acquire),
        // which the writer sent (Release) after its write.
        assert_eq!(value.with(|v| unsafe { *v }), 7);
        waker.join().unwrap();
    });
}

/// Two wakers race each other and the sleep; the thread parks until it has
/// seen both of their flags, whatever the order.
#[test]
fn loom_blocking_two_wakers_never_lose_either_wake() {
    loom::model(|| {
        let parker = Arc::new(Parker::new());
        let done = Arc::new(AtomicUsize::new(0));
        let wakers: Vec<_> = (0..2)
            .map(|_| {
                let (parker, done) = (parker.clone(), done.clone());
                thread::spawn(move || {
                    done.fetch_add(1, Ordering::Relaxed);
                    parker.unpark();
                })
            })
            .collect();
        while done.load(Ordering::Relaxed) < 2 {
            parker.park();
        }
        wakers.into_iter().for_each(|t| t.join().unwrap());
    });
}

/// A timed sleep races the wake: either `park_until` reports the wake, or
/// it timed out before the wake, which is then still pending for the next
/// `park` (the model deadlocks if a timeout swallowed it).
#[test]
fn loom_blocking_timeout_racing_a_wake_keeps_the_wake() {
    loom::model(|| {
        let parker = Arc::new(Parker::new());
        let ready = Arc::new(AtomicBool::new(false));
        let waker = {
            let (parker, ready) = (parker.clone(), ready.clone());
            thread::spawn(move || {
                ready.store(true, Ordering::Relaxed);
                parker.unpark();
            })
        };
        let deadline = Instant::now() + Duration::from_secs(1);
        let woken = parker.park_until(deadline);
        if !woken {
            while !ready.load(Ordering::Relaxed) {
                parker.park();
            }
        }
        waker.join().unwrap();
        assert!(ready.load(Ordering::Relaxed) || !woken);
    });
}
