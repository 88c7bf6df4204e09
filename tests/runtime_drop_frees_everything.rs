//! A runtime dropped while other threads spawn onto it and wake its tasks
//! through a `Handle` frees everything: its file descriptors (the epoll
//! instance and the eventfd), its threads and every heap byte. So does a
//! runtime whose task's waker outlives it on a plain thread.
//!
//! One test per file: it counts process-wide fds, threads and heap bytes,
//! so nothing else may run beside it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Parks forever, publishing its waker for others to call.
struct Parked(Arc<Mutex<Option<Waker>>>);

impl Future for Parked {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        *self.0.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// One runtime, dropped while two threads spawn onto it and wake its
/// parked tasks, and with a waker that a third thread drops afterwards.
fn one_round() {
    let rt = gosched::Runtime::builder().procs(2).build().unwrap();
    let slot = Arc::new(Mutex::new(None::<Waker>));
    rt.spawn(Parked(slot.clone()));
    // The parked task's waker, kept by a plain thread past the drop.
    let kept = loop {
        if let Some(w) = slot.lock().unwrap().clone() {
            break w;
        }
        std::thread::yield_now();
    };
    let stop = Arc::new(AtomicBool::new(false));
    let busy: Vec<_> = (0..2)
        .map(|i| {
            let handle = rt.handle().clone();
            let slot = slot.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if i == 0 {
                        drop(handle.spawn(async { gosched::yield_now().await }));
                    } else if let Some(w) = slot.lock().unwrap().as_ref() {
                        w.wake_by_ref();
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_micros(200));
    drop(rt);
    // Spawns and wakes keep coming for a moment after the drop.
    std::thread::sleep(Duration::from_micros(200));
    stop.store(true, Ordering::Relaxed);
    for t in busy {
        t.join().unwrap();
    }
    drop(slot);
    std::thread::spawn(move || drop(kept)).join().unwrap();
}

#[test]
fn runtimes_dropped_while_threads_spawn_and_wake_through_handles_free_fds_threads_and_heap() {
    // Warm up std's lazies (thread names, /proc reads) on this thread.
    one_round();
    let (fds, thr, heap) = (open_fds(), threads(), LIVE.load(Ordering::SeqCst));
    for _ in 0..500 {
        one_round();
    }
    // Blocking and worker threads are joined by the drop; give any thread
    // that is still unwinding its last destructor a moment (hang guard).
    for _ in 0..500 {
        if threads() <= thr && open_fds() <= fds {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(open_fds(), fds, "file descriptors leaked");
    assert_eq!(threads(), thr, "threads leaked");
    let grown = LIVE.load(Ordering::SeqCst) - heap;
    // A leaked runtime holds tens of KiB; 500 rounds would leak megabytes.
    // Allow a few KiB of allocator-independent noise (std's thread-local
    // destructor lists, /proc buffers).
    assert!(
        grown < 16 * 1024,
        "heap grew by {grown} bytes over 500 runtimes"
    );
}
