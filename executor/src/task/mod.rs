//! Tasks: gosched's goroutines.

pub(crate) mod header;
mod wait_reason;

pub use wait_reason::{set_wait_reason, WaitReason};
