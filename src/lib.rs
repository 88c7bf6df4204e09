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
//! Program against this crate: every example here names items through
//! `gosched::`.
//!
//! # From Go
//!
//! | Go | gosched |
//! |---|---|
//! | `go f()` | [`spawn`]`(f())`; its [`JoinHandle`] may be awaited or dropped |
//! | `func main` (the runtime is always there) | [`run`]`(async { .. })`, or `#[gosched::main] async fn main` |
//! | `GOMAXPROCS`, `runtime.GOMAXPROCS(n)` | env `GOSCHED_PROCS`, [`Builder::procs`] |
//! | `runtime.Gosched()` | [`yield_now`]`().await` |
//! | a blocking syscall (`entersyscall`, sysmon's hand-off) | [`syscall`]`(f)`; [`block_in_place`]`(f)` hands the P off at once |
//! | cgo or other long blocking work on its own thread | [`spawn_blocking`]`(f)` |
//! | `runtime.NumGoroutine()` | [`runtime::num_tasks`] |
//! | `pprof` goroutine dump (`debug=2`, `debug=1`) | [`runtime::dump()`], [`runtime::dump_grouped`] |
//! | `GODEBUG=schedtrace=1000` | env `GOSCHED_DEBUG=schedtrace=1000`, [`Handle::schedtrace`] |
//! | goleak | [`runtime::LeakGuard`], `#[gosched::test(leak_check)]` |
//! | `make(chan T)`, `make(chan T, n)`, `close`, `len`, `cap` | [`sync::chan::bounded`]`(0)`, `bounded(n)`, [`sync::chan::unbounded`], `Sender::close` |
//! | `v, ok := <-ch`, `ch <- v` | `rx.recv().await` (`None` once closed and drained), `tx.send(v).await` (`Err` once closed, never a panic) |
//! | `for v := range ch` | `while let Some(v) = rx.recv().await` |
//! | `select { case .. default: }` | [`select!`], same rules: random among ready arms, `default` |
//! | `time.Sleep(d)` | [`time::sleep`]`(d).await` |
//! | `time.After(d)`, `time.Tick(d)` | [`time::after`]`(d)`, [`time::tick`]`(d)`: channel receivers, usable as `select!` arms |
//! | `time.NewTimer`, `time.NewTicker`, `time.AfterFunc` | [`time::Timer`], [`time::Ticker`], [`time::after_func`] |
//! | `sync.Mutex`, `sync.RWMutex`, `sync.Cond` | [`sync::Mutex`], [`sync::RwLock`], [`sync::Cond`] |
//! | `sync.WaitGroup` | [`sync::WaitGroup`] |
//! | `sync.Once` | [`sync::Once`], [`sync::OnceCell`] |
//! | `x/sync/semaphore` | [`sync::Semaphore`] |
//! | `x/sync/errgroup` | [`sync::TaskGroup`] |
//! | `context.Background`, `WithCancel`, `WithTimeout`, `<-ctx.Done()` | [`sync::context::Context`]: `background()`, `with_cancel()`, `with_timeout(d)`, `ctx.done().await` or `ctx.done_chan()` in `select!` |
//! | `net.Listen("tcp", ..)`, `net.Dial` | [`net::TcpListener::bind`], [`net::TcpStream::connect`] |
//! | `net.ListenPacket`, Unix sockets | [`net::UdpSocket`], [`net::UnixListener`], [`net::UnixStream`], [`net::UnixDatagram`] |
//! | `os.ReadFile`, `os.Open`, `os.ReadDir` | [`fs::read`], [`fs::File::open`], [`fs::read_dir`] |
//! | `exec.Command` | [`process::Command`] |
//! | `signal.Notify`, `signal.NotifyContext` | [`signal::notify`], [`signal::notify_context`] |
//! | `io.Copy`, `bufio.Reader` | [`io::copy`], [`io::BufReader`] |
//! | `net/http` server | `gosched::http::serve` (feature `hyper`) |
//!
//! # From tokio
//!
//! | tokio | gosched |
//! |---|---|
//! | `#[tokio::main]` | `#[gosched::main]` ([`main`]), `procs = N` for the worker count |
//! | `#[tokio::test]`, `start_paused = true` | `#[gosched::test]` ([`test`]), `start_paused`, plus `leak_check` |
//! | `tokio::runtime::Runtime`, `Builder::new_multi_thread()` | [`Runtime`], [`Runtime::builder`] |
//! | `Builder::worker_threads(n)` | [`Builder::procs`] |
//! | `Runtime::block_on`, `Handle::current`, `Handle::enter` | [`Runtime::block_on`], [`Handle::current`], [`Handle::enter`] |
//! | `tokio::spawn` | [`spawn`] (outside a runtime it reaches the process's runtime or a global one instead of panicking) |
//! | `JoinHandle`, `JoinError::is_panic`, `abort` | [`JoinHandle`], [`JoinError::is_panic`], [`JoinHandle::abort`] |
//! | `tokio::task::spawn_blocking` | [`spawn_blocking`] |
//! | `tokio::task::block_in_place` | [`block_in_place`] (works on every runtime; [`syscall`] is the cheaper variant) |
//! | `tokio::task::yield_now` | [`yield_now`] |
//! | `tokio::task::JoinSet` | [`sync::TaskGroup`] (first error cancels the rest, as errgroup) |
//! | `tokio::select!` | [`select!`] (random, never biased; a `default` arm) |
//! | `tokio_util::sync::CancellationToken` | [`sync::context::Context`] and its `CancelHandle`; `child_token()` is `with_cancel()` |
//! | `tokio::sync::mpsc::channel(n)`, `unbounded_channel()` | [`sync::chan::bounded`]`(n)`, [`sync::chan::unbounded`] (multi-producer, multi-consumer) |
//! | `tokio::sync::oneshot` | [`sync::oneshot`] |
//! | `tokio::sync::Mutex`, `RwLock` | [`sync::Mutex`], [`sync::RwLock`] |
//! | `tokio::sync::Notify` | [`sync::Notify`] |
//! | `tokio::sync::Semaphore` | [`sync::Semaphore`] |
//! | `tokio::sync::OnceCell` | [`sync::OnceCell`] |
//! | `tokio::time::sleep`, `timeout`, `interval` | [`time::sleep`], [`time::timeout`], [`time::interval`] |
//! | `tokio::time::pause`, `advance`, `resume` | [`time::pause`], [`time::advance`], [`time::resume`] |
//! | `tokio::time::Instant::now()` | [`time::now`] (follows a paused clock) |
//! | `tokio::net::{TcpListener, TcpStream, UdpSocket, UnixStream}` | [`net::TcpListener`], [`net::TcpStream`], [`net::UdpSocket`], [`net::UnixStream`] |
//! | `tokio::io::{AsyncReadExt, AsyncWriteExt}` | [`io::AsyncReadExt`], [`io::AsyncWriteExt`] (the `futures` traits); feature `tokio-io` adds tokio's traits to the sockets |
//! | `tokio::fs` | [`fs`] |
//! | `tokio::signal::ctrl_c`, `unix::signal` | [`signal::ctrl_c`], [`signal::notify`] |
//! | `tokio::process::Command` | [`process::Command`] |
//! | `tokio_stream::StreamExt` | [`stream::StreamExt`] |
//! | hyper with `TokioExecutor`/`TokioIo`, axum's `serve` | `gosched::http` (feature `hyper`: `serve`, `HyperExecutor`, `HyperIo`; feature `tower`: `serve_tower` for an axum `Router`) |
//! | a tokio-bound crate (reqwest, ...) | `gosched::compat` (feature `tokio-compat`) |
//!
//! `docs/from-go.md` and `docs/from-tokio.md` in the repository port a
//! program from each, side by side.

