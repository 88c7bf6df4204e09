//! Unix signals, Go's way: [`notify`] delivers chosen signals to a
//! channel (Go's `signal.Notify`), [`ctrl_c`] waits for one SIGINT, and
//! [`notify_context`] cancels a `Context` on a signal (Go 1.16's
//! `signal.NotifyContext`).
//!
//! # Design
//!
//! - A signal handler may do almost nothing: ours writes the signal's
//!   number as one byte to a socket (the self-pipe trick), with `errno`
//!   saved and restored. The write end's descriptor is in a static the
//!   handler reads; the read end is registered with the netpoller.
//! - No thread and no task: the read end's waker is a *pump*
//!   (`pump.rs`) that, when the netpoller sees bytes, reads them and
//!   hands each signal to its listeners right there: a `try_send` into each
//!   listener's channel (a full channel drops the signal, as Go's does: the
//!   sender never blocks), or a cancel of a listening context.
//! - The pump lives in the netpoller of the runtime current at the first
//!   listener; if that runtime shuts down, the next `notify` makes a new
//!   pump in its own runtime's netpoller.
//! - Several listeners of one signal each get it. A signal's handler is
//!   installed while it has listeners; a signal that arrives when none is
//!   left (the last receiver was dropped, or a `notify_context` already
//!   fired) gets its default action back and is raised again, so, as in
//!   Go, it does what it would have done without gosched: a second SIGINT
//!   after `notify_context` fired ends the process.
//!
//! The listener table is one mutex; signals are rare, so nothing here is
//! on a hot path.

mod pump;

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, OnceLock};

use gosched_sync::chan;
use gosched_sync::context::{CancelHandle, Context};

/// A Unix signal gosched can deliver.
///
/// ```
/// use gosched::signal::Signal;
/// assert_eq!(Signal::Interrupt.number(), 2);
/// assert_eq!(Signal::from_number(15), Some(Signal::Terminate));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    /// SIGINT: Ctrl-C.
    Interrupt,
    /// SIGTERM: the polite kill (`kill PID`, container stop).
    Terminate,
    /// SIGHUP: the terminal went away, or "reload your configuration".
    Hangup,
    /// SIGQUIT: Ctrl-\.
    Quit,
    /// SIGUSR1.
    User1,
    /// SIGUSR2.
    User2,
    /// SIGWINCH: the terminal changed size.
    WindowChange,
    /// SIGCHLD: a child process stopped or exited.
    Child,
}

/// Every signal gosched can deliver, in `Signal` order.
const ALL: [Signal; 8] = [
    Signal::Interrupt,
    Signal::Terminate,
    Signal::Hangup,
    Signal::Quit,
    Signal::User1,
    Signal::User2,
    Signal::WindowChange,
    Signal::Child,
];

impl Signal {
    /// The signal's number on this platform.
    pub fn number(self) -> i32 {
        match self {
            Signal::Interrupt => libc::SIGINT,
            Signal::Terminate => libc::SIGTERM,
            Signal::Hangup => libc::SIGHUP,
            Signal::Quit => libc::SIGQUIT,
            Signal::User1 => libc::SIGUSR1,
            Signal::User2 => libc::SIGUSR2,
            Signal::WindowChange => libc::SIGWINCH,
            Signal::Child => libc::SIGCHLD,
        }
    }

    /// The signal with number `n`, if gosched can deliver it.
    pub fn from_number(n: i32) -> Option<Signal> {
        ALL.into_iter().find(|s| s.number() == n)
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Signal::Interrupt => "interrupt",
            Signal::Terminate => "terminated",
            Signal::Hangup => "hangup",
            Signal::Quit => "quit",
            Signal::User1 => "user defined signal 1",
            Signal::User2 => "user defined signal 2",
            Signal::WindowChange => "window changed",
            Signal::Child => "child exited",
        })
    }
}

/// Who gets a signal.
enum Listener {
    /// `notify`: a channel, sent to without blocking.
    Chan(chan::Sender<Signal>),
    /// `notify_context`: cancel once, then leave.
    Ctx(CancelHandle, Context),
    /// The runtime's own watcher (`process` reaping on SIGCHLD): called on
    /// every delivery, never leaves.
    Callback(fn()),
}

impl Listener {
    /// Delivers `sig`; false when this listener is gone for good.
    fn deliver(&self, sig: Signal) -> bool {
        match self {
            Listener::Chan(tx) => !matches!(tx.try_send(sig), Err(chan::TrySendError::Closed(_))),
            Listener::Ctx(cancel, ctx) => {
                if ctx.err().is_none() {
                    cancel.cancel();
                }
                false
            }
            Listener::Callback(f) => {
                f();
                true
            }
        }
    }

    /// Whether the listener can no longer receive anything.
    fn is_gone(&self) -> bool {
        match self {
            Listener::Chan(tx) => tx.is_closed(),
            Listener::Ctx(_, ctx) => ctx.err().is_some(),
            Listener::Callback(_) => false,
        }
    }
}

/// The process's signal state.
struct Table {
    /// Listeners per signal, in `ALL` order.
    listeners: [Vec<Listener>; ALL.len()],
    /// Whether our handler is installed, per signal.
    installed: [bool; ALL.len()],
    /// The pump, while its netpoller lives.
    pump: Option<pump::Pump>,
}

fn table() -> &'static Mutex<Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    TABLE.get_or_init(|| {
        Mutex::new(Table {
            listeners: Default::default(),
            installed: [false; ALL.len()],
            pump: None,
        })
    })
}

fn lock_table() -> std::sync::MutexGuard<'static, Table> {
    crate::loom::lock_std(table())
}

fn index(sig: Signal) -> usize {
    ALL.iter()
        .position(|s| *s == sig)
        .expect("every Signal is in ALL")
}

