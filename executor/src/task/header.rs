//! The task header (Go's `g`). Filled in with the task module.

/// Bits of the id word that hold the task id; the top byte is the wait reason.
pub(crate) const TASK_ID_MASK: u64 = (1 << 56) - 1;
/// Shift of the wait-reason byte in the id word.
pub(crate) const REASON_SHIFT: u32 = 56;
