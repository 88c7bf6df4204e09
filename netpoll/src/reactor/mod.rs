//! The reactor: gosched's netpoller, and the [`Driver`] idle Ms block in.
//!
//! # What Go does
//!
//! Go's `netpoll` keeps one epoll instance per process. A goroutine whose
//! read would block parks on the fd's `pollDesc`; `findRunnable`, when an M
//! has nothing to run and nothing to steal, blocks in `netpoll(delay)` with
//! `delay` = time to the next timer, and puts the goroutines it made ready
//! on its P. Busy Ms poll without blocking now and then, and `netpollBreak`
//! writes to an eventfd to kick a blocked poller when new work appears.
//!
//! # What gosched does
//!
//! A [`Reactor`] is a cheap handle around one `mio::Poll`, one `mio::Waker`
//! (the eventfd), the registration table (`table.rs`) and the timer wheel. The
//! executor sees it only as a [`Driver`]:
//!
//! 1. `park(timeout)`: lock the poller, bound `timeout` by the next timer
//!    (recording the bound so an earlier timer can interrupt it, see
//!    `time::driver`), `epoll_wait`, store each event's readiness in its
//!    registration (`io_state.rs`) and collect the wakers it releases, then
//!    fire due timers, then wake everything collected, in that order, with
//!    no lock but the poller's held.
//! 2. `poll_nonblocking()`: the same with a zero timeout, but only if the
//!    poller lock is free (`try_lock`): a concurrent poller will deliver the
//!    events anyway, and a busy M must never block.
//! 3. `unpark()`: set the wake latch (`wake_latch.rs`); only the thread
//!    that flips it writes the eventfd, so a burst of unparks costs one
//!    syscall. A *blocking* turn takes the latch before it polls and, when
//!    it was set, polls with a zero timeout: an unpark with nobody parked
//!    makes the next park return at once, as the driver contract demands.
//!    A non-blocking turn never touches the latch: it would eat the wake-up
//!    of the M about to block (the latch's module docs tell that story).
//!
//! The poller lock makes "at most one thread parks at a time" hold even if
//! a caller breaks the rule: a second parker waits for the lock.
//!
//! # Finding the reactor
//!
//! Net types and timers find their reactor with [`Reactor::current`]: the
//! one entered on this thread with [`Reactor::enter`] (or by
//! [`Reactor::block_on`]), else the driver of the gosched runtime this
//! thread works for. Outside both they panic with "must be called from
//! inside a gosched runtime". A lazily started global reactor thread was
//! rejected: it would hide a missing runtime behind a second poller that
//! no M ever parks in, so every wake-up would cross threads.
//!
//! # Shutdown and drop
//!
//! A socket holds a `Reactor` (an `Arc`), so the reactor lives as long as
//! its sockets. Wakers stored in registrations and timers can form a cycle
//! (waker -> task -> socket -> reactor -> registration -> waker);
//! [`Driver::shutdown`] breaks it by taking every stored waker and
//! failing every later operation: sockets wake theirs (a wait in progress
//! then returns "the gosched reactor has shut down"); timers wake theirs, and a timer
//! polled from then on panics with "the runtime's timer driver has shut
//! down", since nothing would ever fire it (`time::driver`). Dropping the
//! last handle closes the epoll instance; nothing waits on a thread, so
//! nothing can hang.

mod block_on;
mod current;
pub(crate) mod io_state;
#[cfg(all(test, gosched_loom))]
mod loom_io_state;
#[cfg(all(test, gosched_loom))]
mod loom_wake_latch;
pub(crate) mod poll_io;
mod precise_wake;
pub(crate) mod table;
pub(crate) mod wake_latch;

use std::any::Any;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::{Duration, Instant};

use gosched_executor::Driver;
use mio::event::Source;

pub use current::EnterGuard;

use crate::loom::lock_std as lock;
use crate::time::driver::Timers;
use crate::time::wheel::Fired;
use io_state::IoState;
use precise_wake::{PreciseWake, TIMER_TOKEN};
use table::Table;
use wake_latch::WakeLatch;

