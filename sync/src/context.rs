//! `Context`: cancellation trees with deadlines and values (Go's `context`).
//!
//! # Problem
//!
//! A request fans out into many tasks; when the request is cancelled or
//! its deadline passes, every task working on it should stop, and any task
//! should be able to ask "am I still wanted?" (`err`) or wait for the answer
//! to change (`done`). Cancelling a parent cancels all its descendants;
//! cancelling a child leaves the parent alone.
//!
//! # Design
//!
//! A [`Context`] is an `Arc` to an immutable node with an optional parent:
//! - *background*: the root, never cancelled;
//! - *cancel* node (`with_cancel`, `with_deadline`, `with_timeout`): holds
//!   the cancellation state: `err`, parked `done()` waiters, and weak links
//!   to its cancelable children;
//! - *value* node (`with_value`): one typed value; cancellation questions
//!   go to its nearest cancel ancestor.
//!
//! Cancel, step by step (`cancel_tree`):
//! 1. Lock the node; if `err` is already set, stop (first cause wins).
//! 2. Set `err`, set the `done` flag, take the waiters, the children and
//!    the deadline's timer entry.
//! 3. Unlock, remove the timer entry (Go's `cancel` stops its timer), close
//!    the `done_chan` if one was made, wake the waiters, then repeat for
//!    each live child (with an explicit work list, so deep trees cannot
//!    overflow the stack).
//!
//! Dropping is iterative too: a node owns its parent, so letting the last
//! `Context` of a long chain go would drop one level inside the drop of the
//! next and overflow the stack (a 2 MiB stack holds some 50k levels).
//! `Node`'s `Drop` instead takes its parent out and keeps walking up while
//! it holds the last reference to it (`Arc::into_inner`), freeing each
//! level in a loop.
//!
//! Waiting: [`Context::done`] is a plain future; [`Context::done_chan`] is
//! Go's `Done()` channel (a rendezvous channel made on first use and closed
//! on cancel), for use as a [`select!`](crate::select) arm.
//!
//! A new cancel node links itself into its nearest cancel ancestor under
//! that ancestor's lock; if the ancestor is already cancelled it starts
//! cancelled with the same error, so no child ever misses its parent's
//! cancellation. Children are held weakly: a dropped child costs one dead
//! `Weak` until the next prune.
//!
//! # Deadlines and timers (crate graph: sync must not depend on netpoll)
//!
//! A deadline is just "cancel with `DeadlineExceeded` at time t", so it can
//! be driven by anything that can call back later:
//! - By the installed [`Timer`]: a runtime installs one with [`set_timer`]
//!   (this crate depends on no timer implementation). The `gosched` crate
//!   installs the netpoller's: a deadline is then a callback entry in the
//!   timer wheel of the runtime it was made in, fired by the thread that
//!   turns the wheel, and read against that runtime's clock (which a test
//!   may pause).
//! - Until one is installed, or when the installed one has no runtime to
//!   use, by one lazily started std thread ([`thread_timer`]) with an
//!   ordered map of deadlines: works on any executor and on none.
//! - Or per context, by any future: [`Context::with_deadline_driven`]
//!   returns a [`DeadlineDriver`] to spawn, which cancels the context when
//!   the given sleep future completes.
//!
//! A timer entry lives only as long as it is needed, as Go's `cancel()`
//! stops its timer: [`Timer::schedule`] returns a [`TimerEntry`] that the
//! node keeps in its state, and both cancellation (step 3 above) and the
//! drop of the node's last handle cancel it ([`TimerEntry::cancel`]),
//! which frees the entry and its callback at once. Registering the entry
//! (`Context::arm_deadline`):
//! 1. Schedule, without holding the node's lock (a timer may fire at once,
//!    from inside `schedule`, and the callback locks the node).
//! 2. Lock the node. If it is already done (cancelled meanwhile, or fired),
//!    unlock and cancel the entry: nobody else will. Otherwise store it,
//!    which step 3 of "Cancel" or the node's drop will cancel.
//!
//! # Invariants
//!
//! - `err` goes from `None` to `Some` once and never changes again.
//! - When a node's `err` is set, every descendant's is set too (by the time
//!   `cancel` returns, or at the descendant's creation).
//! - A node's `timer` entry is set only while its `err` is `None`; whoever
//!   clears it (cancel, or the node's drop) cancels the entry.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex as StdMutex, OnceLock, Weak};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, Instant};

