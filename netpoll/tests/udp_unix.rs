//! UDP and Unix-domain sockets: datagrams both ways, connected and not,
//! and a Unix listener serving streams.

use futures::{AsyncReadExt, AsyncWriteExt};
use gosched_netpoll::net::{UdpSocket, UnixDatagram, UnixListener, UnixStream};
use gosched_netpoll::Reactor;

fn temp_path(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("gosched-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[test]
fn udp_send_to_recv_from_and_connected_send_recv() {
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        // Receiving first parks the task; the send wakes it.
        let recv = async {
            let mut buf = [0u8; 32];
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            (buf[..n].to_vec(), from)
        };
        let send = a.send_to(b"datagram", b_addr);
        let ((got, from), sent) = futures::join!(recv, send);
        assert_eq!(
            (got.as_slice(), from, sent.unwrap()),
            (&b"datagram"[..], a_addr, 8)
        );

        a.connect(b_addr).await.unwrap();
        b.connect(a_addr).await.unwrap();
        for i in 0..100u8 {
            b.send(&[i]).await.unwrap();
            let mut buf = [0u8; 4];
            assert_eq!(a.recv(&mut buf).await.unwrap(), 1);
            assert_eq!(buf[0], i);
        }
    });
}

#[test]
fn a_unix_listener_serves_several_clients() {
    let path = temp_path("listener");
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        let server = async {
            for _ in 0..3 {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 5];
                s.read_exact(&mut buf).await.unwrap();
                s.write_all(&buf).await.unwrap();
            }
        };
        let clients = async {
            for _ in 0..3 {
                let mut c = UnixStream::connect(&path).await.unwrap();
                c.write_all(b"hello").await.unwrap();
                let mut buf = [0u8; 5];
                c.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"hello");
            }
        };
        futures::join!(server, clients);
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn unix_datagrams_by_path_and_by_pair() {
    let path = temp_path("dgram");
    let reactor = Reactor::new().unwrap();
    reactor.block_on(async {
        let server = UnixDatagram::bind(&path).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        let recv = async {
            let mut buf = [0u8; 8];
            let (n, _) = server.recv_from(&mut buf).await.unwrap();
            buf[..n].to_vec()
        };
        let (got, sent) = futures::join!(recv, client.send_to(b"by path", &path));
        assert_eq!((got.as_slice(), sent.unwrap()), (&b"by path"[..], 7));

        let (x, y) = UnixDatagram::pair().unwrap();
        x.send(b"pair").await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(y.recv(&mut buf).await.unwrap(), 4);
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn unix_connect_to_a_missing_path_fails_with_not_found() {
    let reactor = Reactor::new().unwrap();
    let err = reactor
        .block_on(UnixStream::connect(temp_path("missing")))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}
