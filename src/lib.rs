//! gosched: an async runtime for Rust whose scheduler is built the way
//! Go's runtime is: G/M/P, a per-P run queue with `runnext`, half-steal
//! work stealing, a global queue with a fairness tick, spinning threads,
//! and a coop budget in every leaf future.
//!
//! ```
//! let v = gosched::run(async {
//!     let h = gosched::spawn(async { 21 * 2 });
//!     h.await.unwrap()
//! });
//! assert_eq!(v, 42);
//! ```

pub use gosched_executor::{
    block_on, coop, run, spawn, spawn_blocking, yield_now, Builder, EnterGuard, Handle, JoinError,
    JoinHandle, Runtime, YieldNow,
};

/// Runtime introspection: task counts, dumps, metrics (Go's `runtime`).
pub mod runtime {
    pub use gosched_executor::dump::{GroupedDump, TaskGroup};
    pub use gosched_executor::leak::{LeakGuard, LeakReport};
    pub use gosched_executor::metrics::{Metrics, ProcMetrics};
    pub use gosched_executor::task::{TaskInfo, TaskState, WaitReason};
    pub use gosched_executor::{dump, dump_grouped, num_tasks, PROCS_ENV};
}

/// Task-level items for leaf futures: wait reasons.
pub mod task {
    pub use gosched_executor::task::{set_wait_reason, TaskInfo, TaskState, WaitReason};
}