/// Token of the unpark waker; the table never hands it out.
const WAKER_TOKEN: mio::Token = mio::Token(usize::MAX);
/// Events gathered per poll.
const EVENTS_CAPACITY: usize = 1024;

/// gosched's netpoller: I/O readiness and timers, behind the executor's
/// [`Driver`] trait.
///
/// Cloning is cheap (an `Arc`). See the module docs for the design.
///
/// ```
/// use std::time::Duration;
/// use gosched::{runtime::Reactor, time};
///
/// let reactor = Reactor::new().unwrap();
/// reactor.block_on(async {
///     time::sleep(Duration::from_millis(1)).await;
/// });
/// assert_eq!(reactor.num_timers(), 0);
/// ```
#[derive(Clone)]
pub struct Reactor {
    pub(crate) inner: Arc<Inner>,
}

/// What the poller owns: taken by one thread at a time.
struct Poller {
    poll: mio::Poll,
    events: mio::Events,
    /// Wakers released by the last batch of events.
    wake: Vec<Waker>,
    /// Timers fired by the last turn.
    fired: Vec<Fired>,
    /// Wakes a park bounded by a timer at the timer's instant, not at the
    /// poll timeout's millisecond.
    precise: PreciseWake,
}

pub(crate) struct Inner {
    /// Registers sources without taking the poller lock.
    registry: mio::Registry,
    /// The poll and its buffers; `park` locks it, `poll_nonblocking`
    /// try-locks it.
    poller: Mutex<Poller>,
    /// Writes the eventfd that interrupts a poll.
    waker: mio::Waker,
    /// An unpark not yet consumed by a blocking turn (module docs, step 3).
    latch: WakeLatch,
    /// Registrations, by token.
    table: Mutex<Table>,
    /// Live registrations; written under the table lock.
    registrations: AtomicUsize,
    /// Timers.
    pub(crate) timers: Timers,
    /// Set by `shutdown`.
    is_shutdown: AtomicBool,
}

