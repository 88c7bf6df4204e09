//! gosched-executor: tasks, the P/M scheduler, the coop budget, the blocking
//! pool and sysmon.

pub mod coop;
mod context;
pub mod driver;
pub mod task;

pub use driver::Driver;
