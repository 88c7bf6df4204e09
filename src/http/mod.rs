//! HTTP services on gosched: hyper 1.x's runtime traits implemented on
//! gosched's sockets, tasks and timer wheel ([`HyperIo`],
//! [`HyperExecutor`], [`HyperTimer`]), and [`serve`], an accept loop with
//! what a production server needs and hyper leaves to its caller:
//! HTTP/1.1 and h2c auto-detected per connection, graceful shutdown on a
//! [`Context`](crate::sync::context::Context), a header-read timeout, a connection
//! limit that stops accepting while full, and accept errors that never end
//! the loop. With the `tower` feature, [`serve_tower`] serves any
//! `tower::Service`, such as an axum `Router`.
//!
//! Everything here is behind the `hyper` feature; a program that only
//! wants the executor compiles none of it.
//!
//! ```no_run
//! use std::convert::Infallible;
//! use gosched::http::body_util::Full;
//! use gosched::http::hyper::{service::service_fn, Request, Response};
//! use gosched::http::Bytes;
//!
//! gosched::run(async {
//!     let listener = gosched::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
//!     let hello = service_fn(|_req: Request<_>| async {
//!         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hello\n"))))
//!     });
//!     gosched::http::serve(listener, hello).await;
//! });
//! ```
//!
//! The re-exports [`hyper`], [`body_util`] (`http-body-util`) and
//! [`Bytes`] let a service depend on `gosched` alone.

mod io;
pub(crate) mod rt;
mod serve;
#[cfg(feature = "tower")]
mod tower;

pub use self::io::HyperIo;
pub use self::rt::{HyperExecutor, HyperTimer};
pub use self::serve::{serve, Listener, Protocol, Serve, ServeBody, ServeService, Stopped};
#[cfg(feature = "tower")]
pub use self::tower::{serve_tower, TowerToHyper};

pub use bytes::Bytes;
pub use http_body_util as body_util;
pub use hyper;
