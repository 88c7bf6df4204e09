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
//! # Guarantees shared by every primitive
//!
//! - Cancellation safety: dropping any future of this crate removes its
//!   waiter at once, and whatever it had already been handed (a channel
//!   value, a lock, permits, a `notify_one`, a `Cond` signal) is passed on
//!   or given back. Nothing is lost, and no queue keeps a dead waiter.
//! - Fairness: waiters queue FIFO (the mutex adds Go's barging in normal
//!   mode and hand-off in starvation mode); `select!` picks uniformly.
//! - No user code runs under an internal lock: wakers are called and
//!   values dropped after unlocking.
//!
//! # Layout
//!
//! One concept per file; each opens with its design essay. `chan/state.rs`
//! is what every channel shares (Go's `hchan`), `chan/zero.rs` the
//! rendezvous flavor, `chan/buffered.rs` the lock-free path of buffered
//! channels around the queue of `chan/buffer.rs`, `chan/claim.rs` how an
//! operation pairs with a parked select arm,
//! `chan/select.rs` the select protocol, `chan/arm.rs` its two kinds of
//! arm (channel operations and any other future), and `chan/snapshot.rs`
//! the one moment on which a select decides `default`;
//! `waitlist.rs` is the waiter queue every primitive parks in;
//! `blocking.rs` the thread parker behind the `*_blocking` methods; `loom.rs`
//! switches locks and atomics to loom under `--cfg gosched_loom`; `rand.rs`
//! feeds `select!`'s fair choice; `loom_*.rs` are the loom models.
//!
//! # Plain threads
//!
//! A thread without an executor uses the blocking forms:
//! [`Sender::send_blocking`](chan::Sender::send_blocking),
//! [`Receiver::recv_blocking`](chan::Receiver::recv_blocking),
//! [`Receiver::recv_timeout`](chan::Receiver::recv_timeout),
//! [`Mutex::blocking_lock`], [`oneshot::Receiver::blocking_recv`] and
//! [`WaitGroup::wait_blocking`]. They park the thread, allocate nothing per
//! call, and panic on a gosched worker thread, where blocking would stall
//! the tasks queued on it.
//!
//! # Timers
//!
//! This crate depends on the executor only, not on netpoll. Context
//! deadlines run on the timer installed with [`context::set_timer`]: the
//! `gosched` crate installs the netpoller's, so a deadline is an entry in
//! its runtime's timer wheel. Without one (or outside any runtime) a small
//! std timer thread drives them ([`context::thread_timer`]), and any sleep
//! future can drive one context with
//! [`context::Context::with_deadline_driven`].
//!
//! # Tests
//!
//! - `cargo test -p gosched-sync`: unit, doc, stress (scale them with
//!   `GOSCHED_STRESS_SCALE=40` in release for 1M messages) and runtime tests.
//! - `LOOM_MAX_PREEMPTIONS=3 RUSTFLAGS="--cfg gosched_loom" cargo test -p
//!   gosched-sync --release --lib loom`: the loom models.

mod blocking;
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
mod loom_blocking;
#[cfg(all(test, gosched_loom))]
mod loom_cond;
#[cfg(all(test, gosched_loom))]
mod loom_mutex;
#[cfg(all(test, gosched_loom))]
mod loom_notify;
#[cfg(all(test, gosched_loom))]
mod loom_oneshot;
#[cfg(all(test, gosched_loom))]
mod loom_rwlock;
#[cfg(all(test, gosched_loom))]
mod loom_semaphore;
#[cfg(all(test, gosched_loom))]
mod loom_waitgroup;

pub use cond::Cond;
pub use mutex::{LockFuture, Mutex, MutexGuard, OwnedMutexGuard, STARVATION_THRESHOLD};
pub use notify::{Notified, Notify};
pub use once::{Once, OnceCell};
pub use rwlock::{RwLock, RwLockFuture, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{Acquire, OwnedPermit, Permit, Semaphore};
pub use taskgroup::TaskGroup;
pub use waitgroup::{Wait, WaitGroup, WaitGroupToken};
