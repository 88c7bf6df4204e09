//! Which reactor the calling thread uses.
//!
//! Net types and timers are made deep inside user code, which has no
//! reactor to pass around; like Go's runtime, gosched finds it from the
//! thread. Two places are looked at, in order:
//!
//! 1. A thread-local set by [`Reactor::enter`] (and by
//!    [`Reactor::block_on`]): tests, tools and foreign executors use it.
//! 2. The gosched runtime this thread works for: its driver, if it is a
//!    [`Reactor`].
//!
//! Outside both, [`Reactor::current`] panics with a message that says so.
//! The lookup runs once per socket or timer, never per operation: each
//! socket and timer keeps the handle it found.

use std::cell::RefCell;
use std::marker::PhantomData;

use super::Reactor;

thread_local! {
    /// The reactor entered on this thread, if any. Only this thread reads
    /// or writes it.
    static ENTERED: RefCell<Option<Reactor>> = const { RefCell::new(None) };
}

/// The panic of [`Reactor::current`]. It names what a program built on the
/// `gosched` crate calls, since nearly every reader of it uses that crate
/// (code on a foreign executor finds [`Reactor::enter`] in these docs).
pub(crate) const NO_REACTOR: &str = "gosched: sockets and timers need a gosched runtime, and \
     this thread has none: call them from a task, inside `gosched::run(..)` or \
     `Runtime::block_on(..)`, or after `Runtime::enter()` / `Handle::enter()`";

/// Restores the previously entered reactor when dropped; returned by
/// [`Reactor::enter`]. Not `Send`: it must drop on the thread that made it.
///
/// ```
/// use gosched::runtime::Reactor;
/// let outer = Reactor::new().unwrap();
/// let inner = Reactor::new().unwrap();
/// let _a = outer.enter();
/// {
///     let _b = inner.enter();
///     assert_eq!(Reactor::current().num_timers(), inner.num_timers());
/// } // `_b` dropped: `outer` is current again
/// assert!(Reactor::try_current().is_some());
/// ```
#[must_use = "the reactor is current only while the guard lives"]
#[derive(Debug)]
pub struct EnterGuard {
    prev: Option<Reactor>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = ENTERED.try_with(|e| *e.borrow_mut() = prev);
    }
}

impl Reactor {
    /// Makes this reactor the current one on this thread until the guard
    /// drops, so sockets and timers made here register with it.
    ///
    /// ```
    /// let reactor = gosched::runtime::Reactor::new().unwrap();
    /// let guard = reactor.enter();
    /// assert!(gosched::runtime::Reactor::try_current().is_some());
    /// drop(guard);
    /// ```
    pub fn enter(&self) -> EnterGuard {
        let prev = ENTERED.with(|e| e.borrow_mut().replace(self.clone()));
        EnterGuard {
            prev,
            _not_send: PhantomData,
        }
    }

    /// The current reactor, if any (see the module docs).
    ///
    /// ```
    /// assert!(gosched::runtime::Reactor::try_current().is_none());
    /// ```
    pub fn try_current() -> Option<Reactor> {
        if let Some(r) = ENTERED.try_with(|e| e.borrow().clone()).ok().flatten() {
            return Some(r);
        }
        gosched_executor::Handle::with_current(|h| {
            h?.driver()?.as_any().downcast_ref::<Reactor>().cloned()
        })
    }

    /// The current reactor.
    ///
    /// # Panics
    ///
    /// When called outside a gosched runtime and outside
    /// [`Reactor::enter`].
    ///
    /// ```
    /// let reactor = gosched::runtime::Reactor::new().unwrap();
    /// let _guard = reactor.enter();
    /// let _same = gosched::runtime::Reactor::current();
    /// ```
    #[track_caller]
    pub fn current() -> Reactor {
        match Reactor::try_current() {
            Some(r) => r,
            None => panic!("{NO_REACTOR}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_outside_a_runtime_panics_naming_what_a_gosched_user_calls() {
        let err = std::thread::spawn(Reactor::current).join().unwrap_err();
        let msg = err
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
            .expect("a text panic");
        assert_eq!(msg, NO_REACTOR);
        for name in ["gosched::run", "Runtime::enter", "Handle::enter"] {
            assert!(msg.contains(name), "{msg}");
        }
        assert!(!msg.contains("Reactor::enter"), "{msg}");
    }
}
