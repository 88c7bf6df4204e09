//! The public runtime: `Runtime`, `Builder`, `Handle`, `spawn`, `block_on`.
//!
//! A `Runtime` owns a scheduler (`sched`) and its threads; dropping it
//! shuts everything down (see `Shared::shutdown` for the steps). A `Handle`
//! is a cheap clone that can spawn onto it from anywhere.
//!
//! Which runtime `spawn` uses: the one whose worker (or `block_on`, or
//! `Handle::enter`) is running on this thread; otherwise a global runtime,
//! started on first use with default settings, because Go always has a
//! runtime and a `go` statement never fails.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::Duration;

use crate::blocking::{BlockingPool, DEFAULT_KEEP_ALIVE, DEFAULT_MAX_BLOCKING};
use crate::sched::{Config, Shared};
use crate::task::{JoinHandle, TaskInfo};
use crate::Driver;

thread_local! {
    static CURRENT: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// Makes the driver for runtimes built without an explicit one.
pub type DriverFactory = fn() -> io::Result<Arc<dyn Driver>>;

static DEFAULT_DRIVER: OnceLock<DriverFactory> = OnceLock::new();

/// Registers the driver every runtime gets unless its builder names one
/// (the `gosched` crate registers the netpoller). The first registration
/// wins; later ones are ignored.
pub fn set_default_driver(factory: DriverFactory) {
    let _ = DEFAULT_DRIVER.set(factory);
}

/// Most Ms alive at once by default: Go's `debug.SetMaxThreads` default,
/// a cap on runaway hand-offs rather than a working limit.
const DEFAULT_MAX_THREADS: usize = 10_000;

/// How long a spare M sits idle before it exits, by default: as the
/// blocking pool's threads, long enough to ride out a burst of blocking
/// polls without starting threads again.
const DEFAULT_SPARE_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Environment variable that sets the default number of Ps.
pub const PROCS_ENV: &str = "GOSCHED_PROCS";

/// Builds a [`Runtime`] with custom settings.
///
/// ```
/// let rt = gosched::Runtime::builder()
///     .procs(2)
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
pub struct Builder {
    procs: Option<usize>,
    thread_name: String,
    stack_size: Option<usize>,
    max_blocking: usize,
    keep_alive: Duration,
    max_threads: usize,
    spare_keep_alive: Duration,
    driver: Option<Arc<dyn Driver>>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("procs", &self.procs)
            .field("thread_name", &self.thread_name)
            .field("max_blocking", &self.max_blocking)
            .field("has_driver", &self.driver.is_some())
            .finish()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            procs: None,
            thread_name: "gosched-worker".into(),
            stack_size: None,
            max_blocking: DEFAULT_MAX_BLOCKING,
            keep_alive: DEFAULT_KEEP_ALIVE,
            max_threads: DEFAULT_MAX_THREADS,
            spare_keep_alive: DEFAULT_SPARE_KEEP_ALIVE,
            driver: None,
        }
    }
}

