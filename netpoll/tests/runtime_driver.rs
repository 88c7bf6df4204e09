//! The reactor as the runtime's driver: tasks on worker threads park on
//! sockets and timers, and the idle M parked in the reactor wakes them.

mod common;

use std::time::{Duration, Instant};

use futures::{AsyncReadExt, AsyncWriteExt};
use gosched_executor::task::WaitReason;
use gosched_netpoll::net::{TcpListener, TcpStream};
use gosched_netpoll::time;

#[test]
fn tasks_on_workers_find_the_reactor_through_the_runtime_handle() {
    let (rt, reactor) = common::runtime(2);
    let v = rt.block_on(async {
        gosched_executor::spawn(async {
            time::sleep(Duration::from_millis(2)).await;
            5
        })
        .await
        .unwrap()
    });
    assert_eq!(v, 5);
    assert_eq!(reactor.num_timers(), 0);
}

#[test]
fn an_echo_round_trip_runs_across_worker_tasks() {
    let (rt, _reactor) = common::runtime(2);
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = gosched_executor::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 64];
            loop {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n]).await.unwrap();
            }
        });
        let client = gosched_executor::spawn(async move {
            let mut c = TcpStream::connect(addr).await.unwrap();
            for i in 0..100u8 {
                c.write_all(&[i; 64]).await.unwrap();
                let mut back = [0u8; 64];
                c.read_exact(&mut back).await.unwrap();
                assert_eq!(back, [i; 64]);
            }
        });
        client.await.unwrap();
        server.await.unwrap();
    });
}

#[test]
fn waiting_tasks_show_sleep_and_io_wait_reasons_in_a_dump() {
    let (rt, _reactor) = common::runtime(2);
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sleeper = gosched_executor::spawn(async {
            time::sleep(Duration::from_secs(3600)).await;
        });
        let acceptor = gosched_executor::spawn(async move {
            let _ = listener.accept().await;
        });
        // Wait (bounded) until both have parked.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let dump = gosched_executor::dump();
            let reasons: Vec<WaitReason> = dump
                .iter()
                .filter(|t| t.id == sleeper.id() || t.id == acceptor.id())
                .map(|t| t.wait_reason)
                .collect();
            if reasons.contains(&WaitReason::Sleep) && reasons.contains(&WaitReason::IoWait) {
                break;
            }
            assert!(Instant::now() < deadline, "tasks never parked: {reasons:?}");
            time::sleep(Duration::from_millis(1)).await;
        }
        sleeper.abort();
        acceptor.abort();
    });
}