use std::future::Future;
use std::sync::{Arc, Once};

pub use gosched_executor::{
    block_in_place, coop, syscall, yield_now, EnterGuard, Handle, JoinError, JoinHandle, YieldNow,
};

#[cfg(feature = "tokio-compat")]
pub mod compat;
#[cfg(feature = "debug-http")]
pub mod debug;
#[cfg(feature = "hyper")]
pub mod http;

/// Go's `chan`, `sync`, `x/sync` and `context` as async Rust (the
/// `gosched-sync` crate).
///
/// | Go | here |
/// |---|---|
/// | `make(chan T, n)`, `close`, `len`, `cap` | [`chan`](crate::sync::chan) |
/// | `select` | [`select!`](crate::select) |
/// | `sync.Mutex` (with starvation mode) | [`Mutex`](crate::sync::Mutex) |
/// | `sync.RWMutex` | [`RwLock`](crate::sync::RwLock) |
/// | `sync.WaitGroup` | [`WaitGroup`](crate::sync::WaitGroup) |
/// | `sync.Once` | [`Once`](crate::sync::Once), [`OnceCell`](crate::sync::OnceCell) |
/// | `sync.Cond` | [`Cond`](crate::sync::Cond) |
/// | `x/sync/semaphore` | [`Semaphore`](crate::sync::Semaphore) |
/// | `x/sync/errgroup` | [`TaskGroup`](crate::sync::TaskGroup) |
/// | `context` | [`context`](crate::sync::context) |
/// | a `chan struct{}` used to signal | [`Notify`](crate::sync::Notify) |
/// | a `chan T` used once for a reply | [`oneshot`](crate::sync::oneshot) |
///
/// Every future here is cancellation safe (dropping it gives back what it
/// had been handed), waiters queue FIFO, and each works on any executor,
/// though on gosched it also spends the coop budget and records Go's wait
/// reason for [`runtime::dump`](crate::runtime::dump()).
///
/// A worker pool: jobs in on one channel, results out on another, and a
/// [`WaitGroup`](crate::sync::WaitGroup) to close the results once every worker is done, as Go
/// does it.
///
/// ```
/// use gosched::sync::{chan, WaitGroup};
/// gosched::run(async {
///     let (jobs_tx, jobs) = chan::bounded::<u64>(16);
///     let (results_tx, results) = chan::bounded::<u64>(16);
///     let wg = WaitGroup::new();
///     for _ in 0..4 {
///         let (jobs, results_tx, done) = (jobs.clone(), results_tx.clone(), wg.token());
///         gosched::spawn(async move {
///             while let Some(n) = jobs.recv().await {
///                 results_tx.send(n * n).await.unwrap();
///             }
///             drop(done); // wg.Done()
///         });
///     }
///     gosched::spawn(async move {
///         wg.wait().await;
///         results_tx.close(); // close(results)
///     });
///     for n in 1..=10 {
///         jobs_tx.send(n).await.unwrap();
///     }
///     jobs_tx.close();
///     let mut sum = 0;
///     while let Some(sq) = results.recv().await {
///         sum += sq;
///     }
///     assert_eq!(sum, 385);
/// });
/// ```
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
///
/// A socket that is not ready parks its task on the netpoller (Go's
/// `pollDesc`), never a thread. Sockets implement [`io::AsyncRead`]
/// and [`io::AsyncWrite`] (feature `tokio-io`: tokio's traits
/// too); a read or write spends the coop budget, so a busy connection
/// cannot starve the tasks behind it. Name resolution
/// ([`lookup_host`](crate::net::lookup_host), `connect("host:port")`) runs off the workers.
///
/// An echo server, one task per connection, and a client:
///
/// ```
/// use gosched::io::{AsyncReadExt, AsyncWriteExt};
/// use gosched::net::{TcpListener, TcpStream};
///
/// gosched::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     gosched::spawn(async move {
///         loop {
///             let (mut conn, _peer) = listener.accept().await.unwrap();
///             gosched::spawn(async move {
///                 let mut buf = [0; 1024];
///                 loop {
///                     let n = conn.read(&mut buf).await.unwrap();
///                     if n == 0 {
///                         return;
///                     }
///                     conn.write_all(&buf[..n]).await.unwrap();
///                 }
///             });
///         }
///     });
///
///     let mut client = TcpStream::connect(addr).await.unwrap();
///     client.write_all(b"hello").await.unwrap();
///     let mut reply = [0; 5];
///     client.read_exact(&mut reply).await.unwrap();
///     assert_eq!(&reply, b"hello");
/// });
/// ```
pub mod net {
    pub use gosched_netpoll::net::*;
}

