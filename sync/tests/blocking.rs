//! The blocking forms for plain threads: `send_blocking`, `recv_blocking`,
//! `recv_timeout`, `blocking_lock`, `oneshot::Receiver::blocking_recv`,
//! `wait_blocking`; and their refusal on a runtime worker thread.
#![cfg(not(gosched_loom))]

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use gosched_executor::{block_in_place, spawn, Runtime};
use gosched_sync::chan::{self, RecvTimeoutError, TryRecvError};
use gosched_sync::{oneshot, Mutex, WaitGroup};

fn rt() -> Runtime {
    Runtime::builder().procs(2).build().unwrap()
}

#[test]
fn plain_thread_round_trips_1000_values_through_a_task() {
    let rt = rt();
    let (req_tx, req_rx) = chan::bounded::<u64>(0);
    let (resp_tx, resp_rx) = chan::bounded::<u64>(0);
    rt.spawn(async move {
        while let Some(v) = req_rx.recv().await {
            resp_tx.send(v * 2).await.unwrap();
        }
    });
    let client = thread::spawn(move || {
        let mut sum = 0;
        for i in 0..1_000 {
            req_tx.send_blocking(i).unwrap();
            sum += resp_rx.recv_blocking().unwrap();
        }
        drop(req_tx);
        // The task ends, dropping its sender: the reply channel closes.
        assert_eq!(resp_rx.recv_blocking(), None);
        sum
    });
    assert_eq!(client.join().unwrap(), 999 * 1_000);
}

#[test]
fn plain_threads_send_and_receive_among_themselves_on_every_flavor() {
    for (tx, rx) in [chan::bounded::<u32>(0), chan::bounded(4), chan::unbounded()] {
        let producers: Vec<_> = (0..3)
            .map(|p| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for i in 0..500 {
                        tx.send_blocking(p * 500 + i).unwrap();
                    }
                })
            })
            .collect();
        drop(tx);
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Some(v) = rx.recv_blocking() {
                        got.push(v);
                    }
                    got
                })
            })
            .collect();
        producers.into_iter().for_each(|t| t.join().unwrap());
        let mut all: Vec<u32> = consumers
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..1_500).collect::<Vec<_>>());
    }
}

#[test]
fn send_blocking_on_a_closed_channel_returns_the_value() {
    let (tx, rx) = chan::bounded::<String>(0);
    drop(rx);
    let err = tx.send_blocking("kept".to_string()).unwrap_err();
    assert_eq!(err.into_inner(), "kept");
}

#[test]
fn recv_timeout_times_out_on_an_empty_channel_and_takes_nothing() {
    let (tx, rx) = chan::bounded::<u32>(0);
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(10)),
        Err(RecvTimeoutError::Timeout)
    );
    // The timed-out receive left nothing parked: an unbuffered try_send
    // finds no receiver.
    assert!(tx.try_send(1).unwrap_err().is_full());
    let (btx, brx) = chan::bounded::<u32>(1);
    assert!(brx.recv_timeout(Duration::ZERO).unwrap_err().is_timeout());
    btx.try_send(2).unwrap();
    assert_eq!(brx.try_recv(), Ok(2), "the timed-out receive took nothing");
}

#[test]
fn recv_timeout_returns_a_value_that_arrives_in_time() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        tx.send_blocking(4).unwrap();
    });
    // Generous: a hang guard, not a timing assertion.
    assert_eq!(rx.recv_timeout(Duration::from_secs(60)), Ok(4));
    sender.join().unwrap();
}