impl Builder {
    /// The name of every option method, in order. A crate that wraps this
    /// builder (the `gosched` crate does) checks its own list against this
    /// one, so an option added here cannot be missing there.
    pub const OPTIONS: &'static [&'static str] = &[
        "procs",
        "thread_name",
        "stack_size",
        "max_blocking_threads",
        "blocking_keep_alive",
        "max_threads",
        "spare_thread_keep_alive",
        "driver",
    ];

    /// Number of Ps (Go's GOMAXPROCS). Default: `GOSCHED_PROCS`, else the
    /// number of available CPUs.
    pub fn procs(mut self, n: usize) -> Self {
        self.procs = Some(n);
        self
    }

    /// Name of the worker threads.
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.thread_name = name.into();
        self
    }

    /// Stack size of worker threads.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = Some(bytes);
        self
    }

    /// Maximum number of `spawn_blocking` threads (default 512). Zero is
    /// rejected by [`Builder::build`]: a pool with no thread would never
    /// run a closure.
    pub fn max_blocking_threads(mut self, n: usize) -> Self {
        self.max_blocking = n;
        self
    }

    /// How long an idle blocking thread waits before it exits (default 10 s).
    pub fn blocking_keep_alive(mut self, d: Duration) -> Self {
        self.keep_alive = d;
        self
    }

    /// Most worker threads (Ms) alive at once (Go's max threads, default
    /// 10,000). Ms beyond `procs` are started when a P is handed off from
    /// a blocked M; at the limit, a hand-off does not happen (and
    /// `block_in_place` runs its closure in place).
    pub fn max_threads(mut self, n: usize) -> Self {
        self.max_threads = n;
        self
    }

    /// How long a spare worker thread (one started for a hand-off, beyond
    /// one per P) may sit idle before it exits (default 10 s).
    pub fn spare_thread_keep_alive(mut self, d: Duration) -> Self {
        self.spare_keep_alive = d;
        self
    }

    /// The driver idle workers block in (the netpoller). Without one, the
    /// factory given to [`set_default_driver`] makes it; without that, idle
    /// workers sleep on their thread parker.
    pub fn driver(mut self, driver: Arc<dyn Driver>) -> Self {
        self.driver = Some(driver);
        self
    }

    /// Starts the runtime's threads.
    ///
    /// Fails with `InvalidInput` when the number of Ps is zero or
    /// `GOSCHED_PROCS` is not a positive integer, and with the OS error
    /// when a thread cannot be started.
    pub fn build(self) -> io::Result<Runtime> {
        let procs = match self.procs {
            Some(n) => n,
            None => procs_from_env()?,
        };
        if self.max_threads < procs {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "gosched: max_threads ({}) is below procs ({procs})",
                    self.max_threads
                ),
            ));
        }
        if procs == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "gosched: procs must be at least 1",
            ));
        }
        if self.max_blocking == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "gosched: max_blocking_threads must be at least 1",
            ));
        }
        let driver = match self.driver {
            Some(d) => Some(d),
            None => DEFAULT_DRIVER.get().map(|f| f()).transpose()?,
        };
        let blocking = BlockingPool::new(
            self.max_blocking,
            self.keep_alive,
            "gosched-blocking".into(),
        );
        let config = Config {
            thread_name: self.thread_name,
            stack_size: self.stack_size,
            max_threads: self.max_threads,
            spare_keep_alive: self.spare_keep_alive,
        };
        let shared = Shared::start(procs, driver, config, blocking)?;
        Ok(Runtime {
            handle: Handle { shared },
        })
    }
}

fn procs_from_env() -> io::Result<usize> {
    procs_from(std::env::var(PROCS_ENV))
}

/// The number of Ps that `GOSCHED_PROCS` (read as `var`) asks for. The
/// error text has no "gosched:" prefix: callers that panic with it (`run`,
/// the global runtime) already say "gosched: cannot start a runtime".
fn procs_from(var: Result<String, std::env::VarError>) -> io::Result<usize> {
    let bad = |v: &dyn fmt::Debug| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{PROCS_ENV} must be a positive integer, got {v:?}"),
        )
    };
    match var {
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(bad(&v)),
        },
        Err(std::env::VarError::NotPresent) => Ok(std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)),
        Err(std::env::VarError::NotUnicode(v)) => Err(bad(&v)),
    }
}

/// A running scheduler: Ps, worker threads, blocking pool.
///
/// Dropping it stops the workers, drops every task's future (including
/// tasks parked forever) and joins its threads.
pub struct Runtime {
    handle: Handle,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("procs", &self.handle.procs())
            .finish()
    }
}

impl Runtime {
    /// A builder with default settings.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A runtime with default settings.
    pub fn new() -> io::Result<Runtime> {
        Builder::default().build()
    }

    /// A handle that can spawn onto this runtime from anywhere.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Makes this the current runtime on this thread until the guard drops
    /// (the same as `self.handle().enter()`).
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _guard = rt.enter();
    /// assert!(gosched::Handle::try_current().as_ref() == Some(rt.handle()));
    /// ```
    pub fn enter(&self) -> EnterGuard {
        self.handle.enter()
    }