/// The write end of the self-pipe, for the handler (-1: not made yet).
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);

/// The signal handler: one byte to the self-pipe, nothing else.
extern "C" fn on_signal(sig: libc::c_int) {
    // SAFETY: reading and restoring errno is async-signal-safe; the
    // pointer is this thread's errno location.
    let saved = unsafe { *libc::__errno_location() };
    // Relaxed: the descriptor was stored before the handler was installed
    // (sigaction orders it), and it never changes afterwards.
    let fd = WRITE_FD.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = sig as u8;
        // SAFETY: write(2) is async-signal-safe; the buffer is one live
        // byte on this stack. A full socket drops the byte: a burst of one
        // signal then arrives once, as with any Unix signal.
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = saved };
}

/// Installs `handler` (or the default action) for `sig`.
fn set_handler(sig: Signal, ours: bool) -> io::Result<()> {
    // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = if ours {
        on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t
    } else {
        libc::SIG_DFL
    };
    sa.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa` is initialised; the mask pointer is into it.
    unsafe { libc::sigemptyset(&mut sa.sa_mask) };
    // SAFETY: a valid signal number and action; the old action is not
    // wanted.
    if unsafe { libc::sigaction(sig.number(), &sa, std::ptr::null_mut()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Adds a listener for `signals`: the pump and the handlers first.
#[track_caller]
fn listen(signals: &[Signal], make: impl Fn() -> Listener) -> io::Result<()> {
    let mut t = lock_table();
    let new_pump = pump::ensure(&mut t)?;
    for &sig in signals {
        let i = index(sig);
        t.listeners[i].retain(|l| !l.is_gone());
        t.listeners[i].push(make());
        if !t.installed[i] {
            set_handler(sig, true)?;
            t.installed[i] = true;
        }
    }
    drop(t);
    // Armed outside the table lock: its first read may dispatch.
    if let Some(p) = new_pump {
        p.arm();
    }
    Ok(())
}

/// Hands `sig` to its listeners (the pump calls it for each byte read).
/// With none left, the default action comes back and the signal is raised
/// again, so it does what it would have done without gosched.
fn dispatch(sig: Signal) {
    let mut t = lock_table();
    let i = index(sig);
    let delivered = t.listeners[i].iter().any(|l| !l.is_gone());
    t.listeners[i].retain(|l| l.deliver(sig));
    if !t.listeners[i].iter().any(|l| !l.is_gone()) {
        t.listeners[i].clear();
        if t.installed[i] {
            t.installed[i] = false;
            let _ = set_handler(sig, false);
        }
    }
    drop(t);
    if !delivered {
        // Nobody was listening: the default action, as without gosched.
        // SAFETY: raising a valid signal number.
        unsafe { libc::raise(sig.number()) };
    }
}

/// Calls `f` on every delivery of `sig`, for good (the process module's
/// SIGCHLD reaping). `f` runs inside the netpoller's turn, under the
/// listener table's lock: it must be short and must not listen itself.
pub(crate) fn watch(sig: Signal, f: fn()) -> io::Result<()> {
    listen(&[sig], || Listener::Callback(f))
}

/// Delivers each of `signals` to the returned channel (Go's
/// `signal.Notify`). The channel holds one pending signal; more that
/// arrive before it is received are dropped, as Go drops them rather than
/// block. Dropping the receiver stops the delivery; a signal with no
/// listener left gets its default action back.
///
/// Must be called from inside a gosched runtime (its netpoller delivers
/// the signals).
///
/// ```
/// use gosched::signal::{self, Signal};
/// # let rt = gosched::Runtime::new().unwrap();
/// # let _enter = rt.handle().enter();
/// let rx = signal::notify(&[Signal::User2]).unwrap();
/// // SAFETY: raising a signal this process handles (a listener exists).
/// unsafe { libc::raise(libc::SIGUSR2) };
/// assert_eq!(rt.block_on(rx.recv()), Some(Signal::User2));
/// ```
#[track_caller]
pub fn notify(signals: &[Signal]) -> io::Result<chan::Receiver<Signal>> {
    let (tx, rx) = chan::bounded(1);
    listen(signals, || Listener::Chan(tx.clone()))?;
    Ok(rx)
}

/// Waits for one SIGINT (Ctrl-C). Until it returns, SIGINT does not end
/// the process.
///
/// ```no_run
/// gosched::run(async {
///     gosched::signal::ctrl_c().await.unwrap();
///     println!("shutting down");
/// });
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let rx = notify(&[Signal::Interrupt])?;
    rx.recv().await;
    Ok(())
}

/// A context cancelled when one of `signals` arrives (Go's
/// `signal.NotifyContext`), or when `parent` is, or by the returned handle.
/// After the first such signal the listener is gone, so a second one gets
/// the default action: a second Ctrl-C ends the process, as in Go.
///
/// ```
/// use gosched::signal::{self, Signal};
/// use gosched::sync::context::Context;
/// # let rt = gosched::Runtime::new().unwrap();
/// # let _enter = rt.handle().enter();
/// let (ctx, _stop) = signal::notify_context(&Context::background(), &[Signal::User1]).unwrap();
/// // SAFETY: raising a signal this process handles (a listener exists).
/// unsafe { libc::raise(libc::SIGUSR1) };
/// rt.block_on(ctx.done());
/// assert!(ctx.err().is_some());
/// ```
#[track_caller]
pub fn notify_context(parent: &Context, signals: &[Signal]) -> io::Result<(Context, CancelHandle)> {
    let (ctx, cancel) = parent.with_cancel();
    listen(signals, || Listener::Ctx(cancel.clone(), ctx.clone()))?;
    Ok((ctx, cancel))
}