impl Reactor {
    /// Makes a reactor: an epoll instance, an eventfd, no registrations and
    /// no timers.
    ///
    /// ```
    /// let reactor = gosched::runtime::Reactor::new().unwrap();
    /// assert_eq!(reactor.num_registrations(), 0);
    /// ```
    pub fn new() -> io::Result<Reactor> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        let precise = PreciseWake::new(poll.registry());
        Ok(Reactor {
            inner: Arc::new(Inner {
                registry,
                poller: Mutex::new(Poller {
                    poll,
                    events: mio::Events::with_capacity(EVENTS_CAPACITY),
                    wake: Vec::new(),
                    fired: Vec::new(),
                    precise,
                }),
                waker,
                latch: WakeLatch::new(),
                table: Mutex::new(Table::new()),
                registrations: AtomicUsize::new(0),
                timers: Timers::new(),
                is_shutdown: AtomicBool::new(false),
            }),
        })
    }

    /// Number of sockets registered with this reactor.
    ///
    /// ```
    /// let reactor = gosched::runtime::Reactor::new().unwrap();
    /// let _enter = reactor.enter();
    /// let socket = gosched::net::UdpSocket::from_std(
    ///     std::net::UdpSocket::bind("127.0.0.1:0").unwrap(),
    /// )
    /// .unwrap();
    /// assert_eq!(reactor.num_registrations(), 1);
    /// drop(socket);
    /// assert_eq!(reactor.num_registrations(), 0);
    /// ```
    pub fn num_registrations(&self) -> usize {
        self.inner.registrations.load(Ordering::Relaxed)
    }

    /// Number of timer entries in use: sleeps, timeouts and intervals that
    /// have been polled at least once and not yet dropped.
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::FutureExt;
    /// let reactor = gosched::runtime::Reactor::new().unwrap();
    /// let _enter = reactor.enter();
    /// let mut sleep = gosched::time::sleep(Duration::from_secs(60));
    /// assert!((&mut sleep).now_or_never().is_none());
    /// assert_eq!(reactor.num_timers(), 1);
    /// drop(sleep);
    /// assert_eq!(reactor.num_timers(), 0);
    /// ```
    pub fn num_timers(&self) -> usize {
        self.inner.timers.len()
    }

    /// Timer entries allocated, in use or free. Entries are reused, so
    /// this is the high-water mark of timers alive at once.
    ///
    /// ```
    /// let reactor = gosched::runtime::Reactor::new().unwrap();
    /// assert_eq!(reactor.timer_capacity(), 0);
    /// ```
    pub fn timer_capacity(&self) -> usize {
        self.inner.timers.capacity()
    }

    /// When the reactor must next be polled for timers, if any is set.
    ///
    /// ```
    /// let reactor = gosched::runtime::Reactor::new().unwrap();
    /// assert!(reactor.next_timer().is_none());
    /// ```
    pub fn next_timer(&self) -> Option<Instant> {
        self.inner.timers.next_deadline()
    }

    pub(crate) fn unpark_poller(&self) {
        self.inner.unpark();
    }

    /// Registers `source`; returns its token and readiness state.
    pub(crate) fn register(
        &self,
        source: &mut impl Source,
        interest: mio::Interest,
    ) -> io::Result<(usize, Arc<IoState>)> {
        // Acquire pairs with the Release store in `Inner::shutdown`. This
        // check is a courtesy (fail early); a registration that races with
        // shutdown is caught by the SHUTDOWN bit shutdown sets under the
        // table lock, or, if it is inserted after, sees no event and is
        // dropped with its task.
        if self.inner.is_shutdown.load(Ordering::Acquire) {
            return Err(shutdown_error());
        }
        let state = Arc::new(IoState::new());
        let token = {
            let mut table = lock(&self.inner.table);
            let token = table.insert(state.clone());
            self.inner
                .registrations
                .store(table.len(), Ordering::Relaxed);
            token
        };
        // Registered after the table insert, so no event can arrive for a
        // token the table does not know.
        if let Err(e) = self
            .inner
            .registry
            .register(source, mio::Token(token), interest)
        {
            self.forget(token);
            return Err(e);
        }
        Ok((token, state))
    }

    /// Deregisters `source` and frees its token.
    pub(crate) fn deregister(&self, source: &mut impl Source, token: usize) {
        let _ = self.inner.registry.deregister(source);
        self.forget(token);
    }

    fn forget(&self, token: usize) {
        let state = {
            let mut table = lock(&self.inner.table);
            let state = table.remove(token);
            self.inner
                .registrations
                .store(table.len(), Ordering::Relaxed);
            state
        };
        // Dropped outside the table lock: it may hold the last reference
        // to a task, whose drop may deregister more sockets.
        drop(state);
    }
}

impl Inner {
    pub(crate) fn unpark(&self) {
        if self.latch.set() {
            // An error here means the eventfd is gone (reactor dropping) or
            // its counter is saturated, which already wakes the poller.
            let _ = self.waker.wake();
        }
    }

    /// One turn of the poller: poll, dispatch, fire timers, wake. `skip`
    /// runs once the poller lock is held; when it says so, the turn does
    /// nothing (used by `block_on` to not sleep through its own wake-up).
    ///
    /// `blocking` says whether the caller may sleep here (`park`,
    /// `block_on`) or polls only to harvest events (`poll_nonblocking`,
    /// which passes a zero timeout). Only a blocking turn consumes the wake
    /// latch (see `wake_latch.rs` for why).
    fn turn(
        &self,
        poller: &mut Poller,
        timeout: Option<Duration>,
        blocking: bool,
        skip: &dyn Fn() -> bool,
    ) {
        if skip() {
            return;
        }
        let mut timeout = timeout;
        if blocking && self.latch.take() {
            timeout = Some(Duration::ZERO);
        }
        let park = self
            .timers
            .park_timeout(timeout, || blocking && self.runtime_is_idle());
        let Poller {
            poll,
            events,
            wake,
            fired,
            precise,
        } = poller;
        if blocking && park.timeout != Some(Duration::ZERO) {
            precise.prepare(park.timer);
        }
        let result = poll.poll(events, park.timeout);
        self.timers.poller_returned();
        match result {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => events.clear(),
            Err(e) => panic!("gosched netpoll: epoll_wait failed: {e}"),
        }
        let io_or_unpark = self.dispatch(events, wake);
        for w in wake.drain(..) {
            w.wake();
        }
        // A paused clock jumps only when the poll brought nothing: no I/O
        // readiness and no unpark (`time::driver`, "auto-advance").
        if park.may_advance && !io_or_unpark {
            self.timers.auto_advance(fired);
        } else {
            self.timers.fire(self.timers.now(), fired);
        }
    }

