//! P hand-off: a task that blocks its thread must not stall the tasks
//! queued behind it (sysmon's retake), and `block_in_place` hands the P
//! off at once. No timing assertions: each test checks that other tasks
//! made progress *while* the thread was blocked.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gosched_executor::{block_in_place, yield_now, Runtime};

/// A task that counts while it runs, yielding between counts.
async fn ticker(count: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        count.fetch_add(1, Ordering::Relaxed);
        yield_now().await;
    }
}

#[test]
fn sysmon_retakes_the_p_of_a_thread_blocked_inside_a_poll() {
    let rt = Runtime::builder().procs(1).build().unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let t = rt.spawn(ticker(count.clone(), stop.clone()));
    let c = count.clone();
    let (before, after) = rt
        .block_on(rt.spawn(async move {
            let before = c.load(Ordering::Relaxed);
            // Blocks the only P's thread; the ticker is queued behind us.
            std::thread::sleep(Duration::from_millis(500));
            (before, c.load(Ordering::Relaxed))
        }))
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    rt.block_on(t).unwrap();
    assert!(
        after > before,
        "the ticker never ran while the thread was blocked ({before} -> {after})"
    );
    let handoffs: u64 = rt.handle().metrics().procs.iter().map(|p| p.handoffs).sum();
    assert!(handoffs >= 1);
}

#[test]
fn block_in_place_hands_the_p_off_and_the_task_finishes_after() {
    let rt = Runtime::builder().procs(1).build().unwrap();
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let t = rt.spawn(ticker(count.clone(), stop.clone()));
    let c = count.clone();
    let (before, after, more) = rt
        .block_on(rt.spawn(async move {
            let before = c.load(Ordering::Relaxed);
            let after = block_in_place(|| {
                std::thread::sleep(Duration::from_millis(200));
                c.load(Ordering::Relaxed)
            });
            // The task goes on after the closure, on whatever P it got.
            yield_now().await;
            (before, after, c.load(Ordering::Relaxed))
        }))
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    rt.block_on(t).unwrap();
    assert!(
        after > before,
        "the ticker never ran during block_in_place ({before} -> {after})"
    );
    assert!(more >= after);
}

#[test]
fn block_in_place_off_the_runtime_just_runs_the_closure() {
    assert_eq!(block_in_place(|| 7), 7);
}

#[test]
fn many_block_in_place_calls_with_busy_tasks_all_complete_exactly_once() {
    let rt = Runtime::builder().procs(2).build().unwrap();
    let leaks = gosched_executor::leak::LeakGuard::new(rt.handle());
    let count = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let tickers: Vec<_> = (0..4)
        .map(|_| rt.spawn(ticker(count.clone(), stop.clone())))
        .collect();
    let done = Arc::new(AtomicU64::new(0));
    let hs: Vec<_> = (0..200u64)
        .map(|i| {
            let done = done.clone();
            rt.spawn(async move {
                let v = block_in_place(|| {
                    std::thread::sleep(Duration::from_micros(200));
                    i
                });
                yield_now().await;
                done.fetch_add(1, Ordering::Relaxed);
                v
            })
        })
        .collect();
    let sum: u64 = rt.block_on(async {
        let mut s = 0;
        for h in hs {
            s += h.await.unwrap();
        }
        s
    });
    stop.store(true, Ordering::Relaxed);
    rt.block_on(async {
        for t in tickers {
            t.await.unwrap();
        }
    });
    leaks.check().unwrap();
    assert_eq!(sum, 199 * 200 / 2);
    assert_eq!(done.load(Ordering::Relaxed), 200);
    assert!(count.load(Ordering::Relaxed) > 0);
}

#[test]
fn a_runtime_with_handed_off_ps_shuts_down_cleanly() {
    let rt = Runtime::builder().procs(1).build().unwrap();
    for _ in 0..5 {
        drop(rt.spawn(async {
            block_in_place(|| std::thread::sleep(Duration::from_millis(5)));
            futures::future::pending::<()>().await;
        }));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(rt.handle().num_tasks(), 5);
    drop(rt);
}

#[test]
fn spare_threads_started_for_handoffs_exit_after_their_keep_alive() {
    let rt = Runtime::builder()
        .procs(1)
        .spare_thread_keep_alive(Duration::from_millis(50))
        .build()
        .unwrap();
    let h = rt.handle().clone();
    // Each block_in_place starts (or reuses) a spare thread.
    rt.block_on(rt.spawn(async {
        for _ in 0..3 {
            block_in_place(|| std::thread::sleep(Duration::from_millis(5)));
            yield_now().await;
        }
    }))
    .unwrap();
    assert!(h.metrics().threads >= 2, "a hand-off started no thread");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while h.metrics().threads > 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "spare threads never exited: {}",
            h.metrics().threads
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The runtime still works with its one M.
    assert_eq!(rt.block_on(rt.spawn(async { 5 })).unwrap(), 5);
}

#[test]
fn gosched_trace_writes_a_chrome_trace_with_polls_and_handoffs() {
    // The runtime reads GOSCHED_TRACE when it is built: run this test
    // binary again as a child with it set, then read the file.
    if let Ok(path) = std::env::var("GOSCHED_TRACE_CHILD") {
        assert_eq!(std::env::var("GOSCHED_TRACE").unwrap(), path);
        let rt = Runtime::builder().procs(2).build().unwrap();
        rt.block_on(rt.spawn(async {
            let hs: Vec<_> = (0..100)
                .map(|i| gosched_executor::spawn(async move { i }))
                .collect();
            block_in_place(|| std::thread::sleep(Duration::from_millis(5)));
            for h in hs {
                h.await.unwrap();
            }
        }))
        .unwrap();
        drop(rt);
        return;
    }
    let path = std::env::temp_dir().join(format!("gosched-trace-{}.json", std::process::id()));
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "gosched_trace_writes_a_chrome_trace_with_polls_and_handoffs",
            "--nocapture",
        ])
        .env("GOSCHED_TRACE_CHILD", &path)
        .env("GOSCHED_TRACE", &path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        text.starts_with("{\"traceEvents\":["),
        "{}",
        &text[..text.len().min(200)]
    );
    assert!(text.trim_end().ends_with('}'));
    assert!(text.contains("\"name\":\"P0\"") && text.contains("\"name\":\"P1\""));
    let polls = text.matches("\"name\":\"poll\",\"ph\":\"X\"").count();
    assert!(polls >= 101, "only {polls} poll spans");
    assert!(
        text.contains("\"name\":\"handoff\""),
        "the block_in_place hand-off is missing"
    );
    // Every event is one JSON object per line.
    for line in text.lines().skip(1) {
        let l = line.trim_end_matches(',');
        if l.starts_with('{') {
            assert!(l.ends_with('}'), "bad event line: {l}");
        }
    }
}
