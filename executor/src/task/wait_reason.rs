//! Why a task is waiting: Go's `waitreason`, one byte in the task header.
//!
//! Leaf futures call [`set_wait_reason`] just before they return
//! `Poll::Pending`. The worker clears the reason at the start of every poll,
//! so a task that later parks on a future that sets no reason shows
//! [`WaitReason::Unknown`] rather than a stale one. Outside a gosched task
//! poll (another executor, `block_on`, a plain thread) the call is a no-op.
//!
//! Cost: one relaxed load and one relaxed store into the task header, which
//! the polling thread already has in cache. Only the polling thread writes
//! the reason; dumps read it from other threads with relaxed loads.

use std::fmt;

/// Why a task is parked, with the names Go's goroutine dumps use.
#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum WaitReason {
    /// The task is not parked, or parked on a future that set no reason.
    Unknown = 0,
    /// Receiving from a channel (`chan receive`).
    ChanReceive,
    /// Sending on a channel (`chan send`).
    ChanSend,
    /// Blocked in `select!` (`select`).
    Select,
    /// `select!` with no arms (`select (no cases)`).
    SelectNoCases,
    /// Waiting for `Mutex::lock` (`sync.Mutex.Lock`).
    MutexLock,
    /// Waiting for `RwLock::read` (`sync.RWMutex.RLock`).
    RwLockRead,
    /// Waiting for `RwLock::write` (`sync.RWMutex.Lock`).
    RwLockWrite,
    /// Waiting on a semaphore (`semacquire`).
    Semacquire,
    /// Waiting for a `WaitGroup` (`sync.WaitGroup.Wait`).
    WaitGroupWait,
    /// Waiting on a condition variable (`sync.Cond.Wait`).
    CondWait,
    /// Waiting for a `Once` to finish in another task (`sync.Once.Do`).
    OnceWait,
    /// Waiting for a notification (`notify`).
    Notify,
    /// Waiting for a context to be done (`context done`).
    ContextDone,
    /// Sleeping on a timer (`sleep`).
    Sleep,
    /// Waiting for socket readiness (`IO wait`).
    IoWait,
    /// Waiting for another task to finish (`join`).
    Join,
    /// Waiting for a `spawn_blocking` closure (`blocking`).
    Blocking,
}

impl WaitReason {
    const ALL: [WaitReason; 18] = [
        WaitReason::Unknown,
        WaitReason::ChanReceive,
        WaitReason::ChanSend,
        WaitReason::Select,
        WaitReason::SelectNoCases,
        WaitReason::MutexLock,
        WaitReason::RwLockRead,
        WaitReason::RwLockWrite,
        WaitReason::Semacquire,
        WaitReason::WaitGroupWait,
        WaitReason::CondWait,
        WaitReason::OnceWait,
        WaitReason::Notify,
        WaitReason::ContextDone,
        WaitReason::Sleep,
        WaitReason::IoWait,
        WaitReason::Join,
        WaitReason::Blocking,
    ];

    /// The byte stored in the task header.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The reason for a stored byte; unknown bytes map to `Unknown`.
    pub fn from_u8(b: u8) -> WaitReason {
        Self::ALL
            .get(b as usize)
            .copied()
            .unwrap_or(WaitReason::Unknown)
    }

    /// Go's spelling of the reason, as printed in a dump.
    pub fn as_str(self) -> &'static str {
        match self {
            WaitReason::Unknown => "unknown",
            WaitReason::ChanReceive => "chan receive",
            WaitReason::ChanSend => "chan send",
            WaitReason::Select => "select",
            WaitReason::SelectNoCases => "select (no cases)",
            WaitReason::MutexLock => "sync.Mutex.Lock",
            WaitReason::RwLockRead => "sync.RWMutex.RLock",
            WaitReason::RwLockWrite => "sync.RWMutex.Lock",
            WaitReason::Semacquire => "semacquire",
            WaitReason::WaitGroupWait => "sync.WaitGroup.Wait",
            WaitReason::CondWait => "sync.Cond.Wait",
            WaitReason::OnceWait => "sync.Once.Do",
            WaitReason::Notify => "notify",
            WaitReason::ContextDone => "context done",
            WaitReason::Sleep => "sleep",
            WaitReason::IoWait => "IO wait",
            WaitReason::Join => "join",
            WaitReason::Blocking => "blocking",
        }
    }
}

impl fmt::Display for WaitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Records why the current task is about to return `Poll::Pending`.
///
/// Call it from a leaf future right before returning `Pending`. Outside a
/// gosched task poll it does nothing, so leaf futures may call it freely.
///
/// ```
/// use gosched::task::{set_wait_reason, WaitReason};
/// set_wait_reason(WaitReason::ChanReceive); // a no-op outside a task
/// ```
#[inline]
pub fn set_wait_reason(reason: WaitReason) {
    crate::current_task::set_wait_reason(reason.as_u8());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_for_every_reason() {
        for (i, r) in WaitReason::ALL.iter().enumerate() {
            assert_eq!(r.as_u8() as usize, i);
            assert_eq!(WaitReason::from_u8(r.as_u8()), *r);
        }
        assert_eq!(WaitReason::from_u8(250), WaitReason::Unknown);
    }

    #[test]
    fn names_follow_go() {
        assert_eq!(WaitReason::ChanReceive.to_string(), "chan receive");
        assert_eq!(WaitReason::MutexLock.to_string(), "sync.Mutex.Lock");
        assert_eq!(WaitReason::IoWait.to_string(), "IO wait");
    }
}
