//! TCP, UDP and Unix-domain sockets for gosched tasks.
//!
//! Each type wraps a non-blocking socket registered with the current
//! [`Reactor`](crate::Reactor) when it is made. Every operation runs the
//! loop of `reactor/poll_io.rs`: spend a coop unit, wait for readiness
//! (the task shows `IO wait` meanwhile), try the syscall, and on
//! `WouldBlock` clear readiness and wait again. Errors are the kernel's,
//! as `io::Error` with their usual kinds (`ConnectionRefused`,
//! `ConnectionReset`, `BrokenPipe`); a read at end of stream returns 0.
//!
//! Addresses are anything [`ToSocketAddrs`] takes, which is what
//! `std::net::ToSocketAddrs` takes; a host name is resolved on a blocking
//! thread, never on a worker.

#[macro_use]
mod fd_impls;

mod addr;
mod backlog;
mod backoff;
mod read_uninit;
mod tcp_listener;
mod tcp_split;
mod tcp_stream;
#[cfg(feature = "tokio-io")]
mod tokio_io;
mod udp;
mod unix_datagram;
mod unix_listener;
mod unix_stream;

pub use addr::{lookup_host, ToSocketAddrs};
pub use read_uninit::AsyncReadUninit;
pub use std::os::unix::net::SocketAddr as UnixSocketAddr;
pub use tcp_listener::{Incoming, TcpListener};
pub use tcp_split::{OwnedReadHalf, OwnedWriteHalf};
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
pub use unix_datagram::UnixDatagram;
pub use unix_listener::UnixListener;
pub use unix_stream::UnixStream;
