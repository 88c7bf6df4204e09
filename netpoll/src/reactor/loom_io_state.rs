//! Loom models of the readiness protocol (`io_state.rs`): an event stored
//! by the poller while a task clears stale readiness and registers its
//! waker is never lost, whether the task waits alone in its direction's
//! slot, behind another stream waiter, or among other listed waiters
//! (several acceptors of one listener). Run with
//! `RUSTFLAGS="--cfg gosched_loom" cargo test -p gosched-netpoll --lib --release loom`.

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::thread;
use std::sync::atomic::Ordering::SeqCst;

use super::io_state::{Direction, IoState, WaitKey, READABLE};

/// Counts its wakes.
struct CountingWaker(AtomicUsize);
impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// The task side of a read: observe readiness, "read" (succeeds only if
/// the producer published data), clear readiness on WouldBlock, and park.
/// Returns whether it read the data.
fn task_reads(state: &IoState, data: &AtomicBool, cx: &mut Context<'_>) -> bool {
    loop {
        match state.poll_ready(cx, Direction::Read) {
            Poll::Ready(ev) => {
                if data.load(SeqCst) {
                    return true;
                }
                // WouldBlock: forget what we saw, unless a newer event came.
                state.clear_readiness(ev);
            }
            Poll::Pending => return false,
        }
    }
}

#[test]
fn loom_an_event_racing_a_would_block_clear_is_never_lost() {
    loom::model(|| {
        let state = Arc::new(IoState::new());
        let data = Arc::new(AtomicBool::new(false));
        let producer = {
            let (state, data) = (state.clone(), data.clone());
            thread::spawn(move || {
                // The kernel queues data, then the poller stores the event
                // and wakes whoever waits.
                data.store(true, SeqCst);
                let mut wake = Vec::new();
                state.set_readiness(READABLE, &mut wake);
                for w in wake {
                    w.wake();
                }
            })
        };
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        let read = task_reads(&state, &data, &mut cx);
        producer.join().unwrap();
        // Either the task got the data, or it parked and was woken exactly
        // once: a parked task that nobody wakes is the bug.
        assert!(
            read || counter.0.load(SeqCst) == 1,
            "the task parked and the event that followed never woke it"
        );
    });
}

#[test]
fn loom_a_reader_and_a_writer_wait_on_one_socket_independently() {
    loom::model(|| {
        let state = Arc::new(IoState::new());
        // Both directions drained (a WouldBlock each), then both park.
        let reader = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let writer = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let rw = Waker::from(reader.clone());
        let ww = Waker::from(writer.clone());
        for (d, w) in [(Direction::Read, &rw), (Direction::Write, &ww)] {
            let mut cx = Context::from_waker(w);
            if let Poll::Ready(ev) = state.poll_ready(&mut cx, d) {
                state.clear_readiness(ev);
            }
            assert!(state.poll_ready(&mut cx, d).is_pending());
        }
        let poller = {
            let state = state.clone();
            thread::spawn(move || {
                let mut wake = Vec::new();
                state.set_readiness(READABLE, &mut wake);
                for w in wake {
                    w.wake();
                }
            })
        };
        poller.join().unwrap();
        assert_eq!(reader.0.load(SeqCst), 1, "the reader was woken once");
        assert_eq!(writer.0.load(SeqCst), 0, "the writer was not");
    });
}

/// One acceptor of a shared listener, waiting in a wait-list entry: take a
/// connection if readiness says there may be one (`conns` counts the
/// connections queued), clear readiness on WouldBlock, park otherwise.
/// Returns whether it accepted.
fn acceptor_accepts(
    state: &IoState,
    conns: &AtomicUsize,
    key: &mut WaitKey,
    cx: &mut Context<'_>,
) -> bool {
    loop {
        match state.poll_ready_listed(cx, Direction::Read, key) {
            Poll::Ready(ev) => {
                let took = conns
                    .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if took {
                    return true;
                }
                state.clear_readiness(ev);
            }
            Poll::Pending => return false,
        }
    }
}

/// Fires one event for `conns` connections: the kernel queues them, then
/// the poller stores the readiness and wakes whoever waits.
fn connections_arrive(state: &IoState, conns: &AtomicUsize, n: usize) {
    conns.fetch_add(n, SeqCst);
    let mut wake = Vec::new();
    state.set_readiness(READABLE, &mut wake);
    for w in wake {
        w.wake();
    }
}

