//! How the reactor drives its timer wheel: the lock around it, the park
//! timeout it yields, and waking the poller when an earlier timer arrives.
//!
//! # The problem
//!
//! The thread parked in the reactor sleeps until the next timer is due.
//! If a task on another thread then sets a timer that is due *earlier*,
//! the parked thread must wake up and recompute its timeout, or the new
//! timer fires late (Go's `wakeNetPoller` on `addtimer`).
//!
//! # Protocol
//!
//! 1. Before blocking, the poller calls [`Timers::park_timeout`]: under the
//!    wheel lock it reads the next expiration, bounds the caller's timeout
//!    by it, and records that tick in `poller_tick`.
//! 2. A task setting a timer ([`Timers::insert`]) compares its tick with
//!    `poller_tick` under the same lock; when it is earlier, the caller
//!    unparks the reactor after dropping the lock. The unpark is a
//!    `mio::Waker` write, which makes the poll return even if the poller has
//!    not reached `epoll_wait` yet.
//! 3. After the poll, the poller clears `poller_tick`
//!    ([`Timers::poller_returned`]) and fires what is due
//!    ([`Timers::fire`]) outside the lock, in the wheel's order: tick by
//!    tick (62.5 µs), and within a tick in the order the entries reached
//!    their slot. There is no sort: a batch is tens of thousands of
//!    entries when a crowd of sleeps comes due, and ordering inside one
//!    tick is finer than any deadline a program can rely on (wake-ups of
//!    one tick race each other on the Ps anyway).
//! 4. When the runtime drops, its driver shuts the timers down
//!    ([`Timers::shutdown`]): every stored waker is woken, and every later
//!    `insert` or `poll` answers [`ShutDown`], which `Sleep` turns into a
//!    panic that says so. A future still waiting on a timer outside the
//!    runtime (`Handle::block_on` on another thread) fails at once instead
//!    of sleeping forever.
//!
//! Counts are kept in an atomic so `Driver::has_waiters` reads them without
//! taking the lock.
//!
//! # The paused clock and auto-advance
//!
//! The clock (`clock.rs`) is read by every step above. While it is
//! paused, time moves only when someone moves it:
//!
//! - [`Timers::advance`] (`time::advance`) moves it by a duration and fires
//!   what became due, on the caller's thread.
//! - Auto-advance: a *blocking* turn of the poller whose runtime is idle
//!   jumps it to the next timer, so a test of an hour-long timeout runs at
//!   once. The runtime is idle when every P is idle, no task is queued, no
//!   `spawn_blocking` closure runs ([`gosched_executor::Handle::is_idle`])
//!   and no tracked `block_on` future is running or woken
//!   ([`Timers::inhibitor`]). Only the M parked in the netpoller turns it
//!   that way, and an M parks there only after giving its P up, so with
//!   several Ps auto-advance happens only once the last busy P has gone
//!   idle: the same rule as tokio's "when the runtime has nothing else to
//!   do", for every P at once. Protocol ([`Timers::park_timeout`],
//!   [`Timers::auto_advance`]):
//!   1. Idle and a timer is set: poll with a zero timeout.
//!   2. Nothing came back from the poll (no I/O event, no unpark): move
//!      the clock to the next expiring slot and fire it; repeat (a slot of
//!      an upper level only cascades) until something fires.
//!   3. Not idle (a P still runs a task): poll for at most
//!      [`PAUSED_RECHECK`] of real time and look again, since nothing else
//!      tells the parked M when the last P goes idle.
//!
//!   While paused, the poller records "wake me for any new timer"
//!   (`poller_tick` = `u64::MAX`), so a timer set by the last busy task
//!   is seen at once.
//!
//! A wake that lands from another thread just as the runtime looks idle
//! can let the clock jump before the woken task runs; that task then sees
//! a later time than a real run would have shown it, never an earlier one.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::Waker;
use std::time::{Duration, Instant};

use super::action::{Action, Fire};
use super::clock::Clock;
use super::wheel::{Fired, Removed, TimerKey, Wheel};
use crate::loom::lock_std as lock;

/// How long a parked poller waits, in real time, before it looks again
/// whether a paused clock may jump (module docs, step 3): short enough
/// that a test with a busy P followed by idleness does not dawdle, long
/// enough to cost nothing measurable while a test computes.
pub(crate) const PAUSED_RECHECK: Duration = Duration::from_millis(1);

