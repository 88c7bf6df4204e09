//! `select!`: wait on several channel operations, complete exactly one.
//!
//! # Problem
//!
//! Go's `select` has three rules that `futures::select!` does not give:
//! 1. when several arms are ready, one is chosen *uniformly at random*;
//! 2. `default` runs when no arm is ready;
//! 3. an arm that was not chosen *has not happened*: no value was taken
//!    from its channel and none was sent. On a rendezvous channel that means
//!    a parked select must be completable by a counterpart *without* any
//!    other arm completing at the same time.
//!
//! Racing ordinary futures breaks rule 3: two receive futures can both be
//! handed a value before the select notices the first one.
//!
//! # Design (Go's `selectgo` with a shared `sudog` flag)
//!
//! Each arm is a channel operation that implements [`SelectOp`]: it can be
//! *tried* without parking, *registered* as a parked waiter owned by a
//! [`SelectCore`], *finished* once the core says it was chosen, and
//! *unregistered*. The core's state word is the arbiter: a counterpart
//! completes a select's waiter only after claiming the core (see
//! `claim.rs`), so at most one arm ever completes.
//!
//! The [`Select`] future, step by step:
//! 1. Shuffle the arm indices (Fisher-Yates with a per-thread generator).
//! 2. Pass 1: try each arm in that order; the first ready one wins. As the
//!    order is a uniform permutation, every ready arm is equally likely to
//!    be first (rule 1). Nothing is registered yet, so no claim is needed.
//! 3. None ready, and there is a `default`: decide on one snapshot of all
//!    the arms' channels (`Select::snapshot`, protocol in `snapshot.rs`):
//!    freeze the channels in address order, try every arm again in the
//!    same random order, thaw. An arm that completes now wins; otherwise
//!    return "none" (rule 2): no arm was ready at the moment of the second
//!    try. Step 2 alone would not do: its tries happen at different
//!    moments, and a channel it found empty may have been filled before
//!    another one was emptied. A select of one arm skips the snapshot: its
//!    one try is already one moment.
//! 4. Pass 2: create the core and register the arms in the same order.
//!    Registering re-checks readiness under the channel lock; an arm that
//!    can complete now claims its own core first. If the core was already
//!    claimed by a counterpart on an earlier arm, registration stops.
//! 5. Park (`WaitReason::Select`). When polled again, read the core: once it
//!    names an arm, unregister every other arm, finish the chosen one.
//! 6. Polled again while the core names no arm: a receive arm on a buffered
//!    channel may have been *notified* (a value was pushed; nobody claimed
//!    the core for it, since another receiver may take the value first).
//!    Shuffle again and retry each arm ([`SelectOp::retry_select`]): a
//!    buffered receive arm takes the core's claim lock, pops, and commits
//!    only if it got something. Rendezvous arms have nothing to retry.
//!
//! Dropping the select at any point is safe: each arm's future removes its
//! own waiter on drop, a receive arm that was already handed a value gives
//! it back to the channel, and a notified buffered arm passes the
//! notification on to the next parked receiver.
//!
//! # Invariants
//!
//! - The core moves `WAITING -> BUSY -> {WAITING | arm}` and an arm index is
//!   final. Only `BUSY` holders write it.
//! - The select future returns the index of the one arm that completed, or
//!   `None` for `default`; every other arm's waiter is gone by then.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use gosched_executor::coop;
use gosched_executor::task::{set_wait_reason, WaitReason};

use super::state::Wake;
use crate::loom::atomic::{fence, AtomicUsize, Ordering};
use crate::loom::{lock, spin, yield_thread, Arc, Mutex};

/// Largest number of arms one `select!` may have.
pub const MAX_ARMS: usize = 64;

const WAITING: usize = usize::MAX;
const BUSY: usize = usize::MAX - 1;

/// Failed claims between two yields of the thread in `try_lock`: a holder
/// keeps `BUSY` for a few instructions, so 64 spins (about a microsecond)
/// outlast it unless the OS preempted it, and then only a yield lets it
/// finish.
const CLAIM_SPINS_PER_YIELD: u32 = 64;

/// State shared by all the waiters one parked `select!` registered: which
/// arm was chosen, and whom to wake.
#[doc(hidden)]
pub struct SelectCore {
    /// `WAITING`, `BUSY` (a claimer holds it), or the chosen arm's index.
    state: AtomicUsize,
    /// Creation order; two cores are always claimed in increasing `order`
    /// (see `claim.rs`, "Why BUSY exists"). A counter rather than the
    /// address so that loom models stay deterministic.
    pub(crate) order: u64,
    /// The select's task; replaced by the select future on each poll.
    waker: Mutex<Option<Waker>>,
}

