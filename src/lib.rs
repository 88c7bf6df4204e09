//! gosched: an async runtime for Rust whose scheduler is built the way
//! Go's runtime is: G/M/P, a per-P run queue with `runnext`, half-steal
//! work stealing, a global queue with a fairness tick, spinning threads,
//! a netpoller an idle thread blocks in, and a coop budget in every leaf
//! future.
//!
//! ```
//! let v = gosched::run(async {
//!     let (tx, rx) = gosched::sync::chan::bounded(0);
//!     gosched::spawn(async move { tx.send(42).await.unwrap() });
//!     gosched::time::sleep(std::time::Duration::from_millis(1)).await;
//!     rx.recv().await
//! });
//! assert_eq!(v, Some(42));
//! ```
//!
//! The pieces live in three crates, re-exported here: `gosched-executor`
//! (tasks, scheduler, blocking pool), `gosched-netpoll` ([`net`], [`time`])
//! and `gosched-sync` ([`sync`]). Every runtime this crate builds has the
//! netpoller as its driver, so sockets and timers work in every task.

use std::future::Future;
use std::sync::{Arc, Once};

pub use gosched_executor::{
    block_in_place, coop, syscall, yield_now, EnterGuard, Handle, JoinError, JoinHandle, YieldNow,
};

#[cfg(feature = "tokio-compat")]
pub mod compat;
#[cfg(feature = "hyper")]
pub mod http;

/// Go-semantics channels, `select!`, locks, WaitGroup, Context (the
/// `gosched-sync` crate).
pub mod sync {
    pub use gosched_sync::*;
}

/// Go's `select` over channel operations (see [`sync::chan`]).
pub use gosched_sync::select;

/// `#[gosched::main]`: runs an `async fn main` on a gosched runtime;
/// `procs = N` sets the number of Ps.
///
/// ```
/// #[gosched::main(procs = 2)]
/// async fn main() {
///     let h = gosched::spawn(async { 40 + 2 });
///     assert_eq!(h.await.unwrap(), 42);
/// }
/// ```
pub use gosched_macros::main;

/// `#[gosched::test]`: runs an `async fn` test on a runtime of its own.
/// Arguments: `procs = N` (Ps); `leak_check` (fail, as Go's goleak does,
/// when a task the test spawned is still alive at its end, after
/// [`runtime::LeakGuard`]'s grace period); `start_paused` (the runtime's
/// clock starts paused and jumps to the next timer whenever every task is
/// idle: [`time::pause`]).
///
/// ```
/// use std::time::Duration;
///
/// #[gosched::test(start_paused, leak_check)]
/// async fn a_one_hour_timeout_runs_at_once() {
///     let start = gosched::time::now();
///     let r = gosched::time::timeout(Duration::from_secs(3600), std::future::pending::<()>()).await;
///     assert!(r.is_err());
///     assert!(gosched::time::now() - start >= Duration::from_secs(3600));
/// }
/// # fn main() {}
/// ```
pub use gosched_macros::test;

/// What `#[gosched::main]` and `#[gosched::test]` expand to call. Not a
/// public API: it changes with the macros.
#[doc(hidden)]
pub mod __private {
    use std::future::Future;

    /// The arguments of `#[gosched::test]`.
    #[derive(Debug, Clone, Copy)]
    pub struct TestOptions {
        /// Ps; `None`: the default.
        pub procs: Option<usize>,
        /// Fail when a spawned task outlives the test.
        pub leak_check: bool,
        /// Start with the clock paused.
        pub start_paused: bool,
    }

    fn build(procs: Option<usize>) -> crate::Runtime {
        let mut b = crate::Runtime::builder();
        if let Some(n) = procs {
            b = b.procs(n);
        }
        match b.build() {
            Ok(rt) => rt,
            Err(e) => panic!("gosched: cannot start the runtime: {e}"),
        }
    }

    /// The body of a `#[gosched::main]`.
    #[track_caller]
    pub fn run_main<T, F: Future<Output = T>>(procs: Option<usize>, body: F) -> T {
        let rt = build(procs);
        rt.set_process_default();
        rt.block_on(body)
    }

