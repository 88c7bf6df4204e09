//! A worker pool, the way Go's tour writes it: a jobs channel, N workers,
//! a results channel, and a WaitGroup that closes the results channel once
//! every worker is done.
//!
//! Run: `cargo run --example worker_pool`

use gosched::sync::{chan, WaitGroup};

const WORKERS: usize = 4;
const JOBS: u64 = 20;

/// A job: a millisecond of blocking work (on the blocking pool, so the
/// worker task waits without holding a P), then an answer.
async fn work(id: usize, job: u64) -> (usize, u64, u64) {
    gosched::spawn_blocking(|| std::thread::sleep(std::time::Duration::from_millis(1)))
        .await
        .unwrap();
    (id, job, job * job)
}

fn main() {
    gosched::run(async {
        let (jobs_tx, jobs_rx) = chan::bounded::<u64>(JOBS as usize);
        let (results_tx, results_rx) = chan::bounded::<(usize, u64, u64)>(JOBS as usize);
        let wg = WaitGroup::new();

        for id in 0..WORKERS {
            let (jobs, results, done) = (jobs_rx.clone(), results_tx.clone(), wg.token());
            gosched::spawn(async move {
                // `for j := range jobs`: ends when jobs is closed and drained.
                while let Some(job) = jobs.recv().await {
                    results.send(work(id, job).await).await.unwrap();
                }
                drop(done); // wg.Done()
            });
        }
        drop(jobs_rx);

        // Go: `go func() { wg.Wait(); close(results) }()`.
        gosched::spawn(async move {
            wg.wait().await;
            results_tx.close();
        });

        for j in 1..=JOBS {
            jobs_tx.send(j).await.unwrap();
        }
        jobs_tx.close(); // `close(jobs)`: workers drain it, then stop

        let mut total = 0;
        let mut per_worker = [0u32; WORKERS];
        while let Some((id, job, square)) = results_rx.recv().await {
            println!("worker {id} finished job {job:2} -> {square}");
            total += square;
            per_worker[id] += 1;
        }
        assert_eq!(total, (1..=JOBS).map(|j| j * j).sum::<u64>());
        println!("sum of squares: {total}; jobs per worker: {per_worker:?}");
    });
}
