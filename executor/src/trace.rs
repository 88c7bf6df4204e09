//! The event trace, in Chrome's trace-event JSON, which Perfetto and
//! chrome://tracing load (Go's `go tool trace`, in spirit): for the whole
//! run with `GOSCHED_TRACE=path.json`, or for a while on demand with
//! [`Handle::start_trace`](crate::Handle::start_trace) (Go's
//! `/debug/pprof/trace?seconds=N`).
//!
//! One track per P shows every task poll as a span (`poll`, with the task
//! id), steals and parks as instants, and hand-offs as instants; one more
//! track shows the time Ms spent blocked in the netpoller.
//!
//! # Recording on demand
//!
//! A runtime keeps one `Recorder`. Its generation number is odd while a
//! recording runs, and each M compares it with what its own buffer is
//! attached to at a few checkpoints, never per poll:
//!
//! 1. `start` (under the recorder's lock) makes a fresh recording and
//!    bumps the generation to the next odd number.
//! 2. An M that sees an odd generation its buffer is not attached to
//!    attaches a buffer to it (`checkpoint`): every 61st scheduler tick,
//!    when it wakes with a P, and when it finds work in the global queue
//!    or by stealing (so an M that was spinning when the recording began
//!    joins before it runs what it found). It then records as the
//!    `GOSCHED_TRACE` buffer does, and counts itself in `dirty` (buffers
//!    that may hold events the recording has not received).
//! 3. Before an M sleeps it moves its events to the recording and leaves
//!    `dirty` (`before_sleep`), so a sleeping M is never waited for; it
//!    stays attached, and the netpoll wait it records on waking makes it
//!    dirty again.
//! 4. `finish` bumps the generation to even (stopped), then waits until
//!    no buffer is dirty (each M flushes at its next checkpoint), at most
//!    [`FINISH_WAIT`]: an M stuck inside one long poll does not hold the
//!    download hostage, its events are left out and counted in
//!    [`Trace::late_writers`].
//! 5. A batch that reaches the recorder for a generation that is no longer
//!    the current one is dropped, so a late M never adds to the next
//!    recording.
//!
//! Memory is bounded: a recording keeps at most its byte limit of rendered
//! events (later ones are counted in [`Trace::dropped`]), and each M
//! buffers at most `FLUSH_AT` events before moving them to the recording.
//!
//! # Cost
//!
//! Off (the default), a worker checks one field it owns per poll: no
//! atomic, no clock; every 61st tick, on each wake-up, global-queue pull
//! and steal it loads the recorder's generation (a relaxed-then-acquire load of a line nobody
//! writes unless a recording starts or stops). On, each poll reads the
//! clock twice and appends to a buffer owned by the worker; full buffers
//! move to the sink under a mutex. The `GOSCHED_TRACE` file is written
//! when the runtime is dropped (a runtime never dropped, such as the
//! global one, writes none).

