//! Every ready I/O operation spends a unit of the task's coop budget, so a
//! task looping on a socket that is always ready still lets the other
//! tasks of its P run.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::{AsyncReadExt, AsyncWriteExt};
use gosched_netpoll::net::UnixStream;

#[test]
fn a_task_looping_on_always_ready_reads_lets_its_neighbour_run() {
    const BYTES: usize = 50_000;
    let (rt, _reactor) = common::runtime(1);
    let neighbour_ran_first = rt.block_on(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        // Every byte is in the socket before the reader starts: each read
        // is ready at once and never returns Pending on its own.
        a.write_all(&[1u8; BYTES]).await.unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let reader = {
            let ran = ran.clone();
            gosched_executor::spawn(async move {
                let mut byte = [0u8; 1];
                for _ in 0..BYTES {
                    b.read_exact(&mut byte).await.unwrap();
                }
                ran.load(Ordering::SeqCst)
            })
        };
        let neighbour = gosched_executor::spawn(async move {
            ran.store(true, Ordering::SeqCst);
        });
        let r = reader.await.unwrap();
        neighbour.await.unwrap();
        drop(a);
        r
    });
    assert!(
        neighbour_ran_first,
        "the reader never yielded: ready reads did not spend budget"
    );
}
