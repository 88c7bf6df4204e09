//! Accept backs off when the process is out of file descriptors, and the
//! listener serves again once descriptors are free.
//!
//! Run in a child process (this test binary, re-run with `--exact
//! emfile_child_process`), because lowering RLIMIT_NOFILE would starve
//! the other tests running in this process.
//!
//! The child: queue three connections in the listen backlog, fill every
//! free descriptor, start accepting (accept fails with EMFILE and the
//! listener backs off on the timer), free the descriptors 100 ms later,
//! and check that all three connections are then served. A back-off that
//! spun instead of sleeping would retry millions of times in 100 ms; the
//! 5 ms doubling schedule retries about five times.

use std::fs::File;
use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use gosched_netpoll::net::TcpListener;
use gosched_netpoll::{time, Reactor};

const CHILD_ENV: &str = "GOSCHED_NETPOLL_EMFILE_CHILD";

#[test]
fn accept_backs_off_on_emfile_and_serves_once_fds_are_free() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "emfile_child_process",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {}\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("1 passed"),
        "the child test did not run:\n{stdout}"
    );
}

#[test]
#[ignore = "run by accept_backs_off_on_emfile_and_serves_once_fds_are_free in a child process"]
fn emfile_child_process() {
    if std::env::var(CHILD_ENV).is_err() {
        return;
    }
    let reactor = Reactor::new().unwrap();
    let _enter = reactor.enter();
    let listener =
        TcpListener::from_std(std::net::TcpListener::bind("127.0.0.1:0").unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut clients: Vec<std::net::TcpStream> = (0..3u8)
        .map(|i| {
            let mut c = std::net::TcpStream::connect(addr).unwrap();
            c.write_all(&[i]).unwrap();
            c
        })
        .collect();
    // Leave no descriptor free.
    let mut fillers = Vec::new();
    loop {
        match File::open("/dev/null") {
            Ok(f) => fillers.push(f),
            Err(e) if e.raw_os_error() == Some(libc::EMFILE) => break,
            Err(e) => panic!("unexpected error filling fds: {e}"),
        }
        assert!(fillers.len() < 1_000_000, "no fd limit in force");
    }
    let fillers = std::cell::RefCell::new(fillers);
    reactor.block_on(async {
        let serve = async {
            for _ in 0..3 {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut b = [0u8; 1];
                s.read_exact(&mut b).await.unwrap();
                s.write_all(&b).await.unwrap();
            }
        };
        let release = async {
            time::sleep(Duration::from_millis(100)).await;
            assert!(listener.accept_backoffs() >= 1, "accept hit EMFILE");
            fillers.borrow_mut().clear();
        };
        futures::join!(serve, release);
    });
    let backoffs = listener.accept_backoffs();
    assert!(
        (1..50).contains(&backoffs),
        "{backoffs} back-offs: expected a handful (5 ms doubling), not a spin"
    );
    for (i, c) in clients.iter_mut().enumerate() {
        let mut b = [0u8; 1];
        c.read_exact(&mut b).unwrap();
        assert_eq!(b[0], i as u8);
    }
}