use std::fmt::Write as _;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{
    AtomicU64, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::sched::Shared;

/// Environment variable naming the trace file.
pub const TRACE_ENV: &str = "GOSCHED_TRACE";

/// Events an M buffers before moving them to the sink or recording: big
/// enough that the lock is taken once per few thousand polls, small enough
/// (about 400 KB rendered) that the Ms' buffers stay a small part of a
/// recording's memory.
pub(crate) const FLUSH_AT: usize = 4096;

/// How long [`TraceRecording::finish`] waits for busy Ms to hand in their
/// buffers. A busy M reaches a checkpoint every 61 ticks, well within it;
/// only an M inside one poll that long misses it.
pub const FINISH_WAIT: Duration = Duration::from_millis(200);

/// The default byte limit of a recording ([`Handle::start_trace`](crate::Handle::start_trace)
/// takes another): about 600,000 poll spans.
pub const DEFAULT_TRACE_LIMIT: usize = 64 << 20;

/// One event, already rendered as a JSON object.
type Event = String;

/// Where every worker's events end up with `GOSCHED_TRACE`.
pub(crate) struct TraceSink {
    path: PathBuf,
    events: Mutex<Vec<Event>>,
}

impl TraceSink {
    /// A sink when `GOSCHED_TRACE` names a file.
    pub(crate) fn from_env() -> Option<TraceSink> {
        let path = std::env::var_os(TRACE_ENV)?;
        if path.is_empty() {
            return None;
        }
        Some(TraceSink {
            path: path.into(),
            events: Mutex::new(Vec::new()),
        })
    }

    fn push_all(&self, mut batch: Vec<Event>) {
        crate::loom::lock_std(&self.events).append(&mut batch);
    }

    /// Writes the file: the metadata naming each track, then every event.
    pub(crate) fn write(&self, procs: usize) -> io::Result<()> {
        let events = std::mem::take(&mut *crate::loom::lock_std(&self.events));
        std::fs::write(&self.path, render(procs, &events, ""))
    }
}

/// The JSON document: one named track per P and one for netpoll (tid =
/// `procs`), then `events`; `other` is extra `otherData` members.
fn render(procs: usize, events: &[Event], other: &str) -> String {
    let mut out = String::with_capacity(events.iter().map(|e| e.len() + 2).sum::<usize>() + 256);
    out.push_str("{\"traceEvents\":[\n");
    for p in 0..procs {
        let _ = writeln!(
            out,
            "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{p},\"args\":{{\"name\":\"P{p}\"}}}},"
        );
    }
    let _ = write!(
        out,
        "{{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":{procs},\"args\":{{\"name\":\"netpoll\"}}}}"
    );
    for e in events {
        out.push_str(",\n");
        out.push_str(e);
    }
    let _ = write!(
        out,
        "\n],\"displayTimeUnit\":\"ns\",\"otherData\":{{\"runtime\":\"gosched\"{other}}}}}\n"
    );
    out
}

fn instant(ts: f64, tid: usize, name: &str, args: &str) -> Event {
    format!("{{\"name\":\"{name}\",\"ph\":\"i\",\"s\":\"t\",\"ts\":{ts:.3},\"pid\":1,\"tid\":{tid},\"args\":{{{args}}}}}")
}

fn span(ts: f64, dur: f64, tid: usize, name: &str, args: &str) -> Event {
    format!("{{\"name\":\"{name}\",\"ph\":\"X\",\"ts\":{ts:.3},\"dur\":{dur:.3},\"pid\":1,\"tid\":{tid},\"args\":{{{args}}}}}")
}

/// A recording in progress (under the recorder's lock).
struct Recording {
    generation: u64,
    events: Vec<Event>,
    bytes: usize,
    limit: usize,
    dropped: u64,
}

/// The runtime's on-demand recorder (see the module docs for the
/// protocol). Every field says who writes it.
pub(crate) struct Recorder {
    /// The time base of every event, env trace and recordings alike (the
    /// runtime's start). Fixed at construction.
    epoch: Instant,
    /// Odd while a recording runs. Written under `current`'s lock by
    /// `start` and `finish` (Release); read by Ms at checkpoints.
    generation: AtomicU64,
    /// The recording, if one runs or waits for its last batches.
    current: Mutex<Option<Recording>>,
    /// Buffers attached to a recording that may hold events it has not
    /// received. Each M adds itself when it attaches or records after a
    /// sleep and removes itself when it flushes.
    dirty: AtomicUsize,
}

impl Recorder {
    pub(crate) fn new() -> Recorder {
        Recorder {
            epoch: Instant::now(),
            generation: AtomicU64::new(0),
            current: Mutex::new(None),
            dirty: AtomicUsize::new(0),
        }
    }

    /// Microseconds since the epoch.
    fn us(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.epoch).as_secs_f64() * 1e6
    }

    /// When the runtime started.
    pub(crate) fn epoch(&self) -> Instant {
        self.epoch
    }

    /// The running recording's generation, if any (an M's checkpoint).
    #[inline]
    fn running(&self) -> Option<u64> {
        // Relaxed first: the common answer is "none", and nothing is read
        // on its strength. Acquire on the rare odd value pairs with the
        // Release store in `start`, though the recording itself is only
        // ever touched under its lock.
        let g = self.generation.load(Relaxed);
        if g & 1 == 0 {
            return None;
        }
        let g = self.generation.load(Acquire);
        (g & 1 == 1).then_some(g)
    }

    fn push(&self, generation: u64, batch: Vec<Event>) {
        let mut cur = crate::loom::lock_std(&self.current);
        let Some(rec) = cur.as_mut().filter(|r| r.generation == generation) else {
            return;
        };
        for ev in batch {
            if rec.bytes + ev.len() > rec.limit {
                rec.dropped += 1;
                continue;
            }
            rec.bytes += ev.len();
            rec.events.push(ev);
        }
    }

    /// An instant event on P `p`'s track now, from any thread.
    fn instant_now(&self, env: Option<&TraceSink>, p: usize, name: &str) {
        let running = self.running();
        if env.is_none() && running.is_none() {
            return;
        }
        let ev = instant(self.us(Instant::now()), p, name, "");
        if let Some(g) = running {
            self.push(g, vec![ev.clone()]);
        }
        if let Some(sink) = env {
            sink.push_all(vec![ev]);
        }
    }
}