/// The timer driver has shut down (its reactor's `Driver::shutdown` ran,
/// which the runtime does when it is dropped): no timer fires any more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ShutDown;

/// What [`Timers::insert`] did.
pub(crate) enum Inserted {
    /// The deadline has passed: no entry was made.
    Expired,
    /// The driver has shut down: no entry was made, and none ever fires.
    ShutDown,
    /// An entry was made; `unpark` says whether the parked poller must be
    /// woken to pick up an earlier deadline.
    Set {
        /// The entry.
        key: TimerKey,
        /// Its tick, for [`Timers::has_fired`].
        tick: u64,
        /// Wake the poller after dropping the lock.
        unpark: bool,
    },
}

/// How the poller parks: what [`Timers::park_timeout`] decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Park {
    /// The poll's timeout.
    pub(crate) timeout: Option<Duration>,
    /// With a paused clock: the runtime is idle, so a poll that brings
    /// nothing back jumps the clock ([`Timers::auto_advance`]).
    pub(crate) may_advance: bool,
    /// The timer instant that bounds `timeout`, when one does: the poller
    /// wakes at it precisely (`reactor/precise_wake.rs`) instead of at the
    /// poll timeout's millisecond.
    pub(crate) timer: Option<Instant>,
}

struct State {
    wheel: Wheel,
    /// The tick the parked poller will wake at (`u64::MAX`: no timeout);
    /// `None` when nobody is parked. Written by the poller, read by
    /// `insert`, both under the wheel lock.
    poller_tick: Option<u64>,
    /// Set once by [`Timers::shutdown`]; read by `insert` and `poll`
    /// under the same lock, so a timer either sees it or had its waker
    /// taken (and woken) by the shutdown.
    shut_down: bool,
}

/// The reactor's timers. See the module docs.
pub(crate) struct Timers {
    state: Mutex<State>,
    /// Entries in use; written under the lock, read without it.
    len: AtomicUsize,
    /// The clock every timer reads; written under `state`'s lock, read
    /// anywhere (`clock.rs`).
    clock: Clock,
    /// Tracked `block_on` futures running or woken (`Inhibit`): while
    /// any is, a paused clock does not auto-advance. Changed by those
    /// futures, read by the poller.
    inhibitors: AtomicUsize,
    /// The tick the wheel has advanced to (`Wheel::elapsed`), stored after
    /// every advance under the lock: every entry due at or before it has
    /// fired and been freed ([`Timers::has_fired`]).
    advanced: AtomicU64,
}

impl Timers {
    /// No timers; tick 0 is now.
    pub(crate) fn new() -> Timers {
        let start = Instant::now();
        Timers {
            state: Mutex::new(State {
                wheel: Wheel::new(start),
                poller_tick: None,
                shut_down: false,
            }),
            len: AtomicUsize::new(0),
            clock: Clock::new(start),
            inhibitors: AtomicUsize::new(0),
            advanced: AtomicU64::new(0),
        }
    }

    /// Whether the entry filed at `tick` ([`Inserted::Set`]) has fired, and
    /// so been freed: the wheel has advanced to its tick. One load, no
    /// lock: a sleep past its deadline uses this to forget its key instead
    /// of removing it.
    #[inline]
    pub(crate) fn has_fired(&self, tick: u64) -> bool {
        // Acquire: pairs with the Release store after the advance that
        // freed the entry.
        self.advanced.load(Ordering::Acquire) >= tick
    }

    /// The time on this reactor's clock (`clock.rs`).
    #[inline]
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Whether the clock is paused.
    #[inline]
    pub(crate) fn is_paused(&self) -> bool {
        self.clock.is_paused()
    }

    /// Pauses the clock (`time::pause`).
    pub(crate) fn pause(&self) {
        let _st = lock(&self.state);
        self.clock.pause();
    }

    /// Lets the clock run again (`time::resume`).
    pub(crate) fn resume(&self) {
        let _st = lock(&self.state);
        self.clock.resume();
    }

    /// The count of tracked futures that keep a paused clock from
    /// auto-advancing (module docs).
    pub(crate) fn inhibitor(&self) -> &AtomicUsize {
        &self.inhibitors
    }

