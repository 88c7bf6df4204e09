//! The two kinds of `select!` arm, and how the macro picks one per arm.
//!
//! # Two kinds
//!
//! - A [`ChanArm`] wraps a channel operation ([`SelectOp`]: `rx.recv()`,
//!   `tx.send(v)`). It takes part in Go's protocol (`select.rs`): it can be
//!   tried, frozen for a snapshot, registered on its channel under the
//!   select's core, finished or unregistered. A channel arm that loses has
//!   not happened: nothing was received, nothing sent.
//! - A [`FutureArm`] wraps any other future (`sleep(d)`, a `JoinHandle`,
//!   `listener.accept()`, `ctx.done()`). All it can do is be polled with
//!   the select's waker; it wins when it is polled ready. A future arm that
//!   loses is dropped with the select, so whatever it had started is
//!   cancelled the way dropping that future cancels it.
//!
//! # Routing: why not one trait
//!
//! The channel operations are futures themselves (`rx.recv().await`), so
//! "every `SelectOp` is a channel arm, every other `Future` a future arm"
//! cannot be two impls of one trait: they would overlap, and Rust has no
//! specialization. The macro resolves it at the call site instead, by
//! method lookup ("autoref specialization"). It writes
//!
//! ```text
//! (&ArmSource::new(expr)).__select_arm()
//! ```
//!
//! with two traits in scope that both have a `__select_arm(&self)` method:
//! [`ChanArmKind`], implemented for `ArmSource<O>` where `O: SelectOp`, and
//! [`FutureArmKind`], implemented for `&ArmSource<F>` where `F: IntoFuture`.
//! Method lookup tries the receiver type `&ArmSource<_>` as it is before it
//! adds another `&`, so a channel operation finds `ChanArmKind` first; any
//! other future only matches after the autoref, through `FutureArmKind`.
//! The choice is made by the compiler on the concrete type of each arm, at
//! no run-time cost. Inside generic code (an arm whose type is a type
//! parameter `F: Future`) the operation is not known to be a channel
//! operation and is polled as a plain future.
//!
//! # Invariants
//!
//! - An arm's output, once produced, stays in the arm until the macro takes
//!   it ([`ChanArm::take_output`], [`FutureArm::take_output`]).
//! - A future arm is never polled after it completed; it is never
//!   committed through the select's core (only channel arms are).

use std::cell::Cell;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::select::{Action, Registered, Reply, SelectOp};

/// Holds a `select!` arm's expression until [`ChanArmKind`] or
/// [`FutureArmKind`] turns it into an arm (see the module docs). The cell
/// lets the `&self` methods of those traits move the value out.
#[doc(hidden)]
pub struct ArmSource<T>(Cell<Option<T>>);

impl<T> std::fmt::Debug for ArmSource<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ArmSource")
    }
}

impl<T> ArmSource<T> {
    /// Wraps an arm's expression.
    pub fn new(value: T) -> Self {
        ArmSource(Cell::new(Some(value)))
    }

    fn take(&self) -> T {
        self.0.take().expect("select! arm converted twice")
    }
}

/// Makes a [`ChanArm`] of a channel operation; found first by method lookup
/// (see the module docs).
#[doc(hidden)]
pub trait ChanArmKind {
    /// The arm made.
    type Arm;
    /// Moves the operation into its arm.
    fn __select_arm(&self) -> Self::Arm;
}

impl<O: SelectOp> ChanArmKind for ArmSource<O> {
    type Arm = ChanArm<O>;

    fn __select_arm(&self) -> ChanArm<O> {
        ChanArm::new(self.take())
    }
}

/// Makes a [`FutureArm`] of any other future; found by method lookup only
/// after an autoref, so after [`ChanArmKind`] (see the module docs).
#[doc(hidden)]
pub trait FutureArmKind {
    /// The arm made.
    type Arm;
    /// Moves the future into its arm.
    fn __select_arm(&self) -> Self::Arm;
}

impl<F: IntoFuture> FutureArmKind for &ArmSource<F> {
    type Arm = FutureArm<F::IntoFuture>;

    fn __select_arm(&self) -> FutureArm<F::IntoFuture> {
        FutureArm {
            fut: Some(self.take().into_future()),
            out: None,
        }
    }
}

pin_project_lite::pin_project! {
    /// A `select!` arm that is a channel operation: Go's protocol.
    #[doc(hidden)]
    #[derive(Debug)]
    pub struct ChanArm<O: SelectOp> {
        // `None` once the macro dropped it (`drop_op`).
        op: Option<O>,
        out: Option<O::Output>,
        // Whether `op` is parked on its channel under the current core.
        registered: bool,
    }
}

impl<O: SelectOp> ChanArm<O> {
    /// Wraps an operation.
    pub fn new(op: O) -> Self {
        ChanArm {
            op: Some(op),
            out: None,
            registered: false,
        }
    }

