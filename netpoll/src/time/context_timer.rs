//! Context deadlines on the timer wheel: [`ContextTimer`], the
//! [`gosched_sync::context::Timer`] that the `gosched` crate installs.
//!
//! `gosched-sync` depends on no timer (it must not depend on this crate),
//! so a Context deadline goes through the hook it offers
//! ([`gosched_sync::context::set_timer`]). This implementation makes each
//! deadline a callback entry ([`Action::Call`]) in the wheel of the
//! current reactor, fired by the thread that turns the wheel, like every
//! other timer: no thread of its own. Cancelling or dropping the context
//! frees the entry. Outside any runtime or reactor, or on a reactor that
//! has shut down, it hands the deadline to sync's std timer thread
//! ([`gosched_sync::context::thread_timer`]), so a deadline always fires.
//!
//! Its clock ([`Timer::now`]) is [`crate::time::now`], so a paused test
//! clock moves Context deadlines too.

use std::time::Instant;

use gosched_sync::context::{set_timer, thread_timer, Timer, TimerEntry};

use super::action::Action;
use crate::reactor::Reactor;

/// Runs Context deadlines on the current reactor's timer wheel (module
/// docs).
///
/// ```
/// use std::time::Duration;
/// use gosched::sync::context::{Context, ContextError};
/// gosched::time::ContextTimer::install();
/// let reactor = gosched::runtime::Reactor::new().unwrap();
/// reactor.block_on(async {
///     let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(1));
///     assert_eq!(reactor.num_timers(), 1, "the deadline is a wheel entry");
///     ctx.done().await;
///     assert_eq!(ctx.err(), Some(ContextError::DeadlineExceeded));
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ContextTimer;

/// The one instance [`ContextTimer::install`] installs.
static CONTEXT_TIMER: ContextTimer = ContextTimer;

impl ContextTimer {
    /// Installs the wheel as the timer of every Context deadline made from
    /// now on. True when this call installed it; false when a timer was
    /// installed already (this one, or another).
    ///
    /// ```
    /// gosched::time::ContextTimer::install();
    /// assert!(!gosched::time::ContextTimer::install(), "once");
    /// ```
    pub fn install() -> bool {
        set_timer(&CONTEXT_TIMER)
    }
}

impl Timer for ContextTimer {
    fn schedule(&self, deadline: Instant, fire: Box<dyn FnOnce() + Send>) -> TimerEntry {
        let Some(reactor) = Reactor::try_current() else {
            return thread_timer().schedule(deadline, fire);
        };
        match reactor.try_schedule(deadline, Action::Call(fire)) {
            Ok(Some(key)) => TimerEntry::new(move || {
                reactor.cancel_timer(key);
            }),
            // The deadline had passed: the callback ran.
            Ok(None) => TimerEntry::fired(),
            Err(Action::Call(fire)) => thread_timer().schedule(deadline, fire),
            Err(_) => unreachable!("the action given back is the one passed in"),
        }
    }

    fn now(&self) -> Instant {
        super::now()
    }
}
