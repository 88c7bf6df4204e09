//! Services on gosched, as a user writes them: this package holds the
//! examples that need crates the root package must not depend on (axum,
//! reqwest) and the tests that run real HTTP clients (hyper's, curl,
//! reqwest) against `gosched::http::serve`.
//!
//! ```sh
//! cargo run --release -p gosched-services --example axum_app -- 127.0.0.1:3000
//! cargo run --release -p gosched-services --example compat_client
//! ```
//!
//! The library part is what the tests share: helpers to start a server
//! on a free loopback port.

use std::net::SocketAddr;

/// Binds a gosched `TcpListener` on a free loopback port.
///
/// ```
/// gosched::run(async {
///     let (listener, addr) = gosched_services::loopback_listener().await;
///     assert_eq!(listener.local_addr().unwrap(), addr);
/// });
/// ```
pub async fn loopback_listener() -> (gosched::net::TcpListener, SocketAddr) {
    let listener = gosched::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local_addr");
    (listener, addr)
}