    /// Spawns a task onto this runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on this runtime's blocking pool (see [`spawn_blocking`]).
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
        self.handle.spawn_blocking(f)
    }

    /// Runs `future` on the current thread until it completes, with this
    /// runtime as the current one (so `spawn` inside it spawns here).
    ///
    /// # Panics
    /// When called from inside a gosched worker: blocking a worker would
    /// stall every task queued on its P. Use `.await` there instead.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Makes this the process's default runtime while it lives (Go has
    /// exactly one runtime): a thread with no runtime of its own reaches it
    /// through `spawn`, `Handle::current`, `block_on` and the sockets and
    /// timers, instead of the lazily started global runtime. `run` does
    /// this on the main thread. The last call wins; dropping the runtime
    /// clears it.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// rt.set_process_default();
    /// let from_a_plain_thread = std::thread::spawn(gosched::Handle::try_current)
    ///     .join()
    ///     .unwrap();
    /// assert!(from_a_plain_thread.as_ref() == Some(rt.handle()));
    /// drop(rt);
    /// assert!(std::thread::spawn(gosched::Handle::try_current).join().unwrap().is_none());
    /// ```
    pub fn set_process_default(&self) {
        *crate::loom::lock_std(&PROCESS_DEFAULT) = Some(Arc::downgrade(&self.handle.shared));
    }

    /// Shuts the runtime down and waits as long as it takes: what `Drop`
    /// does.
    ///
    /// 1. Every worker stops before its next task.
    /// 2. Every task is cancelled: the future of a task nobody is polling is
    ///    dropped on this thread; a task being polled is dropped by its
    ///    worker when the poll returns. Its `JoinHandle` then reports
    ///    [`JoinError::is_cancelled`](crate::JoinError::is_cancelled).
    /// 3. The worker threads are joined, then the blocking pool's (queued
    ///    closures that never started are cancelled; running ones are
    ///    waited for).
    /// 4. Queues, the driver (the netpoller: its stored wakers and the
    ///    epoll instance) and the trace are released.
    ///
    /// A worker stuck in a poll that never returns (a task calling
    /// `std::thread::sleep` for an hour) holds this up; bound it with
    /// [`Runtime::shutdown_timeout`].
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let parked = rt.spawn(futures::future::pending::<()>());
    /// rt.shutdown();
    /// assert!(gosched::block_on(parked).unwrap_err().is_cancelled());
    /// ```
    pub fn shutdown(self) {
        drop(self);
    }

    /// Shuts the runtime down as `Drop` does, but waits at most `timeout`
    /// for threads still inside a task's poll or a blocking closure; those
    /// are left to finish on their own (they exit, and the last worker out
    /// frees the scheduler, when their code returns). Every task's future
    /// is dropped or cancelled before the wait begins.
    ///
    /// Returns true when every thread had exited and everything was freed
    /// within `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = gosched::Runtime::builder().procs(1).build().unwrap();
    /// let (started_tx, started) = std::sync::mpsc::channel();
    /// rt.spawn(async move {
    ///     started_tx.send(()).unwrap();
    ///     std::thread::sleep(Duration::from_millis(500)); // blocks its worker
    /// });
    /// started.recv().unwrap();
    /// // Returns after about 10 ms: the stuck worker is left behind.
    /// let clean = rt.shutdown_timeout(Duration::from_millis(10));
    /// assert!(!clean);
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now().checked_add(timeout);
        // `Drop` runs next and finds nothing left to wait for: shutdown is
        // idempotent, and the threads left behind were detached here.
        self.handle.shared.shutdown(deadline)
    }

    /// Shuts the runtime down without waiting for any thread: tasks are
    /// cancelled as [`Runtime::shutdown`] does, and threads still inside
    /// a poll or a blocking closure finish in the background.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// rt.spawn_blocking(|| std::thread::sleep(std::time::Duration::from_millis(50)));
    /// rt.shutdown_background();
    /// ```
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }
}

/// Dropping a runtime is [`Runtime::shutdown`] with no deadline: it waits
/// for every worker and blocking thread, however long their current poll or
/// closure takes. Use [`Runtime::shutdown_timeout`] to bound that wait.
impl Drop for Runtime {
    fn drop(&mut self) {
        clear_process_default(&self.handle.shared);
        self.handle.shared.shutdown(None);
    }
}

/// A cheap, cloneable reference to a runtime: spawn onto it, enter it, or
/// read its counters and task dump from any thread.
///
/// A handle does not keep the runtime running: once the
/// [`Runtime`] is dropped, tasks spawned through a handle are cancelled
/// at once.
///
/// ```
/// let rt = gosched::Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// // From a plain thread, with no runtime of its own.
/// let h = std::thread::spawn(move || handle.spawn(async { 6 * 7 }))
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(h).unwrap(), 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("procs", &self.procs())
            .finish()
    }
}