/// Files and directories, Go's way: each operation is one blocking call on
/// the task's own thread under [`syscall`], handed off by sysmon only if it
/// stays blocked (the `gosched-netpoll` crate's `fs`).
///
/// ```
/// gosched::run(async {
///     let dir = std::env::temp_dir().join(format!("gosched-fs-doc-{}", std::process::id()));
///     gosched::fs::create_dir_all(&dir).await.unwrap();
///     let path = dir.join("greeting.txt");
///     gosched::fs::write(&path, "hello").await.unwrap();
///     assert_eq!(gosched::fs::read_to_string(&path).await.unwrap(), "hello");
///     gosched::fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
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
///
/// ```
/// gosched::run(async {
///     let out = gosched::process::Command::new("echo").arg("hi").output().await.unwrap();
///     assert!(out.status.success());
///     assert_eq!(out.stdout, b"hi\n");
/// });
/// ```
pub mod process {
    pub use gosched_netpoll::process::*;
}

/// Unix signals, Go's way: `notify` into a channel, `ctrl_c`,
/// `notify_context` (the `gosched-netpoll` crate's `signal`).
///
/// A server stops on SIGINT or SIGTERM through a [`Context`](crate::sync::context::Context),
/// as Go's `signal.NotifyContext` does:
///
/// ```
/// use gosched::signal::{self, Signal};
/// use gosched::sync::context::Context;
/// gosched::run(async {
///     let (ctx, _stop) =
///         signal::notify_context(&Context::background(), &[Signal::Interrupt, Signal::Terminate])
///             .unwrap();
///     // As `kill -TERM <pid>` from outside would.
///     let pid = std::process::id().to_string();
///     let kill = gosched::process::Command::new("kill").args(["-TERM", &pid]).status().await;
///     assert!(kill.unwrap().success());
///     ctx.done().await; // a server's accept loop would select on this
///     assert!(ctx.err().is_some());
/// });
/// ```
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
    pub use gosched_executor::trace::{
        Trace, TraceBusy, TraceRecording, DEFAULT_TRACE_LIMIT, FINISH_WAIT,
    };
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
    /// Number of Ps (Go's GOMAXPROCS): how many tasks run in parallel.
    /// Default: `GOSCHED_PROCS`, else the number of available CPUs. Zero
    /// is rejected by `build`.
    ///
    /// ```
    /// let rt = gosched::Runtime::builder().procs(2).build().unwrap();
    /// assert_eq!(rt.handle().procs(), 2);
    /// assert!(gosched::Runtime::builder().procs(0).build().is_err());
    /// ```
    fn procs(n: usize);
    /// Name of the worker threads (default `gosched-worker`), as a
    /// debugger or `top -H` shows them.
    ///
    /// ```
    /// let rt = gosched::Runtime::builder().procs(1).thread_name("svc-worker").build().unwrap();
    /// let name = rt.block_on(rt.spawn(async {
    ///     std::thread::current().name().map(str::to_owned)
    /// }));
    /// assert_eq!(name.unwrap().as_deref(), Some("svc-worker"));
    /// ```
    fn thread_name(name: impl Into<String>);
    /// Stack size of worker threads, in bytes (default: std's, 2 MiB).
    /// Tasks do not use it for their state (a task is a heap-allocated
    /// future); deep recursion inside one poll does.
    ///
    /// ```
    /// let rt = gosched::Runtime::builder().stack_size(4 << 20).build().unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
    /// ```
    fn stack_size(bytes: usize);
    /// Maximum number of `spawn_blocking` threads (default 512; zero is
    /// rejected by `build`). Closures beyond it wait in a queue.
    ///
    /// ```
    /// let rt = gosched::Runtime::builder().max_blocking_threads(1).build().unwrap();
    /// let a = rt.spawn_blocking(|| std::thread::current().id());
    /// let b = rt.spawn_blocking(|| std::thread::current().id());
    /// let (a, b) = rt.block_on(async { (a.await.unwrap(), b.await.unwrap()) });
    /// assert_eq!(a, b, "one blocking thread ran both, one after the other");
    /// ```
    fn max_blocking_threads(n: usize);
    /// How long an idle blocking thread waits for more work before it
    /// exits (default 10 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = gosched::Runtime::builder()
    ///     .blocking_keep_alive(Duration::from_millis(10))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(rt.spawn_blocking(|| ())).unwrap();
    /// // The idle thread exits about 10 ms later.
    /// while rt.handle().metrics().blocking_threads != 0 {
    ///     std::thread::sleep(Duration::from_millis(5));
    /// }
    /// ```
    fn blocking_keep_alive(d: std::time::Duration);
    /// Most worker threads (Ms) alive at once (Go's max threads, default
    /// 10,000). Ms beyond `procs` start when a P is handed off from a
    /// blocked M; at the limit, [`block_in_place`] runs its closure
    /// without a hand-off.
    ///
    /// ```
    /// let rt = gosched::Runtime::builder().procs(2).max_threads(2).build().unwrap();
    /// let n = rt.block_on(rt.spawn(async { gosched::block_in_place(|| 21 * 2) }));
    /// assert_eq!(n.unwrap(), 42);
    /// assert!(rt.handle().metrics().threads <= 2);
    /// ```
    fn max_threads(n: usize);
    /// How long a spare worker thread (one started for a hand-off) may sit
    /// idle before it exits (default 10 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = gosched::Runtime::builder()
    ///     .procs(1)
    ///     .spare_thread_keep_alive(Duration::from_millis(50))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(rt.spawn(async { gosched::block_in_place(|| ()) })).unwrap();
    /// ```
    fn spare_thread_keep_alive(d: std::time::Duration);
    /// The driver idle workers block in, instead of a fresh netpoller: for
    /// instance one [`Reactor`](runtime::Reactor) shared by two runtimes.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use gosched::runtime::{Driver, Reactor};
    /// let reactor = Reactor::new().unwrap();
    /// let rt = gosched::Runtime::builder()
    ///     .driver(Arc::new(reactor.clone()) as Arc<dyn Driver>)
    ///     .build()
    ///     .unwrap();
    /// let listener = rt.block_on(gosched::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    /// assert_eq!(reactor.num_registrations(), 1, "the socket registered with `reactor`");
    /// drop(listener);
    /// ```
    fn driver(driver: Arc<dyn gosched_executor::Driver>);
}

