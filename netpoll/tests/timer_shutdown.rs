//! Timers polled after their runtime was dropped fail fast: the runtime's
//! driver is gone, nothing would ever fire them, so `Sleep`, `Timeout` and
//! `Interval` panic with a message that says so instead of hanging. A
//! socket wait in progress on a plain thread ends with an error.

mod common;

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use gosched_netpoll::time;

/// A generous hang guard: without the fix these tests hang forever.
const HANG: Duration = Duration::from_secs(60);

/// What the panic says.
const MESSAGE: &str = "gosched: the runtime's timer driver has shut down";

/// Runs `f`, which must panic, and returns the panic's message.
fn panic_message_of<R>(f: impl FnOnce() -> R) -> String {
    let err = match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(_) => panic!("expected a panic"),
        Err(e) => e,
    };
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .expect("a string panic")
}

#[test]
fn handle_block_on_a_sleep_after_its_runtime_was_dropped_panics_with_a_clear_message() {
    let (rt, _reactor) = common::runtime(1);
    let handle = rt.handle().clone();
    drop(rt);
    let msg = common::hang_guard(HANG, move || {
        panic_message_of(|| handle.block_on(async { time::sleep(Duration::from_millis(10)).await }))
    });
    assert!(msg.contains(MESSAGE), "{msg}");
}

#[test]
fn handle_block_on_a_timeout_or_interval_after_its_runtime_was_dropped_panics() {
    let (rt, _reactor) = common::runtime(1);
    let handle = rt.handle().clone();
    drop(rt);
    let msgs = common::hang_guard(HANG, move || {
        let timeout = panic_message_of(|| {
            handle.block_on(async {
                time::timeout(Duration::from_millis(10), futures::future::pending::<()>()).await
            })
        });
        let interval = panic_message_of(|| {
            handle.block_on(async {
                let mut iv = time::interval(Duration::from_millis(10));
                iv.tick().await;
                iv.tick().await
            })
        });
        [timeout, interval]
    });
    for msg in msgs {
        assert!(msg.contains(MESSAGE), "{msg}");
    }
}

#[test]
fn a_sleep_waiting_in_handle_block_on_when_its_runtime_drops_panics() {
    let (rt, reactor) = common::runtime(1);
    let handle = rt.handle().clone();
    let waiter = std::thread::spawn(move || {
        panic_message_of(|| handle.block_on(async { time::sleep(Duration::from_secs(3600)).await }))
    });
    // Wait (bounded) until the sleep has its entry in the wheel.
    let deadline = Instant::now() + HANG;
    while reactor.num_timers() == 0 {
        assert!(Instant::now() < deadline, "the sleep never registered");
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(rt);
    let msg = common::hang_guard(HANG, move || waiter.join().unwrap());
    assert!(msg.contains(MESSAGE), "{msg}");
}

#[test]
fn a_socket_read_waiting_in_handle_block_on_when_its_runtime_drops_fails() {
    use futures::AsyncReadExt;
    let (rt, reactor) = common::runtime(1);
    let handle = rt.handle().clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let waiter = std::thread::spawn(move || {
        handle.block_on(async move {
            let mut s = gosched_netpoll::net::TcpStream::connect(addr).await?;
            let mut buf = [0u8; 8];
            s.read(&mut buf).await
        })
    });
    let (_peer, _) = listener.accept().unwrap();
    // Wait (bounded) until the read has parked with its socket registered.
    let deadline = Instant::now() + HANG;
    while reactor.num_registrations() == 0 {
        assert!(Instant::now() < deadline, "the socket never registered");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(20));
    drop(rt);
    let res = common::hang_guard(HANG, move || waiter.join().unwrap());
    let err = res.expect_err("the peer sent nothing: only shutdown ends the read");
    assert!(err.to_string().contains("shut down"), "{err}");
}