#[test]
fn recv_timeout_reports_a_close_as_closed_not_timeout() {
    let (tx, rx) = chan::bounded::<u32>(1);
    tx.try_send(1).unwrap();
    let closer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        drop(tx);
    });
    assert_eq!(rx.recv_timeout(Duration::from_secs(60)), Ok(1));
    let err = rx.recv_timeout(Duration::from_secs(60)).unwrap_err();
    assert_eq!(err, RecvTimeoutError::Closed);
    assert!(err.is_closed());
    closer.join().unwrap();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn blocking_lock_from_threads_and_lock_from_tasks_lose_no_update() {
    let rt = rt();
    let m = Arc::new(Mutex::new(0u64));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let m = m.clone();
            rt.spawn(async move {
                for _ in 0..500 {
                    *m.lock().await += 1;
                }
            })
        })
        .collect();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let m = m.clone();
            thread::spawn(move || {
                for _ in 0..500 {
                    *m.blocking_lock() += 1;
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    for t in tasks {
        rt.block_on(t).unwrap();
    }
    assert_eq!(*m.blocking_lock(), 4_000);
}

#[test]
fn oneshot_blocking_recv_gets_the_value_or_an_error_when_the_sender_drops() {
    let rt = rt();
    let (tx, rx) = oneshot::channel::<&str>();
    rt.spawn(async move { tx.send("from a task").unwrap() });
    assert_eq!(rx.blocking_recv(), Ok("from a task"));
    let (tx, rx) = oneshot::channel::<&str>();
    let dropper = thread::spawn(move || {
        thread::sleep(Duration::from_millis(5));
        drop(tx);
    });
    assert!(rx.blocking_recv().is_err());
    dropper.join().unwrap();
}

#[test]
fn wait_blocking_returns_after_every_task_is_done() {
    let rt = rt();
    let wg = WaitGroup::new();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for _ in 0..8 {
        let (token, done) = (wg.token(), done.clone());
        rt.spawn(async move {
            gosched_executor::yield_now().await;
            done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            drop(token);
        });
    }
    wg.wait_blocking();
    assert_eq!(done.load(std::sync::atomic::Ordering::Relaxed), 8);
}

/// Runs `f` in a task and returns its panic message.
fn panic_in_a_task(f: impl FnOnce() + Send + 'static) -> String {
    let rt = rt();
    let err = rt
        .block_on(spawn(async move { f() }))
        .expect_err("the blocking call did not panic on a worker");
    let payload = err.into_panic();
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .expect("a text panic")
}

#[test]
fn every_blocking_form_panics_on_a_worker_thread_naming_what_to_use() {
    let (tx, rx) = chan::bounded::<u32>(1);
    let (tx2, rx2) = (tx.clone(), rx.clone());
    let msg = panic_in_a_task(move || {
        let _ = tx2.send_blocking(1);
    });
    assert!(msg.contains("Sender::send_blocking"), "{msg}");
    assert!(msg.contains("`.send(v).await`"), "{msg}");
    assert!(msg.contains("gosched::block_in_place"), "{msg}");
    let msg = panic_in_a_task(move || {
        let _ = rx2.recv_blocking();
    });
    assert!(
        msg.contains("Receiver::recv_blocking") && msg.contains("`.recv().await`"),
        "{msg}"
    );
    let rx3 = rx.clone();
    let msg = panic_in_a_task(move || {
        let _ = rx3.recv_timeout(Duration::from_secs(1));
    });
    assert!(
        msg.contains("Receiver::recv_timeout") && msg.contains("select!"),
        "{msg}"
    );
    let m = Arc::new(Mutex::new(()));
    let m2 = m.clone();
    let msg = panic_in_a_task(move || drop(m2.blocking_lock()));
    assert!(
        msg.contains("Mutex::blocking_lock") && msg.contains("`.lock().await`"),
        "{msg}"
    );
    let (_otx, orx) = oneshot::channel::<u32>();
    let msg = panic_in_a_task(move || {
        let _ = orx.blocking_recv();
    });
    assert!(msg.contains("oneshot::Receiver::blocking_recv"), "{msg}");
    let wg = WaitGroup::new();
    let wg2 = wg.clone();
    let msg = panic_in_a_task(move || wg2.wait_blocking());
    assert!(
        msg.contains("WaitGroup::wait_blocking") && msg.contains("`.wait().await`"),
        "{msg}"
    );
    // Nothing was sent or taken by the refused calls.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop((tx, m, wg));
}

#[test]
fn blocking_forms_work_inside_block_in_place_on_a_worker() {
    let rt = rt();
    let (tx, rx) = chan::bounded::<u32>(0);
    let sender = thread::spawn(move || tx.send_blocking(11).unwrap());
    let got = rt
        .block_on(spawn(async move { block_in_place(|| rx.recv_blocking()) }))
        .unwrap();
    sender.join().unwrap();
    assert_eq!(got, Some(11));
}