    /// Performs one action for [`Select`](super::select::Select).
    pub fn act(self: Pin<&mut Self>, action: Action<'_>) -> Reply {
        let this = self.project();
        let op = this
            .op
            .as_mut()
            .expect("select! arm acted on after its drop");
        let done = |out: &mut Option<O::Output>, o| {
            *out = Some(o);
            Reply::Ready
        };
        match action {
            Action::Try(_) => match op.try_select() {
                Some(o) => done(this.out, o),
                None => Reply::NotReady,
            },
            Action::Order(out) => {
                *out = Some(op.snapshot_order());
                Reply::NotReady
            }
            Action::Freeze => {
                op.freeze();
                Reply::NotReady
            }
            Action::Thaw => {
                op.thaw();
                Reply::NotReady
            }
            Action::TryFrozen(wakes) => match op.try_frozen(wakes) {
                Some(o) => done(this.out, o),
                None => Reply::NotReady,
            },
            Action::Register(core, case) => match op.register_select(core, case) {
                Registered::Waiting(_) => {
                    *this.registered = true;
                    Reply::NotReady
                }
                Registered::Done(o) => done(this.out, o),
                Registered::Lost => Reply::Lost,
            },
            Action::Retry(core, case) => {
                if !*this.registered {
                    return Reply::NotReady;
                }
                match op.retry_select(core, case) {
                    Registered::Waiting(_) => Reply::NotReady,
                    Registered::Done(o) => {
                        *this.registered = false;
                        done(this.out, o)
                    }
                    Registered::Lost => Reply::Lost,
                }
            }
            Action::Finish => {
                debug_assert!(*this.registered);
                *this.registered = false;
                done(this.out, op.finish_select())
            }
            Action::Unregister => {
                if std::mem::take(this.registered) {
                    op.unregister_select();
                }
                Reply::NotReady
            }
        }
    }

    /// Whether the arm's output matches `pattern` (the check behind a
    /// refutable `select!` pattern).
    pub fn output_matches(self: Pin<&mut Self>, pattern: impl FnOnce(&O::Output) -> bool) -> bool {
        self.project().out.as_ref().is_some_and(pattern)
    }

    /// Drops the operation: a send arm's unsent value goes with it.
    pub fn drop_op(self: Pin<&mut Self>) {
        *self.project().op = None;
    }

    /// The output of the chosen arm.
    pub fn take_output(self: Pin<&mut Self>) -> O::Output {
        self.project()
            .out
            .take()
            .expect("select arm chosen without output")
    }
}

pin_project_lite::pin_project! {
    /// A `select!` arm that is any other future: polled, never registered.
    #[doc(hidden)]
    pub struct FutureArm<F: Future> {
        // `None` once it completed, or once the macro dropped it.
        #[pin]
        fut: Option<F>,
        out: Option<F::Output>,
    }
}

impl<F: Future> std::fmt::Debug for FutureArm<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FutureArm")
            .field("pending", &self.fut.is_some())
            .field("ready", &self.out.is_some())
            .finish()
    }
}

impl<F: Future> FutureArm<F> {
    /// Performs one action for [`Select`](super::select::Select): only
    /// `Try` does anything (a poll); `Register` answers [`Reply::Future`].
    pub fn act(self: Pin<&mut Self>, action: Action<'_>) -> Reply {
        let mut this = self.project();
        match action {
            Action::Try(waker) => {
                let Some(fut) = this.fut.as_mut().as_pin_mut() else {
                    return Reply::NotReady;
                };
                match fut.poll(&mut Context::from_waker(waker)) {
                    Poll::Ready(o) => {
                        *this.out = Some(o);
                        // A completed future is never polled again; drop it
                        // now, which also frees what it held (a timer
                        // entry, a task's join handle).
                        this.fut.set(None);
                        Reply::Ready
                    }
                    Poll::Pending => Reply::NotReady,
                }
            }
            Action::Register(..) => Reply::Future,
            Action::Finish => {
                unreachable!("select!: a future arm is never committed through the core")
            }
            Action::Order(_)
            | Action::Freeze
            | Action::Thaw
            | Action::TryFrozen(_)
            | Action::Retry(..)
            | Action::Unregister => Reply::NotReady,
        }
    }

    /// Whether the arm's output matches `pattern` (the check behind a
    /// refutable `select!` pattern).
    pub fn output_matches(self: Pin<&mut Self>, pattern: impl FnOnce(&F::Output) -> bool) -> bool {
        self.project().out.as_ref().is_some_and(pattern)
    }

    /// Drops the future (a losing arm: its work is cancelled).
    pub fn drop_op(self: Pin<&mut Self>) {
        self.project().fut.set(None);
    }

    /// The output of the chosen arm.
    pub fn take_output(self: Pin<&mut Self>) -> F::Output {
        self.project()
            .out
            .take()
            .expect("select arm chosen without output")
    }
}
