//! gosched-sync: Go's `chan`, `select`, `sync`, `x/sync` and `context`, as
//! async Rust that runs on any executor.
//!
//! | Go | here |
//! |---|---|
//! | `make(chan T, n)`, `close`, `len`, `cap` | [`chan`] |
//! | `select` | [`select!`] |
//! | `sync.Mutex` (with starvation mode) | [`Mutex`] |
//! | `sync.RWMutex` | [`RwLock`] |
//! | `sync.WaitGroup` | [`WaitGroup`] |
//! | `sync.Once` | [`Once`], [`OnceCell`] |
//! | `sync.Cond` | [`Cond`] |
//! | `x/sync/semaphore` | [`Semaphore`] |
//! | `context` | [`context`] |
//! | `x/sync/errgroup` | [`TaskGroup`] |
//! | a `chan struct{}` used to signal | [`Notify`] |
//! | a `chan T` used once for a reply | [`oneshot`] |
//!
//! Every leaf future here follows gosched's two conventions: it spends one
//! unit of the coop budget when it completes
//! ([`gosched_executor::coop::poll_proceed`]) and it records Go's wait reason
//! when it parks ([`gosched_executor::task::set_wait_reason`]). Outside a
//! gosched worker both calls are no-ops, so everything here also works on
//! `futures::executor`, tokio, smol or plain threads.
//!
//! # Layout
//!
//! One concept per file. `waitlist.rs` is the waiter queue every primitive
//! parks in; `loom.rs` switches locks and atomics to loom under
//! `--cfg gosched_loom`; `rand.rs` feeds `select!`'s fair choice.

mod loom;
mod rand;
mod waitlist;

pub mod chan;
mod cond;
pub mod context;
mod mutex;
mod notify;
mod once;
pub mod oneshot;
mod rwlock;
mod semaphore;
mod taskgroup;
mod waitgroup;

#[cfg(all(test, gosched_loom))]
mod loom_mutex;
#[cfg(all(test, gosched_loom))]
mod loom_rwlock;
#[cfg(all(test, gosched_loom))]
mod loom_semaphore;

pub use cond::Cond;
pub use mutex::{LockFuture, Mutex, MutexGuard, OwnedMutexGuard, STARVATION_THRESHOLD};
pub use notify::{Notified, Notify};
pub use once::{Once, OnceCell};
pub use rwlock::{RwLock, RwLockFuture, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{Acquire, OwnedPermit, Permit, Semaphore};
pub use taskgroup::TaskGroup;
pub use waitgroup::{Wait, WaitGroup, WaitGroupToken};