impl PartialEq for Handle {
    fn eq(&self, other: &Handle) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl Eq for Handle {}

impl Handle {
    /// The runtime running on this thread: the one whose task, `block_on`
    /// or [`enter`](Handle::enter) the caller is inside; on a thread with
    /// none of its own, the process's default runtime while one lives.
    ///
    /// # Panics
    /// Outside a gosched worker, `block_on` or `enter`, when no process
    /// default runtime lives; [`Handle::try_current`] does not panic.
    ///
    /// ```
    /// gosched::run(async {
    ///     let handle = gosched::Handle::current();
    ///     let h = handle.spawn(async { "on the same runtime" });
    ///     assert_eq!(h.await.unwrap(), "on the same runtime");
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        Handle::try_current().expect(
            "gosched: no runtime on this thread (call from a task, inside Runtime::block_on, or after Handle::enter)",
        )
    }

    /// The runtime running on this thread, if any; on a thread with none
    /// of its own, the process's default runtime while one lives (see
    /// [`Runtime::set_process_default`]).
    ///
    /// ```
    /// // A plain thread of a process with no default runtime has none.
    /// assert!(std::thread::spawn(gosched::Handle::try_current).join().unwrap().is_none());
    /// let rt = gosched::Runtime::new().unwrap();
    /// let inside = rt.block_on(async { gosched::Handle::try_current() });
    /// assert!(inside.as_ref() == Some(rt.handle()));
    /// ```
    pub fn try_current() -> Option<Handle> {
        CURRENT
            .try_with(|c| c.borrow().clone())
            .ok()
            .flatten()
            .or_else(process_default)
    }

