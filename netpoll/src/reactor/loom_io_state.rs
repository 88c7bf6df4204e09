//! Loom models of the readiness protocol (`io_state.rs`): an event stored
//! by the poller while a task clears stale readiness and registers its
//! waker is never lost. Run with
//! `RUSTFLAGS="--cfg gosched_loom" cargo test -p gosched-netpoll --lib --release loom`.

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::thread;
use std::sync::atomic::Ordering::SeqCst;

use super::io_state::{Direction, IoState, READABLE};

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
