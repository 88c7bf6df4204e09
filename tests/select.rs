//! `select!` over the root crate's futures beside channel operations:
//! Go's `time.After` idiom with a sleep, a `JoinHandle`, an `accept`.

use std::time::Duration;

use gosched::net::{TcpListener, TcpStream};
use gosched::select;
use gosched::sync::chan;
use gosched::time::sleep;

#[test]
fn a_sleep_arm_times_out_a_receive_on_an_empty_channel() {
    let (tx, rx) = chan::bounded::<u32>(0);
    let timed_out = gosched::run(async move {
        let timed_out = select! {
            v = rx.recv() => { let _ = v; false }
            _ = sleep(Duration::from_millis(10)) => true,
        };
        // The receive that lost took nothing: a later send still pairs
        // with a fresh receive.
        gosched::spawn(async move { tx.send(1).await.unwrap() });
        assert_eq!(rx.recv().await, Some(1));
        timed_out
    });
    assert!(timed_out);
}

#[test]
fn a_receive_in_a_loop_beats_an_hour_long_sleep_each_round() {
    let rt = gosched::Runtime::new().unwrap();
    let got = rt.block_on(async {
        let (tx, rx) = chan::bounded::<u32>(0);
        gosched::spawn(async move {
            sleep(Duration::from_millis(5)).await;
            tx.send(8).await.unwrap();
        });
        let mut got = Vec::new();
        loop {
            select! {
                v = rx.recv() => match v {
                    Some(v) => got.push(v),
                    None => break,
                },
                _ = sleep(Duration::from_secs(3600)) => panic!("an hour passed"),
            }
        }
        got
    });
    assert_eq!(got, [8]);
}

#[test]
fn a_join_handle_arm_returns_the_task_output() {
    let got = gosched::run(async {
        let (_tx, rx) = chan::bounded::<u32>(0);
        let task = gosched::spawn(async {
            sleep(Duration::from_millis(2)).await;
            "done"
        });
        select! {
            r = task => r.unwrap(),
            _ = rx.recv() => "received",
            _ = sleep(Duration::from_secs(60)) => "timed out",
        }
    });
    assert_eq!(got, "done");
}

#[test]
fn an_accept_arm_takes_connections_until_a_quit_channel_arm_ends_the_loop() {
    let accepted = gosched::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (quit_tx, quit_rx) = chan::bounded::<()>(0);
        let (accepted_tx, accepted_rx) = chan::bounded::<()>(0);
        gosched::spawn(async move {
            for _ in 0..3 {
                let _conn = TcpStream::connect(addr).await.unwrap();
                // Wait for the accept, so that quit never races a queued
                // connection.
                accepted_rx.recv().await.unwrap();
            }
            quit_tx.send(()).await.unwrap();
        });
        let mut accepted = 0;
        loop {
            select! {
                r = listener.accept() => {
                    r.unwrap();
                    accepted += 1;
                    accepted_tx.send(()).await.unwrap();
                }
                _ = quit_rx.recv() => break,
                _ = sleep(Duration::from_secs(60)) => panic!("no connection in a minute"),
            }
        }
        accepted
    });
    assert_eq!(accepted, 3);
}