#[test]
fn loom_two_listed_acceptors_racing_one_event_for_two_connections_both_accept() {
    loom::model(|| {
        let state = Arc::new(IoState::new());
        let conns = Arc::new(AtomicUsize::new(0));
        let poller = {
            let (state, conns) = (state.clone(), conns.clone());
            thread::spawn(move || connections_arrive(&state, &conns, 2))
        };
        let other = {
            let (state, conns) = (state.clone(), conns.clone());
            thread::spawn(move || {
                let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
                let waker = Waker::from(counter.clone());
                let mut key = WaitKey::default();
                let got =
                    acceptor_accepts(&state, &conns, &mut key, &mut Context::from_waker(&waker));
                (got, key, counter)
            })
        };
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut key = WaitKey::default();
        let got = acceptor_accepts(&state, &conns, &mut key, &mut Context::from_waker(&waker));
        let (other_got, mut other_key, other_counter) = other.join().unwrap();
        poller.join().unwrap();
        // Every acceptor that parked must have been woken; a woken one
        // polls again (its task would), and must then find a connection.
        let mut accepted = 0;
        for (got, key, counter) in [
            (got, &mut key, &counter),
            (other_got, &mut other_key, &other_counter),
        ] {
            if got {
                accepted += 1;
                continue;
            }
            assert!(
                counter.0.load(SeqCst) >= 1,
                "an acceptor parked and the event that followed never woke it"
            );
            let waker = Waker::from(counter.clone());
            if acceptor_accepts(&state, &conns, key, &mut Context::from_waker(&waker)) {
                accepted += 1;
            }
        }
        assert_eq!(accepted, 2, "both connections accepted");
        state.release(Direction::Read, &mut key);
        state.release(Direction::Read, &mut other_key);
    });
}

#[test]
fn loom_a_cancelled_listed_waiter_racing_an_event_never_costs_the_other_its_wake() {
    loom::model(|| {
        let state = Arc::new(IoState::new());
        let conns = Arc::new(AtomicUsize::new(0));
        // Both acceptors drained the optimistic readiness and parked.
        let stays = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let leaves = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let (ws, wl) = (Waker::from(stays.clone()), Waker::from(leaves.clone()));
        let (mut ks, mut kl) = (WaitKey::default(), WaitKey::default());
        assert!(!acceptor_accepts(
            &state,
            &conns,
            &mut ks,
            &mut Context::from_waker(&ws)
        ));
        assert!(!acceptor_accepts(
            &state,
            &conns,
            &mut kl,
            &mut Context::from_waker(&wl)
        ));
        let poller = {
            let (state, conns) = (state.clone(), conns.clone());
            thread::spawn(move || connections_arrive(&state, &conns, 1))
        };
        // One accept future is dropped while the connection arrives.
        state.release(Direction::Read, &mut kl);
        poller.join().unwrap();
        assert_eq!(
            stays.0.load(SeqCst),
            1,
            "the remaining acceptor was woken once"
        );
        assert!(leaves.0.load(SeqCst) <= 1);
        assert!(acceptor_accepts(
            &state,
            &conns,
            &mut ks,
            &mut Context::from_waker(&ws)
        ));
        state.release(Direction::Read, &mut ks);
    });
}

#[test]
fn loom_two_stream_waiters_on_one_slot_are_both_woken_by_one_event() {
    loom::model(|| {
        let state = Arc::new(IoState::new());
        let data = Arc::new(AtomicBool::new(false));
        let poller = {
            let (state, data) = (state.clone(), data.clone());
            thread::spawn(move || {
                data.store(true, SeqCst);
                let mut wake = Vec::new();
                state.set_readiness(READABLE, &mut wake);
                for w in wake {
                    w.wake();
                }
            })
        };
        let other = {
            let (state, data) = (state.clone(), data.clone());
            thread::spawn(move || {
                let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
                let waker = Waker::from(counter.clone());
                let read = task_reads(&state, &data, &mut Context::from_waker(&waker));
                (read, counter)
            })
        };
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let read = task_reads(&state, &data, &mut Context::from_waker(&waker));
        let (other_read, other_counter) = other.join().unwrap();
        poller.join().unwrap();
        let other_ok = other_read || other_counter.0.load(SeqCst) >= 1;
        assert!(
            read || counter.0.load(SeqCst) >= 1,
            "the first reader parked and was never woken"
        );
        assert!(other_ok, "the second reader parked and was never woken");
    });
}