    /// Whether the runtime this reactor drives has nothing to do, for a
    /// paused clock's auto-advance (`time::driver`): no tracked `block_on`
    /// future is running or woken, and the runtime whose M is parking here
    /// says it is idle. A reactor that no runtime drives (`block_on` on a
    /// bare reactor) is idle whenever its poller parks.
    fn runtime_is_idle(&self) -> bool {
        if self.timers.inhibitor().load(Ordering::SeqCst) != 0 {
            return false;
        }
        gosched_executor::Handle::with_current(|h| match h {
            Some(h)
                if h.driver().is_some_and(|d| {
                    d.as_any()
                        .downcast_ref::<Reactor>()
                        .is_some_and(|r| std::ptr::eq(&*r.inner, self))
                }) =>
            {
                h.is_idle()
            }
            _ => true,
        })
    }

    /// Stores each event's readiness in its registration, skipping events
    /// whose token went stale (see `table`), and collects the wakers to
    /// call. Returns whether anything but the precise timer came back (I/O
    /// readiness or an unpark).
    fn dispatch(&self, events: &mio::Events, wake: &mut Vec<Waker>) -> bool {
        let mut io_or_unpark = false;
        let table = lock(&self.table);
        for event in events.iter() {
            match event.token() {
                TIMER_TOKEN => continue,
                WAKER_TOKEN => {}
                token => {
                    if let Some(state) = table.get(token.0) {
                        state.set_readiness(readiness_of(event), wake);
                    }
                }
            }
            io_or_unpark = true;
        }
        io_or_unpark
    }

    fn shutdown(&self) {
        // Release pairs with the Acquire load in `Reactor::register`.
        self.is_shutdown.store(true, Ordering::Release);
        let mut dropped = Vec::new();
        {
            let table = lock(&self.table);
            for state in table.iter() {
                dropped.push(state.shutdown());
            }
        }
        self.timers.shutdown();
        // Woken, not just dropped, and outside every lock (see `forget`):
        // a task's own runtime has cancelled it by now, so its wake does
        // nothing; but a plain thread blocked in `Handle::block_on` on a
        // socket must see the SHUTDOWN bit (an error) instead of sleeping
        // forever.
        for w in dropped.into_iter().flatten() {
            w.wake();
        }
    }
}

/// Maps a mio event to readiness bits.
fn readiness_of(event: &mio::event::Event) -> usize {
    let mut bits = 0;
    if event.is_readable() {
        bits |= io_state::READABLE;
    }
    if event.is_writable() {
        bits |= io_state::WRITABLE;
    }
    if event.is_read_closed() {
        bits |= io_state::READ_CLOSED;
    }
    if event.is_write_closed() {
        bits |= io_state::WRITE_CLOSED;
    }
    if event.is_error() {
        bits |= io_state::ERROR;
    }
    bits
}

/// The error every operation returns once the reactor has shut down.
pub(crate) fn shutdown_error() -> io::Error {
    io::Error::other("the gosched reactor has shut down")
}

impl Driver for Reactor {
    fn park(&self, timeout: Option<Duration>) {
        let mut poller = lock(&self.inner.poller);
        self.inner.turn(&mut poller, timeout, true, &|| false);
    }

    fn unpark(&self) {
        self.inner.unpark();
    }

