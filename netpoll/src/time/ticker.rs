//! Go's periodic channel timers: [`tick`] and [`Ticker`].
//!
//! A ticker is one wheel entry whose action (`action.rs`) sends the fire
//! time into a channel of capacity 1 and re-files the entry one period
//! on; the thread that turns the wheel does both, so a ticker costs no
//! task and no thread. A receiver that falls behind finds one tick waiting
//! and the rest dropped, and the next tick keeps the original schedule
//! (the periods it missed are skipped), as Go's ticker does.
//!
//! # A zero period
//!
//! Go panics for a non-positive ticker period in `NewTicker` and `Reset`,
//! and so do [`Ticker::new`], [`Ticker::reset`] and [`tick`] (Go's `Tick`
//! returns a nil channel instead; a channel that never receives is a hang
//! waiting to happen, and [`crate::time::interval`] panics on zero too).
//!
//! # Freeing the entry
//!
//! A [`Ticker`] frees its entry when stopped or dropped. [`tick`] returns
//! the channel alone: its entry is freed at the first tick after the
//! receiver was dropped (the send finds nobody to receive).

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gosched_sync::chan;

use super::action::Action;
use super::sleep::far_deadline;
use super::wheel::TimerKey;
use crate::loom::lock_std as lock;
use crate::reactor::Reactor;

/// Sends the current time on the returned channel every `period` (Go's
/// `time.Tick`). The channel holds one tick; a slow receiver misses the
/// others. The timer stops at the first tick after the receiver is
/// dropped.
///
/// # Panics
///
/// When `period` is zero (module docs), and outside a gosched runtime and
/// outside [`Reactor::enter`].
///
/// ```
/// use std::time::Duration;
/// gosched::run(async {
///     let ticks = gosched::time::tick(Duration::from_millis(1));
///     let first = ticks.recv().await.unwrap();
///     let second = ticks.recv().await.unwrap();
///     assert!(second > first);
/// });
/// ```
#[track_caller]
pub fn tick(period: Duration) -> chan::Receiver<Instant> {
    let period_ns = period_ns(period);
    let reactor = Reactor::current();
    let (tx, rx) = chan::bounded(1);
    let deadline = far_deadline(reactor.now(), period);
    reactor.schedule(deadline, Action::Tick { tx, period_ns });
    rx
}

/// The period in nanoseconds, for the wheel.
///
/// # Panics
///
/// When `period` is zero (module docs).
#[track_caller]
fn period_ns(period: Duration) -> u64 {
    assert!(
        !period.is_zero(),
        "gosched: a ticker's period must be positive (Go's NewTicker panics too)"
    );
    u64::try_from(period.as_nanos()).unwrap_or(u64::MAX)
}

/// A ticker (Go's `time.Ticker`): sends the current time on [`Ticker::c`]
/// every period, dropping ticks for a slow receiver. Dropping it stops it
/// and frees its wheel entry.
///
/// Its methods take `&self`, so one task may wait on the channel while
/// another stops or resets the ticker, as in Go.
///
/// ```
/// use std::time::Duration;
/// use gosched::time::Ticker;
/// gosched::run(async {
///     let ticker = Ticker::new(Duration::from_millis(1));
///     for _ in 0..3 {
///         ticker.c().recv().await.unwrap();
///     }
///     ticker.stop();
/// });
/// ```
pub struct Ticker {
    c: chan::Receiver<Instant>,
    /// Keeps the channel open while the ticker lives (Go's never closes);
    /// the wheel entry holds a clone.
    tx: chan::Sender<Instant>,
    reactor: Reactor,
    /// The wheel entry; `None` once stopped.
    key: Mutex<Option<TimerKey>>,
}

impl Ticker {
    /// A ticker whose first tick comes `period` from now (Go's
    /// `time.NewTicker`).
    ///
    /// # Panics
    ///
    /// When `period` is zero (module docs), and outside a gosched runtime
    /// and outside [`Reactor::enter`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let reactor = gosched::runtime::Reactor::new().unwrap();
    /// let _enter = reactor.enter();
    /// let t = gosched::time::Ticker::new(Duration::from_secs(1));
    /// assert_eq!(reactor.num_timers(), 1);
    /// drop(t);
    /// assert_eq!(reactor.num_timers(), 0);
    /// ```
    #[track_caller]
    pub fn new(period: Duration) -> Ticker {
        let period_ns = period_ns(period);
        let (tx, c) = chan::bounded(1);
        let ticker = Ticker {
            c,
            tx,
            reactor: Reactor::current(),
            key: Mutex::new(None),
        };
        *lock(&ticker.key) = ticker.arm(period, period_ns);
        ticker
    }

    fn arm(&self, period: Duration, period_ns: u64) -> Option<TimerKey> {
        let deadline = far_deadline(self.reactor.now(), period);
        let tx = self.tx.clone();
        self.reactor
            .schedule(deadline, Action::Tick { tx, period_ns })
    }

    /// The channel ticks are sent on (Go's `t.C`).
    ///
    /// ```
    /// use std::time::Duration;
    /// gosched::run(async {
    ///     let t = gosched::time::Ticker::new(Duration::from_millis(1));
    ///     assert!(t.c().recv().await.is_some());
    /// });
    /// ```
    pub fn c(&self) -> &chan::Receiver<Instant> {
        &self.c
    }

    /// Stops the ticker: no later period sends a tick. A tick already in
    /// the channel stays there (Go's `Stop` does not drain either), and one
    /// the wheel was firing as `stop` ran may still land.
    ///
    /// ```
    /// use std::time::Duration;
    /// let reactor = gosched::runtime::Reactor::new().unwrap();
    /// let _enter = reactor.enter();
    /// let t = gosched::time::Ticker::new(Duration::from_secs(1));
    /// t.stop();
    /// assert_eq!(reactor.num_timers(), 0);
    /// ```
    pub fn stop(&self) {
        if let Some(k) = lock(&self.key).take() {
            self.reactor.cancel_timer(k);
        }
    }

    /// Stops the ticker and restarts it with a new `period`, the next tick
    /// `period` from now (Go's `Reset`).
    ///
    /// # Panics
    ///
    /// When `period` is zero (module docs).
    ///
    /// ```
    /// use std::time::Duration;
    /// gosched::run(async {
    ///     let t = gosched::time::Ticker::new(Duration::from_secs(3600));
    ///     t.reset(Duration::from_millis(1));
    ///     t.c().recv().await.unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn reset(&self, period: Duration) {
        let period_ns = period_ns(period);
        let mut key = lock(&self.key);
        if let Some(k) = key.take() {
            self.reactor.cancel_timer(k);
        }
        *key = self.arm(period, period_ns);
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop();
    }
}

impl fmt::Debug for Ticker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticker").finish_non_exhaustive()
    }
}
