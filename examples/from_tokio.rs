//! A small tokio TCP service ported to gosched: `docs/from-tokio.md` puts
//! the two side by side.
//!
//! Each line a client sends is answered with its length; a counter task
//! totals the lengths through a channel; a connection idle for 30 s is
//! closed; Ctrl-C stops accepting, closes every connection and prints the
//! total. The tests run on a paused clock, so the 30 s idle timeout takes
//! no time.
//!
//! ```sh
//! cargo run --example from_tokio [-- 127.0.0.1:7002]
//! cargo test --example from_tokio
//! ```

use std::time::Duration;

use gosched::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use gosched::net::{TcpListener, TcpStream};
use gosched::select;
use gosched::signal::{self, Signal};
use gosched::sync::chan::{self, Sender};
use gosched::sync::context::Context;
use gosched::time;

/// How long a connection may stay silent before the server closes it.
const IDLE: Duration = Duration::from_secs(30);

/// Answers each line with its length and reports the length to `events`,
/// until the client leaves, stays idle for [`IDLE`], or `ctx` is cancelled.
async fn handle(stream: TcpStream, events: Sender<usize>, ctx: Context) {
    let (read, mut write) = stream.into_split();
    // `select!` waits on channel operations: a reader task turns the
    // socket's lines into a channel.
    let (lines_tx, lines) = chan::bounded::<String>(0);
    let reader = gosched::spawn(async move {
        let mut read = BufReader::new(read);
        let mut line = String::new();
        while matches!(read.read_line(&mut line).await, Ok(n) if n > 0) {
            if lines_tx.send(line.trim_end().to_string()).await.is_err() {
                return;
            }
            line.clear();
        }
    });
    let cancelled = ctx.done_chan();
    loop {
        let idle = time::after(IDLE);
        select! {
            line = lines.recv() => {
                let Some(line) = line else { break }; // EOF or a read error
                if events.send(line.len()).await.is_err() {
                    break;
                }
                if write.write_all(format!("{}\n", line.len()).as_bytes()).await.is_err() {
                    break;
                }
            }
            _ = idle.recv() => break,
            _ = cancelled.recv() => break,
        }
    }
    reader.abort();
}

/// Accepts connections until `ctx` is cancelled, then waits for every
/// connection to end and returns the total length of the lines served.
async fn serve(listener: TcpListener, ctx: Context) -> usize {
    let (events_tx, events) = chan::bounded::<usize>(64);
    let counter = gosched::spawn(async move {
        let mut total = 0;
        while let Some(n) = events.recv().await {
            total += n;
        }
        total
    });

    // The accept loop feeds a channel, for the same reason as the lines.
    let (conns_tx, conns) = chan::bounded::<TcpStream>(0);
    let acceptor = gosched::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _peer)) => {
                    if conns_tx.send(stream).await.is_err() {
                        return;
                    }
                }
                Err(e) => eprintln!("accept: {e}"),
            }
        }
    });

    let cancelled = ctx.done_chan();
    loop {
        select! {
            stream = conns.recv() => {
                let Some(stream) = stream else { break };
                gosched::spawn(handle(stream, events_tx.clone(), ctx.clone()));
            }
            _ = cancelled.recv() => break,
        }
    }
    acceptor.abort();
    drop(events_tx);
    // Ends once every connection has dropped its sender.
    counter.await.unwrap()
}

#[gosched::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7002".into());
    let listener = TcpListener::bind(&addr).await.expect("bind");
    println!("listening on {addr}; Ctrl-C to stop");
    // A context cancelled by Ctrl-C: the CancellationToken and the
    // ctrl_c task in one call.
    let (ctx, _stop) =
        signal::notify_context(&Context::background(), &[Signal::Interrupt]).expect("signals");
    let total = serve(listener, ctx).await;
    println!("served {total} bytes of lines");
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn start() -> (
        std::net::SocketAddr,
        gosched::sync::context::CancelHandle,
        gosched::JoinHandle<usize>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (ctx, cancel) = Context::background().with_cancel();
        (addr, cancel, gosched::spawn(serve(listener, ctx)))
    }

    #[gosched::test]
    async fn each_line_is_answered_with_its_length_and_counted() {
        let (addr, cancel, server) = start().await;
        let mut client = BufReader::new(TcpStream::connect(addr).await.unwrap());
        let mut reply = String::new();
        for line in ["hello", "gosched"] {
            client
                .get_mut()
                .write_all(format!("{line}\n").as_bytes())
                .await
                .unwrap();
            reply.clear();
            client.read_line(&mut reply).await.unwrap();
            assert_eq!(reply.trim_end(), line.len().to_string());
        }
        cancel.cancel();
        assert_eq!(server.await.unwrap(), 12);
    }

    #[gosched::test(start_paused)]
    async fn an_idle_connection_is_closed_after_30s_on_a_paused_clock() {
        let (addr, cancel, server) = start().await;
        let start = time::now();
        let mut client = BufReader::new(TcpStream::connect(addr).await.unwrap());
        let mut reply = String::new();
        // The clock jumps to the idle timer as soon as every task waits.
        assert_eq!(
            client.read_line(&mut reply).await.unwrap(),
            0,
            "closed by the server"
        );
        assert!(time::now() - start >= IDLE);
        cancel.cancel();
        assert_eq!(server.await.unwrap(), 0);
    }
}