    /// The body of a `#[gosched::test]`.
    #[track_caller]
    pub fn run_test<T, F: Future<Output = T>>(options: TestOptions, body: F) -> T {
        let rt = build(options.procs);
        let guard = options
            .leak_check
            .then(|| crate::runtime::LeakGuard::new(rt.handle()));
        let out = rt.block_on(async {
            if options.start_paused {
                crate::time::pause();
            }
            body.await
        });
        if let Some(guard) = guard {
            if let Err(report) = guard.check() {
                panic!("gosched: leak_check: {report}");
            }
        }
        out
    }
}

/// TCP, UDP and Unix sockets on the netpoller (the `gosched-netpoll`
/// crate's `net`).
pub mod net {
    pub use gosched_netpoll::net::*;
}

/// Files and directories, Go's way: each operation is one blocking call on
/// the task's own thread under [`syscall`], handed off by sysmon only if it
/// stays blocked (the `gosched-netpoll` crate's `fs`).
pub mod fs {
    pub use gosched_netpoll::fs::*;
}

/// The I/O traits and helpers a program reaches for, so that none needs a
/// second crate's name: `futures::io`'s traits, their extension traits
/// (`read_to_end`, `write_all`, `lines`, `split`, ...), buffers and `copy`.
/// gosched's sockets and files implement these traits.
///
/// ```
/// use gosched::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
/// gosched::run(async {
///     let (mut a, b) = gosched::net::UnixStream::pair().unwrap();
///     a.write_all(b"one\ntwo\n").await.unwrap();
///     drop(a);
///     let mut reader = BufReader::new(b);
///     let mut got = Vec::new();
///     let mut line = String::new();
///     while reader.read_line(&mut line).await.unwrap() > 0 {
///         got.push(line.trim_end().to_string());
///         line.clear();
///     }
///     assert_eq!(got, ["one", "two"]);
/// });
/// ```
pub mod io {
    pub use futures::io::{
        copy, copy_buf, empty, repeat, sink, AsyncBufRead, AsyncBufReadExt, AsyncRead,
        AsyncReadExt, AsyncSeek, AsyncSeekExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter,
        Cursor, Error, ErrorKind, ReadHalf, Result, SeekFrom, WriteHalf,
    };
}

/// Child processes: `Command`, a `Child` whose exit is awaited on the
/// netpoller (a pidfd, no thread), its standard streams as async streams
/// (the `gosched-netpoll` crate's `process`).
pub mod process {
    pub use gosched_netpoll::process::*;
}

/// Unix signals, Go's way: `notify` into a channel, `ctrl_c`,
/// `notify_context` (the `gosched-netpoll` crate's `signal`).
pub mod signal {
    pub use gosched_netpoll::signal::*;
}

/// Streams (`futures::Stream` and its extension trait), which
/// `fs::read_dir`, channel receivers and intervals implement.
pub mod stream {
    pub use futures::stream::{Stream, StreamExt};
}

/// Timers (the `gosched-netpoll` crate's `time`): `sleep`, `timeout`,
/// `interval`; Go's channel timers `after`, `tick`, `Timer`, `Ticker`,
/// `after_func`; the clock, `now`, and the paused clock for tests, `pause`,
/// `advance`, `resume`.
///
/// Go's `select` on a timeout, with a channel timer:
///
/// ```
/// use std::time::Duration;
/// gosched::run(async {
///     let (_tx, rx) = gosched::sync::chan::bounded::<u32>(0);
///     let timeout = gosched::time::after(Duration::from_millis(5));
///     let got = gosched::select! {
///         v = rx.recv() => v,
///         _ = timeout.recv() => None,
///     };
///     assert_eq!(got, None);
/// });
/// ```
///
/// A test of an hour-long timeout that runs in milliseconds, on a paused
/// clock that jumps to the next timer once every task is idle:
///
/// ```
/// use std::time::Duration;
/// gosched::run(async {
///     gosched::time::pause();
///     let start = gosched::time::now();
///     let r = gosched::time::timeout(Duration::from_secs(3600), std::future::pending::<()>()).await;
///     assert!(r.is_err());
///     assert!(gosched::time::now() - start >= Duration::from_secs(3600));
/// });
/// ```
pub mod time {
    pub use gosched_netpoll::time::*;
}

