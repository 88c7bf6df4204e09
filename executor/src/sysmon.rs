//! sysmon: the runtime's monitor thread (Go's `sysmon`).
//!
//! One thread per runtime, sleeping 20 µs at first and doubling up to
//! 10 ms while it finds nothing to do (Go's schedule). Each round it:
//!
//! 1. **Retakes** a P whose M has been inside one task poll for more than
//!    10 ms (Go's `forcePreemptNS`), or for more than 1 ms with its thread
//!    asleep in the kernel (a blocking syscall: Go hands those off at
//!    once), while other tasks wait (on that P or in the global queue),
//!    and hands it to another M (`handoff.rs`). A poll is "one" when the
//!    P's poll counter has not moved; an M that is merely busy polls many
//!    short tasks and is left alone. While any P runs, sysmon sleeps at
//!    most 1 ms.
//! 2. **Polls the netpoller** without blocking when no M is parked in it
//!    and sysmon has not polled it for 10 ms, so timers and sockets are
//!    served even while every M is stuck.
//! 3. **Wakes an M** when tasks are queued and every P is idle.
//! 4. With `GOSCHED_DEBUG=schedtrace=N`, prints Go's SCHED line every N ms
//!    (`scheddetail=1` adds a line per P and per M).
//!
//! ```text
//! SCHED 1004ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0 [3 0]
//! ```
//!
//! A bad `GOSCHED_DEBUG` value is reported once per process on stderr and
//! otherwise ignored: a typo in a debug switch must not stop a service.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex, Once, Weak};
use std::time::{Duration, Instant};

use crate::sched::Shared;

/// Environment variable with the debug settings.
pub const DEBUG_ENV: &str = "GOSCHED_DEBUG";

/// Parsed `GOSCHED_DEBUG` settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DebugSettings {
    /// Print the SCHED line every this many ms (0: off).
    pub(crate) schedtrace_ms: u64,
    /// Add per-P and per-M lines.
    pub(crate) scheddetail: bool,
}

impl DebugSettings {
    /// Parses `schedtrace=N,scheddetail=1`; unknown keys or bad values are
    /// errors naming the offending item.
    pub(crate) fn parse(s: &str) -> Result<DebugSettings, String> {
        let mut out = DebugSettings::default();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (k, v) = item
                .split_once('=')
                .ok_or_else(|| format!("{item:?} is not key=value"))?;
            let n: u64 = v
                .parse()
                .map_err(|_| format!("{k}: {v:?} is not a number"))?;
            match k {
                "schedtrace" => out.schedtrace_ms = n,
                "scheddetail" => out.scheddetail = n != 0,
                _ => {
                    return Err(format!(
                        "unknown setting {k:?} (known: schedtrace=N, scheddetail=1)"
                    ))
                }
            }
        }
        Ok(out)
    }

    /// Reads the environment; a bad value is reported once and ignored.
    pub(crate) fn from_env() -> DebugSettings {
        static REPORTED: Once = Once::new();
        match std::env::var(DEBUG_ENV) {
            Err(_) => DebugSettings::default(),
            Ok(v) => DebugSettings::parse(&v).unwrap_or_else(|e| {
                REPORTED.call_once(|| eprintln!("gosched: ignoring {DEBUG_ENV}={v:?}: {e}"));
                DebugSettings::default()
            }),
        }
    }
}

/// Stops the monitor thread.
pub(crate) struct SysmonStop {
    stopped: Mutex<bool>,
    cv: Condvar,
}

impl SysmonStop {
    pub(crate) fn stop(&self) {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cv.notify_all();
    }
}

/// Starts the monitor thread.
pub(crate) fn start(
    shared: &Arc<Shared>,
    settings: DebugSettings,
) -> std::io::Result<Option<(Arc<SysmonStop>, std::thread::JoinHandle<()>)>> {
    let stop = Arc::new(SysmonStop {
        stopped: Mutex::new(false),
        cv: Condvar::new(),
    });
    let weak = Arc::downgrade(shared);
    let s = stop.clone();
    let h = std::thread::Builder::new()
        .name("gosched-sysmon".into())
        .spawn(move || run(weak, s, settings))?;
    Ok(Some((stop, h)))
}

/// How long one poll may run before its P is handed to another M.
pub(crate) const RETAKE_AFTER: Duration = Duration::from_millis(10);
/// How long one poll may sit in the kernel (its thread asleep: a blocking
/// syscall, `thread::sleep`) before its P is handed off. Go hands a P off
/// after one sysmon tick in a syscall; it knows from `entersyscall`. We ask
/// the kernel for the thread's state instead (Linux), and only for a poll
/// that has already run this long, so healthy runtimes never pay for it.
pub(crate) const RETAKE_ASLEEP_AFTER: Duration = Duration::from_millis(1);
/// Longest sysmon sleep while some P is running (Go sleeps up to 10 ms,
/// but our blocked-thread detection needs a finer look while busy).
const BUSY_MAX_DELAY: Duration = Duration::from_millis(1);
const MIN_DELAY: Duration = Duration::from_micros(20);
const MAX_DELAY: Duration = Duration::from_millis(10);
/// How often sysmon polls the netpoller itself when nobody is parked in it.
const NETPOLL_EVERY: Duration = Duration::from_millis(10);

