//! Dropping a runtime frees every byte its tasks used: a counting global
//! allocator sees the live byte count return to where it started.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

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

#[test]
fn dropping_the_runtime_frees_all_task_memory() {
    // The test harness captures output of threads spawned by the test, so
    // each printed panic message would grow its buffer: print nothing.
    std::panic::set_hook(Box::new(|_| {}));
    // Warm up thread-locals and lazy statics of std on this thread.
    {
        let rt = gosched_executor::Runtime::builder()
            .procs(2)
            .build()
            .unwrap();
        rt.block_on(async { gosched_executor::spawn(async {}).await.unwrap() });
    }
    let before = LIVE.load(Ordering::SeqCst);
    {
        let rt = gosched_executor::Runtime::builder()
            .procs(2)
            .build()
            .unwrap();
        for i in 0..100_000u64 {
            let buf = vec![i as u8; 16];
            drop(rt.spawn(async move {
                let _keep = buf;
                futures::future::pending::<()>().await;
            }));
        }
        // Some finished, some parked forever, some panicked.
        let done: Vec<_> = (0..1000)
            .map(|i| rt.spawn(async move { vec![i as u8; 32] }))
            .collect();
        let panicked: Vec<_> = (0..1000)
            .map(|_| rt.spawn(async { panic!("expected") }))
            .collect();
        rt.block_on(async {
            for h in done {
                h.await.unwrap();
            }
            for h in panicked {
                assert!(h.await.unwrap_err().is_panic());
            }
        });
        let during = LIVE.load(Ordering::SeqCst);
        assert!(
            during - before > 100_000 * 16,
            "tasks should hold memory while alive"
        );
    }
    let after = LIVE.load(Ordering::SeqCst);
    assert!(
        (after - before).abs() < 4096,
        "runtime drop leaked {} bytes (before {before}, after {after})",
        after - before
    );
}
