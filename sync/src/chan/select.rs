//! `select!`: wait on several channel operations and futures, complete
//! exactly one.
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
//! An arm may also be any other future (a sleep, a `JoinHandle`): a
//! *future arm*. It cannot be registered or claimed, only polled; it wins
//! when a poll finds it ready. `arm.rs` has both kinds of arm and how the
//! macro tells a channel operation from another future at compile time.
//!
//! The [`Select`] future, step by step:
//! 1. Shuffle the enabled arm indices (Fisher-Yates with a per-thread
//!    generator).
//! 2. Pass 1: try each arm in that order, polling future arms with the
//!    task's waker; the first ready one wins. As the order is a uniform
//!    permutation, every ready arm, channel or future, is equally likely
//!    to be first (rule 1). Nothing is registered yet, so no claim is
//!    needed.
//! 3. None ready, and there is a `default`: decide on one snapshot of all
//!    the arms' channels (`Select::snapshot`, protocol in `snapshot.rs`):
//!    freeze the channels in address order, try every arm again in the
//!    same random order, thaw. An arm that completes now wins; otherwise
//!    return "none" (rule 2): no arm was ready at the moment of the second
//!    try. Step 2 alone would not do: its tries happen at different
//!    moments, and a channel it found empty may have been filled before
//!    another one was emptied. A select of one arm skips the snapshot: its
//!    one try is already one moment.
//!    Future arms take no part in the snapshot: pass 1 polled them.
//! 4. Pass 2: create the core and register the channel arms in the same
//!    order (future arms keep the waker of pass 1's poll). Registering
//!    re-checks readiness under the channel lock; an arm that can complete
//!    now claims its own core first. If the core was already claimed by a
//!    counterpart on an earlier arm, registration stops.
//! 5. Park (`WaitReason::Select`). When polled again, read the core: once it
//!    names an arm, unregister every other arm, finish the chosen one.
//! 6. Polled again while the core names no arm: a receive arm on a buffered
//!    channel may have been *notified* (a value was pushed; nobody claimed
//!    the core for it, since another receiver may take the value first).
//!    Shuffle again and retry each arm ([`SelectOp::retry_select`]): a
//!    buffered receive arm takes the core's claim lock, pops, and commits
//!    only if it got something. Rendezvous arms have nothing to retry.
//! 7. Instead of step 6, a select with future arms that is polled again
//!    while the core names no arm claims its own core for no arm
//!    (`RESTARTED`), unregisters every channel arm and starts over at
//!    step 1 with a new core (`Select::restart` says why a ready future
//!    cannot simply be polled under the old core).
//!
//! Disabled arms (a refutable pattern that did not match, decided by the
//! macro) are left out of the shuffle: the macro runs a new `Select` over
//! the remaining arms, whose futures and operations live on. With every
//! arm disabled the select returns `None` at once.
//!
//! Dropping the select at any point is safe: each arm's future removes its
//! own waiter on drop, a receive arm that was already handed a value gives
//! it back to the channel, and a notified buffered arm passes the
//! notification on to the next parked receiver.
//!
//! # Invariants
//!
//! - The core moves `WAITING -> BUSY -> {WAITING | arm | RESTARTED}` and
//!   an arm index (or `RESTARTED`) is final. Only `BUSY` holders write it.
//!   Only channel arms are ever committed; `RESTARTED` makes every waiter
//!   of the core stale.
//! - The select future returns the index of the one arm that completed, or
//!   `None` for `default` (or when every arm is disabled); every other
//!   channel arm's waiter is gone by then. Future arms that lost are
//!   untouched: the macro drops them.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use gosched_executor::coop;
use gosched_executor::task::{set_wait_reason, WaitReason};

#[doc(hidden)]
pub use super::arm::{ArmSource, ChanArm, ChanArmKind, FutureArm, FutureArmKind};
use super::state::Wake;
use crate::loom::atomic::{fence, AtomicUsize, Ordering};
use crate::loom::{lock, spin, yield_thread, Arc, Mutex};

/// Largest number of arms one `select!` may have.
pub const MAX_ARMS: usize = 64;

