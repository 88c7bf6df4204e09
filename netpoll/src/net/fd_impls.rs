//! Trait impls every socket type shares, written once as macros: the
//! types differ only in the mio socket inside their `PollIo`.
//!
//! - `impl_as_fd!(T)`: `AsRawFd` and `AsFd`, borrowing the socket's fd.
//! - `impl_async_io!(T)`: `futures::io::AsyncRead` and `AsyncWrite` for a
//!   stream type: reads and writes go to its `PollIo`'s stream methods,
//!   close to the type's own `poll_close_priv` (a write shutdown). Used for
//!   both `T` and `&T`: reads and writes go through `&self`, so a task
//!   can read and write one stream from two futures. A stream keeps one
//!   waiter per direction; a second concurrent one is queued, never lost
//!   (`reactor/io_state.rs`, "Waiters").

macro_rules! impl_as_fd {
    ($t:ty) => {
        impl std::os::fd::AsRawFd for $t {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }

        impl std::os::fd::AsFd for $t {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.io.get_ref().as_fd()
            }
        }
    };
}

macro_rules! impl_async_io {
    ($t:ty) => {
        impl futures::io::AsyncRead for $t {
            /// Reads into `buf`. One task waits per direction of a stream:
            /// a second task waiting to read the same stream at once is
            /// queued behind the first and both are woken by the next data
            /// (never lost, but they race for it; see
            /// `reactor/io_state.rs`, "Waiters").
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read(cx, buf)
            }

            /// Reads into `bufs`. One task waits per direction of a stream:
            /// a second task waiting to read the same stream at once is
            /// queued behind the first and both are woken by the next data
            /// (never lost, but they race for it; see
            /// `reactor/io_state.rs`, "Waiters").
            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read_vectored(cx, bufs)
            }
        }

        impl futures::io::AsyncWrite for $t {
            /// Writes from `buf`. One task waits per direction of a stream:
            /// a second task waiting to write the same stream at once is
            /// queued behind the first and both are woken when it drains
            /// (never lost; see `reactor/io_state.rs`, "Waiters").
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write(cx, buf)
            }

            /// Writes from `bufs`. One task waits per direction of a stream:
            /// a second task waiting to write the same stream at once is
            /// queued behind the first and both are woken when it drains
            /// (never lost; see `reactor/io_state.rs`, "Waiters").
            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.poll_close_priv()
            }
        }
    };
}
