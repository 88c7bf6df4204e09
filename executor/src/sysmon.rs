//! sysmon: the runtime's monitor thread (Go's `sysmon`).
//!
//! Today it does one of sysmon's jobs: `GOSCHED_DEBUG=schedtrace=N` makes
//! it print Go's SCHED line to stderr every N milliseconds, and
//! `scheddetail=1` adds a line per P and per M. It runs only when asked
//! for, so a runtime without tracing has no extra thread.
//!
//! ```text
//! SCHED 1004ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0 [3 0]
//! ```
//!
//! Retaking a P from an M stuck inside one poll, and handing a P off
//! around `block_in_place`, are sysmon's other jobs in Go; they are not
//! built yet (see docs/architecture.md, "Not yet built").
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

/// Starts the monitor thread if the settings ask for anything.
pub(crate) fn start(
    shared: &Arc<Shared>,
    settings: DebugSettings,
) -> std::io::Result<Option<(Arc<SysmonStop>, std::thread::JoinHandle<()>)>> {
    if settings.schedtrace_ms == 0 {
        return Ok(None);
    }
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

fn run(shared: Weak<Shared>, stop: Arc<SysmonStop>, settings: DebugSettings) {
    let start = Instant::now();
    let period = Duration::from_millis(settings.schedtrace_ms);
    let mut next = start + period;
    loop {
        {
            let mut g = stop.stopped.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if *g {
                    return;
                }
                let now = Instant::now();
                if now >= next {
                    break;
                }
                g = stop
                    .cv
                    .wait_timeout(g, next - now)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        next += period;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        eprint!(
            "{}",
            schedtrace(&shared, start.elapsed(), settings.scheddetail)
        );
    }
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
        .map(|p| p.runq.len().to_string())
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
                p.runq.len(),
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