const WAITING: usize = usize::MAX;
const BUSY: usize = usize::MAX - 1;
/// What a select with future arms commits its own core to before it
/// starts over (step 7): no arm, so that every waiter of the core is stale.
const RESTARTED: usize = usize::MAX - 2;

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
    /// Pass 1: complete if ready. A future arm is polled with this waker.
    Try(&'a Waker),
    /// Snapshot: write the channel's freeze order into `.0` (a future arm,
    /// which has no channel, leaves it `None`).
    Order(&'a mut Option<usize>),
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
    /// Pass 2 on a future arm: it has no channel to register on; the poll
    /// of pass 1 left the select's waker with it.
    Future,
}

/// The future behind [`select!`](crate::select): returns the index of the
/// completed arm, or `None` when the `default` arm should run (or, without
/// one, when every arm is disabled).
#[doc(hidden)]
#[must_use = "futures do nothing unless polled"]
pub struct Select<'a, F> {
    dispatch: &'a mut F,
    /// Arms in all, disabled ones included.
    n: usize,
    has_default: bool,
    /// The enabled arms, shuffled anew before each pass (step 1); only
    /// `order[..active]` is used.
    order: [u8; MAX_ARMS],
    /// Number of enabled arms.
    active: usize,
    /// Whether an arm answered [`Reply::Future`] in pass 2: a parked
    /// select with future arms starts over when woken (step 7).
    has_futures: bool,
    core: Option<Arc<SelectCore>>,
}

impl<F> std::fmt::Debug for Select<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Select")
            .field("n", &self.n)
            .field("active", &self.active)
            .finish()
    }
}

