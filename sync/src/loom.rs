//! Switch between std and loom synchronization types.
//!
//! Every lock and atomic in this crate is imported from here, so that
//! `RUSTFLAGS="--cfg gosched_loom"` runs the loom models against the real
//! code: loom then sees every lock acquisition and atomic access and explores
//! their interleavings. Outside loom these are plain re-exports of std.

#[cfg(gosched_loom)]
pub(crate) use loom::sync::{atomic, Arc, Mutex, MutexGuard};

#[cfg(not(gosched_loom))]
pub(crate) use std::sync::{atomic, Arc, Mutex, MutexGuard};

/// Parking a thread (the parker of `blocking.rs`).
#[cfg(gosched_loom)]
pub(crate) mod thread {
    pub(crate) use loom::thread::{current, park, Thread};
}

/// Parking a thread (the parker of `blocking.rs`).
#[cfg(not(gosched_loom))]
pub(crate) mod thread {
    pub(crate) use std::thread::{current, park, Thread};
}

/// One iteration of a spin-wait. Under loom it yields to the model's
/// scheduler, which would otherwise never run the thread being waited for.
#[inline]
pub(crate) fn spin() {
    #[cfg(gosched_loom)]
    loom::thread::yield_now();
    #[cfg(not(gosched_loom))]
    std::hint::spin_loop();
}

/// Gives the CPU away during a long spin-wait (a loom yield under loom).
#[inline]
pub(crate) fn yield_thread() {
    #[cfg(gosched_loom)]
    loom::thread::yield_now();
    #[cfg(not(gosched_loom))]
    std::thread::yield_now();
}

/// Locks `m`, ignoring poisoning: no critical section in this crate leaves
/// its state inconsistent when user code panics, because user code (drops
/// of `T`, wakers) never runs while one of these locks is held.
#[inline]
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Locks a std mutex (one that loom models never reach: the Context tree
/// and its timer thread), ignoring poisoning for the same reason as
/// [`lock`].
#[inline]
pub(crate) fn lock_std<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
