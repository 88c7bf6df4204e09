//! `/debug/gosched/metrics`: one snapshot of the runtime's counters
//! ([`Handle::metrics`](crate::Handle::metrics), plus the netpoller's
//! timer and registration counts) in Prometheus' text exposition format,
//! or as JSON for the dashboard.
//!
//! Nothing is sampled in the background: each request reads the counters
//! once. Rates (polls per second) are the scraper's business, as
//! Prometheus' `rate()` does, or the dashboard's, which keeps its history
//! in the browser.

use std::fmt::Write as _;
use std::time::Duration;

use crate::runtime::{GroupedDump, Metrics, Reactor, TaskGroup, TaskState};
use crate::Handle;

/// What one request reads.
pub(crate) struct Snapshot {
    pub(crate) uptime: Duration,
    pub(crate) m: Metrics,
    /// Timers set and not yet dropped, when the driver is gosched's
    /// netpoller.
    pub(crate) timers: Option<usize>,
    /// Sockets registered with the netpoller.
    pub(crate) registrations: Option<usize>,
}

impl Snapshot {
    pub(crate) fn read(handle: &Handle) -> Snapshot {
        let reactor = handle
            .driver()
            .and_then(|d| d.as_any().downcast_ref::<Reactor>());
        Snapshot {
            uptime: handle.uptime(),
            m: handle.metrics(),
            timers: reactor.map(Reactor::num_timers),
            registrations: reactor.map(Reactor::num_registrations),
        }
    }
}

/// Writes one metric family: HELP, TYPE and its samples.
struct Family<'a> {
    out: &'a mut String,
}

impl Family<'_> {
    fn one(&mut self, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
        let _ = writeln!(
            self.out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }

    fn per_p(&mut self, name: &str, kind: &str, help: &str, values: impl Iterator<Item = u64>) {
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (p, v) in values.enumerate() {
            let _ = writeln!(self.out, "{name}{{p=\"{p}\"}} {v}");
        }
    }
}

/// The Prometheus text format (version 0.0.4).
pub(crate) fn prometheus(s: &Snapshot) -> String {
    let m = &s.m;
    let mut out = String::with_capacity(4096);
    let mut f = Family { out: &mut out };
    f.one(
        "gosched_uptime_seconds",
        "gauge",
        "Seconds since the runtime started.",
        s.uptime.as_secs_f64(),
    );
    f.one("gosched_procs", "gauge", "Ps (GOMAXPROCS).", m.procs.len());
    f.one("gosched_tasks", "gauge", "Live tasks.", m.tasks);
    f.one(
        "gosched_tasks_spawned_total",
        "counter",
        "Tasks spawned.",
        m.tasks_spawned,
    );
    f.one(
        "gosched_tasks_completed_total",
        "counter",
        "Tasks ended (completed, panicked or cancelled).",
        m.tasks_completed,
    );
    f.one(
        "gosched_global_queue",
        "gauge",
        "Tasks in the global run queue.",
        m.global_queue,
    );
    let procs = &m.procs;
    f.per_p(
        "gosched_p_run_queue",
        "gauge",
        "Tasks queued on each P.",
        procs.iter().map(|p| p.queued as u64),
    );
    f.per_p(
        "gosched_p_polls_total",
        "counter",
        "Task polls run on each P.",
        procs.iter().map(|p| p.polls),
    );
    f.per_p(
        "gosched_p_steals_total",
        "counter",
        "Successful steals by each P.",
        procs.iter().map(|p| p.steals),
    );
    f.per_p(
        "gosched_p_stolen_tasks_total",
        "counter",
        "Tasks taken by each P's steals.",
        procs.iter().map(|p| p.stolen_tasks),
    );
    f.per_p(
        "gosched_p_global_pulls_total",
        "counter",
        "Batches each P took from the global queue.",
        procs.iter().map(|p| p.global_pulls),
    );
    f.per_p(
        "gosched_p_parks_total",
        "counter",
        "Times each P went idle.",
        procs.iter().map(|p| p.parks),
    );
    f.per_p(
        "gosched_p_forced_yields_total",
        "counter",
        "Polls on each P that ended because the coop budget ran out.",
        procs.iter().map(|p| p.forced_yields),
    );
    f.per_p(
        "gosched_p_handoffs_total",
        "counter",
        "Times each P was handed to another thread (sysmon retake or block_in_place).",
        procs.iter().map(|p| p.handoffs),
    );
    f.one(
        "gosched_threads",
        "gauge",
        "Worker threads (Ms).",
        m.threads,
    );
    f.one("gosched_idle_procs", "gauge", "Idle Ps.", m.idle_procs);
    f.one(
        "gosched_spinning_threads",
        "gauge",
        "Ms spinning for work.",
        m.spinning_threads,
    );
    f.one(
        "gosched_blocking_threads",
        "gauge",
        "Blocking-pool threads.",
        m.blocking_threads,
    );
    f.one(
        "gosched_blocking_busy",
        "gauge",
        "Blocking-pool closures running.",
        m.blocking_busy,
    );
    f.one(
        "gosched_blocking_queue",
        "gauge",
        "Blocking-pool closures waiting for a thread.",
        m.blocking_queue,
    );
    if let Some(t) = s.timers {
        f.one(
            "gosched_timers_pending",
            "gauge",
            "Timers set and not yet fired or dropped.",
            t,
        );
    }
    if let Some(r) = s.registrations {
        f.one(
            "gosched_netpoll_registrations",
            "gauge",
            "Sockets registered with the netpoller.",
            r,
        );
    }
    f.one(
        "gosched_netpoll_waits_total",
        "counter",
        "Times an idle thread blocked in the netpoller.",
        m.netpoll_waits,
    );
    out
}