impl std::fmt::Debug for SelectCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SelectCore")
            .field("state", &self.state.load(Ordering::Relaxed))
            .finish()
    }
}

impl SelectCore {
    fn new(waker: Waker) -> Self {
        // Relaxed: only uniqueness and a total order of ids matter.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        SelectCore {
            state: AtomicUsize::new(WAITING),
            order: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            waker: Mutex::new(Some(waker)),
        }
    }

    /// Takes the claim lock: `WAITING -> BUSY`, spinning while another
    /// claimer holds it. False if an arm was already chosen.
    pub(crate) fn try_lock(&self) -> bool {
        let mut spins = 0u32;
        loop {
            // Acquire pairs with the Release in `revert`/`commit` of the
            // previous holder.
            match self.state.compare_exchange_weak(
                WAITING,
                BUSY,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(BUSY) | Err(WAITING) => {
                    // The holder is inside a few instructions of `pair`;
                    // if it was preempted by the OS, stop burning our slice.
                    spins += 1;
                    if spins % CLAIM_SPINS_PER_YIELD == 0 {
                        yield_thread();
                    } else {
                        spin();
                    }
                }
                Err(_) => return false,
            }
        }
    }

    /// Releases the claim lock without choosing an arm.
    pub(crate) fn revert(&self) {
        debug_assert_eq!(self.state.load(Ordering::Relaxed), BUSY);
        // Release pairs with the Acquire in the next `try_lock`.
        self.state.store(WAITING, Ordering::Release);
    }

    /// Chooses `case`; the caller holds the claim lock.
    pub(crate) fn commit(&self, case: usize) {
        debug_assert_eq!(self.state.load(Ordering::Relaxed), BUSY);
        // Release pairs with the Acquire load in `selected` (the select
        // future) and in `try_lock` (other claimers, who then give up).
        self.state.store(case, Ordering::Release);
    }

    /// `try_lock` then `commit`.
    pub(crate) fn claim(&self, case: usize) -> bool {
        if self.try_lock() {
            self.commit(case);
            true
        } else {
            false
        }
    }

    /// The chosen arm, if any (`BUSY` reads as not yet chosen).
    pub(crate) fn selected(&self) -> Option<usize> {
        // Acquire pairs with the Release in `commit`.
        match self.state.load(Ordering::Acquire) {
            WAITING | BUSY => None,
            case => Some(case),
        }
    }

    /// Wakes the select's task (called after an arm was committed).
    pub(crate) fn wake(&self) {
        let w = lock(&self.waker).take();
        if let Some(w) = w {
            w.wake();
        }
    }

    fn set_waker(&self, new: &Waker) {
        let mut slot = lock(&self.waker);
        crate::waitlist::update_waker(&mut slot, new);
    }
}

/// Wake-ups that an arm's completion owes, held back while a snapshot
/// keeps channels frozen (`snapshot.rs`, F3-F5) and delivered after the
/// thaw. Internal to [`select!`](crate::select).
#[doc(hidden)]
#[derive(Default)]
pub struct Deferred {
    wakes: Vec<Wake>,
}

impl Deferred {
    /// Holds `wake` until [`Deferred::wake_all`].
    pub(crate) fn extend(&mut self, wake: impl IntoIterator<Item = Wake>) {
        self.wakes.extend(wake);
    }

    fn wake_all(self) {
        self.wakes.into_iter().for_each(Wake::wake);
    }
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("wakes", &self.wakes.len())
            .finish()
    }
}

/// Result of registering a select arm (internal to [`select!`](crate::select)).
#[doc(hidden)]
#[derive(Debug)]
pub enum Registered<O> {
    /// Parked under this waiter key.
    Waiting(usize),
    /// Completed at once (the arm claimed its own select).
    Done(O),
    /// The select was already committed to another arm.
    Lost,
}

