//! A TCP echo server: one task per connection, like Go's
//! `go handle(conn)`.
//!
//! ```text
//! cargo run --release --example echo_server               # 127.0.0.1:7000
//! cargo run --release --example echo_server -- 7001       # 127.0.0.1:7001
//! cargo run --release --example echo_server -- [::1]:7000
//! ```
//!
//! Try it with `nc 127.0.0.1 7000`. Each connection is split into a read
//! half and a write half and `gosched::io::copy` pumps one into the other
//! until the client closes its side.

use std::io;

use gosched::net::TcpListener;
use gosched::Runtime;

fn main() -> io::Result<()> {
    let arg = std::env::args().nth(1);
    let addr = match arg.as_deref() {
        None => "127.0.0.1:7000".to_string(),
        Some(port) if port.parse::<u16>().is_ok() => format!("127.0.0.1:{port}"),
        Some(addr) => addr.to_string(),
    };
    let rt = Runtime::new()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!("echo server listening on {}", listener.local_addr()?);
        loop {
            // Out of descriptors, accept backs off and retries by itself;
            // an error here is one the listener cannot recover from.
            let (stream, peer) = listener.accept().await?;
            gosched::spawn(async move {
                let _ = stream.set_nodelay(true);
                let (reader, mut writer) = stream.into_split();
                match gosched::io::copy(reader, &mut writer).await {
                    Ok(n) => eprintln!("{peer}: echoed {n} bytes"),
                    Err(e) => eprintln!("{peer}: {e}"),
                }
            });
        }
    })
}