    /// Calls `f` with the runtime running on this thread, if any, without
    /// cloning the handle (cheaper than [`Handle::try_current`] on hot
    /// paths such as making a timer).
    ///
    /// ```
    /// assert!(gosched::Handle::with_current(|h| h.is_none()));
    /// ```
    pub fn with_current<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
        let mut f = Some(f);
        let local = CURRENT.try_with(|c| {
            let c = c.borrow();
            c.as_ref()
                .map(|h| (f.take().expect("called once"))(Some(h)))
        });
        match local {
            Ok(Some(r)) => r,
            // No runtime of this thread's own: the process default, if any.
            _ => (f.take().expect("called once"))(process_default().as_ref()),
        }
    }

    /// Makes this the current runtime on this thread until the guard drops:
    /// [`spawn`], sockets and timers made on this thread outside any task
    /// then use it. Guards nest; dropping one restores the runtime that was
    /// current before it.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let guard = rt.handle().enter();
    /// assert!(gosched::Handle::try_current().as_ref() == Some(rt.handle()));
    /// // Spawned onto `rt`, not onto the global runtime.
    /// let h = gosched::spawn(async { gosched::Handle::current() });
    /// drop(guard);
    /// let ran_on = rt.block_on(h).unwrap();
    /// assert!(&ran_on == rt.handle());
    /// ```
    pub fn enter(&self) -> EnterGuard {
        enter_handle(self.shared.clone())
    }

    /// Spawns a task onto this runtime, from any thread (see [`spawn`]).
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let hs: Vec<_> = (0..4u64).map(|i| handle.spawn(async move { i * 10 })).collect();
    /// let sum: u64 = hs.into_iter().map(|h| handle.block_on(h).unwrap()).sum();
    /// assert_eq!(sum, 60);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_at(future, std::panic::Location::caller())
    }

    fn spawn_at<F>(
        &self,
        future: F,
        loc: &'static std::panic::Location<'static>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, join) = crate::task::new_task(&self.shared, future, loc);
        if let Some(task) = task {
            // `self` holds the scheduler alive, so leftovers may drop here.
            drop(self.shared.schedule(task, false));
        }
        join
    }

    /// Runs `f` on this runtime's blocking pool (see [`spawn_blocking`]).
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let h = rt.handle().spawn_blocking(|| std::fs::metadata(".").is_ok());
    /// assert!(rt.block_on(h).unwrap());
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.shared.blocking.spawn(f)
    }

    /// Runs `future` to completion on this thread with this runtime
    /// current (see [`Runtime::block_on`]). A handle can do this where the
    /// [`Runtime`] itself is out of reach: on another plain thread, or
    /// inside [`block_in_place`](crate::block_in_place).
    ///
    /// # Panics
    /// When called on one of the runtime's worker threads outside
    /// `block_in_place`: it would block the thread that runs tasks.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let v = std::thread::spawn(move || {
    ///     handle.block_on(async {
    ///         gosched::time::sleep(std::time::Duration::from_millis(1)).await;
    ///         7
    ///     })
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(v, 7);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        if crate::sched::worker::on_worker() {
            panic!(
                "gosched: block_on called from inside a runtime worker; this would block the thread that runs \
                 tasks. Use `.await`, or move the blocking call to spawn_blocking"
            );
        }
        let _enter = self.enter();
        block_on_thread(future)
    }

    /// Number of Ps.
    ///
    /// ```
    /// let rt = gosched::Runtime::builder().procs(3).build().unwrap();
    /// assert_eq!(rt.handle().procs(), 3);
    /// ```
    pub fn procs(&self) -> usize {
        self.shared.procs.len()
    }

    /// Number of live tasks (Go's `runtime.NumGoroutine`): spawned and
    /// not yet finished or cancelled.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let parked = rt.spawn(std::future::pending::<()>());
    /// assert_eq!(rt.handle().num_tasks(), 1);
    /// parked.abort();
    /// assert!(rt.block_on(parked).unwrap_err().is_cancelled());
    /// assert_eq!(rt.handle().num_tasks(), 0);
    /// ```
    pub fn num_tasks(&self) -> usize {
        self.shared.registry.len()
    }

    /// Every live task: id, state, wait reason, how long it has waited and
    /// spawn site (Go's goroutine dump, `debug=2`). A snapshot: tasks keep
    /// running while it is taken.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let parked = rt.spawn(std::future::pending::<()>());
    /// let dump = rt.handle().dump();
    /// assert_eq!(dump.len(), 1);
    /// assert_eq!(dump[0].id, parked.id());
    /// assert!(dump[0].location.file().ends_with(".rs"));
    /// ```
    pub fn dump(&self) -> Vec<TaskInfo> {
        self.shared.registry.snapshot()
    }

    /// Live tasks grouped by spawn site, state and wait reason (Go's
    /// `debug=1` goroutine profile), largest group first; `Display`
    /// prints it the way Go does.
    ///
    /// ```
    /// use gosched::runtime::TaskState;
    /// let rt = gosched::Runtime::new().unwrap();
    /// for _ in 0..3 {
    ///     rt.spawn(std::future::pending::<()>());
    /// }
    /// // Until the workers have polled them, some are still runnable.
    /// while rt.handle().dump().iter().any(|t| t.state != TaskState::Waiting) {
    ///     std::thread::yield_now();
    /// }
    /// let grouped = rt.handle().dump_grouped();
    /// assert_eq!(grouped.total, 3);
    /// assert_eq!(grouped.groups.len(), 1, "one spawn site, one state");
    /// assert_eq!(grouped.groups[0].count, 3);
    /// ```
    pub fn dump_grouped(&self) -> crate::dump::GroupedDump {
        crate::dump::GroupedDump::from_tasks(self.dump())
    }

    /// Go's SCHED line for this runtime now (what
    /// `GOSCHED_DEBUG=schedtrace=N` prints), with per-P and per-M lines
    /// when `detail` is set.
    ///
    /// ```
    /// let rt = gosched::Runtime::builder().procs(2).build().unwrap();
    /// let line = rt.handle().schedtrace(false);
    /// assert!(line.starts_with("SCHED"));
    /// assert!(line.contains("gomaxprocs=2"));
    /// ```
    pub fn schedtrace(&self, detail: bool) -> String {
        crate::schedtrace::schedtrace(&self.shared, self.uptime(), detail)
    }

    /// How long ago this runtime started (the time in the SCHED line, and
    /// the time base of its traces).
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let before = rt.handle().uptime();
    /// assert!(rt.handle().uptime() >= before);
    /// ```
    pub fn uptime(&self) -> std::time::Duration {
        self.shared.recorder.epoch().elapsed()
    }

    /// Starts recording this runtime's event trace (polls, steals, parks,
    /// hand-offs and netpoll waits, as `GOSCHED_TRACE` writes for a whole
    /// run), keeping at most `max_bytes` of rendered events (see
    /// [`DEFAULT_TRACE_LIMIT`](crate::trace::DEFAULT_TRACE_LIMIT)); later
    /// events are counted, not kept. Fails while another recording runs.
    ///
    /// Ms join within 61 scheduler ticks, or when they next wake, take
    /// from the global queue or steal, and cost nothing extra while no
    /// recording runs: see the `trace` module's protocol. [`finish`](crate::trace::TraceRecording::finish)
    /// the recording to get the JSON.
    ///
    /// ```
    /// use gosched::runtime::DEFAULT_TRACE_LIMIT;
    /// let rt = gosched::Runtime::builder().procs(2).build().unwrap();
    /// let rec = rt.handle().start_trace(DEFAULT_TRACE_LIMIT).unwrap();
    /// assert!(rt.handle().start_trace(DEFAULT_TRACE_LIMIT).is_err(), "one at a time");
    /// rt.block_on(async {
    ///     let hs: Vec<_> = (0..1000).map(|i| gosched::spawn(async move { i })).collect();
    ///     for h in hs {
    ///         h.await.unwrap();
    ///     }
    /// });
    /// let trace = rec.finish();
    /// assert!(trace.json().starts_with("{\"traceEvents\""));
    /// assert!(trace.json().contains("\"P1\""), "one track per P");
    /// ```
    pub fn start_trace(
        &self,
        max_bytes: usize,
    ) -> Result<crate::trace::TraceRecording, crate::trace::TraceBusy> {
        crate::trace::TraceRecording::start(&self.shared, max_bytes)
    }

    /// A snapshot of the scheduler's counters: per-P polls, steals, global
    /// queue pulls, parks, forced yields and hand-offs, plus live tasks,
    /// threads and idle Ps (see [`Metrics`](crate::metrics::Metrics)).
    ///
    /// ```
    /// let rt = gosched::Runtime::builder().procs(2).build().unwrap();
    /// rt.block_on(rt.spawn(async {})).unwrap();
    /// let m = rt.handle().metrics();
    /// assert_eq!(m.procs.len(), 2);
    /// assert!(m.procs.iter().map(|p| p.polls).sum::<u64>() >= 1);
    /// ```
    pub fn metrics(&self) -> crate::metrics::Metrics {
        crate::metrics::Metrics::read(&self.shared)
    }

    /// The driver this runtime was built with, if any. Every runtime the
    /// `gosched` crate builds has its netpoller as the driver.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let driver = rt.handle().driver().unwrap();
    /// assert!(driver.as_any().is::<gosched::runtime::Reactor>());
    /// ```
    pub fn driver(&self) -> Option<&Arc<dyn Driver>> {
        self.shared.driver.as_ref()
    }

    /// Whether the runtime has nothing to do: every P idle, no task
    /// queued, no `spawn_blocking` closure running or queued. A snapshot
    /// that may be stale as soon as it is taken (a wake from another
    /// thread can land right after); a driver uses it to decide whether a
    /// paused test clock may jump to the next timer.
    ///
    /// ```
    /// let rt = gosched::Runtime::builder().procs(1).build().unwrap();
    /// let idle = rt.block_on(async { gosched::Handle::current().is_idle() });
    /// // `block_on` polls on this thread, not on a P: the P is idle.
    /// assert!(idle);
    /// ```
    pub fn is_idle(&self) -> bool {
        let s = &self.shared;
        // SeqCst, as every other reader of `npidle` (`idle.rs`); a stale
        // value only delays or hastens a paused clock's jump.
        s.idle.npidle.load(std::sync::atomic::Ordering::SeqCst) == s.procs.len()
            && s.inject.is_empty()
            && !s.blocking.is_busy()
    }
}