/// An operation usable as a `select!` arm (channel send and receive futures).
///
/// Implementation detail of [`select!`](crate::select); not meant to be
/// called directly.
#[doc(hidden)]
pub trait SelectOp {
    /// What the arm's pattern binds.
    type Output;
    /// Completes the operation if it is ready now; otherwise does nothing.
    fn try_select(&mut self) -> Option<Self::Output>;
    /// Where the operation's channel comes in the order in which a snapshot
    /// freezes channels (its address); equal for arms on one channel.
    fn snapshot_order(&self) -> usize;
    /// Freezes the operation's channel for a snapshot (`snapshot.rs`, F1);
    /// called once per channel even if several arms share it.
    fn freeze(&self);
    /// Thaws the channel that [`freeze`](Self::freeze) froze (F4).
    fn thaw(&self);
    /// With every channel of the select frozen, completes the operation if
    /// it is ready now (F3); wake-ups it owes go to `wakes`.
    fn try_frozen(&mut self, wakes: &mut Deferred) -> Option<Self::Output>;
    /// Parks the operation as arm `case` of `core`, or completes it now.
    fn register_select(&mut self, core: &Arc<SelectCore>, case: usize) -> Registered<Self::Output>;
    /// The select was woken but `core` names no arm yet: if this registered
    /// operation may have become ready without being committed (a buffered
    /// receive is only *notified*), claim `core` and complete it now.
    /// `Waiting` (its key is ignored) leaves it parked; `Lost` means `core`
    /// was committed meanwhile. The default does nothing: operations that
    /// only a counterpart completes need no retry.
    fn retry_select(&mut self, core: &Arc<SelectCore>, case: usize) -> Registered<Self::Output> {
        let _ = (core, case);
        Registered::Waiting(usize::MAX)
    }
    /// Takes the result of the registered operation that `core` chose.
    fn finish_select(&mut self) -> Self::Output;
    /// Removes the registered operation, which was not chosen.
    fn unregister_select(&mut self);
}

/// What [`Select`] asks of one arm.
#[doc(hidden)]
#[derive(Debug)]
pub enum Action<'a> {
    /// Pass 1: complete if ready.
    Try,
    /// Snapshot: write the channel's freeze order into `.0`.
    Order(&'a mut usize),
    /// Snapshot: freeze the arm's channel.
    Freeze,
    /// Snapshot: thaw the arm's channel.
    Thaw,
    /// Snapshot, channels frozen: complete if ready, deferring wake-ups.
    TryFrozen(&'a mut Deferred),
    /// Pass 2: register as arm `.1` of core `.0`.
    Register(&'a Arc<SelectCore>, usize),
    /// Woken but not committed: complete the registered arm if it is ready.
    Retry(&'a Arc<SelectCore>, usize),
    /// This arm was chosen: fetch its output.
    Finish,
    /// This arm was not chosen: remove its waiter.
    Unregister,
}

/// An arm's answer to an [`Action`].
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// The arm completed; its output is stored.
    Ready,
    /// Not ready (pass 1), or registered (pass 2), or done (other actions).
    NotReady,
    /// Registration found the core already claimed by another arm.
    Lost,
}

/// One `select!` arm: the operation plus room for its output.
#[doc(hidden)]
#[derive(Debug)]
pub struct SelectArm<O: SelectOp> {
    op: O,
    out: Option<O::Output>,
    registered: bool,
}

impl<O: SelectOp> SelectArm<O> {
    /// Wraps an operation.
    pub fn new(op: O) -> Self {
        SelectArm {
            op,
            out: None,
            registered: false,
        }
    }

    /// Performs one action for [`Select`].
    pub fn act(&mut self, action: Action<'_>) -> Reply {
        match action {
            Action::Try => match self.op.try_select() {
                Some(o) => {
                    self.out = Some(o);
                    Reply::Ready
                }
                None => Reply::NotReady,
            },
            Action::Order(out) => {
                *out = self.op.snapshot_order();
                Reply::NotReady
            }
            Action::Freeze => {
                self.op.freeze();
                Reply::NotReady
            }
            Action::Thaw => {
                self.op.thaw();
                Reply::NotReady
            }
            Action::TryFrozen(wakes) => match self.op.try_frozen(wakes) {
                Some(o) => {
                    self.out = Some(o);
                    Reply::Ready
                }
                None => Reply::NotReady,
            },
            Action::Register(core, case) => match self.op.register_select(core, case) {
                Registered::Waiting(_) => {
                    self.registered = true;
                    Reply::NotReady
                }
                Registered::Done(o) => {
                    self.out = Some(o);
                    Reply::Ready
                }
                Registered::Lost => Reply::Lost,
            },
            Action::Retry(core, case) => {
                if !self.registered {
                    return Reply::NotReady;
                }
                match self.op.retry_select(core, case) {
                    Registered::Waiting(_) => Reply::NotReady,
                    Registered::Done(o) => {
                        self.registered = false;
                        self.out = Some(o);
                        Reply::Ready
                    }
                    Registered::Lost => Reply::Lost,
                }
            }
            Action::Finish => {
                debug_assert!(self.registered);
                self.registered = false;
                self.out = Some(self.op.finish_select());
                Reply::Ready
            }
            Action::Unregister => {
                if self.registered {
                    self.registered = false;
                    self.op.unregister_select();
                }
                Reply::NotReady
            }
        }
    }

    /// The output of the chosen arm.
    pub fn take_output(&mut self) -> O::Output {
        self.out.take().expect("select arm chosen without output")
    }
}

/// The future behind [`select!`](crate::select): returns the index of the
/// completed arm, or `None` when the `default` arm should run.
#[doc(hidden)]
#[must_use = "futures do nothing unless polled"]
pub struct Select<'a, F> {
    dispatch: &'a mut F,
    n: usize,
    has_default: bool,
    order: [u8; MAX_ARMS],
    core: Option<Arc<SelectCore>>,
}

impl<F> std::fmt::Debug for Select<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Select").field("n", &self.n).finish()
    }
}

