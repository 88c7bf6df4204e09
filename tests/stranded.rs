//! A runnable task is never stranded in the global queue while a P sits
//! idle, even while a task waits on a long timer (so busy Ms and sysmon
//! poll the netpoller without blocking all the time) and CPU hogs compete
//! for the cores.
//!
//! The stall this guards against lasted until the next timer fired (here:
//! an hour), so the per-task bound below is a hang guard, many times any
//! scheduling delay a loaded machine causes, not a timing assertion.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// How long one spawned task may take to report back before the test
/// calls it stranded.
const STRANDED_AFTER: Duration = Duration::from_secs(10);

/// Spawns from a plain thread, one task at a time, each waited for.
fn spawn_and_wait_from_outside(handle: &gosched::Handle, n: usize) {
    let (tx, rx) = mpsc::sync_channel::<usize>(1);
    for i in 0..n {
        let tx = tx.clone();
        drop(handle.spawn(async move {
            tx.send(i).unwrap();
        }));
        match rx.recv_timeout(STRANDED_AFTER) {
            Ok(got) => assert_eq!(got, i),
            Err(_) => panic!(
                "task {i} stranded for {STRANDED_AFTER:?}\n{}\n{:?}",
                handle.schedtrace(true),
                handle.metrics()
            ),
        }
    }
}

/// Busy threads competing with the workers for both cores.
struct Hogs {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Hogs {
    fn start(n: usize) -> Hogs {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        Hogs { stop, threads }
    }
}

impl Drop for Hogs {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[test]
fn remote_spawns_beside_an_hour_long_timer_are_never_stranded() {
    let rt = gosched::Runtime::builder().procs(2).build().unwrap();
    // One task parked on a long timer: the netpoller has a waiter, so busy
    // Ms and sysmon poll it without blocking, racing the M that parks in it.
    rt.spawn(async { gosched::time::sleep(Duration::from_secs(3600)).await });
    spawn_and_wait_from_outside(rt.handle(), 200_000);
}

#[test]
fn remote_spawns_beside_a_long_timer_and_cpu_hogs_are_never_stranded() {
    let rt = gosched::Runtime::builder().procs(2).build().unwrap();
    rt.spawn(async { gosched::time::sleep(Duration::from_secs(3600)).await });
    let _hogs = Hogs::start(2);
    spawn_and_wait_from_outside(rt.handle(), 60_000);
}