use gosched_executor::coop;
use gosched_executor::task::WaitReason;

use crate::chan;
use crate::loom::lock_std;
use crate::waitlist::{park, ready, update_waker, Key, WaitList};

/// Why a context is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContextError {
    /// [`CancelHandle::cancel`] was called on it or an ancestor (Go's
    /// `context.Canceled`).
    Cancelled,
    /// Its deadline (or an ancestor's) passed (Go's
    /// `context.DeadlineExceeded`).
    DeadlineExceeded,
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextError::Cancelled => f.write_str("context canceled"),
            ContextError::DeadlineExceeded => f.write_str("context deadline exceeded"),
        }
    }
}

impl std::error::Error for ContextError {}

struct CancelState {
    err: Option<ContextError>,
    waiters: WaitList<Option<Waker>>,
    children: Vec<Weak<Node>>,
    /// Go's `Done()` channel, made on first use; closed on cancel.
    done_chan: Option<(chan::Sender<()>, chan::Receiver<()>)>,
    /// The pending entry of the installed [`Timer`] that enforces this
    /// node's own deadline (see "Deadlines and timers"); `None` when the
    /// deadline is inherited, already handled, or there is none.
    timer: Option<TimerEntry>,
}

struct CancelNode {
    deadline: Option<Instant>,
    /// Mirrors `state.err.is_some()` for a lock-free `err()` fast path.
    done: AtomicBool,
    state: StdMutex<CancelState>,
}

enum Kind {
    Background,
    Cancel(CancelNode),
    Value(Box<dyn Any + Send + Sync>),
}

struct Node {
    parent: Option<Context>,
    kind: Kind,
}

impl Drop for Node {
    /// Frees the chain of ancestors that only this node kept alive in a
    /// loop rather than by recursion (see "Design"), and removes this
    /// node's pending timer entry.
    fn drop(&mut self) {
        if let Kind::Cancel(c) = &mut self.kind {
            let st = c.state.get_mut().unwrap_or_else(|e| e.into_inner());
            if let Some(entry) = st.timer.take() {
                entry.cancel();
            }
        }
        let mut parent = self.parent.take();
        while let Some(ctx) = parent {
            // `Some` only for the last strong reference: nobody else can
            // reach that node any more, so its parent is ours to take. The
            // node itself is dropped at the end of this iteration with no
            // parent left, so its own `drop` does not recurse.
            parent = Arc::into_inner(ctx.node).and_then(|mut node| node.parent.take());
        }
    }
}

/// A cancellation scope with an optional deadline and values; cheap to
/// clone (an `Arc`).
///
/// ```
/// use gosched::sync::context::{Context, ContextError};
/// futures::executor::block_on(async {
///     let (parent, cancel) = Context::background().with_cancel();
///     let (child, _child_cancel) = parent.with_cancel();
///     assert_eq!(child.err(), None);
///     cancel.cancel();
///     child.done().await; // the parent's cancellation reached the child
///     assert_eq!(child.err(), Some(ContextError::Cancelled));
/// });
/// ```
#[derive(Clone)]
pub struct Context {
    node: Arc<Node>,
}

/// Cancels the context it came with (and its descendants). Dropping it
/// does *not* cancel: call [`cancel`](Self::cancel).
#[derive(Clone)]
pub struct CancelHandle {
    node: Arc<Node>,
}

impl CancelHandle {
    /// Cancels the context with [`ContextError::Cancelled`]; a no-op if it
    /// is already done.
    ///
    /// ```
    /// use gosched::sync::context::Context;
    /// let (ctx, cancel) = Context::background().with_cancel();
    /// cancel.cancel();
    /// cancel.cancel(); // idempotent
    /// assert!(ctx.err().is_some());
    /// ```
    pub fn cancel(&self) {
        cancel_tree(&self.node, ContextError::Cancelled);
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle").finish_non_exhaustive()
    }
}