/// Restores the previous current runtime on drop (see [`Handle::enter`]).
#[derive(Debug)]
pub struct EnterGuard {
    prev: Option<Handle>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = prev);
    }
}

pub(crate) fn enter_handle(shared: Arc<Shared>) -> EnterGuard {
    let prev = CURRENT.with(|c| c.borrow_mut().replace(Handle { shared }));
    EnterGuard { prev }
}

struct ThreadWaker {
    thread: Thread,
    notified: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        // Release pairs with the Acquire swap in `block_on_thread`.
        if !self.notified.swap(true, Ordering::Release) {
            self.thread.unpark();
        }
    }
}

/// Polls `future` on this thread, parking between polls.
fn block_on_thread<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let tw = Arc::new(ThreadWaker {
        thread: std::thread::current(),
        notified: AtomicBool::new(false),
    });
    let waker = Waker::from(tw.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        while !tw.notified.swap(false, Ordering::Acquire) {
            std::thread::park();
        }
    }
}

static GLOBAL: OnceLock<Runtime> = OnceLock::new();

/// The global runtime, started on first use.
fn global() -> &'static Runtime {
    GLOBAL.get_or_init(|| match Runtime::new() {
        Ok(rt) => rt,
        Err(e) => panic!("gosched: cannot start the global runtime: {e}"),
    })
}

