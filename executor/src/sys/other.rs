//! The thread contract of `sys/mod.rs` where the platform cannot answer:
//! every thread id is unknown and no thread reads as asleep.

/// Unknown: 0.
pub(crate) fn current_tid() -> u32 {
    0
}

/// Unknown: false (see the contract for why false is the safe answer).
pub(crate) fn thread_asleep(_tid: u32) -> bool {
    false
}

/// Unknown: `None`.
pub(crate) fn thread_cpu_ns(_tid: u32) -> Option<u64> {
    None
}

/// Unknown: false.
pub(crate) fn thread_in_futex(_tid: u32) -> bool {
    false
}

/// Unknown: `None`.
pub(crate) fn thread_sched_ns(_tid: u32) -> Option<(u64, u64)> {
    None
}