impl Builder {
    /// Starts the runtime, with a fresh netpoller as its driver (unless
    /// [`Builder::driver`] named one).
    ///
    /// Fails with `InvalidInput` for zero Ps or a bad `GOSCHED_PROCS`, and
    /// with the OS error when the poller or a thread cannot be made.
    ///
    /// ```
    /// let err = gosched::Runtime::builder().max_blocking_threads(0).build().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// let rt = gosched::Runtime::builder().procs(1).build().unwrap();
    /// assert_eq!(rt.block_on(async { 2 + 2 }), 4);
    /// ```
    pub fn build(self) -> std::io::Result<Runtime> {
        install_netpoll();
        self.inner.build().map(|inner| Runtime { inner })
    }
}

/// A running gosched runtime: Ps, worker threads, the netpoller, the
/// blocking pool. Dropping it cancels every task and joins its threads.
///
/// [`run`] is enough for most programs (and `#[gosched::main]` for
/// `main`); make a `Runtime` to choose its settings ([`Runtime::builder`]),
/// to keep one alive across calls from synchronous code, or to shut it
/// down with a bound on the wait ([`Runtime::shutdown_timeout`]).
///
/// ```
/// let rt = gosched::Runtime::builder().procs(2).build().unwrap();
/// let h = rt.spawn(async { "from a task" });
/// let out = rt.block_on(async move {
///     gosched::time::sleep(std::time::Duration::from_millis(1)).await;
///     h.await.unwrap()
/// });
/// assert_eq!(out, "from a task");
/// // Dropping `rt` cancels what is left and joins its threads.
/// ```
#[derive(Debug)]
pub struct Runtime {
    inner: gosched_executor::Runtime,
}

