//! Several tasks waiting on one direction of one socket: tasks accepting
//! on one shared listener (TCP and Unix) and tasks receiving on one shared
//! datagram socket (UDP and Unix) all complete when as many connections or
//! datagrams arrive. Each test first waits until every task is parked on
//! the socket, the shape in which a socket with one waker slot per
//! direction forgot all but the last waiter.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use gosched_executor::task::WaitReason;
use gosched_executor::JoinHandle;
use gosched_netpoll::net::{
    TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream,
};
use gosched_netpoll::time;

/// A generous hang guard: a lost waiter hangs forever.
const HANG: Duration = Duration::from_secs(60);

fn temp_path(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("gosched-shared-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

/// Waits (bounded) until every task in `tasks` is parked on I/O.
async fn until_all_wait_on_io<T>(tasks: &[JoinHandle<T>]) {
    let deadline = Instant::now() + HANG;
    loop {
        let parked = gosched_executor::dump()
            .iter()
            .filter(|t| tasks.iter().any(|h| h.id() == t.id) && t.wait_reason == WaitReason::IoWait)
            .count();
        if parked == tasks.len() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {parked} of {} tasks parked",
            tasks.len()
        );
        time::sleep(Duration::from_millis(1)).await;
    }
}

fn n_tasks_accepting_on_one_tcp_listener_all_complete(n: usize) {
    common::hang_guard(HANG, move || {
        let (rt, _reactor) = common::runtime(2);
        rt.block_on(async move {
            let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
            let addr = listener.local_addr().unwrap();
            let acceptors: Vec<_> = (0..n)
                .map(|_| {
                    let l = listener.clone();
                    gosched_executor::spawn(async move { l.accept().await.unwrap().1 })
                })
                .collect();
            until_all_wait_on_io(&acceptors).await;
            let mut clients = Vec::new();
            for _ in 0..n {
                clients.push(TcpStream::connect(addr).await.unwrap());
            }
            let mut peers = Vec::new();
            for a in acceptors {
                peers.push(a.await.unwrap());
            }
            peers.sort();
            let mut expected: Vec<_> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
            expected.sort();
            assert_eq!(peers, expected, "each connection accepted once");
        });
    });
}

#[test]
fn two_tasks_accepting_on_one_tcp_listener_both_complete() {
    n_tasks_accepting_on_one_tcp_listener_all_complete(2);
}

#[test]
fn eight_tasks_accepting_on_one_tcp_listener_all_complete() {
    n_tasks_accepting_on_one_tcp_listener_all_complete(8);
}

fn n_tasks_accepting_on_one_unix_listener_all_complete(n: usize) {
    let path = temp_path(&format!("listener{n}"));
    let p = path.clone();
    common::hang_guard(HANG, move || {
        let (rt, _reactor) = common::runtime(2);
        rt.block_on(async move {
            let listener = Arc::new(UnixListener::bind(&p).unwrap());
            let acceptors: Vec<_> = (0..n)
                .map(|_| {
                    let l = listener.clone();
                    gosched_executor::spawn(async move {
                        l.accept().await.unwrap();
                    })
                })
                .collect();
            until_all_wait_on_io(&acceptors).await;
            let mut clients = Vec::new();
            for _ in 0..n {
                clients.push(UnixStream::connect(&p).await.unwrap());
            }
            for a in acceptors {
                a.await.unwrap();
            }
        });
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn two_tasks_accepting_on_one_unix_listener_both_complete() {
    n_tasks_accepting_on_one_unix_listener_all_complete(2);
}

#[test]
fn eight_tasks_accepting_on_one_unix_listener_all_complete() {
    n_tasks_accepting_on_one_unix_listener_all_complete(8);
}

#[test]
fn two_tasks_receiving_on_one_udp_socket_both_get_a_datagram() {
    common::hang_guard(HANG, || {
        let (rt, _reactor) = common::runtime(2);
        rt.block_on(async {
            let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            let addr = socket.local_addr().unwrap();
            let receivers: Vec<_> = (0..2)
                .map(|_| {
                    let s = socket.clone();
                    gosched_executor::spawn(async move {
                        let mut buf = [0u8; 8];
                        let (n, _) = s.recv_from(&mut buf).await.unwrap();
                        buf[..n].to_vec()
                    })
                })
                .collect();
            until_all_wait_on_io(&receivers).await;
            let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            sender.send_to(b"one", addr).await.unwrap();
            sender.send_to(b"two", addr).await.unwrap();
            let mut got = Vec::new();
            for r in receivers {
                got.push(r.await.unwrap());
            }
            got.sort();
            assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
        });
    });
}

#[test]
fn two_tasks_receiving_on_one_unix_datagram_both_get_a_datagram() {
    common::hang_guard(HANG, || {
        let (rt, _reactor) = common::runtime(2);
        rt.block_on(async {
            let (a, b) = UnixDatagram::pair().unwrap();
            let b = Arc::new(b);
            let receivers: Vec<_> = (0..2)
                .map(|_| {
                    let s = b.clone();
                    gosched_executor::spawn(async move {
                        let mut buf = [0u8; 8];
                        let n = s.recv(&mut buf).await.unwrap();
                        buf[..n].to_vec()
                    })
                })
                .collect();
            until_all_wait_on_io(&receivers).await;
            a.send(b"one").await.unwrap();
            a.send(b"two").await.unwrap();
            let mut got = Vec::new();
            for r in receivers {
                got.push(r.await.unwrap());
            }
            got.sort();
            assert_eq!(got, [b"one".to_vec(), b"two".to_vec()]);
        });
    });
}

#[test]
fn cancelled_accepts_free_their_place_and_a_later_acceptor_still_completes() {
    common::hang_guard(HANG, || {
        let (rt, _reactor) = common::runtime(2);
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // Park and cancel many accepts, as a loop selecting between
            // accept and a timeout does.
            for _ in 0..1000 {
                let r = time::timeout(Duration::ZERO, listener.accept()).await;
                assert!(r.is_err());
            }
            let (accepted, connected) = futures::join!(listener.accept(), TcpStream::connect(addr));
            assert_eq!(
                accepted.unwrap().1,
                connected.unwrap().local_addr().unwrap()
            );
        });
    });
}
