//! tokio's I/O traits (`tokio::io::AsyncRead`, `AsyncWrite`) on gosched's
//! byte streams, behind the `tokio-io` feature, so crates written against
//! them (tokio-rustls, tokio-util codecs, tokio-tungstenite, h2) run over
//! gosched sockets. Only the traits are used: tokio is compiled with no
//! runtime feature and nothing here touches a tokio runtime.
//!
//! Reads go through [`AsyncReadUninit`]: `read(2)` fills the unfilled part
//! of tokio's `ReadBuf` without zeroing it first. Writes go to the same
//! `PollIo` operations as the `futures::io` impls; `poll_shutdown` shuts
//! down the write side, as `futures::io::AsyncWrite::poll_close` does.
//! Sockets take `writev(2)`, so `is_write_vectored` is `true`.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::ReadBuf;

use super::AsyncReadUninit;

/// Fills `buf`'s unfilled part from `reader` (tokio's read contract).
fn poll_read_buf<R: AsyncReadUninit + ?Sized>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: `poll_read_uninit` only writes into the slice (read(2)), so
    // no initialised byte of `buf` is ever de-initialised.
    let unfilled = unsafe { buf.unfilled_mut() };
    let n = ready!(reader.poll_read_uninit(cx, unfilled))?;
    // SAFETY: on `Ok(n)` the first `n` unfilled bytes were written by the
    // read (`AsyncReadUninit`'s invariant).
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Poll::Ready(Ok(()))
}

macro_rules! impl_tokio_read {
    ($($t:ty),*) => {$(
        impl tokio::io::AsyncRead for $t {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read_buf(self, cx, buf)
            }
        }
    )*};
}

macro_rules! impl_tokio_write {
    ($($t:ty),*) => {$(
        impl tokio::io::AsyncWrite for $t {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                futures::io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[io::IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                futures::io::AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                futures::io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                futures::io::AsyncWrite::poll_close(self, cx)
            }
        }
    )*};
}

impl_tokio_read!(
    super::TcpStream,
    &super::TcpStream,
    super::UnixStream,
    &super::UnixStream,
    super::OwnedReadHalf
);
impl_tokio_write!(
    super::TcpStream,
    &super::TcpStream,
    super::UnixStream,
    &super::UnixStream,
    super::OwnedWriteHalf
);

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use crate::net::{TcpListener, TcpStream, UnixStream};
    use crate::Reactor;

    #[test]
    fn tokio_traits_carry_bytes_over_tcp_unix_and_split_halves() {
        let reactor = Reactor::new().unwrap();
        reactor.block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            a.write_all(b"over unix").await.unwrap();
            AsyncWriteExt::shutdown(&mut a).await.unwrap();
            let mut got = String::new();
            b.read_to_string(&mut got).await.unwrap();
            assert_eq!(got, "over unix");

            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            let (s, c) = futures::join!(l.accept(), TcpStream::connect(addr));
            let (mut rd, mut wr) = s.unwrap().0.into_split();
            let mut client = c.unwrap();
            let big = vec![7u8; 1 << 20];
            let writer = async {
                client.write_all(&big).await.unwrap();
                AsyncWriteExt::shutdown(&mut client).await.unwrap();
            };
            let echo = async {
                let mut n = 0;
                let mut buf = vec![0; 64 << 10];
                loop {
                    let k = rd.read(&mut buf).await.unwrap();
                    if k == 0 {
                        break;
                    }
                    assert!(buf[..k].iter().all(|&x| x == 7));
                    wr.write_all(&buf[..k]).await.unwrap();
                    n += k;
                }
                wr.shutdown().await.unwrap();
                n
            };
            let (_, echoed) = futures::join!(writer, echo);
            assert_eq!(echoed, big.len());
            let mut back = Vec::new();
            client.read_to_end(&mut back).await.unwrap();
            assert_eq!(back, big);
        });
    }
}