/// What sysmon last saw of a P.
#[derive(Clone, Copy)]
struct PSeen {
    polls: u64,
    since: Instant,
}

fn run(shared: Weak<Shared>, stop: Arc<SysmonStop>, settings: DebugSettings) {
    let start = Instant::now();
    tick_coarse_clock(start);
    let period = Duration::from_millis(settings.schedtrace_ms.max(1));
    let mut next_trace = start + period;
    let mut delay = MIN_DELAY;
    let mut idle_rounds = 0u32;
    let mut last_netpoll = start;
    let mut seen: Vec<PSeen> = Vec::new();
    loop {
        {
            let g = stop.stopped.lock().unwrap_or_else(|e| e.into_inner());
            if *g {
                return;
            }
            let (g, _) = stop
                .cv
                .wait_timeout(g, delay)
                .unwrap_or_else(|e| e.into_inner());
            if *g {
                return;
            }
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let now = Instant::now();
        tick_coarse_clock(now);
        let mut acted = false;
        // 1. Retake.
        if seen.len() != shared.procs.len() {
            seen = shared
                .procs
                .iter()
                .map(|p| PSeen {
                    polls: p.metrics.polls.load(Relaxed),
                    since: now,
                })
                .collect();
        }
        for (i, p) in shared.procs.iter().enumerate() {
            let polls = p.metrics.polls.load(Relaxed);
            if polls != seen[i].polls || !p.running.load(Relaxed) {
                seen[i] = PSeen { polls, since: now };
                continue;
            }
            let stuck_for = now.duration_since(seen[i].since);
            if stuck_for < RETAKE_ASLEEP_AFTER {
                continue;
            }
            // Work waits for this P: queued tasks, or timers and sockets
            // that nobody is polling (no M parked in the driver).
            let waiting = !p.runq().is_empty()
                || !shared.inject.is_empty()
                || (!shared.idle.driver_busy.load(Relaxed)
                    && shared.driver.as_ref().is_some_and(|d| d.has_waiters()));
            if !waiting {
                continue;
            }
            let holder = shared
                .all_ms()
                .into_iter()
                .find(|m| m.cur_p.load(Relaxed) == i);
            let Some(m) = holder else { continue };
            if stuck_for < RETAKE_AFTER && !thread_asleep(m.tid.load(Relaxed)) {
                continue;
            }
            if shared.handoff(i, &m) {
                acted = true;
            }
            seen[i].since = now;
        }
        // 2. Netpoll, when nobody is parked in it.
        if now.duration_since(last_netpoll) >= NETPOLL_EVERY {
            last_netpoll = now;
            if !shared.idle.driver_busy.load(Relaxed) && shared.poll_driver_nonblocking() {
                acted = true;
            }
        }
        // 3. Work queued while every P sleeps.
        if shared.idle.npidle.load(Relaxed) == shared.procs.len() && shared.has_any_work() {
            shared.wakep();
            acted = true;
        }
        // 4. Trace.
        if settings.schedtrace_ms > 0 && now >= next_trace {
            next_trace += period;
            eprint!(
                "{}",
                schedtrace(&shared, start.elapsed(), settings.scheddetail)
            );
        }
        // Go's back-off: 20 µs while busy, doubling after 50 idle rounds.
        if acted {
            idle_rounds = 0;
            delay = MIN_DELAY;
        } else {
            idle_rounds += 1;
            if idle_rounds > 50 {
                delay = (delay * 2).min(MAX_DELAY);
            }
        }
        if shared.idle.npidle.load(Relaxed) < shared.procs.len() {
            delay = delay.min(BUSY_MAX_DELAY);
        }
        if settings.schedtrace_ms > 0 {
            delay = delay.min(
                next_trace
                    .saturating_duration_since(Instant::now())
                    .max(MIN_DELAY),
            );
        }
    }
}

/// The process-wide coarse clock: milliseconds since the first runtime
/// started, plus one (0 means "never set"). Every sysmon round stores it,
/// so it advances in 1 ms steps while a runtime is busy and up to 10 ms
/// while idle. Parking tasks read it instead of the system clock.
static COARSE_MS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn clock_origin() -> Instant {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// Advances the coarse clock to now.
fn tick_coarse_clock(now: Instant) {
    let ms = now
        .saturating_duration_since(clock_origin())
        .as_millis()
        .min(u32::MAX as u128 - 1) as u32
        + 1;
    COARSE_MS.store(ms, Relaxed);
}

/// The coarse clock (see `COARSE_MS`).
#[inline]
pub(crate) fn coarse_ms() -> u32 {
    COARSE_MS.load(Relaxed)
}

/// The calling thread's kernel thread id (Linux), or 0.
#[cfg_attr(gosched_loom, allow(dead_code))]
pub(crate) fn current_tid() -> u32 {
    // /proc/thread-self links to "<pid>/task/<tid>".
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Whether kernel thread `tid` of this process is asleep in the kernel
/// (state S or D in /proc), i.e. blocked in a syscall rather than running
/// user code. False when unknown.
fn thread_asleep(tid: u32) -> bool {
    if tid == 0 {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
        return false;
    };
    // The state follows the parenthesised command name, which may itself
    // contain spaces or parentheses: look after the last ')'.
    stat.rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next())
        .is_some_and(|st| st == "S" || st == "D")
}

/// Go's SCHED line (and, with `detail`, the P and M lines).
pub(crate) fn schedtrace(shared: &Shared, elapsed: Duration, detail: bool) -> String {
    use std::fmt::Write;
    let (idle_ms, ms) = {
        let lists = crate::loom::lock(&shared.idle.lists);
        (lists.midle.len(), shared.all_ms())
    };
    let runqs: Vec<String> = shared
        .procs
        .iter()
        .map(|p| p.runq().len().to_string())
        .collect();
    let threads = shared.nthreads.load(Relaxed) + shared.blocking.threads() + 1;
    let mut out = format!(
        "SCHED {}ms: gomaxprocs={} idleprocs={} threads={} spinningthreads={} idlethreads={} runqueue={} [{}]\n",
        elapsed.as_millis(),
        shared.procs.len(),
        shared.idle.npidle.load(Relaxed),
        threads,
        shared.idle.nmspinning.load(Relaxed),
        idle_ms,
        shared.inject.len(),
        runqs.join(" ")
    );
    if detail {
        for (i, p) in shared.procs.iter().enumerate() {
            let owner = ms
                .iter()
                .position(|m| m.cur_p.load(Relaxed) == i)
                .map_or(-1, |m| m as i64);
            let _ = writeln!(
                out,
                "  P{i}: status={} schedtick={} m={owner} runqsize={} polls={} steals={} parks={}",
                if p.running.load(Relaxed) { 1 } else { 0 },
                p.schedtick.load(Relaxed),
                p.runq().len(),
                p.metrics.polls.load(Relaxed),
                p.metrics.steals.load(Relaxed),
                p.metrics.parks.load(Relaxed),
            );
        }
        for (i, m) in ms.iter().enumerate() {
            let p = m.cur_p.load(Relaxed);
            let p = if p == usize::MAX { -1 } else { p as i64 };
            let _ = writeln!(out, "  M{i}: p={p} indriver={}", m.in_driver.load(Relaxed));
        }
    }
    out
}

#[cfg(all(test, not(gosched_loom)))]
mod tests {
    use super::*;

    #[test]
    fn debug_settings_parse_go_style() {
        assert_eq!(
            DebugSettings::parse("schedtrace=1000,scheddetail=1").unwrap(),
            DebugSettings {
                schedtrace_ms: 1000,
                scheddetail: true
            }
        );
        assert_eq!(DebugSettings::parse("").unwrap(), DebugSettings::default());
        assert!(DebugSettings::parse("schedtrace=x")
            .unwrap_err()
            .contains("not a number"));
        assert!(DebugSettings::parse("gctrace=1")
            .unwrap_err()
            .contains("unknown setting"));
    }
}

#[cfg(all(test, not(gosched_loom), target_os = "linux"))]
mod linux_tests {
    use super::*;

    #[test]
    fn a_sleeping_thread_reads_as_asleep_and_a_spinning_one_does_not() {
        let (tx, rx) = std::sync::mpsc::channel();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let s = stop.clone();
        let sleeper = std::thread::spawn(move || {
            tx.send(current_tid()).unwrap();
            std::thread::sleep(Duration::from_millis(300));
        });
        let (tx2, rx2) = std::sync::mpsc::channel();
        let spinner = std::thread::spawn(move || {
            tx2.send(current_tid()).unwrap();
            while !s.load(Relaxed) {
                std::hint::spin_loop();
            }
        });
        let (a, b) = (rx.recv().unwrap(), rx2.recv().unwrap());
        assert!(a != 0 && b != 0);
        std::thread::sleep(Duration::from_millis(50));
        assert!(thread_asleep(a), "sleeping thread not seen asleep");
        // A spinning thread is runnable (R) even when descheduled.
        assert!(!thread_asleep(b), "spinning thread seen asleep");
        stop.store(true, Relaxed);
        sleeper.join().unwrap();
        spinner.join().unwrap();
        assert!(!thread_asleep(0));
    }
}