impl Runtime {
    /// A builder with default settings (see [`Builder`] for each option).
    ///
    /// ```
    /// let rt = gosched::Runtime::builder().procs(1).build().unwrap();
    /// assert_eq!(rt.handle().procs(), 1);
    /// ```
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A runtime with default settings: `GOSCHED_PROCS` Ps, else one per
    /// available CPU. Fails as [`Builder::build`] does.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// assert!(rt.handle().procs() >= 1);
    /// ```
    pub fn new() -> std::io::Result<Runtime> {
        Builder::default().build()
    }

    /// A handle that can spawn onto this runtime from anywhere; clone it to
    /// keep it (see [`Handle`]).
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let h = std::thread::spawn(move || handle.spawn(async { 1 })).join().unwrap();
    /// assert_eq!(rt.block_on(h).unwrap(), 1);
    /// ```
    pub fn handle(&self) -> &Handle {
        self.inner.handle()
    }

    /// Makes this the current runtime on this thread until the guard drops:
    /// `spawn`, sockets and timers made on this thread then use it.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// // A timer made outside any task registers with `rt`'s netpoller.
    /// let sleep = gosched::time::sleep(std::time::Duration::from_millis(1));
    /// rt.block_on(sleep);
    /// ```
    pub fn enter(&self) -> EnterGuard {
        self.inner.handle().enter()
    }