/// Steps 1-3 of "Cancel".
fn cancel_tree(root: &Arc<Node>, err: ContextError) {
    let mut work = vec![root.clone()];
    while let Some(node) = work.pop() {
        let Kind::Cancel(c) = &node.kind else {
            continue;
        };
        let mut st = lock_std(&c.state);
        if st.err.is_some() {
            continue;
        }
        st.err = Some(err);
        // Release pairs with the Acquire load in `Context::err`'s fast path.
        c.done.store(true, Ordering::Release);
        let mut wakers = Vec::new();
        while let Some(k) = st.waiters.pop_front() {
            wakers.extend(st.waiters.get_mut(k).take());
        }
        let children = std::mem::take(&mut st.children);
        let done_chan = st.done_chan.take();
        let timer_entry = st.timer.take();
        drop(st);
        if let Some(entry) = timer_entry {
            entry.cancel();
        }
        if let Some((tx, _)) = done_chan {
            tx.close();
        }
        wakers.into_iter().for_each(Waker::wake);
        work.extend(children.iter().filter_map(Weak::upgrade));
    }
}

impl Context {
    /// The root context: never cancelled, no deadline, no values.
    ///
    /// ```
    /// let ctx = gosched::sync::context::Context::background();
    /// assert!(ctx.err().is_none() && ctx.deadline().is_none());
    /// ```
    pub fn background() -> Context {
        static BACKGROUND: OnceLock<Context> = OnceLock::new();
        BACKGROUND
            .get_or_init(|| Context {
                node: Arc::new(Node {
                    parent: None,
                    kind: Kind::Background,
                }),
            })
            .clone()
    }

    /// The nearest cancel node at or above this one.
    fn cancel_node(&self) -> Option<&CancelNode> {
        let mut cur = self;
        loop {
            match &cur.node.kind {
                Kind::Cancel(c) => return Some(c),
                Kind::Background => return None,
                Kind::Value(_) => cur = cur.node.parent.as_ref()?,
            }
        }
    }

    fn new_cancel_child(&self, deadline: Option<Instant>) -> (Context, CancelHandle) {
        let node = Arc::new(Node {
            parent: Some(self.clone()),
            kind: Kind::Cancel(CancelNode {
                deadline,
                done: AtomicBool::new(false),
                state: StdMutex::new(CancelState {
                    err: None,
                    waiters: WaitList::new(),
                    children: Vec::new(),
                    done_chan: None,
                    timer: None,
                }),
            }),
        });
        if let Some(parent) = self.cancel_node() {
            let mut st = lock_std(&parent.state);
            match st.err {
                Some(err) => {
                    drop(st);
                    cancel_tree(&node, err);
                }
                None => {
                    if st.children.len() == st.children.capacity() {
                        st.children.retain(|w| w.strong_count() > 0);
                    }
                    st.children.push(Arc::downgrade(&node));
                }
            }
        }
        (Context { node: node.clone() }, CancelHandle { node })
    }

    /// A child context that is cancelled by the returned handle or when
    /// this context is.
    ///
    /// ```
    /// use gosched::sync::context::{Context, ContextError};
    /// let (ctx, cancel) = Context::background().with_cancel();
    /// cancel.cancel();
    /// assert_eq!(ctx.err(), Some(ContextError::Cancelled));
    /// ```
    pub fn with_cancel(&self) -> (Context, CancelHandle) {
        let deadline = self.deadline();
        self.new_cancel_child(deadline)
    }

    /// A child context that is also cancelled with
    /// [`ContextError::DeadlineExceeded`] at `deadline`, driven by the
    /// installed [`Timer`] (by default a std thread).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use gosched::sync::context::{Context, ContextError};
    /// let (ctx, _cancel) = Context::background()
    ///     .with_deadline(Instant::now() + Duration::from_millis(5));
    /// futures::executor::block_on(ctx.done());
    /// assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    /// ```
    pub fn with_deadline(&self, deadline: Instant) -> (Context, CancelHandle) {
        let (ctx, handle) = self.child_with_deadline(deadline);
        if ctx.err().is_none() && ctx.deadline() == Some(deadline) {
            ctx.arm_deadline(deadline);
        }
        (ctx, handle)
    }

