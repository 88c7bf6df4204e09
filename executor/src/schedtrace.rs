//! `GOSCHED_DEBUG` and Go's SCHED line (`GODEBUG=schedtrace=N`).
//!
//! With `GOSCHED_DEBUG=schedtrace=N`, sysmon prints the SCHED line every N
//! ms (`scheddetail=1` adds a line per P and per M); `Handle::schedtrace`
//! gives the same text on demand.
//!
//! ```text
//! SCHED 1004ms: gomaxprocs=2 idleprocs=0 threads=5 spinningthreads=0 idlethreads=1 runqueue=0 [3 0]
//! ```
//!
//! A bad `GOSCHED_DEBUG` value is reported once per process on stderr and
//! otherwise ignored: a typo in a debug switch must not stop a service.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Once;
use std::time::Duration;

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