/// Records a hand-off of P `p` (sysmon's retake or `block_in_place`) in
/// the `GOSCHED_TRACE` sink and the running recording, if any.
pub(crate) fn handoff(shared: &Shared, p: usize) {
    shared
        .recorder
        .instant_now(shared.trace.as_ref(), p, "handoff");
}

/// A worker's own buffer.
pub(crate) struct TraceBuf {
    shared: Arc<Shared>,
    events: Vec<Event>,
    /// Events go to the `GOSCHED_TRACE` sink too.
    env: bool,
    /// The recording this buffer is attached to.
    generation: Option<u64>,
    /// Counted in the recorder's `dirty`.
    dirty: bool,
}

impl TraceBuf {
    fn new(shared: Arc<Shared>, env: bool) -> TraceBuf {
        TraceBuf {
            shared,
            events: Vec::with_capacity(FLUSH_AT),
            env,
            generation: None,
            dirty: false,
        }
    }

    /// A new M's buffer: one when `GOSCHED_TRACE` is on, else none until
    /// a recording starts (the M's first checkpoint attaches one).
    pub(crate) fn for_new_m(shared: &Arc<Shared>) -> Option<TraceBuf> {
        shared
            .trace
            .as_ref()
            .map(|_| TraceBuf::new(shared.clone(), true))
    }

    fn us(&self, t: Instant) -> f64 {
        self.shared.recorder.us(t)
    }

    fn push(&mut self, ev: Event) {
        if self.generation.is_some() && !self.dirty {
            self.dirty = true;
            self.shared.recorder.dirty.fetch_add(1, Relaxed);
        }
        self.events.push(ev);
        if self.events.len() >= FLUSH_AT {
            self.flush();
        }
    }

    /// Moves the buffered events to the sink and the recording.
    fn flush(&mut self) {
        if self.events.is_empty() {
            return;
        }
        let batch = std::mem::replace(&mut self.events, Vec::with_capacity(FLUSH_AT));
        match (self.generation, self.env) {
            (Some(g), true) => {
                self.shared.recorder.push(g, batch.clone());
                self.env_sink().push_all(batch);
            }
            (Some(g), false) => self.shared.recorder.push(g, batch),
            (None, true) => self.env_sink().push_all(batch),
            (None, false) => {}
        }
    }

    fn env_sink(&self) -> &TraceSink {
        self.shared
            .trace
            .as_ref()
            .expect("an env TraceBuf exists only with GOSCHED_TRACE")
    }

    /// Flushes, and leaves the recorder's `dirty` count.
    fn clean(&mut self) {
        self.flush();
        if self.dirty {
            self.dirty = false;
            // Release: pairs with the Acquire load in `finish`, so the
            // events pushed above (under the lock anyway) come first.
            self.shared.recorder.dirty.fetch_sub(1, Release);
        }
    }

    pub(crate) fn poll(&mut self, p: usize, task: u64, start: Instant, end: Instant) {
        let ts = self.us(start);
        let ev = span(
            ts,
            self.us(end) - ts,
            p,
            "poll",
            &format!("\"task\":{task}"),
        );
        self.push(ev);
    }

    pub(crate) fn steal(&mut self, p: usize, tasks: u64) {
        let ev = instant(
            self.us(Instant::now()),
            p,
            "steal",
            &format!("\"tasks\":{tasks}"),
        );
        self.push(ev);
    }

    pub(crate) fn park(&mut self, p: usize) {
        let ev = instant(self.us(Instant::now()), p, "park", "");
        self.push(ev);
    }

    pub(crate) fn netpoll_wait(&mut self, start: Instant, end: Instant) {
        let ts = self.us(start);
        let ev = span(
            ts,
            self.us(end) - ts,
            self.shared.procs.len(),
            "netpoll wait",
            "",
        );
        self.push(ev);
    }
}

impl Drop for TraceBuf {
    fn drop(&mut self) {
        self.clean();
    }
}

/// An M's checkpoint (step 2 of the protocol): attaches `slot` to the
/// running recording, or detaches it from one that has stopped. Owner
/// only: `slot` is the M's own buffer.
#[inline]
pub(crate) fn checkpoint(slot: &mut Option<TraceBuf>, shared: &Arc<Shared>) {
    let running = shared.recorder.running();
    if running == slot.as_ref().and_then(|t| t.generation) {
        return;
    }
    checkpoint_slow(slot, shared, running);
}

