//! The goroutine leak every Go programmer meets once: a receiver nobody
//! sends to. `dump_grouped()` finds it the way `pprof goroutine?debug=1`
//! does, grouped by spawn site, state and wait reason.
//!
//! ```text
//! cargo run --example leak
//! ```

use std::time::Duration;

use gosched::sync::chan;

/// A request with a watcher task that waits for a cancel signal. The
/// caller keeps the `cancel` sender around (in a session table, say) and
/// never sends on it: each watcher waits forever.
struct Request {
    _cancel: chan::Sender<()>,
}

fn start_request(id: u32) -> Request {
    let (cancel, cancelled) = chan::bounded::<()>(0);
    gosched::spawn(async move {
        // Leaks: nobody ever sends, and the sender stays alive.
        if cancelled.recv().await.is_some() {
            println!("request {id} cancelled");
        }
    });
    Request { _cancel: cancel }
}

fn main() {
    gosched::run(async {
        let sessions: Vec<Request> = (0..10).map(start_request).collect();
        // Some honest work that finishes.
        for i in 0..5 {
            gosched::spawn(async move { i * 2 }).await.expect("worker");
        }
        gosched::time::sleep(Duration::from_millis(10)).await;
        let dump = gosched::runtime::dump_grouped();
        print!("{dump}");
        let leaked: usize = dump
            .groups
            .iter()
            .filter(|g| g.wait_reason == gosched::runtime::WaitReason::ChanReceive)
            .map(|g| g.count)
            .sum();
        println!("=> {leaked} tasks wait on \"chan receive\" with nobody to send: a leak");
        drop(sessions);
    });
}