impl<'a, F> Select<'a, F>
where
    F: FnMut(usize, Action<'_>) -> Reply,
{
    /// A select over `n` arms reached through `dispatch(arm, action)`.
    pub fn new(n: usize, has_default: bool, dispatch: &'a mut F) -> Self {
        assert!(n <= MAX_ARMS, "select! supports at most {MAX_ARMS} arms");
        Select {
            dispatch,
            n,
            has_default,
            order: [0; MAX_ARMS],
            core: None,
        }
    }

    fn shuffle(&mut self) {
        for i in 0..self.n {
            self.order[i] = i as u8;
        }
        for i in (1..self.n).rev() {
            let j = crate::rand::below(i as u32 + 1) as usize;
            self.order.swap(i, j);
        }
    }

    /// Unregisters every arm in `order[..upto]` except `keep`.
    fn unregister(&mut self, upto: usize, keep: usize) {
        for p in 0..upto {
            let i = self.order[p] as usize;
            if i != keep {
                (self.dispatch)(i, Action::Unregister);
            }
        }
    }

    /// Step 3: the snapshot (`snapshot.rs`, F1-F5). Returns the arm that
    /// completed on the frozen channels, or `None`: run `default`.
    fn snapshot(&mut self) -> Option<usize> {
        let n = self.n;
        // F1: the arms sorted by channel, then each channel frozen once.
        let mut by_chan = [(0usize, 0u8); MAX_ARMS];
        for (i, slot) in by_chan[..n].iter_mut().enumerate() {
            let mut order = 0;
            (self.dispatch)(i, Action::Order(&mut order));
            *slot = (order, i as u8);
        }
        by_chan[..n].sort_unstable();
        let mut frozen = Frozen {
            dispatch: &mut *self.dispatch,
            arms: [0; MAX_ARMS],
            len: 0,
        };
        let mut last = None;
        for &(order, i) in &by_chan[..n] {
            if last == Some(order) {
                continue;
            }
            last = Some(order);
            (frozen.dispatch)(i as usize, Action::Freeze);
            frozen.arms[frozen.len] = i;
            frozen.len += 1;
        }
        // F2: pairs with the SeqCst fences of S2 and R4 (`buffered.rs`).
        fence(Ordering::SeqCst);
        // F3, in the random order of step 1.
        let mut wakes = Deferred::default();
        let mut chosen = None;
        for &i in &self.order[..n] {
            if (frozen.dispatch)(i as usize, Action::TryFrozen(&mut wakes)) == Reply::Ready {
                chosen = Some(i as usize);
                break;
            }
        }
        // F4, then F5.
        drop(frozen);
        wakes.wake_all();
        chosen
    }

    fn finish(&mut self, chosen: usize) -> Poll<Option<usize>> {
        let n = self.n;
        self.unregister(n, chosen);
        (self.dispatch)(chosen, Action::Finish);
        self.core = None;
        Poll::Ready(Some(chosen))
    }
}

impl<F> Future for Select<'_, F>
where
    F: FnMut(usize, Action<'_>) -> Reply,
{
    type Output = Option<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        let this = self.get_mut();
        let progress = std::task::ready!(coop::poll_proceed(cx));
        let outcome = if let Some(core) = this.core.clone() {
            this.poll_parked(&core, cx)
        } else if this.n == 0 {
            if this.has_default {
                Poll::Ready(None)
            } else {
                set_wait_reason(WaitReason::SelectNoCases);
                Poll::Pending
            }
        } else if let Some(i) = this.try_arms() {
            Poll::Ready(Some(i))
        } else if this.has_default {
            // Step 3.
            Poll::Ready(if this.n > 1 { this.snapshot() } else { None })
        } else {
            this.register_arms(cx)
        };
        match outcome {
            Poll::Ready(v) => {
                progress.made_progress();
                Poll::Ready(v)
            }
            // Waiting is not progress: dropping `progress` refunds it.
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> Select<'_, F>
where
    F: FnMut(usize, Action<'_>) -> Reply,
{
    /// Steps 1-2: every arm once, in a fresh random order, without
    /// parking. The arm that completed, if any.
    fn try_arms(&mut self) -> Option<usize> {
        self.shuffle();
        (0..self.n)
            .map(|p| self.order[p] as usize)
            .find(|&i| (self.dispatch)(i, Action::Try) == Reply::Ready)
    }

    /// Step 4: registers every arm on its channel; an arm that turns out
    /// ready (or a commit that lands meanwhile) ends the select at once.
    fn register_arms(&mut self, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        let core = Arc::new(SelectCore::new(cx.waker().clone()));
        for p in 0..self.n {
            let i = self.order[p] as usize;
            match (self.dispatch)(i, Action::Register(&core, i)) {
                Reply::NotReady => {}
                Reply::Ready => {
                    self.unregister(p, i);
                    return Poll::Ready(Some(i));
                }
                Reply::Lost => {
                    let chosen = core.selected().expect("lost to a committed arm");
                    self.unregister(p, chosen);
                    (self.dispatch)(chosen, Action::Finish);
                    return Poll::Ready(Some(chosen));
                }
            }
        }
        self.core = Some(core);
        set_wait_reason(WaitReason::Select);
        Poll::Pending
    }

    /// Steps 5-6: polled again while parked on every arm.
    fn poll_parked(&mut self, core: &Arc<SelectCore>, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        // Step 5: the waker is stored before the state is read, so a
        // commit or notification after the read will find it
        // (`SelectCore::wake`).
        core.set_waker(cx.waker());
        if let Some(chosen) = core.selected() {
            return self.finish(chosen);
        }
        // Step 6: woken without a commit: a buffered receive arm was
        // notified (or the wake-up was spurious). Retry the arms in a
        // fresh random order; each claims the core before it pops.
        self.shuffle();
        for p in 0..self.n {
            let i = self.order[p] as usize;
            match (self.dispatch)(i, Action::Retry(core, i)) {
                Reply::NotReady => {}
                Reply::Ready => {
                    let n = self.n;
                    self.unregister(n, i);
                    self.core = None;
                    return Poll::Ready(Some(i));
                }
                Reply::Lost => {
                    let chosen = core.selected().expect("lost to a committed arm");
                    return self.finish(chosen);
                }
            }
        }
        set_wait_reason(WaitReason::Select);
        Poll::Pending
    }
}

/// The channels a snapshot has frozen (one arm per channel); dropping it
/// thaws them (F4), also when a panic unwinds through the snapshot, so
/// that no channel stays frozen.
struct Frozen<'d, F: FnMut(usize, Action<'_>) -> Reply> {
    dispatch: &'d mut F,
    arms: [u8; MAX_ARMS],
    len: usize,
}

impl<F: FnMut(usize, Action<'_>) -> Reply> Drop for Frozen<'_, F> {
    fn drop(&mut self) {
        for &i in &self.arms[..self.len] {
            (self.dispatch)(i as usize, Action::Thaw);
        }
    }
}

/// Waits on several channel operations and runs the arm of the one that
/// completes, with Go's `select` rules.
///
/// ```text
/// select! {
///     pattern = channel_operation => expression,
///     ...
///     default => expression,   // optional
/// }
/// ```
///
/// - An operation is `rx.recv()` (binds `Option<T>`, `None` once the channel
///   is closed and drained) or `tx.send(value)` (binds
///   `Result<(), SendError<T>>`).
/// - When several operations are ready, one is chosen uniformly at random.
/// - `default` runs when none is ready at one moment (the channels are
///   checked together, as Go's `select` locks them all); without it the task parks
///   (`WaitReason::Select`) until one completes.
/// - Arms that are not chosen have no effect: nothing is received from their
///   channels, and their values are not sent (they are dropped with the
///   select).
/// - Patterns must be irrefutable (`v`, `_`, `(a, b)`); match on the bound
///   value in the expression. Arm bodies may use `break`, `continue`,
///   `return` and `?` of the surrounding code. At most 64 arms.
/// - Must be used inside an `async` context; `select! {}` parks forever.
///
/// ```
/// use gosched::sync::chan;
/// use gosched::select;
///
/// futures::executor::block_on(async {
///     let (tx, rx) = chan::bounded::<u32>(1);
///     let (done_tx, done_rx) = chan::bounded::<()>(0);
///     tx.send(1).await.unwrap();
///     let got = select! {
///         v = rx.recv() => v,
///         _ = done_rx.recv() => None,
///     };
///     assert_eq!(got, Some(1));
///     // Nothing ready: default runs and the value is not sent.
///     let sent = select! {
///         r = done_tx.send(()) => r.is_ok(),
///         default => false,
///     };
///     assert!(!sent);
/// });
/// ```
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__select_parse!(@parse [] [] $($tokens)*)
    };
}

/// Parses `select!` arms (internal).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    // Done: no tokens left.
    (@parse [$($arms:tt)*] [$($def:tt)*]) => {
        $crate::__select_bind!(@bind [] [$($arms)*] [$($def)*] (0usize))
    };
    // A comma left over after a block body.
    (@parse [$($arms:tt)*] [$($def:tt)*] , $($rest:tt)*) => {
        $crate::__select_parse!(@parse [$($arms)*] [$($def)*] $($rest)*)
    };
    (@parse [$($arms:tt)*] [] default => $b:block $($rest:tt)*) => {
        $crate::__select_parse!(@parse [$($arms)*] [$b] $($rest)*)
    };
    (@parse [$($arms:tt)*] [] default => $b:expr $(, $($rest:tt)*)?) => {
        $crate::__select_parse!(@parse [$($arms)*] [$b] $($($rest)*)?)
    };
    (@parse [$($arms:tt)*] [$($def:tt)*] $p:pat = $e:expr => $b:block $($rest:tt)*) => {
        $crate::__select_parse!(@parse [$($arms)* (($p) ($e) ($b))] [$($def)*] $($rest)*)
    };
    (@parse [$($arms:tt)*] [$($def:tt)*] $p:pat = $e:expr => $b:expr $(, $($rest:tt)*)?) => {
        $crate::__select_parse!(@parse [$($arms)*  (($p) ($e) ($b))] [$($def)*] $($($rest)*)?)
    };
}

/// Binds each `select!` arm to its own hygienic local, then runs the select
/// (internal). Every level opens a block, so each `__arm` is a distinct local.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_bind {
    (@bind [$($bound:tt)*] [(($p:pat) ($e:expr) ($b:expr)) $($rest:tt)*] $def:tt ($idx:expr)) => {{
        let mut __arm = $crate::chan::select::SelectArm::new($e);
        $crate::__select_bind!(@bind [$($bound)* (__arm ($p) ($b) ($idx))] [$($rest)*] $def ($idx + 1))
    }};
    (@bind [$(($arm:ident ($p:pat) ($b:expr) ($i:expr)))*] [] [$($def:tt)*] ($n:expr)) => {{
        let __chosen = {
            let mut __dispatch = |__which: usize, __action: $crate::chan::select::Action<'_>| {
                $(
                    if __which == $i {
                        return $arm.act(__action);
                    }
                )*
                let _ = __action;
                unreachable!("select!: no arm {}", __which)
            };
            $crate::chan::select::Select::new(
                $n,
                $crate::__select_has_default!($($def)*),
                &mut __dispatch,
            )
            .await
        };
        $(
            if __chosen == ::core::option::Option::Some($i) {
                let $p = $arm.take_output();
                $b
            } else
        )* {
            $crate::__select_default!($($def)*)
        }
    }};
}

/// Whether a `select!` has a default arm (internal).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_has_default {
    () => {
        false
    };
    ($($def:tt)+) => {
        true
    };
}

/// The default arm's body, or unreachable (internal).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_default {
    () => {
        unreachable!("select! without default finished without an arm")
    };
    ($($def:tt)+) => {
        $($def)+
    };
}