    /// Spawns a task onto this runtime, from any thread; it starts at once
    /// (see [`spawn`]).
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let hs: Vec<_> = (0..3u32).map(|i| rt.spawn(async move { i + 1 })).collect();
    /// let total: u32 = rt.block_on(async {
    ///     let mut total = 0;
    ///     for h in hs {
    ///         total += h.await.unwrap();
    ///     }
    ///     total
    /// });
    /// assert_eq!(total, 6);
    /// ```
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
    /// current: `spawn`, sockets and timers inside it use this runtime.
    /// The future runs on the calling thread, not on a P; tasks it spawns
    /// run on the workers.
    ///
    /// # Panics
    /// When called from inside a runtime worker (from a task): `.await`
    /// there instead.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let n = rt.block_on(async {
    ///     let (tx, rx) = gosched::sync::chan::unbounded();
    ///     for i in 0..3 {
    ///         let tx = tx.clone();
    ///         gosched::spawn(async move { tx.send(i).await.unwrap() });
    ///     }
    ///     drop(tx);
    ///     let mut n = 0;
    ///     while rx.recv().await.is_some() {
    ///         n += 1;
    ///     }
    ///     n
    /// });
    /// assert_eq!(n, 3);
    /// ```
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
/// until it completes, and shuts the runtime down: the whole life of an
/// async program, as Go's runtime is around `main`.
///
/// On the main thread the runtime is also the process's default while it
/// runs: a plain thread started inside reaches it through [`spawn`] and
/// [`Handle::current`]. When `future` returns, tasks still running are
/// cancelled (their futures dropped), as a Go program's goroutines end
/// with `main`.
///
/// # Panics
/// When the runtime cannot start (a bad `GOSCHED_PROCS`, no threads), and
/// when called from inside a runtime worker.
///
/// ```
/// use std::time::Duration;
/// let total = gosched::run(async {
///     let hs: Vec<_> = (1..=10u64)
///         .map(|i| {
///             gosched::spawn(async move {
///                 gosched::time::sleep(Duration::from_millis(i)).await;
///                 i
///             })
///         })
///         .collect();
///     let mut total = 0;
///     for h in hs {
///         total += h.await.unwrap();
///     }
///     total
/// });
/// assert_eq!(total, 55);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    install_netpoll();
    gosched_executor::run(time::track(future))
}

