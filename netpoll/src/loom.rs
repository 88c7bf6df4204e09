//! Synchronisation primitives, switched to loom's models under
//! `--cfg gosched_loom` so the readiness protocol (`reactor/io_state.rs`)
//! can be model-checked by `reactor/loom_io_state.rs`.

#[cfg(not(gosched_loom))]
pub(crate) use std::sync::atomic::AtomicUsize;
#[cfg(not(gosched_loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(gosched_loom)]
pub(crate) use loom::sync::atomic::AtomicUsize;
#[cfg(gosched_loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

/// Locks a std mutex (the reactor's locks that loom does not model),
/// ignoring poisoning for the same reason as [`lock`].
pub(crate) fn lock_std<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Locks a mutex, ignoring poisoning: the data behind these locks stays
/// consistent even if a waker panicked (wakers run outside them).
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
