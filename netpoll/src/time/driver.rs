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
//!    ([`Timers::fire`]): wakers are sorted by deadline (a stable sort:
//!    equal deadlines keep the wheel's order, which is the order they were
//!    set in unless one of them was cascaded from a higher level) and woken outside the lock.
//!
//! Counts are kept in an atomic so `Driver::has_waiters` reads them without
//! taking the lock.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::Waker;
use std::time::{Duration, Instant};

use super::wheel::{Fired, TimerKey, Wheel};
use crate::reactor::io_state::lock;

/// What [`Timers::insert`] did.
pub(crate) enum Inserted {
    /// The deadline has passed: no entry was made.
    Expired,
    /// An entry was made; `unpark` says whether the parked poller must be
    /// woken to pick up an earlier deadline.
    Set {
        /// The entry.
        key: TimerKey,
        /// Wake the poller after dropping the lock.
        unpark: bool,
    },
}

struct State {
    wheel: Wheel,
    /// The tick the parked poller will wake at (`u64::MAX`: no timeout);
    /// `None` when nobody is parked. Written by the poller, read by
    /// `insert`, both under the wheel lock.
    poller_tick: Option<u64>,
}

/// The reactor's timers. See the module docs.
pub(crate) struct Timers {
    state: Mutex<State>,
    /// Entries in use; written under the lock, read without it.
    len: AtomicUsize,
    /// Set by shutdown: no waker is stored from then on.
    shut_down: AtomicBool,
}

impl Timers {
    /// No timers; tick 0 is now.
    pub(crate) fn new() -> Timers {
        Timers {
            state: Mutex::new(State {
                wheel: Wheel::new(Instant::now()),
                poller_tick: None,
            }),
            len: AtomicUsize::new(0),
            shut_down: AtomicBool::new(false),
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
    pub(crate) fn insert(&self, deadline: Instant, waker: &Waker) -> Inserted {
        let mut st = lock(&self.state);
        let (tick, ns) = st.wheel.offset_of(deadline);
        if tick <= st.wheel.elapsed() + 1 && deadline <= Instant::now() {
            return Inserted::Expired;
        }
        // After shutdown no waker is kept: the runtime is dropping its tasks.
        let waker = if self.shut_down.load(Ordering::Relaxed) {
            futures::task::noop_waker()
        } else {
            waker.clone()
        };
        let Some((key, tick)) = st.wheel.insert_at(tick, ns, waker) else {
            return Inserted::Expired;
        };
        self.len.store(st.wheel.len(), Ordering::Relaxed);
        let unpark = st.poller_tick.is_some_and(|p| tick < p);
        Inserted::Set { key, unpark }
    }

    /// Whether the timer fired; if not, `waker` is the one it will wake.
    pub(crate) fn poll(&self, key: TimerKey, waker: &Waker) -> bool {
        let mut st = lock(&self.state);
        if self.shut_down.load(Ordering::Relaxed) {
            return st.wheel.poll(key, &futures::task::noop_waker());
        }
        st.wheel.poll(key, waker)
    }

    /// Frees the entry of `key`.
    pub(crate) fn remove(&self, key: TimerKey) {
        let waker = {
            let mut st = lock(&self.state);
            let w = st.wheel.remove(key);
            self.len.store(st.wheel.len(), Ordering::Relaxed);
            w
        };
        // Dropped outside the lock: the last reference to a task may go
        // with it, and dropping a task can drop more timers.
        drop(waker);
    }

    /// Bounds a park `timeout` by the next timer and records the tick the
    /// poller will wake at (module docs, step 1).
    pub(crate) fn park_timeout(&self, timeout: Option<Duration>) -> Option<Duration> {
        let mut st = lock(&self.state);
        let now = Instant::now();
        let next = st.wheel.next_expiration();
        let timer_timeout = next.map(|t| st.wheel.instant_of(t).saturating_duration_since(now));
        let timeout = match (timeout, timer_timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        st.poller_tick = Some(match timeout {
            None => u64::MAX,
            Some(d) => st.wheel.tick_for(now + d),
        });
        timeout
    }

    /// The poller is back from the poll (module docs, step 3).
    pub(crate) fn poller_returned(&self) {
        lock(&self.state).poller_tick = None;
    }

    /// Fires every timer due at `now`, in deadline order. `buf` is scratch
    /// space the poller keeps between calls.
    pub(crate) fn fire(&self, now: Instant, buf: &mut Vec<Fired>) {
        if self.len() == 0 {
            return;
        }
        {
            let mut st = lock(&self.state);
            let tick = st.wheel.now_tick(now);
            st.wheel.advance(tick, buf);
        }
        // Usually sorted already (slots keep insertion order, and a batch
        // is mostly one slot): check in one pass before sorting.
        // A stable sort: timers with equal deadlines keep the order the
        // wheel produced them in.
        if !buf.is_sorted_by_key(|f| f.deadline_ns) {
            buf.sort_by_key(|f| f.deadline_ns);
        }
        for f in buf.drain(..) {
            f.waker.wake();
        }
    }

    /// The next expiration as an instant, if any timer is set.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let st = lock(&self.state);
        st.wheel.next_expiration().map(|t| st.wheel.instant_of(t))
    }

    /// Drops every stored waker without waking it, and stores none from
    /// now on. Entries stay until their owners drop them.
    pub(crate) fn shutdown(&self) {
        self.shut_down.store(true, Ordering::Relaxed);
        let wakers = lock(&self.state).wheel.take_wakers();
        drop(wakers);
    }
}