#[cold]
fn checkpoint_slow(slot: &mut Option<TraceBuf>, shared: &Arc<Shared>, running: Option<u64>) {
    if let Some(buf) = slot.as_mut() {
        // Detach from a stopped recording: hand in what it has.
        buf.clean();
        buf.generation = None;
        if !buf.env {
            *slot = None;
        }
    }
    if let Some(g) = running {
        slot.get_or_insert_with(|| TraceBuf::new(shared.clone(), false))
            .generation = Some(g);
    }
}

/// Step 3 of the protocol: an M about to sleep hands in its events.
/// Owner only.
pub(crate) fn before_sleep(slot: &mut Option<TraceBuf>) {
    if let Some(buf) = slot.as_mut() {
        if buf.generation.is_some() {
            buf.clean();
        }
    }
}

/// A recording is already running (one at a time per runtime).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceBusy;

impl std::fmt::Display for TraceBusy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a trace recording is already running on this runtime")
    }
}

impl std::error::Error for TraceBusy {}

/// A trace being recorded, from
/// [`Handle::start_trace`](crate::Handle::start_trace); [`finish`](TraceRecording::finish)
/// it to get the [`Trace`]. Dropping it unfinished stops the recording and
/// discards it.
pub struct TraceRecording {
    shared: Arc<Shared>,
    generation: u64,
    started: Instant,
    done: bool,
}

/// A finished recording: Chrome trace-event JSON.
#[derive(Clone, Debug)]
pub struct Trace {
    json: String,
    events: usize,
    dropped: u64,
    late_writers: usize,
    duration: Duration,
}

impl Trace {
    /// The trace as Chrome trace-event JSON (load it in Perfetto or
    /// chrome://tracing).
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The JSON, owned.
    pub fn into_json(self) -> String {
        self.json
    }

    /// Events recorded (spans and instants, not counting track names).
    pub fn events(&self) -> usize {
        self.events
    }

    /// Events left out because the recording reached its byte limit.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Ms that had not handed in their last events within
    /// [`FINISH_WAIT`] (each inside one long poll); those events are
    /// missing.
    pub fn late_writers(&self) -> usize {
        self.late_writers
    }

    /// How long the recording ran.
    pub fn duration(&self) -> Duration {
        self.duration
    }
}

impl std::fmt::Debug for TraceRecording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceRecording")
            .field("generation", &self.generation)
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

impl TraceRecording {
    /// Step 1 of the protocol (module docs).
    pub(crate) fn start(shared: &Arc<Shared>, limit: usize) -> Result<TraceRecording, TraceBusy> {
        let r = &shared.recorder;
        let mut cur = crate::loom::lock_std(&r.current);
        if cur.is_some() {
            return Err(TraceBusy);
        }
        let generation = r.generation.load(Relaxed) + 1;
        debug_assert!(generation & 1 == 1);
        *cur = Some(Recording {
            generation,
            events: Vec::new(),
            bytes: 0,
            limit,
            dropped: 0,
        });
        // Release: pairs with the Acquire load in `Recorder::running`.
        r.generation.store(generation, Release);
        drop(cur);
        // Ms asleep attach when they wake; wake none just for this.
        Ok(TraceRecording {
            shared: shared.clone(),
            generation,
            started: Instant::now(),
            done: false,
        })
    }

    /// Stops recording (step 4 of the protocol) and returns the trace.
    /// Blocks the calling thread until every busy M has handed in its
    /// events, at most [`FINISH_WAIT`]: from a task, call it inside
    /// `spawn_blocking`.
    pub fn finish(mut self) -> Trace {
        self.done = true;
        let r = &self.shared.recorder;
        let duration = self.started.elapsed();
        {
            let _cur = crate::loom::lock_std(&r.current);
            // Release: as in `start`.
            r.generation.store(self.generation + 1, Release);
        }
        let deadline = Instant::now() + FINISH_WAIT;
        // Acquire: pairs with the Release decrement in `TraceBuf::clean`.
        while r.dirty.load(Acquire) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        let late_writers = r.dirty.load(Acquire);
        let rec = crate::loom::lock_std(&r.current)
            .take()
            .expect("the recording lives until finish");
        let other = format!(
            ",\"recorded_ms\":{},\"dropped_events\":{},\"late_writers\":{}",
            duration.as_millis(),
            rec.dropped,
            late_writers
        );
        Trace {
            json: render(self.shared.procs.len(), &rec.events, &other),
            events: rec.events.len(),
            dropped: rec.dropped,
            late_writers,
            duration,
        }
    }
}

impl Drop for TraceRecording {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let r = &self.shared.recorder;
        let mut cur = crate::loom::lock_std(&r.current);
        r.generation.store(self.generation + 1, Release);
        *cur = None;
    }
}