    /// Steps 1-2 of "Registering the entry": schedules the cancellation of
    /// this (cancel) node at `deadline` and records the timer entry in it.
    fn arm_deadline(&self, deadline: Instant) {
        let Kind::Cancel(c) = &self.node.kind else {
            return;
        };
        let weak = Arc::downgrade(&self.node);
        let timer = timer();
        // Step 1: no lock held (the callback may run inside `schedule`).
        let entry = timer.schedule(
            deadline,
            Box::new(move || {
                if let Some(node) = weak.upgrade() {
                    cancel_tree(&node, ContextError::DeadlineExceeded);
                }
            }),
        );
        // Step 2.
        let mut st = lock_std(&c.state);
        if st.err.is_some() {
            drop(st);
            entry.cancel();
        } else {
            st.timer = Some(entry);
        }
    }

    /// The child for a deadline: inherits an earlier parent deadline (whose
    /// own timer will cancel it), and is born cancelled if the deadline
    /// has passed.
    fn child_with_deadline(&self, deadline: Instant) -> (Context, CancelHandle) {
        let effective = match self.deadline() {
            Some(parent) if parent <= deadline => parent,
            _ => deadline,
        };
        let (ctx, handle) = self.new_cancel_child(Some(effective));
        if effective <= timer().now() {
            cancel_tree(&ctx.node, ContextError::DeadlineExceeded);
        }
        (ctx, handle)
    }

    /// [`with_deadline`](Self::with_deadline) at now + `timeout`, "now"
    /// being the installed [`Timer`]'s clock ([`Timer::now`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use gosched::sync::context::Context;
    /// let (ctx, cancel) = Context::background().with_timeout(Duration::from_secs(60));
    /// assert!(ctx.err().is_none());
    /// cancel.cancel();
    /// ```
    pub fn with_timeout(&self, timeout: Duration) -> (Context, CancelHandle) {
        let now = timer().now();
        // A timeout too long to add to now never expires: about 30 years
        // on, as the runtime's own `sleep(Duration::MAX)`.
        let deadline = now
            .checked_add(timeout)
            .or_else(|| now.checked_add(Duration::from_secs(86_400 * 365 * 30)))
            .unwrap_or(now);
        self.with_deadline(deadline)
    }

    /// A child context with `deadline`, whose deadline is enforced by
    /// `sleep` (any future that completes at the deadline, e.g. a runtime's
    /// `sleep_until`) through the returned [`DeadlineDriver`], which the
    /// caller must spawn or poll.
    ///
    /// ```
    /// use std::time::Instant;
    /// use gosched::sync::context::{Context, ContextError};
    /// let deadline = Instant::now();
    /// let (ctx, _cancel, driver) =
    ///     Context::background().with_deadline_driven(deadline, async {});
    /// futures::executor::block_on(driver); // the "sleep" finished at once
    /// assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
    /// ```
    pub fn with_deadline_driven<F: Future<Output = ()>>(
        &self,
        deadline: Instant,
        sleep: F,
    ) -> (Context, CancelHandle, DeadlineDriver<F>) {
        let (ctx, handle) = self.child_with_deadline(deadline);
        let driver = DeadlineDriver {
            sleep: Box::pin(sleep),
            ctx: Arc::downgrade(&ctx.node),
        };
        (ctx, handle, driver)
    }

    /// A child context carrying `value`, found by [`value`](Self::value)
    /// on it and its descendants (keyed by type, as Go keys by a private
    /// key type).
    ///
    /// ```
    /// use gosched::sync::context::Context;
    /// #[derive(Debug, PartialEq)]
    /// struct RequestId(u64);
    /// let ctx = Context::background().with_value(RequestId(7));
    /// let (child, _c) = ctx.with_cancel();
    /// assert_eq!(child.value::<RequestId>(), Some(&RequestId(7)));
    /// assert_eq!(child.value::<String>(), None);
    /// ```
    pub fn with_value<V: Any + Send + Sync>(&self, value: V) -> Context {
        Context {
            node: Arc::new(Node {
                parent: Some(self.clone()),
                kind: Kind::Value(Box::new(value)),
            }),
        }
    }

    /// The nearest value of type `V` on this context or its ancestors.
    ///
    /// ```
    /// use gosched::sync::context::Context;
    /// let ctx = Context::background().with_value(1u32).with_value(2u32);
    /// assert_eq!(ctx.value::<u32>(), Some(&2));
    /// ```
    pub fn value<V: Any>(&self) -> Option<&V> {
        let mut cur = self;
        loop {
            if let Kind::Value(v) = &cur.node.kind {
                if let Some(v) = v.downcast_ref::<V>() {
                    return Some(v);
                }
            }
            cur = cur.node.parent.as_ref()?;
        }
    }

