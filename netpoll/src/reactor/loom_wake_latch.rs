//! Loom models of the wake latch (`wake_latch.rs`): an unpark meant for
//! the M about to block in the poller is never eaten by a non-blocking
//! poll. Run with
//! `RUSTFLAGS="--cfg gosched_loom" cargo test -p gosched-netpoll --lib --release loom`.
//!
//! The eventfd is modelled as a flag under a loom mutex with a condvar:
//! a write sets it and notifies; `epoll_wait` with a zero timeout takes it
//! without waiting; a blocking `epoll_wait` waits for it. A lost wake-up
//! leaves the blocking poller waiting with nobody left to write, which
//! loom reports as a deadlock.

use std::sync::Arc;

use loom::sync::{Condvar, Mutex};
use loom::thread;

use super::wake_latch::WakeLatch;

/// The epoll instance with the eventfd registered in it.
struct Epoll {
    /// An eventfd edge not yet reported by `epoll_wait`.
    edge: Mutex<bool>,
    cv: Condvar,
}

impl Epoll {
    fn new() -> Epoll {
        Epoll {
            edge: Mutex::new(false),
            cv: Condvar::new(),
        }
    }

    /// `mio::Waker::wake`: an eventfd write.
    fn write(&self) {
        *self.edge.lock().unwrap() = true;
        self.cv.notify_all();
    }

    /// `epoll_wait(0)`: reports (and so consumes) a pending edge.
    fn poll_zero(&self) {
        *self.edge.lock().unwrap() = false;
    }

    /// `epoll_wait(-1)` with nothing else registered: sleeps until an edge.
    fn poll_forever(&self) {
        let mut edge = self.edge.lock().unwrap();
        while !*edge {
            edge = self.cv.wait(edge).unwrap();
        }
        *edge = false;
    }
}

/// The reactor's pieces: the latch, the eventfd, the poller lock.
struct Model {
    latch: WakeLatch,
    epoll: Epoll,
    poller: Mutex<()>,
}

impl Model {
    fn new() -> Arc<Model> {
        Arc::new(Model {
            latch: WakeLatch::new(),
            epoll: Epoll::new(),
            poller: Mutex::new(()),
        })
    }

    /// `Driver::unpark`.
    fn unpark(&self) {
        if self.latch.set() {
            self.epoll.write();
        }
    }

    /// `Driver::park(None)`: a blocking turn.
    fn park(&self) {
        let _poller = self.poller.lock().unwrap();
        if self.latch.take() {
            self.epoll.poll_zero();
        } else {
            self.epoll.poll_forever();
        }
    }

    /// `Driver::poll_nonblocking`: try-locks the poller and polls with a
    /// zero timeout, leaving the latch alone.
    fn poll_nonblocking(&self) {
        if let Ok(_poller) = self.poller.try_lock() {
            self.epoll.poll_zero();
        }
    }
}

#[test]
fn loom_a_non_blocking_poll_never_eats_the_wake_of_the_m_about_to_park() {
    loom::model(|| {
        let m = Model::new();
        let parker = {
            let m = m.clone();
            thread::spawn(move || m.park())
        };
        let busy = {
            let m = m.clone();
            thread::spawn(move || m.poll_nonblocking())
        };
        m.unpark();
        busy.join().unwrap();
        parker.join().unwrap();
    });
}

#[test]
fn loom_two_unparks_and_two_parks_around_non_blocking_polls_all_return() {
    loom::model(|| {
        let m = Model::new();
        let unparker = {
            let m = m.clone();
            thread::spawn(move || {
                m.unpark();
                m.poll_nonblocking();
                m.unpark();
            })
        };
        // The same M parks twice; each park is owed one unpark at most,
        // and the second unpark may land before the first park, in which
        // case the latch carries a single wake-up: so the second park must
        // only run once the unparker is done.
        m.park();
        unparker.join().unwrap();
        m.poll_nonblocking();
        m.unpark();
        m.park();
    });
}

/// The rule this file defends, broken on purpose: a non-blocking poll
/// that also consumes the latch (as the reactor once did) strands the
/// parker, and loom finds the interleaving.
#[test]
#[should_panic(expected = "deadlock")]
fn loom_a_non_blocking_poll_that_consumes_the_latch_strands_the_parker() {
    loom::model(|| {
        let m = Model::new();
        let parker = {
            let m = m.clone();
            thread::spawn(move || m.park())
        };
        let busy = {
            let m = m.clone();
            thread::spawn(move || {
                if let Ok(_poller) = m.poller.try_lock() {
                    let _ = m.latch.take();
                    m.epoll.poll_zero();
                }
            })
        };
        m.unpark();
        busy.join().unwrap();
        parker.join().unwrap();
    });
}
