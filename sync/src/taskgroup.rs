//! `TaskGroup`: spawn tasks, wait for all, first error cancels the rest
//! (Go's `x/sync/errgroup`).
//!
//! # Design
//!
//! A group owns a child [`Context`] of the one it was made from, the join
//! handles of its tasks, and a shared slot for the first error.
//!
//! 1. [`TaskGroup::spawn`] spawns the future on the current gosched runtime
//!    (or the global one) through `gosched_executor::spawn`.
//! 2. A task that returns `Err` stores it if the slot is empty, and cancels
//!    the group's context, so siblings watching
//!    [`TaskGroup::context`]`.done()` stop early.
//! 3. [`TaskGroup::wait`] awaits every handle, then cancels the context (as
//!    Go's `Wait` does) and returns the first error. A task that panicked
//!    has its panic resumed in the waiter, after all tasks have finished.
//!
//! Dropping a group without waiting detaches its tasks; they keep running.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex as StdMutex};

use gosched_executor::JoinHandle;

use crate::context::{CancelHandle, Context};

/// A set of tasks whose first error cancels the others.
///
/// ```
/// use gosched::sync::TaskGroup;
/// let rt = gosched::Runtime::builder().procs(2).build().unwrap();
/// let res = rt.block_on(async {
///     let mut g = TaskGroup::new();
///     for i in 0..4 {
///         g.spawn(async move { if i == 2 { Err(format!("task {i} failed")) } else { Ok(()) } });
///     }
///     g.wait().await
/// });
/// assert_eq!(res, Err("task 2 failed".to_string()));
/// ```
pub struct TaskGroup<E> {
    ctx: Context,
    cancel: CancelHandle,
    first_err: Arc<StdMutex<Option<E>>>,
    handles: Vec<JoinHandle<()>>,
}

impl<E: Send + 'static> TaskGroup<E> {
    /// A group under the background context.
    ///
    /// ```
    /// let g = gosched::sync::TaskGroup::<()>::new();
    /// assert!(g.context().err().is_none());
    /// ```
    pub fn new() -> Self {
        Self::with_context(&Context::background())
    }

    /// A group whose context is a child of `parent`: cancelling `parent`
    /// cancels the group's context too.
    ///
    /// ```
    /// use gosched::sync::{context::Context, TaskGroup};
    /// let (parent, cancel) = Context::background().with_cancel();
    /// let g = TaskGroup::<()>::with_context(&parent);
    /// cancel.cancel();
    /// assert!(g.context().err().is_some());
    /// ```
    pub fn with_context(parent: &Context) -> Self {
        let (ctx, cancel) = parent.with_cancel();
        TaskGroup {
            ctx,
            cancel,
            first_err: Arc::new(StdMutex::new(None)),
            handles: Vec::new(),
        }
    }

    /// The group's context: done when a task fails, when the parent is
    /// done, or after [`wait`](Self::wait).
    ///
    /// ```
    /// let g = gosched::sync::TaskGroup::<()>::new();
    /// let ctx = g.context().clone(); // move a clone into tasks
    /// assert!(ctx.err().is_none());
    /// ```
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Number of tasks spawned and not yet waited for.
    ///
    /// ```
    /// let g = gosched::sync::TaskGroup::<()>::new();
    /// assert_eq!(g.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Whether no task was spawned.
    ///
    /// ```
    /// assert!(gosched::sync::TaskGroup::<()>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// Spawns a task into the group (Go's `g.Go(f)`).
    ///
    /// ```
    /// let rt = gosched::Runtime::builder().procs(1).build().unwrap();
    /// rt.block_on(async {
    ///     let mut g = gosched::sync::TaskGroup::<std::io::Error>::new();
    ///     g.spawn(async { Ok(()) });
    ///     assert!(g.wait().await.is_ok());
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&mut self, task: F)
    where
        F: Future<Output = Result<(), E>> + Send + 'static,
    {
        let first_err = self.first_err.clone();
        let cancel = self.cancel.clone();
        self.handles.push(gosched_executor::spawn(async move {
            if let Err(e) = task.await {
                let mut slot = first_err.lock().unwrap_or_else(|p| p.into_inner());
                if slot.is_none() {
                    *slot = Some(e);
                }
                drop(slot);
                cancel.cancel();
            }
        }));
    }

    /// Waits for every task; returns the first error, if any. Resumes the
    /// panic of a task that panicked, once all tasks are done.
    ///
    /// ```
    /// let rt = gosched::Runtime::builder().procs(1).build().unwrap();
    /// let r: Result<(), &str> = rt.block_on(gosched::sync::TaskGroup::new().wait());
    /// assert!(r.is_ok());
    /// ```
    pub async fn wait(mut self) -> Result<(), E> {
        let mut panic = None;
        for h in std::mem::take(&mut self.handles) {
            if let Err(e) = h.await {
                if e.is_panic() && panic.is_none() {
                    panic = Some(e.into_panic());
                }
            }
        }
        self.cancel.cancel();
        if let Some(p) = panic {
            std::panic::resume_unwind(p);
        }
        let err = self
            .first_err
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        match err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl<E: Send + 'static> Default for TaskGroup<E> {
    fn default() -> Self {
        TaskGroup::new()
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("tasks", &self.handles.len())
            .field("ctx", &self.ctx)
            .finish()
    }
}
