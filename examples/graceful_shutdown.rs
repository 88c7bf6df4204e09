//! A TCP server that shuts down gracefully on SIGINT or SIGTERM, Go's way:
//! `signal::notify_context` cancels a Context on the signal, the accept
//! loop stops, and a WaitGroup waits for the requests in flight before the
//! process exits 0. A second Ctrl-C while draining ends it at once.
//!
//! Each connection sends one line; the server works on it for a while
//! (a sleep standing in for real work) and answers it upper-cased.
//!
//! ```text
//! cargo run --release --example graceful_shutdown -- [127.0.0.1:7001]
//! printf 'hello\n' | nc 127.0.0.1 7001    # then Ctrl-C the server
//! ```

use std::time::Duration;

use gosched::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use gosched::net::{TcpListener, TcpStream};
use gosched::signal::{self, Signal};
use gosched::sync::context::Context;
use gosched::sync::WaitGroup;

/// How long one request "works".
const WORK: Duration = Duration::from_millis(200);

async fn serve(conn: TcpStream) -> std::io::Result<()> {
    let (read, mut write) = conn.into_split();
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await?;
    gosched::time::sleep(WORK).await;
    write.write_all(line.to_uppercase().as_bytes()).await?;
    write.close().await
}

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7001".into());
    gosched::run(async move {
        let (ctx, _stop) = signal::notify_context(
            &Context::background(),
            &[Signal::Interrupt, Signal::Terminate],
        )
        .expect("signal handlers");
        let listener = TcpListener::bind(&addr).await.expect("bind");
        println!("listening on {}", listener.local_addr().unwrap());
        let in_flight = WaitGroup::new();
        let acceptor = {
            let in_flight = in_flight.clone();
            gosched::spawn(async move {
                loop {
                    match listener.accept().await {
                        Ok((conn, peer)) => {
                            println!("serving {peer}");
                            let token = in_flight.token();
                            gosched::spawn(async move {
                                let _done = token;
                                if let Err(e) = serve(conn).await {
                                    eprintln!("connection: {e}");
                                }
                            });
                        }
                        // EMFILE and friends are backed off inside accept;
                        // anything else is logged and the loop goes on.
                        Err(e) => eprintln!("accept: {e}"),
                    }
                }
            })
        };
        ctx.done().await;
        eprintln!(
            "{}: draining",
            ctx.err().map(|e| e.to_string()).unwrap_or_default()
        );
        // Stop accepting (the listener closes with the task), then wait
        // for the requests already taken.
        acceptor.abort();
        let _ = acceptor.await;
        in_flight.wait().await;
        eprintln!("drained; bye");
    });
}
