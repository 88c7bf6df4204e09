//! What a wheel entry does when it fires.
//!
//! Every timer of a reactor is one entry in its wheel (`wheel.rs`), and
//! the thread that turns the wheel fires it: no task and no thread per
//! timer. A sleep wants its task woken; Go's channel timers want a value
//! sent; a ticker wants that and to come round again; a Context deadline
//! and `after_func` want a callback run. One enum, [`Action`], carries
//! each, and the wheel treats an entry according to its action:
//!
//! | action | on firing | the entry afterwards |
//! |---|---|---|
//! | [`Action::Wake`] (`Sleep`) | wake the task | kept, marked fired, until the sleep sees the mark and frees it |
//! | [`Action::Send`] (`after`, `Timer`) | `try_send` the fire time | freed at once (one-shot) |
//! | [`Action::Tick`] (`tick`, `Ticker`) | `try_send` the fire time | re-filed one period on, skipping periods already past |
//! | [`Action::Call`] (Context deadlines, `after_func`) | run the callback on the firing thread | freed at once (one-shot) |
//!
//! The wheel only decides the entry's fate under its lock; what the
//! action does is a [`Fire`] run after the lock is dropped
//! (`driver::Timers::fire`), because waking a task, sending on a channel
//! or running a callback may run arbitrary code, including code that sets
//! or stops timers on the same wheel.
//!
//! A send never blocks: a channel timer's channel has room for one value
//! and a value that finds it full is dropped, as Go drops the ticks a slow
//! receiver misses.

use std::fmt;
use std::task::Waker;
use std::time::Instant;

use gosched_sync::chan::{self, TrySendError};

use super::wheel::TimerKey;

/// A callback run on the thread that fires the timer.
pub(crate) type Callback = Box<dyn FnOnce() + Send>;

/// What an entry does when it fires (module docs).
pub(crate) enum Action {
    /// Wake a sleeping task. `None` once the waker was taken (fired, or
    /// taken at shutdown).
    Wake(Option<Waker>),
    /// Send the fire time once.
    Send(chan::Sender<Instant>),
    /// Send the fire time every `period_ns` nanoseconds.
    Tick {
        /// The ticker's channel.
        tx: chan::Sender<Instant>,
        /// The period, at least 1 ns.
        period_ns: u64,
    },
    /// Run a callback once.
    Call(Callback),
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Wake(w) => f.debug_tuple("Wake").field(&w.is_some()).finish(),
            Action::Send(_) => f.write_str("Send"),
            Action::Tick { period_ns, .. } => f
                .debug_struct("Tick")
                .field("period_ns", period_ns)
                .finish(),
            Action::Call(_) => f.write_str("Call"),
        }
    }
}

/// The part of a fired action that runs outside the wheel lock.
pub(crate) enum Fire {
    /// Wake this task.
    Wake(Waker),
    /// Send the fire time, then drop the sender (a one-shot timer's).
    Send(chan::Sender<Instant>),
    /// Send the fire time on a ticker's channel; `key` is its entry, freed
    /// if nobody can receive any more (the receiver of `tick` dropped).
    Tick(chan::Sender<Instant>, TimerKey),
    /// Run the callback.
    Call(Callback),
}

impl Fire {
    /// Runs the action; `now` is the time the wheel fired at. Returns the
    /// key of a ticker entry whose channel has no receiver left, for the
    /// caller to free.
    pub(crate) fn run(self, now: Instant) -> Option<TimerKey> {
        match self {
            Fire::Wake(w) => w.wake(),
            // A full channel drops the value (module docs); a closed one
            // has nobody to tell.
            Fire::Send(tx) => drop(tx.try_send(now)),
            Fire::Tick(tx, key) => {
                if let Err(TrySendError::Closed(_)) = tx.try_send(now) {
                    return Some(key);
                }
            }
            Fire::Call(f) => f(),
        }
        None
    }
}