/// The process's default runtime (Go has exactly one): set while a
/// runtime made by [`run`] on the main thread lives, or by
/// [`Runtime::set_process_default`]. A thread with no runtime of its own
/// reaches it before the global one. Weak: it never keeps a runtime alive.
static PROCESS_DEFAULT: std::sync::Mutex<Option<std::sync::Weak<Shared>>> =
    std::sync::Mutex::new(None);

/// The process default runtime, if one is set and not shutting down.
fn process_default() -> Option<Handle> {
    let shared = crate::loom::lock_std(&PROCESS_DEFAULT)
        .as_ref()?
        .upgrade()?;
    (!shared.is_shutting_down()).then_some(Handle { shared })
}

/// Clears the process default if it is `shared`.
fn clear_process_default(shared: &Arc<Shared>) {
    let mut d = crate::loom::lock_std(&PROCESS_DEFAULT);
    if d.as_ref()
        .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(shared)))
    {
        *d = None;
    }
}

/// The current runtime (or the process default), else the global one.
fn current_or_global() -> Handle {
    Handle::try_current().unwrap_or_else(|| global().handle().clone())
}

/// Spawns a task: Go's `go` statement.
///
/// On a runtime thread it spawns onto that runtime (on a worker, into the
/// local P's `runnext`, so the new task runs next, as Go's does);
/// elsewhere onto the process's default runtime while one lives (the one
/// [`run`] made), else onto a global runtime started on first use.
///
/// The task starts at once, whether or not the [`JoinHandle`] is awaited.
/// Awaiting the handle gives the task's output, or a
/// [`JoinError`](crate::JoinError) when it panicked or was cancelled; a
/// panic never takes a worker down. Dropping the handle detaches the task.
///
/// ```
/// gosched::run(async {
///     let hs: Vec<_> = (1..=3u32).map(|i| gosched::spawn(async move { i * i })).collect();
///     let mut squares = Vec::new();
///     for h in hs {
///         squares.push(h.await.unwrap());
///     }
///     assert_eq!(squares, [1, 4, 9]);
///
///     let err = gosched::spawn(async { panic!("boom") }).await.unwrap_err();
///     assert!(err.is_panic());
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let loc = std::panic::Location::caller();
    let mut future = Some(future);
    // try_with: a spawn from a destructor during thread exit finds no
    // thread-locals and goes to the global runtime instead of panicking.
    let local = CURRENT
        .try_with(|c| {
            c.borrow()
                .as_ref()
                .map(|h| h.spawn_at(future.take().expect("taken once"), loc))
        })
        .ok()
        .flatten();
    match local {
        Some(join) => join,
        None => process_default()
            .unwrap_or_else(|| global().handle().clone())
            .spawn_at(future.take().expect("taken once"), loc),
    }
}

/// Runs `f` on the blocking pool of the current (or global) runtime:
/// for code that blocks its thread (a file, a C library, a long
/// computation), so it never holds a worker that runs tasks.
///
/// The pool starts threads as needed, up to
/// [`Builder::max_blocking_threads`] (512 by default), and lets an idle one
/// exit after [`Builder::blocking_keep_alive`]; further calls queue. The
/// closure runs with its runtime entered. It cannot be cancelled:
/// `abort` on its handle only stops the handle from waiting for it.
///
/// ```
/// gosched::run(async {
///     let h = gosched::spawn_blocking(|| {
///         std::thread::sleep(std::time::Duration::from_millis(1)); // blocks this pool thread only
///         std::fs::read_dir(".").map(|d| d.count()).unwrap_or(0)
///     });
///     assert!(h.await.unwrap() > 0);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    current_or_global().spawn_blocking(f)
}