    /// Moves the clock forward by `by` and fires what became due, in
    /// tick order, on this thread (`time::advance`).
    pub(crate) fn advance(&self, by: Duration, buf: &mut Vec<Fired>) {
        {
            let st = lock(&self.state);
            let to = super::sleep::far_deadline(self.clock.now(), by);
            self.clock.advance_to(to);
            drop(st);
        }
        self.fire(self.now(), buf);
    }

    /// Module docs, step 2: with the clock paused and the runtime idle,
    /// jumps the clock to the next expiring slot and fires, until
    /// something fires or no timer is left.
    pub(crate) fn auto_advance(&self, buf: &mut Vec<Fired>) {
        // One round per wheel level at most: each round either fires or
        // cascades a slot one level down.
        for _ in 0..=super::wheel::LEVELS {
            {
                let st = lock(&self.state);
                if !self.clock.is_paused() {
                    return;
                }
                let Some(next) = st.wheel.next_expiration() else {
                    return;
                };
                self.clock.advance_to(st.wheel.instant_of(next));
            }
            if self.fire(self.now(), buf) > 0 {
                return;
            }
        }
    }

    /// Timers set and not yet dropped.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Entries allocated in the wheel's slab, in use or free.
    pub(crate) fn capacity(&self) -> usize {
        lock(&self.state).wheel.capacity()
    }

    /// Sets a timer for `deadline`.
    ///
    /// The clock is read only for a deadline within a tick of where the
    /// wheel stands (a deadline that may already have passed: it completes
    /// at once). A timeout of seconds, the common case, is filed without
    /// reading the clock; its caller read it once to make the deadline.
    /// After shutdown nothing is inserted, whatever the deadline: the
    /// caller must fail loudly rather than wait for a wheel nobody turns.
    pub(crate) fn insert(&self, deadline: Instant, waker: &Waker) -> Inserted {
        let mut st = lock(&self.state);
        if st.shut_down {
            return Inserted::ShutDown;
        }
        let (tick, ns) = st.wheel.offset_of(deadline);
        if tick <= st.wheel.elapsed() + 1 && deadline <= self.clock.now() {
            return Inserted::Expired;
        }
        match st
            .wheel
            .insert_at(tick, ns, Action::Wake(Some(waker.clone())))
        {
            Ok((key, tick)) => self.inserted(&st, key, tick),
            Err(_) => Inserted::Expired,
        }
    }

    /// The bookkeeping after an insert: the count, and whether the parked
    /// poller must wake for the new tick (module docs, step 2).
    fn inserted(&self, st: &State, key: TimerKey, tick: u64) -> Inserted {
        self.len.store(st.wheel.len(), Ordering::Relaxed);
        let unpark = st.poller_tick.is_some_and(|p| tick < p);
        Inserted::Set { key, tick, unpark }
    }

    /// Sets a timer for `deadline` that does `action` when it fires (a
    /// channel send, a tick, a callback: `action.rs`). A deadline already
    /// passed fires at once, on this thread: a one-shot action runs and
    /// nothing is inserted; a ticker is filed for the next tick. After
    /// shutdown the action comes back as the error, for the caller to drop
    /// or hand to another timer.
    pub(crate) fn insert_action(
        &self,
        deadline: Instant,
        action: Action,
    ) -> Result<Inserted, Action> {
        let mut st = lock(&self.state);
        if st.shut_down {
            return Err(action);
        }
        let (tick, ns) = st.wheel.offset_of(deadline);
        let tick = match action {
            Action::Tick { .. } => tick.max(st.wheel.elapsed() + 1),
            _ => tick,
        };
        Ok(match st.wheel.insert_at(tick, ns, action) {
            Ok((key, tick)) => self.inserted(&st, key, tick),
            Err(action) => {
                drop(st);
                let fire = match action {
                    Action::Send(tx) => Some(Fire::Send(tx)),
                    Action::Call(f) => Some(Fire::Call(f)),
                    Action::Wake(_) | Action::Tick { .. } => None,
                };
                if let Some(fire) = fire {
                    fire.run(self.now());
                }
                Inserted::Expired
            }
        })
    }

    /// Whether the timer fired (its entry is gone: the caller forgets
    /// `key`); if not, `waker` is the one it will wake.
    /// After shutdown, [`ShutDown`]: the timer will never fire.
    pub(crate) fn poll(&self, key: TimerKey, waker: &Waker) -> Result<bool, ShutDown> {
        let mut st = lock(&self.state);
        if st.shut_down {
            return Err(ShutDown);
        }
        Ok(st.wheel.poll(key, waker))
    }

