//! gosched-sync (work in progress).
