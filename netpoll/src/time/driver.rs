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
//! 4. When the runtime drops, its driver shuts the timers down
//!    ([`Timers::shutdown`]): every stored waker is woken, and every later
//!    `insert` or `poll` answers [`ShutDown`], which `Sleep` turns into a
//!    panic that says so. A future still waiting on a timer outside the
//!    runtime (`Handle::block_on` on another thread) fails at once instead
//!    of sleeping forever.
//!
//! Counts are kept in an atomic so `Driver::has_waiters` reads them without
//! taking the lock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::Waker;
use std::time::{Duration, Instant};

use super::wheel::{Fired, TimerKey, Wheel};
use crate::loom::lock_std as lock;

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
}

impl Timers {
    /// No timers; tick 0 is now.
    pub(crate) fn new() -> Timers {
        Timers {
            state: Mutex::new(State {
                wheel: Wheel::new(Instant::now()),
                poller_tick: None,
                shut_down: false,
            }),
            len: AtomicUsize::new(0),
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
        if tick <= st.wheel.elapsed() + 1 && deadline <= Instant::now() {
            return Inserted::Expired;
        }
        let Some((key, tick)) = st.wheel.insert_at(tick, ns, waker.clone()) else {
            return Inserted::Expired;
        };
        self.len.store(st.wheel.len(), Ordering::Relaxed);
        let unpark = st.poller_tick.is_some_and(|p| tick < p);
        Inserted::Set { key, unpark }
    }

    /// Whether the timer fired; if not, `waker` is the one it will wake.
    /// After shutdown, [`ShutDown`]: the timer will never fire.
    pub(crate) fn poll(&self, key: TimerKey, waker: &Waker) -> Result<bool, ShutDown> {
        let mut st = lock(&self.state);
        if st.shut_down {
            return Err(ShutDown);
        }
        Ok(st.wheel.poll(key, waker))
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
            // A timeout too long to add to `now` is no timeout at all.
            Some(d) => now
                .checked_add(d)
                .map_or(u64::MAX, |t| st.wheel.tick_for(t)),
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
    pub(crate) fn shutdown(&self) {
        let wakers = {
            let mut st = lock(&self.state);
            st.shut_down = true;
            st.wheel.take_wakers()
        };
        // Woken outside the lock: a wake may run arbitrary code.
        for w in wakers {
            w.wake();
        }
    }
}

#[cfg(all(test, not(gosched_loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_park_timeout_of_duration_max_does_not_overflow() {
        let timers = Timers::new();
        assert_eq!(
            timers.park_timeout(Some(Duration::MAX)),
            Some(Duration::MAX)
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
