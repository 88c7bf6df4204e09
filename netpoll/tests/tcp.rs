//! TCP: faults surface as `io::Error`s of the right kind, EOF reads 0,
//! names resolve off the workers, and the types work with `futures::io`
//! adapters unchanged.

mod common;

use std::io::ErrorKind;
use std::os::fd::AsRawFd;

use futures::io::{AsyncBufReadExt, BufReader};
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use gosched_netpoll::net::{TcpListener, TcpStream};
use gosched_netpoll::Reactor;

async fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (a, c) = futures::join!(listener.accept(), TcpStream::connect(addr));
    (a.unwrap().0, c.unwrap())
}

/// Closes `s` with SO_LINGER {on, 0}: the kernel sends RST, not FIN.
fn abort(s: TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `s` is an open socket; the option value lives for the call.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
    drop(s);
}

#[test]
fn connecting_to_a_closed_port_is_connection_refused() {
    let reactor = Reactor::new().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = reactor
        .block_on(TcpStream::connect(("127.0.0.1", port)))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(reactor.num_registrations(), 0, "the failed socket is gone");
}

#[test]
fn a_read_after_the_peer_resets_is_connection_reset() {
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let (server, mut client) = pair().await;
        abort(server);
        let mut buf = [0u8; 16];
        let err = client.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset);
    });
}

#[test]
fn writing_after_our_write_side_shut_down_is_broken_pipe() {
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let (_server, mut client) = pair().await;
        client.shutdown(std::net::Shutdown::Write).unwrap();
        let err = client.write(b"late").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BrokenPipe);
    });
}

#[test]
fn writing_to_a_peer_that_reset_fails_with_reset_then_broken_pipe() {
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let (server, mut client) = pair().await;
        abort(server);
        let mut kinds = Vec::new();
        for _ in 0..1000 {
            match client.write(&[0u8; 1024]).await {
                Ok(_) => gosched_netpoll::time::sleep(std::time::Duration::from_millis(1)).await,
                Err(e) => {
                    kinds.push(e.kind());
                    if kinds.len() == 2 {
                        break;
                    }
                }
            }
        }
        assert!(
            kinds[0] == ErrorKind::ConnectionReset || kinds[0] == ErrorKind::BrokenPipe,
            "{kinds:?}"
        );
        assert_eq!(kinds[1], ErrorKind::BrokenPipe, "{kinds:?}");
    });
}

#[test]
fn reads_at_end_of_stream_return_zero_every_time() {
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let (mut server, mut client) = pair().await;
        client.write_all(b"last words").await.unwrap();
        client.close().await.unwrap();
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"last words");
        let mut buf = [0u8; 8];
        for _ in 0..3 {
            assert_eq!(server.read(&mut buf).await.unwrap(), 0);
        }
    });
}

#[test]
fn futures_io_adapters_work_unchanged() {
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = async {
            // Line echo with BufReader + lines(), over the incoming stream.
            let mut incoming = listener.incoming().take(1);
            let stream = incoming.next().await.unwrap().unwrap();
            let (r, mut w) = stream.into_split();
            let mut lines = BufReader::new(r).lines();
            while let Some(line) = lines.next().await {
                let line = line.unwrap();
                w.write_all(format!("{}\n", line.to_uppercase()).as_bytes())
                    .await
                    .unwrap();
            }
        };
        let client = async {
            let s = TcpStream::connect(addr).await.unwrap();
            s.set_nodelay(true).unwrap();
            let (r, mut w) = s.into_split();
            w.write_all(b"one\ntwo\n").await.unwrap();
            drop(w);
            let mut out = String::new();
            BufReader::new(r).read_to_string(&mut out).await.unwrap();
            out
        };
        let ((), out) = futures::join!(server, client);
        assert_eq!(out, "ONE\nTWO\n");
    });
}

#[test]
fn host_names_resolve_on_the_blocking_pool_inside_a_runtime() {
    let (rt, _reactor) = common::runtime(1);
    rt.block_on(async {
        gosched_executor::spawn(async {
            let listener = TcpListener::bind("localhost:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let (a, c) = futures::join!(
                listener.accept(),
                TcpStream::connect(format!("localhost:{port}"))
            );
            assert!(a.is_ok() && c.is_ok());
        })
        .await
        .unwrap();
    });
}

#[test]
fn peer_and_local_addresses_and_nodelay() {
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let (server, client) = pair().await;
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
        assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
    });
}