/// Runtime introspection: task counts, dumps, metrics, leak checks (Go's
/// `runtime` package).
pub mod runtime {
    pub use gosched_executor::dump::{GroupedDump, TaskGroup};
    pub use gosched_executor::leak::{LeakGuard, LeakReport};
    pub use gosched_executor::metrics::{Metrics, ProcMetrics};
    pub use gosched_executor::task::{TaskInfo, TaskState, WaitReason};
    /// What an idle worker blocks in; [`Builder::driver`](crate::Builder::driver) takes one.
    pub use gosched_executor::Driver;
    pub use gosched_executor::{dump, dump_grouped, num_tasks, DEBUG_ENV, PROCS_ENV, TRACE_ENV};
    /// The netpoller: the driver of every runtime this crate builds, and a
    /// single-threaded executor of its own for tools and foreign executors
    /// (`Reactor::block_on`, `Reactor::enter`).
    pub use gosched_netpoll::Reactor;
}

/// Task-level items for leaf futures: wait reasons.
pub mod task {
    pub use gosched_executor::task::{set_wait_reason, TaskInfo, TaskState, WaitReason};
}

/// Makes the netpoller the default driver of every runtime the executor
/// builds (including the global one behind `spawn`), and its timer wheel
/// the timer of Context deadlines (`time::ContextTimer`). Idempotent.
/// Every public function of this crate that may start a runtime calls it
/// first; `tests/wiring.rs` checks each entry point's runtime.
fn install_netpoll() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        gosched_executor::set_default_driver(|| {
            let reactor = gosched_netpoll::Reactor::new()?;
            Ok(Arc::new(reactor) as Arc<dyn gosched_executor::Driver>)
        });
        gosched_netpoll::time::ContextTimer::install();
    });
}