/// Runs `future` to completion on this thread with the process default
/// runtime (else the global one) as the current one (see
/// [`Runtime::block_on`]). For synchronous code, such as a test or a
/// callback, that needs the output of async code without a runtime of its
/// own.
///
/// # Panics
/// When called from inside a runtime worker: use `.await` there.
///
/// ```
/// let v = gosched::block_on(async {
///     gosched::time::sleep(std::time::Duration::from_millis(1)).await;
///     gosched::spawn(async { 40 }).await.unwrap() + 2
/// });
/// assert_eq!(v, 42);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    process_default()
        .unwrap_or_else(|| global().handle().clone())
        .block_on(future)
}

/// Starts a runtime with default settings, runs `future` on this thread
/// until it completes, and shuts the runtime down.
///
/// Called on the main thread (as `fn main` does), the runtime is the
/// process's default while it runs, as Go has one runtime: a plain thread
/// started inside reaches it with `spawn` and `Handle::current` instead of
/// starting the global runtime. (On other threads, a test harness's for
/// instance, it is not: parallel tests each keep their own runtime.)
///
/// ```
/// let v = gosched::run(async {
///     gosched::spawn(async { 40 }).await.unwrap() + 2
/// });
/// assert_eq!(v, 42);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    let rt = match Runtime::new() {
        Ok(rt) => rt,
        Err(e) => panic!("gosched: cannot start a runtime: {e}"),
    };
    if std::thread::current().name() == Some("main") {
        rt.set_process_default();
    }
    rt.block_on(future)
}

/// Number of live tasks on the current runtime (Go's
/// `runtime.NumGoroutine()`); 0 when there is none. The task that calls
/// it counts; `block_on`'s future is not a task and does not.
///
/// ```
/// gosched::run(async {
///     assert_eq!(gosched::runtime::num_tasks(), 0);
///     let (tx, rx) = gosched::sync::chan::bounded::<()>(0);
///     let h = gosched::spawn(async move { rx.recv().await });
///     assert_eq!(gosched::runtime::num_tasks(), 1);
///     drop(tx);
///     h.await.unwrap();
///     assert_eq!(gosched::runtime::num_tasks(), 0);
/// });
/// ```
pub fn num_tasks() -> usize {
    Handle::try_current().map(|h| h.num_tasks()).unwrap_or(0)
}

/// Every live task of the current runtime (empty when there is none):
/// Go's goroutine dump. Each [`TaskInfo`] has the task's id, state, wait
/// reason, how long it has waited and its spawn site; `Display` prints one
/// line per task.
///
/// ```
/// use gosched::runtime::{TaskState, WaitReason};
/// gosched::run(async {
///     let (_tx, rx) = gosched::sync::chan::bounded::<()>(0);
///     let h = gosched::spawn(async move { rx.recv().await });
///     while gosched::runtime::dump().iter().all(|t| t.state != TaskState::Waiting) {
///         gosched::yield_now().await;
///     }
///     let tasks = gosched::runtime::dump();
///     assert_eq!(tasks.len(), 1);
///     assert_eq!(tasks[0].id, h.id());
///     assert_eq!(tasks[0].wait_reason, WaitReason::ChanReceive);
///     h.abort();
/// });
/// ```
pub fn dump() -> Vec<TaskInfo> {
    Handle::try_current().map(|h| h.dump()).unwrap_or_default()
}

/// Live tasks of the current runtime grouped by spawn site, state and
/// wait reason (empty when there is no runtime), largest group first:
/// Go's `debug=1` goroutine profile, the quickest way to spot a leak.
///
/// ```
/// gosched::run(async {
///     let (tx, rx) = gosched::sync::chan::bounded::<()>(0);
///     let workers: Vec<_> = (0..5)
///         .map(|_| {
///             let rx = rx.clone();
///             gosched::spawn(async move { rx.recv().await })
///         })
///         .collect();
///     let grouped = gosched::runtime::dump_grouped();
///     assert_eq!(grouped.total, 5);
///     assert_eq!(grouped.groups.iter().map(|g| g.count).sum::<usize>(), 5);
///     println!("{grouped}");
///     drop(tx);
///     for w in workers {
///         assert_eq!(w.await.unwrap(), None);
///     }
/// });
/// ```
pub fn dump_grouped() -> crate::dump::GroupedDump {
    Handle::try_current()
        .map(|h| h.dump_grouped())
        .unwrap_or_default()
}
