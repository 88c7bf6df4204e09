//! `#[gosched::test]` and its arguments, used as a crate that depends on
//! `gosched` alone would.

use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

#[gosched::test]
async fn a_test_body_runs_on_a_runtime() {
    let h = gosched::spawn(async { 6 * 7 });
    assert_eq!(h.await.unwrap(), 42);
}

#[gosched::test(procs = 3)]
async fn procs_sets_the_number_of_ps() {
    assert_eq!(gosched::Handle::current().procs(), 3);
}

#[gosched::test(procs = 1, start_paused)]
async fn start_paused_runs_a_one_hour_sleep_at_once() {
    let start = gosched::time::now();
    gosched::time::sleep(HOUR).await;
    assert!(gosched::time::now() - start >= HOUR);
}

#[gosched::test(start_paused = true)]
async fn a_one_hour_timeout_in_a_spawned_task_fires_on_the_paused_clock() {
    let start = gosched::time::now();
    let (tx, rx) = gosched::sync::chan::bounded::<()>(0);
    let waiter =
        gosched::spawn(async move { gosched::time::timeout(HOUR, rx.recv()).await.is_err() });
    assert!(waiter.await.unwrap(), "timed out");
    assert!(gosched::time::now() - start >= HOUR);
    drop(tx);
}

#[gosched::test(leak_check)]
async fn leak_check_passes_when_every_task_ends() {
    let hs: Vec<_> = (0..10).map(|i| gosched::spawn(async move { i })).collect();
    for h in hs {
        h.await.unwrap();
    }
}

#[gosched::test(leak_check)]
#[should_panic(expected = "leak_check")]
async fn leak_check_fails_a_test_that_leaves_a_task_parked() {
    let (tx, rx) = gosched::sync::chan::bounded::<()>(0);
    // Parked on a channel nobody sends to (it holds the only sender, so
    // the channel never closes): a leak.
    gosched::spawn(async move {
        let _sender = tx;
        let _ = rx.recv().await;
    });
}

#[gosched::test]
async fn a_test_may_return_a_result() -> Result<(), std::io::Error> {
    let n: u32 = "7".parse().map_err(std::io::Error::other)?;
    assert_eq!(n, 7);
    Ok(())
}
