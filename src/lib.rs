//! gosched: an async runtime whose scheduler is built the way Go's is.
pub use gosched_executor as executor;