    /// Frees the entry of `key`; true when it was still waiting to fire
    /// (Go's `Stop` result). A stale key (freed already, or a one-shot
    /// entry that fired) frees nothing and answers false.
    pub(crate) fn remove(&self, key: TimerKey) -> bool {
        let removed = {
            let mut st = lock(&self.state);
            let r = st.wheel.remove(key);
            self.len.store(st.wheel.len(), Ordering::Relaxed);
            r
        };
        // The action (a waker, a sender, a callback) is dropped outside the
        // lock: the last reference to a task may go with it, and dropping a
        // task can drop more timers.
        match removed {
            Some(Removed {
                was_scheduled,
                action: Action::Wake(waker),
            }) => {
                // A sleep's: the common case, dropped without the
                // general `Action` drop.
                drop(waker);
                was_scheduled
            }
            Some(Removed {
                was_scheduled,
                action,
            }) => {
                drop(action);
                was_scheduled
            }
            None => false,
        }
    }

    /// Bounds a park `timeout` by the next timer and records the tick the
    /// poller will wake at (module docs, step 1).
    ///
    /// With the clock paused (module docs, "auto-advance"), the timeout is
    /// zero when `idle()` says the runtime is idle and a timer is set, and
    /// [`Park::may_advance`] is then true: the caller calls
    /// [`Timers::auto_advance`] if the poll brought nothing back.
    pub(crate) fn park_timeout(
        &self,
        timeout: Option<Duration>,
        idle: impl FnOnce() -> bool,
    ) -> Park {
        if self.clock.is_paused() {
            let (timeout, may_advance) = self.paused_park_timeout(timeout, idle);
            return Park {
                timeout,
                may_advance,
                timer: None,
            };
        }
        self.real_park_timeout(timeout)
    }

    /// [`Timers::park_timeout`] while paused: steps 1 and 3 of the module
    /// docs' auto-advance.
    fn paused_park_timeout(
        &self,
        timeout: Option<Duration>,
        idle: impl FnOnce() -> bool,
    ) -> (Option<Duration>, bool) {
        let mut st = lock(&self.state);
        // Any new timer wakes the poller.
        st.poller_tick = Some(u64::MAX);
        if timeout == Some(Duration::ZERO) || st.wheel.next_expiration().is_none() {
            return (timeout, false);
        }
        drop(st);
        if idle() {
            return (Some(Duration::ZERO), true);
        }
        let recheck = timeout.map_or(PAUSED_RECHECK, |t| t.min(PAUSED_RECHECK));
        (Some(recheck), false)
    }

    fn real_park_timeout(&self, timeout: Option<Duration>) -> Park {
        let mut st = lock(&self.state);
        let now = self.clock.now();
        let next = st.wheel.next_expiration().map(|t| st.wheel.instant_of(t));
        let timer_timeout = next.map(|t| t.saturating_duration_since(now));
        let (timeout, timer) = match (timeout, timer_timeout) {
            (Some(a), Some(b)) if a < b => (Some(a), None),
            (_, Some(b)) => (Some(b), next),
            (a, None) => (a, None),
        };
        st.poller_tick = Some(match timeout {
            None => u64::MAX,
            // A timeout too long to add to `now` is no timeout at all.
            Some(d) => now
                .checked_add(d)
                .map_or(u64::MAX, |t| st.wheel.tick_for(t)),
        });
        Park {
            timeout,
            may_advance: false,
            timer,
        }
    }

    /// The poller is back from the poll (module docs, step 3).
    pub(crate) fn poller_returned(&self) {
        lock(&self.state).poller_tick = None;
    }

    /// Fires every timer due at `now`, in tick order. `buf` is scratch
    /// space the poller keeps between calls.
    ///
    /// Returns how many fired.
    pub(crate) fn fire(&self, now: Instant, buf: &mut Vec<Fired>) -> usize {
        if self.len() == 0 {
            return 0;
        }
        {
            let mut st = lock(&self.state);
            let tick = st.wheel.now_tick(now);
            st.wheel.advance(tick, buf);
            self.advanced.store(st.wheel.elapsed(), Ordering::Release);
            // One-shot entries were freed as they fired.
            self.len.store(st.wheel.len(), Ordering::Relaxed);
        }
        let n = buf.len();
        let mut orphans = Vec::new();
        for f in buf.drain(..) {
            orphans.extend(f.fire.run(now));
        }
        // Tickers whose channel lost its last receiver (`tick`'s, once the
        // caller dropped it) free their entries.
        for key in orphans {
            self.remove(key);
        }
        n
    }