/// Spawns a task (Go's `go` statement): onto the current runtime; from a
/// thread with none, onto the process's default runtime (the one [`run`]
/// made on the main thread) while it lives, else onto a global runtime
/// started on first use. It never panics for want of a runtime.
///
/// The task starts at once, whether or not its [`JoinHandle`] is awaited.
/// Awaiting the handle gives the output, or a [`JoinError`] when the task
/// panicked (the worker survives) or was cancelled; dropping it detaches
/// the task. The future must be `Send + 'static`: it may move between
/// worker threads at any `.await`.
///
/// ```
/// gosched::run(async {
///     let (tx, rx) = gosched::sync::chan::bounded(0);
///     let producer = gosched::spawn(async move {
///         for i in 0..3 {
///             tx.send(i).await.unwrap();
///         }
///     });
///     let mut got = Vec::new();
///     while let Some(v) = rx.recv().await {
///         got.push(v);
///     }
///     producer.await.unwrap();
///     assert_eq!(got, [0, 1, 2]);
/// });
///
/// // Outside any runtime: the global one.
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

/// Runs `f` on the blocking pool of the current (or global) runtime, so
/// code that blocks its thread (a C library, a long computation, a
/// synchronous client) never holds a worker that runs tasks.
///
/// The pool starts threads as needed, up to
/// [`Builder::max_blocking_threads`], and an idle one exits after
/// [`Builder::blocking_keep_alive`]; beyond that limit calls queue. `f`
/// runs with its runtime entered, so it may [`spawn`] or use a
/// [`Handle::block_on`]. It cannot be cancelled: aborting its handle only
/// stops the wait. For a quick call that may block, [`syscall`] costs
/// less; to block inside the current task, [`block_in_place`].
///
/// ```
/// gosched::run(async {
///     let digest = gosched::spawn_blocking(|| {
///         // CPU-heavy work, off the workers.
///         (1..=1_000_000u64).fold(0u64, |acc, x| acc.wrapping_mul(31).wrapping_add(x))
///     })
///     .await
///     .unwrap();
///     assert_ne!(digest, 0);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    install_netpoll();
    gosched_executor::spawn_blocking(f)
}

/// Runs `future` to completion on this thread with the process's default
/// runtime (else the global one, started on first use) current: for
/// synchronous code, such as a callback or a library function, that needs
/// the result of async code without a runtime of its own.
///
/// # Panics
/// When called from inside a runtime worker (from a task): `.await`
/// there instead.
///
/// ```
/// // A synchronous function built on async code.
/// fn read_config(path: &std::path::Path) -> std::io::Result<String> {
///     gosched::block_on(gosched::fs::read_to_string(path))
/// }
///
/// let path = std::env::temp_dir().join(format!("gosched-block-on-doc-{}", std::process::id()));
/// std::fs::write(&path, "procs = 4").unwrap();
/// assert_eq!(read_config(&path).unwrap(), "procs = 4");
/// std::fs::remove_file(&path).unwrap();
/// ```
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