/// Defines each of the root `Builder`'s option methods as a forward to the
/// executor's builder method of the same name, with its doc, and the list
/// of their names that a test compares with `gosched_executor::Builder::OPTIONS`.
macro_rules! forward_options {
    ($( $(#[$doc:meta])* fn $name:ident($arg:ident: $ty:ty); )*) => {
        impl Builder {
            $(
                $(#[$doc])*
                pub fn $name(self, $arg: $ty) -> Self {
                    Builder { inner: self.inner.$name($arg) }
                }
            )*
        }

        /// The option methods forwarded, for the parity test.
        #[cfg(test)]
        const FORWARDED: &[&str] = &[$(stringify!($name)),*];
    };
}

/// Builds a [`Runtime`]: the executor's builder, every option forwarded,
/// with a fresh netpoller as the driver unless [`Builder::driver`] names
/// another.
///
/// ```
/// let rt = gosched::Runtime::builder().procs(2).thread_name("svc").build().unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Default)]
pub struct Builder {
    inner: gosched_executor::Builder,
}

forward_options! {
    /// Number of Ps (Go's GOMAXPROCS). Default: `GOSCHED_PROCS`, else the
    /// number of available CPUs.
    fn procs(n: usize);
    /// Name of the worker threads.
    fn thread_name(name: impl Into<String>);
    /// Stack size of worker threads.
    fn stack_size(bytes: usize);
    /// Maximum number of `spawn_blocking` threads (default 512; zero is
    /// rejected by `build`).
    fn max_blocking_threads(n: usize);
    /// How long an idle blocking thread waits before it exits (default 10 s).
    fn blocking_keep_alive(d: std::time::Duration);
    /// Most worker threads (Ms) alive at once (Go's max threads, default
    /// 10,000). Ms beyond `procs` start when a P is handed off from a
    /// blocked M.
    fn max_threads(n: usize);
    /// How long a spare worker thread (one started for a hand-off) may sit
    /// idle before it exits (default 10 s).
    fn spare_thread_keep_alive(d: std::time::Duration);
    /// The driver idle workers block in, instead of a fresh netpoller.
    fn driver(driver: Arc<dyn gosched_executor::Driver>);
}

impl Builder {
    /// Starts the runtime, with a fresh netpoller as its driver (unless
    /// [`Builder::driver`] named one).
    ///
    /// Fails with `InvalidInput` for zero Ps or a bad `GOSCHED_PROCS`, and
    /// with the OS error when the poller or a thread cannot be made.
    pub fn build(self) -> std::io::Result<Runtime> {
        install_netpoll();
        self.inner.build().map(|inner| Runtime { inner })
    }
}

/// A running gosched runtime: Ps, worker threads, the netpoller, the
/// blocking pool. Dropping it cancels every task and joins its threads.
#[derive(Debug)]
pub struct Runtime {
    inner: gosched_executor::Runtime,
}

impl Runtime {
    /// A builder with default settings.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A runtime with default settings.
    pub fn new() -> std::io::Result<Runtime> {
        Builder::default().build()
    }

    /// A handle that can spawn onto this runtime from anywhere.
    pub fn handle(&self) -> &Handle {
        self.inner.handle()
    }

    /// Spawns a task onto this runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future)
    }

    /// Runs `f` on this runtime's blocking pool, in this runtime's context
    /// (timers, sockets and `spawn` inside it reach this runtime).
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let n = rt.block_on(rt.spawn_blocking(|| 6 * 7)).unwrap();
    /// assert_eq!(n, 42);
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner.spawn_blocking(f)
    }

    /// Makes this the process's default runtime while it lives: a thread
    /// with no runtime of its own reaches it (see
    /// `gosched_executor::Runtime::set_process_default`). `run` does this
    /// on the main thread.
    pub fn set_process_default(&self) {
        self.inner.set_process_default()
    }

    /// Runs `future` on this thread until it completes, with this runtime
    /// current. Panics when called from inside a runtime worker.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.inner.block_on(time::track(future))
    }

    /// Shuts down as dropping does: every task is cancelled, then every
    /// thread is waited for, however long its current poll or blocking
    /// closure takes.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let parked = rt.spawn(std::future::pending::<()>());
    /// rt.shutdown();
    /// assert!(gosched::block_on(parked).unwrap_err().is_cancelled());
    /// ```
    pub fn shutdown(self) {
        self.inner.shutdown()
    }

    /// Shuts down, waiting at most `timeout` for threads stuck inside a
    /// poll or a blocking closure; they finish in the background. True when
    /// everything was freed in time.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// rt.spawn(std::future::pending::<()>());
    /// assert!(rt.shutdown_timeout(std::time::Duration::from_secs(10)));
    /// ```
    pub fn shutdown_timeout(self, timeout: std::time::Duration) -> bool {
        self.inner.shutdown_timeout(timeout)
    }

    /// Shuts down without waiting for any thread (see
    /// [`Runtime::shutdown_timeout`]).
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// rt.spawn_blocking(|| std::thread::sleep(std::time::Duration::from_millis(20)));
    /// rt.shutdown_background();
    /// ```
    pub fn shutdown_background(self) {
        self.inner.shutdown_background()
    }
}

/// Starts a runtime with default settings, runs `future` on this thread
/// until it completes, and shuts the runtime down.
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    install_netpoll();
    gosched_executor::run(time::track(future))
}

/// Spawns a task (Go's `go` statement): onto the current runtime, or onto
/// a global one started on first use.
///
/// ```
/// let h = gosched::spawn(async { "hi" });
/// assert_eq!(gosched::block_on(h).unwrap(), "hi");
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    install_netpoll();
    gosched_executor::spawn(future)
}

/// Runs `f` on the blocking pool of the current (or global) runtime.
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    install_netpoll();
    gosched_executor::spawn_blocking(f)
}

/// Runs `future` to completion on this thread with the global runtime
/// current.
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    install_netpoll();
    gosched_executor::block_on(time::track(future))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_builder_forwards_every_executor_option() {
        assert_eq!(super::FORWARDED, gosched_executor::Builder::OPTIONS);
    }
}

/// The README's code blocks, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
