//! A goroutine-leak checker for tests, like Go's goleak.
//!
//! [`LeakGuard::new`] remembers which tasks of a runtime are alive; when
//! the guard is checked (or dropped), every task spawned since that is
//! still alive is a leak: a task parked on a channel nobody sends to, a
//! loop nobody stops. Tasks that are merely finishing get a grace period
//! (default 1 s) to complete before they count.
//!
//! ```
//! let rt = gosched::Runtime::builder().procs(1).build().unwrap();
//! let guard = gosched::runtime::LeakGuard::new(rt.handle());
//! let leaked = rt.spawn(std::future::pending::<()>());
//! let report = guard.check().unwrap_err();
//! assert_eq!(report.leaked.len(), 1);
//! assert!(report.to_string().contains("leak.rs"));
//! # drop(leaked);
//! ```

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, Instant};

use crate::task::TaskInfo;
use crate::Handle;

/// Checks that no task spawned during its life outlives it.
///
/// Make one at the start of a test, run the test, then call
/// [`check`](LeakGuard::check) (or let the guard drop, which panics with
/// the report). `#[gosched::test(leak_check)]` does exactly this.
///
/// ```
/// use std::time::Duration;
/// let rt = gosched::Runtime::new().unwrap();
/// let guard = gosched::runtime::LeakGuard::new(rt.handle()).grace(Duration::from_millis(100));
/// rt.block_on(async {
///     let (tx, rx) = gosched::sync::chan::bounded::<u32>(0);
///     let worker = gosched::spawn(async move { rx.recv().await });
///     tx.send(1).await.unwrap();
///     assert_eq!(worker.await.unwrap(), Some(1));
/// });
/// guard.check().expect("every task the test spawned has finished");
/// ```
#[derive(Debug)]
pub struct LeakGuard {
    handle: Handle,
    before: HashSet<u64>,
    grace: Duration,
    checked: bool,
}

/// The tasks a [`LeakGuard`] found still alive.
#[derive(Debug, Clone)]
pub struct LeakReport {
    /// Each leaked task: id, state, wait reason and spawn site.
    pub leaked: Vec<TaskInfo>,
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "found {} leaked task(s):", self.leaked.len())?;
        for t in &self.leaked {
            writeln!(
                f,
                "  task {} [{}, {}] spawned at {}:{}",
                t.id,
                t.state,
                t.wait_reason,
                t.location.file(),
                t.location.line()
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for LeakReport {}

/// How long `check` waits by default for tasks that are finishing: long
/// enough for a task woken just before the check to be polled to its end
/// on a loaded machine, short enough for a test suite.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(1);

/// How often `check` looks again while it waits: often enough that a
/// clean test ends a few milliseconds after its tasks do.
const RECHECK_EVERY: Duration = Duration::from_millis(5);

impl LeakGuard {
    /// Starts watching `handle`'s runtime: tasks alive now are never
    /// reported, only those spawned later.
    ///
    /// ```
    /// let rt = gosched::Runtime::new().unwrap();
    /// let _older = rt.spawn(std::future::pending::<()>());
    /// let guard = gosched::runtime::LeakGuard::new(rt.handle());
    /// assert!(guard.check().is_ok(), "a task from before the guard is not a leak");
    /// ```
    pub fn new(handle: &Handle) -> LeakGuard {
        let before = handle.dump().into_iter().map(|t| t.id).collect();
        LeakGuard {
            handle: handle.clone(),
            before,
            grace: DEFAULT_GRACE,
            checked: false,
        }
    }

    /// How long `check` waits for finishing tasks before it reports them
    /// (default [`DEFAULT_GRACE`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = gosched::Runtime::new().unwrap();
    /// let guard = gosched::runtime::LeakGuard::new(rt.handle()).grace(Duration::from_millis(10));
    /// let _stuck = rt.spawn(std::future::pending::<()>());
    /// let report = guard.check().unwrap_err();
    /// assert_eq!(report.leaked.len(), 1);
    /// ```
    pub fn grace(mut self, grace: Duration) -> LeakGuard {
        self.grace = grace;
        self
    }

    fn leaked(&self) -> Vec<TaskInfo> {
        let mut v: Vec<TaskInfo> = self
            .handle
            .dump()
            .into_iter()
            .filter(|t| !self.before.contains(&t.id))
            .collect();
        v.sort_by_key(|t| t.id);
        v
    }

    /// Waits up to the grace period for tasks spawned since `new` to
    /// finish; returns the ones still alive. The report's `Display` names
    /// each task's state, wait reason and spawn site.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = gosched::Runtime::new().unwrap();
    /// let guard = gosched::runtime::LeakGuard::new(rt.handle()).grace(Duration::from_millis(10));
    /// let (_tx, rx) = gosched::sync::chan::bounded::<()>(0);
    /// let _leak = rt.spawn(async move { rx.recv().await });
    /// let report = guard.check().unwrap_err();
    /// assert!(report.to_string().starts_with("found 1 leaked task(s)"));
    /// ```
    pub fn check(mut self) -> Result<(), LeakReport> {
        self.checked = true;
        self.check_inner()
    }

    fn check_inner(&self) -> Result<(), LeakReport> {
        let deadline = Instant::now() + self.grace;
        loop {
            let leaked = self.leaked();
            if leaked.is_empty() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(LeakReport { leaked });
            }
            std::thread::sleep(RECHECK_EVERY);
        }
    }
}

impl Drop for LeakGuard {
    /// Panics (unless already panicking) when tasks leaked, naming them.
    fn drop(&mut self) {
        if self.checked || std::thread::panicking() {
            return;
        }
        if let Err(report) = self.check_inner() {
            panic!("{report}");
        }
    }
}