impl<'a, F> Select<'a, F>
where
    F: FnMut(usize, Action<'_>) -> Reply,
{
    /// A select over `n` arms reached through `dispatch(arm, action)`; arm
    /// `i` takes no part when bit `i` of `disabled` is set.
    pub fn new(n: usize, has_default: bool, disabled: u64, dispatch: &'a mut F) -> Self {
        assert!(n <= MAX_ARMS, "select! supports at most {MAX_ARMS} arms");
        let mut order = [0; MAX_ARMS];
        let mut active = 0;
        for i in 0..n {
            if disabled & (1 << i) == 0 {
                order[active] = i as u8;
                active += 1;
            }
        }
        Select {
            dispatch,
            n,
            has_default,
            order,
            active,
            has_futures: false,
            core: None,
        }
    }

    /// Step 1: a uniform random permutation of the enabled arms
    /// (Fisher-Yates; any permutation of them will do as input).
    fn shuffle(&mut self) {
        for i in (1..self.active).rev() {
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
        let active = self.active;
        // F1: the channel arms sorted by channel, then each channel frozen
        // once. Future arms have no channel and stay out.
        let mut by_chan = [(0usize, 0u8); MAX_ARMS];
        let mut chans = 0;
        for p in 0..active {
            let i = self.order[p];
            let mut order = None;
            (self.dispatch)(i as usize, Action::Order(&mut order));
            if let Some(order) = order {
                by_chan[chans] = (order, i);
                chans += 1;
            }
        }
        by_chan[..chans].sort_unstable();
        let mut frozen = Frozen {
            dispatch: &mut *self.dispatch,
            arms: [0; MAX_ARMS],
            len: 0,
        };
        let mut last = None;
        for &(order, i) in &by_chan[..chans] {
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
        for &i in &self.order[..active] {
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
        self.unregister(self.active, chosen);
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
        } else if this.active == 0 {
            if this.has_default || this.n > 0 {
                // `default`, or every arm is disabled: the macro decides.
                Poll::Ready(None)
            } else {
                set_wait_reason(WaitReason::SelectNoCases);
                Poll::Pending
            }
        } else if let Some(i) = this.try_arms(cx.waker()) {
            Poll::Ready(Some(i))
        } else if this.has_default {
            // Step 3.
            Poll::Ready(if this.active > 1 {
                this.snapshot()
            } else {
                None
            })
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
    /// Steps 1-2: every enabled arm once, in a fresh random order, without
    /// parking (future arms are polled with `waker`). The arm that
    /// completed, if any.
    fn try_arms(&mut self, waker: &Waker) -> Option<usize> {
        self.shuffle();
        (0..self.active)
            .map(|p| self.order[p] as usize)
            .find(|&i| (self.dispatch)(i, Action::Try(waker)) == Reply::Ready)
    }

    /// Step 4: registers every channel arm on its channel; an arm that
    /// turns out ready (or a commit that lands meanwhile) ends the select
    /// at once.
    fn register_arms(&mut self, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        let core = Arc::new(SelectCore::new(cx.waker().clone()));
        for p in 0..self.active {
            let i = self.order[p] as usize;
            match (self.dispatch)(i, Action::Register(&core, i)) {
                Reply::NotReady => {}
                Reply::Future => self.has_futures = true,
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

    /// Steps 5-7: polled again while parked on every channel arm.
    fn poll_parked(&mut self, core: &Arc<SelectCore>, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        // Step 5: the waker is stored before the state is read, so a
        // commit or notification after the read will find it
        // (`SelectCore::wake`).
        core.set_waker(cx.waker());
        if let Some(chosen) = core.selected() {
            return self.finish(chosen);
        }
        if self.has_futures {
            return self.restart(core, cx);
        }
        // Step 6: woken without a commit: a buffered receive arm was
        // notified (or the wake-up was spurious). Retry the arms in a
        // fresh random order; each claims the core before it pops.
        self.shuffle();
        for p in 0..self.active {
            let i = self.order[p] as usize;
            match (self.dispatch)(i, Action::Retry(core, i)) {
                Reply::NotReady | Reply::Future => {}
                Reply::Ready => {
                    self.unregister(self.active, i);
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

    /// Step 7, for a select with future arms woken without a commit:
    /// claim the core for nobody (`RESTARTED`), so that no channel arm can
    /// complete any more, take every channel arm off its channel, and start
    /// over from step 1, futures and channels together in a fresh random
    /// order.
    ///
    /// Polling a ready future while the core stays claimable would race a
    /// counterpart committing a channel arm: one of the two results would
    /// have to be thrown away (a task's output, an accepted connection).
    /// Polling it while holding the core `BUSY` would run user code under
    /// the claim lock, which may wait for a channel lock whose holder spins
    /// on this very core (`claim.rs`). Giving the core up first avoids both.
    fn restart(&mut self, core: &Arc<SelectCore>, cx: &mut Context<'_>) -> Poll<Option<usize>> {
        if !core.claim(RESTARTED) {
            let chosen = core.selected().expect("lost to a committed arm");
            return self.finish(chosen);
        }
        self.unregister(self.active, usize::MAX);
        self.core = None;
        match self.try_arms(cx.waker()) {
            Some(i) => Poll::Ready(Some(i)),
            None => self.register_arms(cx),
        }
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

/// Waits on several channel operations or futures and runs the arm of the
/// one that completes, with Go's `select` rules.
///
/// ```text
/// select! {
///     pattern = operation => expression,
///     ...
///     default => expression,   // optional: Go's default
///     else => expression,      // optional: tokio's else
/// }
/// ```
///
/// - An operation is a channel operation, `rx.recv()` (binds `Option<T>`,
///   `None` once the channel is closed and drained) or `tx.send(value)`
///   (binds `Result<(), SendError<T>>`), or any other future (anything
///   `IntoFuture`): a sleep, a `JoinHandle`, `listener.accept()`,
///   `ctx.done()`. A future binds its output.
/// - When several operations are ready, one is chosen uniformly at random;
///   future arms take part in the draw (each pass polls them in the same
///   random order in which it tries the channels).
/// - `default` runs when none is ready: the channels are checked together,
///   at one moment, as Go's `select` locks them all, and every future arm
///   is polled once. Without `default` the task parks
///   (`WaitReason::Select`) until an operation completes.
/// - Channel arms that are not chosen have no effect: nothing is received
///   from their channels, and their values are not sent (they are dropped
///   with the select).
/// - Future arms that are not chosen are dropped before the chosen arm's
///   expression runs, which cancels them the way dropping cancels that
///   future: a sleep is forgotten, a `JoinHandle` detaches its task, an
///   `accept` stops waiting (a connection it had not returned stays
///   queued).
/// - Patterns may be refutable, as in tokio: `Some(v) = rx.recv() => ..`.
///   An arm whose output does not match its pattern is disabled and the
///   select goes on waiting for the others (the operation itself did
///   happen: the `None` of a closed channel was received).
/// - `else` runs when every arm is disabled, as in tokio; unlike
///   `default`, it does not stop the select from waiting while an arm is
///   enabled. With every arm disabled and no `else`, `default` runs; with
///   neither, the select panics.
/// - Arm bodies may use `break`, `continue`, `return` and `?` of the
///   surrounding code. At most 64 arms.
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
///     // Any future is an arm too; here it is the only one ready.
///     let got = select! {
///         v = rx.recv() => v,
///         n = async { 7 } => Some(n),
///     };
///     assert_eq!(got, Some(7));
///     // A refutable pattern: the closed channel's `None` disables its arm,
///     // and with every arm disabled `else` runs.
///     drop(tx);
///     let got = select! {
///         Some(v) = rx.recv() => v,
///         else => 0,
///     };
///     assert_eq!(got, 0);
/// });
/// ```
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__select_parse!(@parse [] [] [] (0usize) $($tokens)*)
    };
}

/// Parses `select!` arms and binds each to its own hygienic local, then
/// runs the select (internal).
///
/// `@parse [bound arms] [default] [else] (next index) tokens` reads one
/// arm per step. A channel-or-future arm is bound at once: the step opens
/// a block with `let __arm = ..` and parses the rest inside it, so each
/// `__arm` is a distinct local and the expressions run in the order
/// written. Binding while parsing keeps the macro's recursion depth to
/// about one level per arm (the compiler's default limit is 128). Each
/// arm becomes a channel arm or a future arm by method lookup
/// (`chan/arm.rs`). A pattern of one or two tokens (`v`, `_`, `Some(v)`)
/// is read in the same step; a longer one is gathered token by token by
/// `@pat`, up to the `=`
/// (a `pat` fragment would do for the match, but the check of a refutable
/// pattern needs its tokens, see `__select_check_pat`).
///
/// The select runs in a loop of its own that re-runs it without the arms
/// whose output did not match their pattern; only the patterns' check runs
/// inside it. The losing arms are dropped and the chosen arm's expression
/// runs after the loop, so its `break` and `continue` reach the caller's
/// loops.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    // Done: no tokens left.
    (@parse [$(($arm:ident ($($p:tt)+) ($b:expr) ($i:expr)))*] [$($def:tt)*] [$($els:tt)*] ($n:expr)) => {{
        let mut __disabled: u64 = 0;
        let __chosen: ::core::option::Option<usize> = loop {
            let __c = {
                let mut __dispatch = |__which: usize, __action: $crate::chan::select::Action<'_>| {
                    $(
                        if __which == $i {
                            return $arm.as_mut().act(__action);
                        }
                    )*
                    let _ = __action;
                    ::core::unreachable!("select!: no arm {}", __which)
                };
                $crate::chan::select::Select::new(
                    $n,
                    // `else` alone never stops a wait; with no arm at all,
                    // every arm is disabled from the start.
                    $crate::__select_has!($($def)*)
                        || ($n == 0 && $crate::__select_has!($($els)*)),
                    __disabled,
                    &mut __dispatch,
                )
                .await
            };
            match __c {
                ::core::option::Option::Some(__i) => {
                    $(
                        if __i == $i {
                            if $arm.as_mut().output_matches(|__out| {
                                #[allow(unused_variables, unreachable_patterns)]
                                let __matched = match __out {
                                    $crate::__select_check_pat!($($p)+) => true,
                                    _ => false,
                                };
                                __matched
                            }) {
                                break ::core::option::Option::Some(__i);
                            }
                            __disabled |= 1u64 << __i;
                            continue;
                        }
                    )*
                    ::core::unreachable!("select!: no arm {}", __i)
                }
                ::core::option::Option::None => break ::core::option::Option::None,
            }
        };
        $( $arm.as_mut().drop_op(); )*
        $(
            if __chosen == ::core::option::Option::Some($i) {
                match $arm.as_mut().take_output() {
                    $($p)+ => $b,
                    #[allow(unreachable_patterns)]
                    _ => ::core::unreachable!("select!: the chosen arm's output no longer matches"),
                }
            } else
        )* {
            $crate::__select_none!([$($def)*] [$($els)*] (__disabled.count_ones() as usize == $n))
        }
    }};
    // A comma left over after a block body.
    (@parse $bound:tt $def:tt $els:tt $idx:tt , $($rest:tt)*) => {
        $crate::__select_parse!(@parse $bound $def $els $idx $($rest)*)
    };
    (@parse $bound:tt [] $els:tt $idx:tt default => $b:block $($rest:tt)*) => {
        $crate::__select_parse!(@parse $bound [$b] $els $idx $($rest)*)
    };
    (@parse $bound:tt [] $els:tt $idx:tt default => $b:expr $(, $($rest:tt)*)?) => {
        $crate::__select_parse!(@parse $bound [$b] $els $idx $($($rest)*)?)
    };
    (@parse $bound:tt $def:tt [] $idx:tt else => $b:block $($rest:tt)*) => {
        $crate::__select_parse!(@parse $bound $def [$b] $idx $($rest)*)
    };
    (@parse $bound:tt $def:tt [] $idx:tt else => $b:expr $(, $($rest:tt)*)?) => {
        $crate::__select_parse!(@parse $bound $def [$b] $idx $($($rest)*)?)
    };
    (@parse $bound:tt [$($def:tt)+] $els:tt $idx:tt default => $($rest:tt)*) => {
        ::core::compile_error!("select! takes at most one `default` arm")
    };
    (@parse $bound:tt $def:tt [$($els:tt)+] $idx:tt else => $($rest:tt)*) => {
        ::core::compile_error!("select! takes at most one `else` arm")
    };
    // An arm with a one-token pattern.
    (@parse [$($bound:tt)*] $def:tt $els:tt ($idx:expr) $p:tt = $e:expr => $b:block $($rest:tt)*) => {{
        let mut __arm = ::core::pin::pin!({
            #[allow(unused_imports)]
            use $crate::chan::select::{ChanArmKind as _, FutureArmKind as _};
            (&$crate::chan::select::ArmSource::new($e)).__select_arm()
        });
        $crate::__select_parse!(@parse [$($bound)* (__arm ($p) ($b) ($idx))] $def $els ($idx + 1) $($rest)*)
    }};
    (@parse [$($bound:tt)*] $def:tt $els:tt ($idx:expr) $p:tt = $e:expr => $b:expr $(, $($rest:tt)*)?) => {{
        let mut __arm = ::core::pin::pin!({
            #[allow(unused_imports)]
            use $crate::chan::select::{ChanArmKind as _, FutureArmKind as _};
            (&$crate::chan::select::ArmSource::new($e)).__select_arm()
        });
        $crate::__select_parse!(@parse [$($bound)* (__arm ($p) ($b) ($idx))] $def $els ($idx + 1) $($($rest)*)?)
    }};
    // An arm with a two-token pattern (`Some(v)`, `mut v`).
    (@parse [$($bound:tt)*] $def:tt $els:tt ($idx:expr) $p1:tt $p2:tt = $e:expr => $b:block $($rest:tt)*) => {{
        let mut __arm = ::core::pin::pin!({
            #[allow(unused_imports)]
            use $crate::chan::select::{ChanArmKind as _, FutureArmKind as _};
            (&$crate::chan::select::ArmSource::new($e)).__select_arm()
        });
        $crate::__select_parse!(@parse [$($bound)* (__arm ($p1 $p2) ($b) ($idx))] $def $els ($idx + 1) $($rest)*)
    }};
    (@parse [$($bound:tt)*] $def:tt $els:tt ($idx:expr) $p1:tt $p2:tt = $e:expr => $b:expr $(, $($rest:tt)*)?) => {{
        let mut __arm = ::core::pin::pin!({
            #[allow(unused_imports)]
            use $crate::chan::select::{ChanArmKind as _, FutureArmKind as _};
            (&$crate::chan::select::ArmSource::new($e)).__select_arm()
        });
        $crate::__select_parse!(@parse [$($bound)* (__arm ($p1 $p2) ($b) ($idx))] $def $els ($idx + 1) $($($rest)*)?)
    }};
    // A longer pattern: gather it.
    (@parse $bound:tt $def:tt $els:tt $idx:tt $($rest:tt)+) => {
        $crate::__select_parse!(@pat $bound $def $els $idx [] $($rest)+)
    };
    (@pat [$($bound:tt)*] $def:tt $els:tt ($idx:expr) [$($p:tt)+] = $e:expr => $b:block $($rest:tt)*) => {{
        let mut __arm = ::core::pin::pin!({
            #[allow(unused_imports)]
            use $crate::chan::select::{ChanArmKind as _, FutureArmKind as _};
            (&$crate::chan::select::ArmSource::new($e)).__select_arm()
        });
        $crate::__select_parse!(@parse [$($bound)* (__arm ($($p)+) ($b) ($idx))] $def $els ($idx + 1) $($rest)*)
    }};
    (@pat [$($bound:tt)*] $def:tt $els:tt ($idx:expr) [$($p:tt)+] = $e:expr => $b:expr $(, $($rest:tt)*)?) => {{
        let mut __arm = ::core::pin::pin!({
            #[allow(unused_imports)]
            use $crate::chan::select::{ChanArmKind as _, FutureArmKind as _};
            (&$crate::chan::select::ArmSource::new($e)).__select_arm()
        });
        $crate::__select_parse!(@parse [$($bound)* (__arm ($($p)+) ($b) ($idx))] $def $els ($idx + 1) $($($rest)*)?)
    }};
    (@pat $bound:tt $def:tt $els:tt $idx:tt [$($p:tt)*] $t:tt $($rest:tt)*) => {
        $crate::__select_parse!(@pat $bound $def $els $idx [$($p)* $t] $($rest)*)
    };
    (@pat $bound:tt $def:tt $els:tt $idx:tt [$($p:tt)*]) => {
        ::core::compile_error!(
            "select! arms are `pattern = operation => expression`, `default => expression` \
             or `else => expression`"
        )
    };
}

/// A `select!` pattern made fit to test a reference to the output (the
/// check of a refutable pattern, before the output is moved into the
/// real pattern): every `mut` is removed, since `Some(mut v)` would move
/// `v` out of the reference (internal). The tokens are walked with an
/// explicit stack of the groups entered: `@go [frames] [output] input`.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_check_pat {
    (@go [] [$($out:tt)*]) => { $($out)* };
    // End of a group's tokens: close it and resume its parent.
    (@go [(($($up:tt)*) [$($rest:tt)*] paren) $($stack:tt)*] [$($out:tt)*]) => {
        $crate::__select_check_pat!(@go [$($stack)*] [$($up)* ($($out)*)] $($rest)*)
    };
    (@go [(($($up:tt)*) [$($rest:tt)*] bracket) $($stack:tt)*] [$($out:tt)*]) => {
        $crate::__select_check_pat!(@go [$($stack)*] [$($up)* [$($out)*]] $($rest)*)
    };
    (@go [(($($up:tt)*) [$($rest:tt)*] brace) $($stack:tt)*] [$($out:tt)*]) => {
        $crate::__select_check_pat!(@go [$($stack)*] [$($up)* {$($out)*}] $($rest)*)
    };
    (@go $stack:tt $out:tt mut $($rest:tt)*) => {
        $crate::__select_check_pat!(@go $stack $out $($rest)*)
    };
    // Enter a group.
    (@go [$($stack:tt)*] [$($out:tt)*] ($($g:tt)*) $($rest:tt)*) => {
        $crate::__select_check_pat!(@go [(($($out)*) [$($rest)*] paren) $($stack)*] [] $($g)*)
    };
    (@go [$($stack:tt)*] [$($out:tt)*] [$($g:tt)*] $($rest:tt)*) => {
        $crate::__select_check_pat!(@go [(($($out)*) [$($rest)*] bracket) $($stack)*] [] $($g)*)
    };
    (@go [$($stack:tt)*] [$($out:tt)*] {$($g:tt)*} $($rest:tt)*) => {
        $crate::__select_check_pat!(@go [(($($out)*) [$($rest)*] brace) $($stack)*] [] $($g)*)
    };
    (@go $stack:tt [$($out:tt)*] $t:tt $($rest:tt)*) => {
        $crate::__select_check_pat!(@go $stack [$($out)* $t] $($rest)*)
    };
    // The common one-token patterns, without a walk.
    ($i:ident) => { $i };
    (mut $i:ident) => { $i };
    (_) => { _ };
    ($($p:tt)+) => {
        $crate::__select_check_pat!(@go [] [] $($p)+)
    };
}

/// Whether a `select!` has a `default` (or `else`) arm (internal).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_has {
    () => {
        false
    };
    ($($def:tt)+) => {
        true
    };
}

/// What runs when no arm was chosen: `default` when no arm was ready,
/// `else` when every arm is disabled (`default` too without an `else`),
/// and a panic when every arm is disabled and neither exists (internal).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_none {
    ([] [] $all_disabled:tt) => {
        ::core::panic!(
            "select!: every arm is disabled (each output failed to match its pattern) \
             and there is no `else` or `default` arm"
        )
    };
    ([$($def:tt)+] [] $all_disabled:tt) => {
        $($def)+
    };
    ([] [$($els:tt)+] $all_disabled:tt) => {
        $($els)+
    };
    ([$($def:tt)+] [$($els:tt)+] $all_disabled:tt) => {
        if $all_disabled {
            $($els)+
        } else {
            $($def)+
        }
    };
}
