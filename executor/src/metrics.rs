//! Scheduler counters (`Handle::metrics`): per-P polls, steals, global
//! queue pulls, parks and budget-forced yields, plus runtime-wide counts.
//!
//! Every per-P counter is written only by the M holding that P, with a
//! plain relaxed load and store, so keeping them costs no atomic RMW on
//! the hot path. The spawn count lives beside each registry shard's live
//! count, written under the shard lock the spawn takes anyway; the
//! netpoll-wait count is added to by an M returning from a blocking poll.
//! Everything else is read when asked. Reading is racy by design: a
//! snapshot, not a barrier.

use std::sync::atomic::Ordering::Relaxed;

use crate::sched::Shared;

/// Counters of one P.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcMetrics {
    /// Task polls run on this P.
    pub polls: u64,
    /// Successful steals by this P.
    pub steals: u64,
    /// Tasks taken by those steals.
    pub stolen_tasks: u64,
    /// Batches taken from the global queue.
    pub global_pulls: u64,
    /// Times this P went idle.
    pub parks: u64,
    /// Polls that ended because the coop budget ran out.
    pub forced_yields: u64,
    /// Times this P was handed to another M: retaken by sysmon from an M
    /// stuck in one poll, or given away by `block_in_place`.
    pub handoffs: u64,
    /// Tasks queued on this P now.
    pub queued: usize,
}

/// A snapshot of the scheduler's counters
/// ([`Handle::metrics`](crate::Handle::metrics)).
///
/// ```
/// let rt = gosched::Runtime::builder().procs(2).build().unwrap();
/// rt.block_on(async {
///     let hs: Vec<_> = (0..100).map(|i| gosched::spawn(async move { i })).collect();
///     for h in hs {
///         h.await.unwrap();
///     }
/// });
/// let m = rt.handle().metrics();
/// let polls: u64 = m.procs.iter().map(|p| p.polls).sum();
/// assert!(polls >= 100, "each task was polled at least once");
/// assert_eq!(m.tasks, 0);
/// assert_eq!((m.tasks_spawned, m.tasks_completed), (100, 100));
/// assert!(m.threads >= 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// One entry per P.
    pub procs: Vec<ProcMetrics>,
    /// Live tasks.
    pub tasks: usize,
    /// Tasks spawned on this runtime so far (not counting blocking-pool
    /// closures); 0 in a `--cfg gosched_observe_off` build.
    pub tasks_spawned: u64,
    /// Tasks that have ended (completed, panicked or cancelled) so far:
    /// `tasks_spawned` less the live ones.
    pub tasks_completed: u64,
    /// Tasks in the global queue.
    pub global_queue: usize,
    /// Worker threads (Ms).
    pub threads: usize,
    /// Blocking-pool threads.
    pub blocking_threads: usize,
    /// Blocking-pool closures running now.
    pub blocking_busy: usize,
    /// Blocking-pool closures queued, waiting for a thread.
    pub blocking_queue: usize,
    /// Times an idle M blocked in the driver (the netpoller) so far.
    pub netpoll_waits: u64,
    /// Idle Ps.
    pub idle_procs: usize,
    /// Spinning Ms.
    pub spinning_threads: usize,
}

impl Metrics {
    pub(crate) fn read(shared: &Shared) -> Metrics {
        // Spawned first: a task spawned between the two reads then counts
        // as live, never as ended before it began.
        let spawned = shared.registry.spawned() as u64;
        let tasks = shared.registry.len();
        let (blocking_threads, blocking_busy, blocking_queue) = shared.blocking.usage();
        Metrics {
            procs: shared
                .procs
                .iter()
                .map(|p| ProcMetrics {
                    polls: p.metrics.polls.load(Relaxed),
                    steals: p.metrics.steals.load(Relaxed),
                    stolen_tasks: p.metrics.stolen_tasks.load(Relaxed),
                    global_pulls: p.metrics.global_pulls.load(Relaxed),
                    parks: p.metrics.parks.load(Relaxed),
                    forced_yields: p.metrics.forced_yields.load(Relaxed),
                    handoffs: p.metrics.handoffs.load(Relaxed),
                    queued: p.runq().len(),
                })
                .collect(),
            tasks,
            tasks_spawned: spawned,
            tasks_completed: spawned.saturating_sub(tasks as u64),
            global_queue: shared.inject.len(),
            threads: shared.nthreads.load(Relaxed),
            blocking_threads,
            blocking_busy,
            blocking_queue,
            netpoll_waits: shared.idle.netpoll_waits.load(Relaxed),
            idle_procs: shared.idle.npidle.load(Relaxed),
            spinning_threads: shared.idle.nmspinning.load(Relaxed),
        }
    }
}