    /// The next expiration as an instant, if any timer is set.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let st = lock(&self.state);
        st.wheel.next_expiration().map(|t| st.wheel.instant_of(t))
    }

    /// Stops the timers: takes every stored waker and wakes it, and from
    /// now on `insert` and `poll` answer [`ShutDown`]. Entries stay until
    /// their owners drop them.
    ///
    /// Waking (rather than dropping) matters for a future that waits
    /// outside the runtime, in `Handle::block_on` on a thread of its own:
    /// it is polled again, sees [`ShutDown`] and panics with a message,
    /// instead of sleeping forever on a wheel nobody turns. A runtime's own
    /// tasks hold no entry by then: the runtime drops every task, and with
    /// it every sleep, before it shuts its driver down. Either way the
    /// wakers leave the wheel, which breaks any waker -> task -> timer ->
    /// reactor cycle.
    ///
    /// Channel timers' senders and callbacks are dropped, outside the lock:
    /// a `Timer`'s channel then closes once its owner drops it, and an
    /// `after` channel at once, so a receiver waiting outside the runtime
    /// sees the close instead of waiting forever.
    pub(crate) fn shutdown(&self) {
        let (wakers, dropped) = {
            let mut st = lock(&self.state);
            st.shut_down = true;
            st.wheel.take_actions()
        };
        drop(dropped);
        // Woken outside the lock: a wake may run arbitrary code.
        for w in wakers {
            w.wake();
        }
    }
}

impl crate::Reactor {
    /// Sets a timer on this reactor that does `action` at `deadline`
    /// ([`Timers::insert_action`]), waking the parked poller when the new
    /// timer is due before what it waits for. `Ok(None)` when no entry was
    /// made because the deadline had passed (the action ran); the action
    /// back when the reactor has shut down.
    pub(crate) fn try_schedule(
        &self,
        deadline: Instant,
        action: Action,
    ) -> Result<Option<TimerKey>, Action> {
        Ok(match self.inner.timers.insert_action(deadline, action)? {
            Inserted::Set { key, unpark, .. } => {
                if unpark {
                    self.unpark_poller();
                }
                Some(key)
            }
            Inserted::Expired | Inserted::ShutDown => None,
        })
    }

    /// [`Reactor::try_schedule`] for channel timers: after shutdown the
    /// action is dropped (the channel closes once its owner lets go of
    /// it) and `None` returned.
    pub(crate) fn schedule(&self, deadline: Instant, action: Action) -> Option<TimerKey> {
        self.try_schedule(deadline, action).ok().flatten()
    }

    /// Frees the entry of `key`; true when it had not fired yet.
    pub(crate) fn cancel_timer(&self, key: TimerKey) -> bool {
        self.inner.timers.remove(key)
    }

    /// The time on this reactor's clock.
    pub(crate) fn now(&self) -> Instant {
        self.inner.timers.now()
    }
}

#[cfg(all(test, not(gosched_loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_park_timeout_of_duration_max_does_not_overflow() {
        let timers = Timers::new();
        assert_eq!(
            timers.park_timeout(Some(Duration::MAX), || true),
            Park {
                timeout: Some(Duration::MAX),
                may_advance: false,
                timer: None,
            }
        );
        timers.poller_returned();
    }

    #[test]
    fn after_shutdown_insert_and_poll_answer_shut_down_and_wake_stored_wakers() {
        use std::sync::Arc;
        use std::task::Wake;
        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let timers = Timers::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let Inserted::Set { key, .. } =
            timers.insert(Instant::now() + Duration::from_secs(60), &waker)
        else {
            panic!("a timer a minute away is set");
        };
        timers.shutdown();
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the waiter was woken");
        assert_eq!(timers.poll(key, &waker), Err(ShutDown));
        assert!(matches!(
            timers.insert(Instant::now() + Duration::from_secs(60), &waker),
            Inserted::ShutDown
        ));
        timers.remove(key);
        assert_eq!(timers.len(), 0);
    }
}
