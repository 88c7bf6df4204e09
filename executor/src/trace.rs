//! `GOSCHED_TRACE=path.json`: an event trace in Chrome's trace-event JSON,
//! which Perfetto and chrome://tracing load (Go's `go tool trace`, in
//! spirit).
//!
//! One track per P shows every task poll as a span (`poll`, with the task
//! id), steals and parks as instants, and hand-offs as instants; one more
//! track shows the time Ms spent blocked in the netpoller.
//!
//! # Cost
//!
//! Off (the default), a worker checks one field it owns per poll: no
//! atomic, no clock. On, each poll reads the clock twice and appends to a
//! buffer owned by the worker; full buffers (4096 events) move to the
//! shared sink under a mutex. The file is written when the runtime is
//! dropped (a runtime never dropped, such as the global one, writes none).

use std::fmt::Write as _;
use std::io;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

/// Environment variable naming the trace file.
pub const TRACE_ENV: &str = "GOSCHED_TRACE";

const FLUSH_AT: usize = 4096;

/// One event, already rendered as a JSON object.
type Event = String;

/// Where every worker's events end up.
pub(crate) struct TraceSink {
    path: PathBuf,
    start: Instant,
    events: Mutex<Vec<Event>>,
    /// The track id used for netpoll waits (one past the last P).
    netpoll_tid: usize,
}

impl TraceSink {
    /// A sink when `GOSCHED_TRACE` names a file.
    pub(crate) fn from_env(procs: usize) -> Option<TraceSink> {
        let path = std::env::var_os(TRACE_ENV)?;
        if path.is_empty() {
            return None;
        }
        Some(TraceSink {
            path: path.into(),
            start: Instant::now(),
            events: Mutex::new(Vec::new()),
            netpoll_tid: procs,
        })
    }

    fn us(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.start).as_secs_f64() * 1e6
    }

    fn push_all(&self, mut batch: Vec<Event>) {
        crate::loom::lock_std(&self.events).append(&mut batch);
    }

    /// An instant event on P `p`'s track, from any thread (sysmon).
    pub(crate) fn instant_now(&self, p: usize, name: &str, args: &str) {
        let ev = instant(self.us(Instant::now()), p, name, args);
        self.push_all(vec![ev]);
    }

    /// Writes the file: the metadata naming each track, then every event.
    pub(crate) fn write(&self, procs: usize) -> io::Result<()> {
        let events = std::mem::take(&mut *crate::loom::lock_std(&self.events));
        let mut out = String::with_capacity(events.len() * 96 + 256);
        out.push_str("{\"traceEvents\":[\n");
        for p in 0..procs {
            let _ = writeln!(
                out,
                "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{p},\"args\":{{\"name\":\"P{p}\"}}}},"
            );
        }
        let _ = write!(
            out,
            "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{},\"args\":{{\"name\":\"netpoll\"}}}}",
            self.netpoll_tid
        );
        for e in &events {
            out.push_str(",\n");
            out.push_str(e);
        }
        out.push_str("\n],\"displayTimeUnit\":\"ns\"}\n");
        std::fs::write(&self.path, out)
    }
}

fn instant(ts: f64, tid: usize, name: &str, args: &str) -> Event {
    format!("{{\"name\":\"{name}\",\"ph\":\"i\",\"s\":\"t\",\"ts\":{ts:.3},\"pid\":1,\"tid\":{tid},\"args\":{{{args}}}}}")
}

fn span(ts: f64, dur: f64, tid: usize, name: &str, args: &str) -> Event {
    format!("{{\"name\":\"{name}\",\"ph\":\"X\",\"ts\":{ts:.3},\"dur\":{dur:.3},\"pid\":1,\"tid\":{tid},\"args\":{{{args}}}}}")
}

/// A worker's own buffer.
pub(crate) struct TraceBuf {
    sink: std::sync::Arc<crate::sched::Shared>,
    events: Vec<Event>,
}

impl TraceBuf {
    pub(crate) fn new(shared: std::sync::Arc<crate::sched::Shared>) -> TraceBuf {
        TraceBuf {
            sink: shared,
            events: Vec::with_capacity(FLUSH_AT),
        }
    }

    fn sink(&self) -> &TraceSink {
        self.sink
            .trace
            .as_ref()
            .expect("a TraceBuf exists only when tracing")
    }

    fn push(&mut self, ev: Event) {
        self.events.push(ev);
        if self.events.len() >= FLUSH_AT {
            self.flush();
        }
    }

    /// Moves the buffered events to the sink.
    pub(crate) fn flush(&mut self) {
        let batch = std::mem::replace(&mut self.events, Vec::with_capacity(FLUSH_AT));
        self.sink().push_all(batch);
    }

    pub(crate) fn poll(&mut self, p: usize, task: u64, start: Instant, end: Instant) {
        let s = self.sink();
        let ev = span(
            s.us(start),
            s.us(end) - s.us(start),
            p,
            "poll",
            &format!("\"task\":{task}"),
        );
        self.push(ev);
    }

    pub(crate) fn steal(&mut self, p: usize, tasks: u64) {
        let ev = instant(
            self.sink().us(Instant::now()),
            p,
            "steal",
            &format!("\"tasks\":{tasks}"),
        );
        self.push(ev);
    }

    pub(crate) fn park(&mut self, p: usize) {
        let ev = instant(self.sink().us(Instant::now()), p, "park", "");
        self.push(ev);
    }

    pub(crate) fn netpoll_wait(&mut self, start: Instant, end: Instant) {
        let s = self.sink();
        let ev = span(
            s.us(start),
            s.us(end) - s.us(start),
            s.netpoll_tid,
            "netpoll wait",
            "",
        );
        self.push(ev);
    }
}

impl Drop for TraceBuf {
    fn drop(&mut self) {
        if !self.events.is_empty() {
            self.flush();
        }
    }
}