    /// Why the context is done, or `None` while it is not.
    ///
    /// ```
    /// use gosched::sync::context::Context;
    /// assert_eq!(Context::background().err(), None);
    /// ```
    pub fn err(&self) -> Option<ContextError> {
        let c = self.cancel_node()?;
        // Acquire pairs with the Release store in `cancel_tree`.
        if !c.done.load(Ordering::Acquire) {
            return None;
        }
        lock_std(&c.state).err
    }

    /// The deadline, if this context or an ancestor has one.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use gosched::sync::context::Context;
    /// let d = Instant::now() + Duration::from_secs(9);
    /// let (ctx, _c) = Context::background().with_deadline(d);
    /// assert_eq!(ctx.deadline(), Some(d));
    /// ```
    pub fn deadline(&self) -> Option<Instant> {
        self.cancel_node()?.deadline
    }

    /// Go's `ctx.Done()`: a channel that is closed when the context is
    /// done, so it can be an arm of [`select!`](crate::select) (its
    /// `recv()` returns `None` once done). Never closed for the background
    /// context.
    ///
    /// ```
    /// use gosched::{select, sync::{chan, context::Context}};
    /// futures::executor::block_on(async {
    ///     let (ctx, cancel) = Context::background().with_cancel();
    ///     let (tx, _rx) = chan::bounded::<u32>(0); // nobody receives
    ///     let done = ctx.done_chan();
    ///     cancel.cancel();
    ///     let sent = select! {
    ///         r = tx.send(1) => r.is_ok(),
    ///         _ = done.recv() => false, // cancelled: give up the send
    ///     };
    ///     assert!(!sent);
    /// });
    /// ```
    pub fn done_chan(&self) -> chan::Receiver<()> {
        let Some(c) = self.cancel_node() else {
            static NEVER: OnceLock<(chan::Sender<()>, chan::Receiver<()>)> = OnceLock::new();
            return NEVER.get_or_init(|| chan::bounded(0)).1.clone();
        };
        let mut st = lock_std(&c.state);
        if st.err.is_some() {
            let (tx, rx) = chan::bounded(0);
            tx.close();
            return rx;
        }
        st.done_chan
            .get_or_insert_with(|| chan::bounded(0))
            .1
            .clone()
    }

    /// A future that completes when the context is done (never, for the
    /// background context). Parks with `WaitReason::ContextDone`.
    ///
    /// ```
    /// use gosched::sync::context::Context;
    /// let (ctx, cancel) = Context::background().with_cancel();
    /// cancel.cancel();
    /// futures::executor::block_on(ctx.done());
    /// ```
    pub fn done(&self) -> Done<'_> {
        Done {
            node: self.cancel_node(),
            key: None,
        }
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("err", &self.err())
            .field("deadline", &self.deadline())
            .finish_non_exhaustive()
    }
}

/// Future returned by [`Context::done`].
#[must_use = "futures do nothing unless polled"]
pub struct Done<'a> {
    node: Option<&'a CancelNode>,
    key: Option<Key>,
}

impl fmt::Debug for Done<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Done")
            .field("parked", &self.key.is_some())
            .finish()
    }
}

impl Future for Done<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        let this = self.get_mut();
        let progress = std::task::ready!(coop::poll_proceed(cx));
        let Some(node) = this.node else {
            return park(progress, WaitReason::ContextDone);
        };
        let mut st = lock_std(&node.state);
        if st.err.is_some() {
            if let Some(k) = this.key.take() {
                st.waiters.remove(k);
            }
            drop(st);
            return ready(progress, ());
        }
        match this.key {
            Some(k) => update_waker(st.waiters.get_mut(k), cx.waker()),
            None => this.key = Some(st.waiters.push_back(Some(cx.waker().clone()))),
        }
        drop(st);
        park(progress, WaitReason::ContextDone)
    }
}

impl Drop for Done<'_> {
    fn drop(&mut self) {
        if let (Some(node), Some(k)) = (self.node, self.key.take()) {
            lock_std(&node.state).waiters.remove(k);
        }
    }
}