/// The same snapshot as JSON; with `groups`, the top task groups by count
/// and by longest wait (at most `groups` of each).
pub(crate) fn json(s: &Snapshot, groups: Option<(GroupedDump, usize)>) -> String {
    let m = &s.m;
    let mut out = String::with_capacity(2048);
    let opt = |v: Option<usize>| v.map_or("null".to_string(), |v| v.to_string());
    let _ = write!(
        out,
        "{{\"uptime_seconds\":{:.6},\"procs\":{},\"tasks\":{},\"tasks_spawned\":{},\"tasks_completed\":{},\
         \"global_queue\":{},\"threads\":{},\"idle_procs\":{},\"spinning_threads\":{},\
         \"blocking_threads\":{},\"blocking_busy\":{},\"blocking_queue\":{},\
         \"timers_pending\":{},\"netpoll_registrations\":{},\"netpoll_waits\":{},\"per_p\":[",
        s.uptime.as_secs_f64(),
        m.procs.len(),
        m.tasks,
        m.tasks_spawned,
        m.tasks_completed,
        m.global_queue,
        m.threads,
        m.idle_procs,
        m.spinning_threads,
        m.blocking_threads,
        m.blocking_busy,
        m.blocking_queue,
        opt(s.timers),
        opt(s.registrations),
        m.netpoll_waits,
    );
    for (i, p) in m.procs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"p\":{i},\"run_queue\":{},\"polls\":{},\"steals\":{},\"stolen_tasks\":{},\
             \"global_pulls\":{},\"parks\":{},\"forced_yields\":{},\"handoffs\":{}}}",
            p.queued,
            p.polls,
            p.steals,
            p.stolen_tasks,
            p.global_pulls,
            p.parks,
            p.forced_yields,
            p.handoffs
        );
    }
    out.push(']');
    if let Some((dump, n)) = groups {
        let mut by_wait: Vec<&TaskGroup> = dump
            .groups
            .iter()
            .filter(|g| g.longest_wait.is_some())
            .collect();
        by_wait.sort_by_key(|g| std::cmp::Reverse(g.longest_wait));
        let _ = write!(out, ",\"groups\":{{\"total\":{},\"by_count\":[", dump.total);
        group_list(&mut out, dump.groups.iter().take(n));
        out.push_str("],\"by_wait\":[");
        group_list(&mut out, by_wait.into_iter().take(n));
        out.push_str("]}");
    }
    out.push_str("}\n");
    out
}

fn group_list<'a>(out: &mut String, groups: impl Iterator<Item = &'a TaskGroup>) {
    for (i, g) in groups.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let state = match g.state {
            TaskState::Waiting => "waiting",
            TaskState::Running => "running",
            TaskState::Runnable => "runnable",
        };
        let _ = write!(
            out,
            "{{\"count\":{},\"location\":{},\"state\":\"{state}\",\"wait_reason\":{},\"longest_wait_seconds\":{}}}",
            g.count,
            quote(&format!(
                "{}:{}:{}",
                g.location.file(),
                g.location.line(),
                g.location.column()
            )),
            quote(&g.wait_reason.to_string()),
            g.longest_wait
                .map_or("null".to_string(), |d| format!("{:.3}", d.as_secs_f64())),
        );
    }
}

/// `s` as a JSON string literal.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_escapes_what_json_requires() {
        assert_eq!(quote("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