    fn poll_nonblocking(&self) {
        if let Ok(mut poller) = self.inner.poller.try_lock() {
            self.inner
                .turn(&mut poller, Some(Duration::ZERO), false, &|| false);
        }
    }

    fn has_waiters(&self) -> bool {
        self.num_registrations() > 0 || self.num_timers() > 0
    }

    fn shutdown(&self) {
        self.inner.shutdown();
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("registrations", &self.num_registrations())
            .field("timers", &self.num_timers())
            .finish()
    }
}

#[cfg(all(test, not(gosched_loom)))]
mod tests {
    use super::io_state::Direction;
    use super::poll_io::PollIo;
    use super::*;
    use std::future::Future;
    use std::task::{Context, Poll};

    fn drain(io: &PollIo<mio::net::UnixStream>) {
        let w = futures::task::noop_waker();
        let mut cx = Context::from_waker(&w);
        if let Poll::Ready(Ok(ev)) = io.poll_ready(&mut cx, Direction::Read) {
            io.clear(ev);
        }
    }

    fn read_ready(io: &PollIo<mio::net::UnixStream>) -> bool {
        let w = futures::task::noop_waker();
        let mut cx = Context::from_waker(&w);
        io.poll_ready(&mut cx, Direction::Read).is_ready()
    }

    #[test]
    fn an_event_harvested_for_a_closed_socket_skips_the_socket_reusing_its_slot() {
        let reactor = Reactor::new().unwrap();
        let (a1, a2) = mio::net::UnixStream::pair().unwrap();
        let a1 = PollIo::with_reactor(reactor.clone(), a1, mio::Interest::READABLE).unwrap();
        drain(&a1);
        // The peer hangs up: a HUP for a1's token is queued in epoll ...
        drop(a2);
        let mut poller = lock(&reactor.inner.poller);
        let Poller { poll, events, .. } = &mut *poller;
        poll.poll(events, Some(Duration::ZERO)).unwrap();
        assert!(!events.is_empty(), "the hang-up was harvested");
        // ... and a1 closes before it is dispatched; b1 takes its slot.
        drop(a1);
        let (b1, _b2) = mio::net::UnixStream::pair().unwrap();
        let b1 = PollIo::with_reactor(reactor.clone(), b1, mio::Interest::READABLE).unwrap();
        drain(&b1);
        assert!(!read_ready(&b1));
        let mut wake = Vec::new();
        reactor.inner.dispatch(events, &mut wake);
        assert!(
            !read_ready(&b1),
            "a stale hang-up would leave b1 read-closed forever"
        );
        assert!(wake.is_empty());
    }

    #[test]
    fn an_unpark_before_park_makes_the_park_return_at_once() {
        let reactor = Reactor::new().unwrap();
        reactor.unpark();
        reactor.unpark();
        // Would block forever if the unpark were lost.
        reactor.park(None);
    }

    #[test]
    fn an_unpark_survives_non_blocking_polls_and_wakes_the_next_park() {
        let reactor = Reactor::new().unwrap();
        // Something waits on a timer, as when busy Ms poll constantly.
        let _enter = reactor.enter();
        let mut sleep = crate::time::sleep(Duration::from_secs(3600));
        let w = futures::task::noop_waker();
        assert!(std::pin::Pin::new(&mut sleep)
            .poll(&mut Context::from_waker(&w))
            .is_pending());
        reactor.unpark();
        // Busy Ms and sysmon poll without blocking; they see the eventfd's
        // event but must leave the wake-up to the M about to block.
        for _ in 0..3 {
            reactor.poll_nonblocking();
        }
        // Would sleep for the hour-long timer if a poll had eaten it.
        reactor.park(None);
    }

    #[test]
    fn poll_nonblocking_returns_while_another_thread_is_parked() {
        let reactor = Reactor::new().unwrap();
        let r2 = reactor.clone();
        let parked = std::thread::spawn(move || r2.park(None));
        for _ in 0..100 {
            reactor.poll_nonblocking();
        }
        reactor.unpark();
        parked.join().unwrap();
    }
}