/// Enforces a deadline set by [`Context::with_deadline_driven`]: when its
/// sleep future completes, the context is cancelled with
/// `DeadlineExceeded`. It completes early if the context is dropped.
#[must_use = "the deadline is only enforced while the driver is polled"]
pub struct DeadlineDriver<F> {
    sleep: Pin<Box<F>>,
    ctx: Weak<Node>,
}

impl<F> fmt::Debug for DeadlineDriver<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeadlineDriver").finish_non_exhaustive()
    }
}

impl<F: Future<Output = ()>> Future for DeadlineDriver<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if self.ctx.strong_count() == 0 {
            return Poll::Ready(());
        }
        std::task::ready!(self.sleep.as_mut().poll(cx));
        if let Some(node) = self.ctx.upgrade() {
            cancel_tree(&node, ContextError::DeadlineExceeded);
        }
        Poll::Ready(())
    }
}

/// One pending entry of a [`Timer`], returned by [`Timer::schedule`].
///
/// [`cancel`](TimerEntry::cancel) removes it and drops its callback
/// without calling it; dropping it without cancelling leaves the entry to
/// fire.
///
/// ```
/// use gosched::sync::context::TimerEntry;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// let cancelled = Arc::new(AtomicBool::new(false));
/// let c = cancelled.clone();
/// let entry = TimerEntry::new(move || c.store(true, Ordering::SeqCst));
/// entry.cancel();
/// assert!(cancelled.load(Ordering::SeqCst));
/// ```
#[must_use = "an entry that is dropped can no longer be cancelled"]
pub struct TimerEntry {
    cancel: Option<Box<dyn FnOnce() + Send>>,
}

impl TimerEntry {
    /// An entry that `cancel` removes by running `cancel`.
    pub fn new(cancel: impl FnOnce() + Send + 'static) -> TimerEntry {
        TimerEntry {
            cancel: Some(Box::new(cancel)),
        }
    }

    /// An entry with nothing to remove (its callback already ran, inside
    /// `schedule`).
    ///
    /// ```
    /// gosched::sync::context::TimerEntry::fired().cancel();
    /// ```
    pub fn fired() -> TimerEntry {
        TimerEntry { cancel: None }
    }

    /// Removes the entry and drops its callback without calling it. A
    /// no-op if it already fired.
    pub fn cancel(mut self) {
        if let Some(cancel) = self.cancel.take() {
            cancel();
        }
    }
}

impl fmt::Debug for TimerEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerEntry")
            .field("cancellable", &self.cancel.is_some())
            .finish()
    }
}

/// Something that can run a callback at a given time, and forget it again,
/// and the clock deadlines are measured on. Install one with
/// [`set_timer`]; otherwise a std thread does it ([`thread_timer`]).
///
/// Contexts cancel every entry they no longer need (when cancelled before
/// the deadline, or dropped), so a timer should free an entry's memory in
/// [`TimerEntry::cancel`] rather than at its deadline.
pub trait Timer: Send + Sync {
    /// Calls `fire` at (or soon after) `deadline`, from any thread, unless
    /// the returned entry is cancelled first. `fire` may also be called
    /// before `schedule` returns if the deadline has passed.
    fn schedule(&self, deadline: Instant, fire: Box<dyn FnOnce() + Send>) -> TimerEntry;

    /// The time deadlines are compared with: [`Context::with_timeout`]
    /// adds to it, and a deadline at or before it is already exceeded.
    /// `Instant::now()` unless the timer keeps a clock of its own (a test
    /// clock that can be paused).
    fn now(&self) -> Instant {
        Instant::now()
    }
}

static TIMER: OnceLock<&'static dyn Timer> = OnceLock::new();

/// Installs the timer that drives [`Context::with_deadline`]. Call it
/// once; returns `false` if a timer is already installed. Deadlines set
/// before it keep the timer they were scheduled on.
///
/// ```
/// use std::time::Instant;
/// use gosched::sync::context::{set_timer, Timer, TimerEntry};
/// struct Immediate;
/// impl Timer for Immediate {
///     fn schedule(&self, _deadline: Instant, fire: Box<dyn FnOnce() + Send>) -> TimerEntry {
///         fire();
///         TimerEntry::fired()
///     }
/// }
/// static IMMEDIATE: Immediate = Immediate;
/// let _installed = set_timer(&IMMEDIATE);
/// ```
pub fn set_timer(timer: &'static dyn Timer) -> bool {
    TIMER.set(timer).is_ok()
}

