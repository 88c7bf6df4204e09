//! [`AsyncReadUninit`]: reads into uninitialised memory, for the bridges
//! whose read buffers are spare capacity (hyper's `ReadBufCursor`,
//! tokio's `ReadBuf`).
//!
//! `futures::io::AsyncRead` takes `&mut [u8]`, so a caller holding spare
//! capacity must zero it before every read; for a server reading small
//! requests into a large buffer that memset costs more than the read.
//! Every gosched byte stream implements this trait as well, with
//! `read(2)` writing straight into the caller's memory.
//!
//! Invariant: on `Ready(Ok(n))` the first `n` bytes of `buf` were written
//! by the kernel and are initialised; nothing past them was touched.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A byte stream that can read into uninitialised memory.
///
/// Implemented for [`TcpStream`](super::TcpStream),
/// [`UnixStream`](super::UnixStream), shared references to both, and
/// [`OwnedReadHalf`](super::OwnedReadHalf). It waits exactly as
/// `AsyncRead::poll_read` does.
///
/// ```
/// use std::mem::MaybeUninit;
/// use std::pin::Pin;
/// use gosched::io::AsyncWriteExt;
/// use gosched::net::{AsyncReadUninit, UnixStream};
/// gosched::run(async {
///     let (mut a, mut b) = UnixStream::pair().unwrap();
///     a.write_all(b"hello").await.unwrap();
///     let mut buf = [MaybeUninit::<u8>::uninit(); 16];
///     let n = std::future::poll_fn(|cx| Pin::new(&mut b).poll_read_uninit(cx, &mut buf))
///         .await
///         .unwrap();
///     // SAFETY: the first `n` bytes were written by the read.
///     let got = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) };
///     assert_eq!(got, b"hello");
/// });
/// ```
pub trait AsyncReadUninit {
    /// Reads into `buf`; on `Ok(n)` its first `n` bytes are initialised.
    /// `Ok(0)` is end of stream (or an empty `buf`).
    fn poll_read_uninit(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>;
}

impl<T: AsyncReadUninit + Unpin + ?Sized> AsyncReadUninit for &mut T {
    fn poll_read_uninit(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut **self).poll_read_uninit(cx, buf)
    }
}

impl<T: AsyncReadUninit + Unpin + ?Sized> AsyncReadUninit for Box<T> {
    fn poll_read_uninit(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut **self).poll_read_uninit(cx, buf)
    }
}

/// `AsyncReadUninit` for a stream type whose socket is `self.$($field).+`
/// (a `PollIo`).
macro_rules! impl_read_uninit {
    ($t:ty, $($field:ident).+) => {
        impl $crate::net::AsyncReadUninit for $t {
            fn poll_read_uninit(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [std::mem::MaybeUninit<u8>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.$($field).+.poll_read_uninit(cx, buf)
            }
        }
    };
}

impl_read_uninit!(super::TcpStream, io);
impl_read_uninit!(&super::TcpStream, io);
impl_read_uninit!(super::UnixStream, io);
impl_read_uninit!(&super::UnixStream, io);
impl_read_uninit!(super::OwnedReadHalf, inner.io);
