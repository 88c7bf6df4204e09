//! gosched-executor: tasks, the P/M scheduler, the coop budget and the
//! blocking pool of gosched, an async runtime whose scheduler is built the
//! way Go's runtime is.
//!
//! Start with `docs/architecture.md` at the repository root for the map: a
//! task's life from spawn to free and where each step lives. In short:
//! [`task`] is G, `sched::processor` is P, `sched::worker` is M.
//!
//! ```
//! let rt = gosched::Runtime::builder().procs(2).build().unwrap();
//! let sum = rt.block_on(async {
//!     let hs: Vec<_> = (0..10u64).map(|i| gosched::spawn(async move { i * i })).collect();
//!     let mut sum = 0;
//!     for h in hs {
//!         sum += h.await.unwrap();
//!     }
//!     sum
//! });
//! assert_eq!(sum, 285);
//! ```

#![warn(missing_debug_implementations)]

mod blocking;
mod clock;
pub mod coop;
mod current_task;
pub mod driver;
pub mod dump;
pub mod leak;
mod loom;
pub mod metrics;
mod runtime;
mod sched;
mod schedtrace;
mod spawn_trait;
mod sys;
pub mod task;
pub mod trace;
mod yield_now;

pub use driver::Driver;
pub use runtime::{
    block_on, dump, dump_grouped, num_tasks, run, set_default_driver, spawn, spawn_blocking,
    Builder, DriverFactory, EnterGuard, Handle, Runtime, PROCS_ENV,
};
pub use sched::handoff::block_in_place;
pub use sched::syscall::syscall;
pub use schedtrace::DEBUG_ENV;
pub use task::{JoinError, JoinHandle};
pub use trace::TRACE_ENV;
pub use yield_now::{yield_now, YieldNow};