fn timer() -> &'static dyn Timer {
    match TIMER.get() {
        Some(t) => *t,
        None => thread_timer(),
    }
}

/// The default [`Timer`]: one std thread named `gosched-context-timer`,
/// started on first use, sleeping until the earliest of an ordered map of
/// deadlines. An installed timer may fall back to it (outside any
/// runtime, say).
///
/// ```
/// use std::time::{Duration, Instant};
/// let fired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
/// let f = fired.clone();
/// let entry = gosched::sync::context::thread_timer().schedule(
///     Instant::now() + Duration::from_secs(3600),
///     Box::new(move || f.store(true, std::sync::atomic::Ordering::SeqCst)),
/// );
/// entry.cancel();
/// assert!(!fired.load(std::sync::atomic::Ordering::SeqCst));
/// ```
pub fn thread_timer() -> &'static dyn Timer {
    DEFAULT_TIMER.get_or_init(ThreadTimer::start)
}

/// The default timer; started on first use.
static DEFAULT_TIMER: OnceLock<ThreadTimer> = OnceLock::new();

/// How many entries the default timer thread holds (deadlines that are
/// neither fired nor cancelled); 0 when it was never started. For tests
/// that check that cancelled and dropped contexts free their entries.
#[doc(hidden)]
pub fn default_timer_pending() -> usize {
    DEFAULT_TIMER.get().map_or(0, ThreadTimer::pending)
}

/// Orders the default timer's entries: deadline, then a unique id.
type ThreadKey = (Instant, u64);

/// The default [`Timer`]: one std thread sleeping until the earliest of an
/// ordered map of deadlines.
///
/// The map is keyed by deadline, then id, so the earliest entry is the
/// first and a cancel removes any entry in O(log n). The thread is woken
/// through the condvar only when `schedule` makes a new earliest deadline;
/// a cancel of the earliest entry does not wake it: it wakes at the old
/// deadline, finds nothing due, and sleeps until the new first one.
struct ThreadTimer {
    shared: Arc<ThreadShared>,
}

type ThreadShared = (StdMutex<BTreeMap<ThreadKey, Callback>>, Condvar);

type Callback = Box<dyn FnOnce() + Send>;

impl ThreadTimer {
    fn start() -> ThreadTimer {
        let shared: Arc<ThreadShared> = Arc::default();
        let s = shared.clone();
        std::thread::Builder::new()
            .name("gosched-context-timer".into())
            .spawn(move || Self::run(&s))
            .expect("spawn the context timer thread");
        ThreadTimer { shared }
    }

    fn run(shared: &ThreadShared) {
        let (lock, cv) = shared;
        let mut map = lock_std(lock);
        loop {
            let now = Instant::now();
            match map.first_key_value().map(|(k, _)| k.0) {
                Some(at) if at <= now => {
                    let (_, fire) = map.pop_first().expect("first entry seen");
                    drop(map);
                    fire();
                    map = lock_std(lock);
                }
                Some(at) => {
                    map = cv
                        .wait_timeout(map, at - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                None => map = cv.wait(map).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }

    fn pending(&self) -> usize {
        lock_std(&self.shared.0).len()
    }
}

impl Timer for ThreadTimer {
    fn schedule(&self, deadline: Instant, fire: Box<dyn FnOnce() + Send>) -> TimerEntry {
        // Relaxed: the counter only has to hand out distinct ids.
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let key = (deadline, NEXT_ID.fetch_add(1, Ordering::Relaxed));
        let (lock, cv) = &*self.shared;
        let mut map = lock_std(lock);
        let earliest = map.first_key_value().is_none_or(|(first, _)| key < *first);
        map.insert(key, fire);
        drop(map);
        if earliest {
            cv.notify_one();
        }
        let shared = self.shared.clone();
        TimerEntry::new(move || {
            let removed = lock_std(&shared.0).remove(&key);
            // The callback (and the `Weak` it holds) is dropped here, unlocked.
            drop(removed);
        })
    }
}
