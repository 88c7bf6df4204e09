//! On-demand trace recordings (`Handle::start_trace`): bounded in memory,
//! one at a time, and each recording holds only its own events.

use gosched_executor::{yield_now, Runtime};

/// Spawns `n` tasks that yield `yields` times each, and waits for them.
async fn load(n: usize, yields: usize) {
    let hs: Vec<_> = (0..n)
        .map(|_| {
            gosched_executor::spawn(async move {
                for _ in 0..yields {
                    yield_now().await;
                }
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
}

fn poll_spans(json: &str) -> usize {
    json.matches("\"name\":\"poll\"").count()
}

#[test]
fn a_recording_keeps_at_most_its_byte_limit_and_counts_the_rest() {
    let rt = Runtime::builder().procs(2).build().unwrap();
    let limit = 16 * 1024;
    let rec = rt.handle().start_trace(limit).unwrap();
    rt.block_on(rt.spawn(load(2000, 4))).unwrap();
    let trace = rec.finish();
    assert!(trace.dropped() > 0, "8000+ polls do not fit in 16 KiB");
    assert!(trace.events() > 0);
    // Track names and the wrapper come on top of the events' bytes.
    assert!(
        trace.json().len() <= limit + 4096,
        "{} bytes",
        trace.json().len()
    );
    assert!(trace
        .json()
        .contains(&format!("\"dropped_events\":{}", trace.dropped())));
}

#[test]
fn only_one_recording_runs_at_a_time_and_a_dropped_one_frees_the_slot() {
    let rt = Runtime::builder().procs(1).build().unwrap();
    let first = rt.handle().start_trace(1 << 20).unwrap();
    assert!(rt.handle().start_trace(1 << 20).is_err());
    drop(first);
    let second = rt.handle().start_trace(1 << 20).unwrap();
    rt.block_on(rt.spawn(load(100, 2))).unwrap();
    assert!(poll_spans(second.finish().json()) >= 300);
}

#[test]
fn each_recording_holds_only_the_polls_made_while_it_ran() {
    let rt = Runtime::builder().procs(2).build().unwrap();
    let rec = rt.handle().start_trace(1 << 24).unwrap();
    rt.block_on(rt.spawn(load(500, 3))).unwrap();
    let first = rec.finish();
    assert!(poll_spans(first.json()) >= 2000, "500 tasks x 4 polls");

    // Between recordings: not recorded anywhere.
    rt.block_on(rt.spawn(load(5000, 3))).unwrap();

    let rec = rt.handle().start_trace(1 << 24).unwrap();
    rt.block_on(rt.spawn(load(10, 1))).unwrap();
    let second = rec.finish();
    let polls = poll_spans(second.json());
    assert!(polls >= 20, "10 tasks x 2 polls, got {polls}");
    assert!(
        polls < 20_000,
        "the 20,000 polls between the recordings leaked into the second: {polls}"
    );
}
