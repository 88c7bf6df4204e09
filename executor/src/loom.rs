//! Synchronisation primitives, switched to loom's models under
//! `--cfg gosched_loom` so the lock-free parts can be model-checked.
//!
//! Everything that a loom model exercises (the run queue, the task state
//! word, the idle/park protocol) imports its atomics from here.

#[cfg(not(gosched_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize};
#[cfg(not(gosched_loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};
#[cfg(not(gosched_loom))]
pub(crate) use std::thread;

#[cfg(gosched_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize};
#[cfg(gosched_loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
#[cfg(gosched_loom)]
pub(crate) use loom::thread;

#[cfg(gosched_loom)]
pub(crate) use loom::sync::atomic::fence;
/// A fence; `loom::sync::atomic::fence` under loom.
#[cfg(not(gosched_loom))]
pub(crate) use std::sync::atomic::fence;

/// Locks a mutex, ignoring poisoning: every critical section in the
/// scheduler leaves its data consistent before anything that can panic.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    #[cfg(not(gosched_loom))]
    {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }
    #[cfg(gosched_loom)]
    {
        m.lock().unwrap()
    }
}

/// Locks a std mutex (one that loom models never reach: the blocking
/// pool's, sysmon's), ignoring poisoning for the same reason as [`lock`].
pub(crate) fn lock_std<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
