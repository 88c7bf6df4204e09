//! Edge-triggered readiness survives partial reads and writes: 16 MiB
//! pushed through sockets whose kernel buffers are a few KiB, so nearly
//! every write is partial and nearly every read drains the buffer.
//! A lost edge shows up as a hang (the test harness times out); a
//! duplicated or reordered byte as a pattern mismatch.

mod common;

use std::os::fd::AsRawFd;

use futures::{AsyncReadExt, AsyncWriteExt};
use gosched_netpoll::net::{TcpListener, TcpStream, UnixStream};
use gosched_netpoll::Reactor;

const TOTAL: usize = 16 << 20;

fn small_buffers(fd: &impl AsRawFd) {
    let size: libc::c_int = 4096;
    for opt in [libc::SO_SNDBUF, libc::SO_RCVBUF] {
        // SAFETY: `fd` is an open socket; the option value is a c_int that
        // lives for the call.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                &size as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0, "setsockopt");
    }
}

fn byte(i: usize) -> u8 {
    (i % 251) as u8
}

async fn write_pattern(mut w: impl futures::AsyncWrite + Unpin) {
    let mut sent = 0;
    let chunk: Vec<u8> = (0..65_536).map(byte).collect();
    while sent < TOTAL {
        // 65536 is a multiple of... not of 251: offset the pattern.
        let off = sent % 251;
        let n = (TOTAL - sent).min(65_536 - 251);
        w.write_all(&chunk[off..off + n]).await.unwrap();
        sent += n;
    }
    w.close().await.unwrap();
}

async fn read_pattern(mut r: impl futures::AsyncRead + Unpin) -> usize {
    let mut got = 0;
    let mut buf = vec![0u8; 1000];
    loop {
        let n = r.read(&mut buf).await.unwrap();
        if n == 0 {
            return got;
        }
        for (k, b) in buf[..n].iter().enumerate() {
            assert_eq!(*b, byte(got + k), "byte {} corrupted", got + k);
        }
        got += n;
    }
}

#[test]
fn sixteen_mib_through_small_tcp_buffers_on_one_thread() {
    let reactor = Reactor::new().unwrap();
    let got = reactor.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        small_buffers(&listener);
        let addr = listener.local_addr().unwrap();
        let (accepted, client) = futures::join!(listener.accept(), TcpStream::connect(addr));
        let server = accepted.unwrap().0;
        let client = client.unwrap();
        small_buffers(&client);
        let (_, got) = futures::join!(write_pattern(client), read_pattern(server));
        got
    });
    assert_eq!(got, TOTAL);
    assert_eq!(reactor.num_registrations(), 0);
}

#[test]
fn sixteen_mib_through_small_tcp_buffers_between_worker_tasks() {
    let (rt, _reactor) = common::runtime(2);
    let got = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        small_buffers(&listener);
        let addr = listener.local_addr().unwrap();
        let reader = gosched_executor::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            read_pattern(s).await
        });
        let writer = gosched_executor::spawn(async move {
            let c = TcpStream::connect(addr).await.unwrap();
            small_buffers(&c);
            write_pattern(c).await;
        });
        writer.await.unwrap();
        reader.await.unwrap()
    });
    assert_eq!(got, TOTAL);
}

/// Echo through split halves, with the kernel's default buffers: with
/// 4 KiB buffers in *both* directions, loopback TCP itself crawls (window
/// updates wait for the persist timer; plain blocking std threads take
/// 5 s per MiB), which would test the kernel, not the reactor.
#[test]
fn split_halves_read_and_write_concurrently_in_an_echo() {
    let (rt, _reactor) = common::runtime(2);
    let got = rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The server echoes with futures::io::copy between its own halves.
        let server = gosched_executor::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let (r, mut w) = s.into_split();
            futures::io::copy(r, &mut w).await.unwrap()
        });
        let c = TcpStream::connect(addr).await.unwrap();
        let (r, w) = c.into_split();
        let writer = gosched_executor::spawn(write_pattern(w));
        let got = read_pattern(r).await;
        writer.await.unwrap();
        assert_eq!(server.await.unwrap() as usize, TOTAL);
        got
    });
    assert_eq!(got, TOTAL);
}

#[test]
fn sixteen_mib_through_a_unix_stream_pair() {
    let reactor = Reactor::new().unwrap();
    let got = reactor.block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        small_buffers(&a);
        small_buffers(&b);
        let (_, got) = futures::join!(write_pattern(a), read_pattern(b));
        got
    });
    assert_eq!(got, TOTAL);
}
