//! gosched-netpoll: the netpoller, timers and sockets of gosched.
//!
//! Go parks a goroutine whose socket is not ready on the fd's `pollDesc`,
//! and an idle M blocks in epoll until an fd is ready or the next timer is
//! due. This crate does the same for gosched's tasks:
//!
//! - [`Reactor`] owns one `mio::Poll` and implements the executor's
//!   `Driver` trait: an idle M parks in it, busy Ms poll it without
//!   blocking, and new work interrupts it through an eventfd
//!   ([`reactor`] module docs).
//! - [`time`] keeps every timer in a hierarchical wheel inside the reactor,
//!   so the parked thread sleeps exactly until the next one is due.
//! - [`net`] has TCP, UDP and Unix sockets implementing
//!   `futures::io::{AsyncRead, AsyncWrite}`.
//!
//! mio is an implementation detail: none of its types appear in this
//! crate's public API.
//!
//! # Reading order
//!
//! `reactor/io_state.rs` (readiness and its race, model-checked in
//! `reactor/loom_io_state.rs`), `reactor/table.rs` (tokens),
//! `reactor/mod.rs` (park/unpark), `reactor/poll_io.rs` (the operation
//! loop), then `time/wheel.rs` (and `time/heap_comparison.rs`, why a wheel)
//! and `time/driver.rs`, then `net/` (`backoff.rs` for EMFILE, `addr.rs`
//! for name resolution off the workers).
//!
//! ```
//! use gosched::io::{AsyncReadExt, AsyncWriteExt};
//! use gosched::net::{TcpListener, TcpStream};
//!
//! gosched::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let client = async {
//!         let mut c = TcpStream::connect(addr).await.unwrap();
//!         c.write_all(b"ping").await.unwrap();
//!         let mut buf = [0; 4];
//!         c.read_exact(&mut buf).await.unwrap();
//!         buf
//!     };
//!     let server = async {
//!         let (mut s, _) = listener.accept().await.unwrap();
//!         let mut buf = [0; 4];
//!         s.read_exact(&mut buf).await.unwrap();
//!         s.write_all(&buf).await.unwrap();
//!     };
//!     let (echoed, ()) = futures::join!(client, server);
//!     assert_eq!(&echoed, b"ping");
//! });
//! ```

pub mod fs;
mod loom;
pub mod net;
pub mod process;
pub mod reactor;
pub mod signal;
pub mod time;

pub use reactor::{EnterGuard, Reactor};
