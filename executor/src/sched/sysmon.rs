//! sysmon: the runtime's monitor thread (Go's `sysmon`).
//!
//! One thread per runtime, sleeping 20 µs at first and doubling up to
//! 10 ms while it retakes no P (Go's schedule: only a retake resets
//! the back-off), busy runtime or not. It sleeps at most 1 ms only while
//! it has a reason to look closely: a running P whose poll count stood
//! still for a whole round, a lone running P (no other P's M watches it),
//! or a nudge from an M that saw a P stuck in one poll (`stuck_watch.rs`),
//! after which it watches closely for [`IDLE_ROUNDS_BEFORE_BACKOFF`]
//! rounds. Each round it:
//!
//! 1. **Retakes** a P whose M has been inside one task poll for more than
//!    10 ms (Go's `forcePreemptNS`), or for more than 1 ms with its thread
//!    asleep in the kernel all along for the last 0.5 ms or more (a
//!    blocking syscall: Go hands those off at once; `sys/` says whether a
//!    thread is asleep and how much CPU time it has had, and a thread in
//!    a brief lock wait between bursts of work keeps gaining CPU time, so
//!    it keeps its P), while other tasks
//!    wait (on that P or in the global queue), and hands it to another M
//!    (`handoff.rs`). A poll is "one" when the P's poll counter has not
//!    moved; an M that is merely busy polls many short tasks and is left
//!    alone.
//!    A P whose M said it is blocking (`syscall`, Go's `_Psyscall`) is
//!    retaken sooner: when the M is seen inside the same call in two
//!    rounds in a row and work waits (`syscall.rs`); while any M is in
//!    such a call sysmon sleeps at most 50 µs.
//! 2. **Polls the netpoller** without blocking when no M is parked in it
//!    and nobody has polled it for 10 ms (Go's `sched.lastpoll`), so
//!    timers and sockets are served even while every M is stuck.
//! 3. **Wakes an M** when tasks are queued and every P is idle.
//! 4. Advances the coarse clock (`clock.rs`) and, with
//!    `GOSCHED_DEBUG=schedtrace=N`, prints Go's SCHED line
//!    (`schedtrace.rs`).

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use super::Shared;
use crate::schedtrace::{schedtrace, DebugSettings};

/// Stops the monitor thread, or nudges it out of a doze.
pub(crate) struct SysmonStop {
    signal: Mutex<Signal>,
    cv: Condvar,
    /// sysmon sleeps longer than [`BUSY_MAX_DELAY`] and nobody has nudged
    /// it yet: the next [`SysmonStop::nudge`] wakes it. Set by sysmon
    /// under the `signal` lock before it waits; taken by the nudger.
    dozing: AtomicBool,
}

#[derive(Default)]
struct Signal {
    stopped: bool,
    nudged: bool,
}

/// How a sysmon sleep ended.
#[derive(PartialEq, Eq)]
enum Woke {
    Timeout,
    Nudged,
    Stopped,
}

impl SysmonStop {
    pub(crate) fn new() -> SysmonStop {
        SysmonStop {
            signal: Mutex::new(Signal::default()),
            cv: Condvar::new(),
            dozing: AtomicBool::new(false),
        }
    }

    pub(crate) fn stop(&self) {
        crate::loom::lock_std(&self.signal).stopped = true;
        self.cv.notify_all();
    }

    /// Wakes sysmon from a doze to watch closely (`stuck_watch.rs`). One
    /// atomic swap when it is not dozing, or already nudged.
    pub(crate) fn nudge(&self) {
        if self.dozing.load(Relaxed) && self.dozing.swap(false, Relaxed) {
            crate::loom::lock_std(&self.signal).nudged = true;
            self.cv.notify_all();
        }
    }
}

/// Starts the monitor thread.
pub(crate) fn start(
    shared: &Arc<Shared>,
    settings: DebugSettings,
) -> std::io::Result<Option<(Arc<SysmonStop>, std::thread::JoinHandle<()>)>> {
    let stop = shared.monitor.clone();
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
/// Longest sysmon sleep while it watches a suspect P closely (Go sleeps
/// up to 10 ms, but our blocked-thread detection needs a finer look).
const BUSY_MAX_DELAY: Duration = Duration::from_millis(1);
/// First sleep after sysmon acted (Go's `usleep(20)`).
const MIN_DELAY: Duration = Duration::from_micros(20);
/// Longest sleep while every P is idle (Go's 10 ms cap).
const MAX_DELAY: Duration = Duration::from_millis(10);
/// Rounds in a row with nothing done before the sleep starts doubling
/// (Go: `idle > 50`): a burst of work gets 1 ms of 20 µs looks first.
const IDLE_ROUNDS_BEFORE_BACKOFF: u32 = 50;
/// How often sysmon polls the netpoller itself when nobody is parked in it.
const NETPOLL_EVERY: Duration = Duration::from_millis(10);

/// What sysmon last saw of a P.
#[derive(Clone, Copy)]
struct PSeen {
    polls: u64,
    since: Instant,
    /// The holder M's `syscalltick` when it was last seen inside a
    /// `syscall` (`None`: it was not).
    syscall: Option<u64>,
    /// The holder thread's CPU time when this stuck poll was first looked
    /// at for the asleep rule, and when.
    asleep_probe: Option<(u64, Instant)>,
    /// The holder thread's CPU time and run delay when this stuck poll
    /// was first seen past `RETAKE_ASLEEP_AFTER`, for the descheduled
    /// check of the 10 ms rule.
    sched_probe: Option<(u64, u64)>,
}

/// How long the holder of a stuck poll must be seen not running at all
/// (its CPU time unchanged, asleep at both ends) before the asleep rule
/// hands its P off.
const ASLEEP_PROBE: Duration = Duration::from_micros(500);

/// Longest sysmon sleep while some M is inside a `syscall`: Go retakes a
/// P whose M stays in one syscall across a sysmon tick of 20 µs or more,
/// so a blocked file read stalls its P for tens of microseconds, not for
/// sysmon's busy back-off of a millisecond.
const SYSCALL_WATCH_DELAY: Duration = Duration::from_micros(50);

/// sysmon's own state between rounds.
struct Monitor {
    settings: DebugSettings,
    start: Instant,
    /// The schedtrace period and the next time a line is due.
    period: Duration,
    next_trace: Instant,
    /// The current sleep, and rounds in a row that did nothing.
    delay: Duration,
    idle_rounds: u32,
    last_netpoll: Instant,
    /// Per P: the poll count last seen and since when it has not moved.
    seen: Vec<PSeen>,
    /// Some M was inside a `syscall` this round: sleep at most
    /// `SYSCALL_WATCH_DELAY`.
    watching_syscalls: bool,
    /// A stall is being watched: set by a nudge or by a round that saw a
    /// P stuck in one poll past `RETAKE_ASLEEP_AFTER`, cleared by a round
    /// in which every running P has polled. While set, a suspect P keeps
    /// sysmon's sleep at 1 ms or less.
    alert: bool,
}

/// Whether work waits for P `i`: tasks queued on it or globally, or timers
/// and sockets that nobody is polling (no M parked in the driver). Without
/// any, a hand-off would only start a thread with nothing to run.
fn work_waits_for(shared: &Shared, i: usize) -> bool {
    !shared.procs[i].runq().is_empty()
        || !shared.inject.is_empty()
        || (!shared.idle.driver_busy.load(Relaxed)
            && shared.driver.as_ref().is_some_and(|d| d.has_waiters()))
}

fn run(shared: Weak<Shared>, stop: Arc<SysmonStop>, settings: DebugSettings) {
    let start = Instant::now();
    crate::clock::tick(start);
    let mut mon = Monitor::new(settings, start);
    loop {
        match stop.sleep(mon.delay) {
            Woke::Stopped => return,
            Woke::Nudged => mon.nudged(),
            Woke::Timeout => {}
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        mon.round(&shared);
    }
}

impl SysmonStop {
    /// Sleeps for `delay`, or until stopped or nudged (a sleep longer than
    /// [`BUSY_MAX_DELAY`] is a doze that a nudge may cut short).
    fn sleep(&self, delay: Duration) -> Woke {
        let mut g = crate::loom::lock_std(&self.signal);
        let deadline = Instant::now() + delay;
        // Under the lock, so a nudger that takes the flag finds sysmon
        // waiting (or about to look at `nudged`) when it locks.
        self.dozing.store(delay > BUSY_MAX_DELAY, Relaxed);
        let woke = loop {
            if g.stopped {
                break Woke::Stopped;
            }
            if std::mem::take(&mut g.nudged) {
                break Woke::Nudged;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Woke::Timeout;
            }
            g = self
                .cv
                .wait_timeout(g, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        };
        self.dozing.store(false, Relaxed);
        woke
    }
}

impl Monitor {
    /// sysmon's state as it starts at `start`.
    fn new(settings: DebugSettings, start: Instant) -> Monitor {
        let period = Duration::from_millis(settings.schedtrace_ms.max(1));
        Monitor {
            settings,
            start,
            period,
            next_trace: start + period,
            delay: MIN_DELAY,
            idle_rounds: 0,
            last_netpoll: start,
            seen: Vec::new(),
            watching_syscalls: false,
            alert: false,
        }
    }

    /// A nudge (`stuck_watch.rs`): some P has been stuck in one poll for
    /// a while. Look now, and every [`ASLEEP_PROBE`] or so while a P stays
    /// stuck.
    fn nudged(&mut self) {
        self.alert = true;
        self.delay = self.delay.min(ASLEEP_PROBE);
    }

    /// One round: steps 1-4 of the module docs, then the next sleep.
    fn round(&mut self, shared: &Arc<Shared>) {
        let now = Instant::now();
        crate::clock::tick(now);
        // Only a retake resets the back-off, as in Go (`idle = 0` only
        // when `retake` did something): the netpoll of step 2 finds
        // events on every busy server, and counting it would keep sysmon
        // at 20 µs for 50 rounds out of every 10 ms (thousands of wakes
        // a second on a loaded 2-core machine for nothing).
        let (acted, suspect, stuck) = self.retake(shared, now);
        // 2. Netpoll, when nobody is parked in it.
        // Go's rule: only when nobody polled for 10 ms (`sched.lastpoll`),
        // so a busy server whose Ms poll every 61 ticks is not polled by
        // sysmon too, on the global queue's side of the event delivery.
        let polled_ms = crate::clock::coarse_ms().saturating_sub(shared.last_poll_ms.load(Relaxed));
        if now.duration_since(self.last_netpoll) >= NETPOLL_EVERY
            && u128::from(polled_ms) >= NETPOLL_EVERY.as_millis()
        {
            self.last_netpoll = now;
            if !shared.idle.driver_busy.load(Relaxed) {
                shared.poll_driver_nonblocking();
            }
        }
        // 3. Work queued while every P sleeps.
        if shared.idle.npidle.load(Relaxed) == shared.procs.len() && shared.has_any_work() {
            shared.wakep();
        }
        // 4. Trace.
        if self.settings.schedtrace_ms > 0 && now >= self.next_trace {
            self.next_trace += self.period;
            eprint!(
                "{}",
                schedtrace(shared, self.start.elapsed(), self.settings.scheddetail)
            );
        }
        // A lone running P with work queued has no peer to watch it
        // (`stuck_watch.rs`): unless an idle M in the driver happens to
        // wake for a timer, only sysmon would see that work stranded
        // behind a stall, so sysmon keeps its 1 ms look. (With nothing
        // queued, a stall there strands nothing: new work wakes an idle P.)
        let running = shared.procs.len() - shared.idle.npidle.load(Relaxed).min(shared.procs.len());
        let lone_with_work = running == 1 && shared.has_any_work();
        // A P that merely made no poll since the last look is usually a
        // thread the OS descheduled for a moment (a load generator or
        // other processes on the same cores); watching closely is for a
        // stall someone saw: a nudge, or a poll stuck past 1 ms.
        self.alert = suspect && (self.alert || stuck);
        self.back_off(acted, self.alert || lone_with_work);
    }

    /// Step 1: hands off every P stuck in one poll while work waits for it.
    /// Returns whether a P was handed off, whether some running P made no
    /// poll since the last round (a suspect), and whether one has been in
    /// its poll past `RETAKE_ASLEEP_AFTER`.
    fn retake(&mut self, shared: &Arc<Shared>, now: Instant) -> (bool, bool, bool) {
        let mut acted = false;
        let mut suspect = false;
        let mut stuck = false;
        if self.seen.len() != shared.procs.len() {
            self.seen = shared
                .procs
                .iter()
                .map(|p| PSeen {
                    polls: p.metrics.polls.load(Relaxed),
                    since: now,
                    syscall: None,
                    asleep_probe: None,
                    sched_probe: None,
                })
                .collect();
        }
        self.watching_syscalls = false;
        for (i, p) in shared.procs.iter().enumerate() {
            let seen = &mut self.seen[i];
            let polls = p.metrics.polls.load(Relaxed);
            if !p.running.load(Relaxed) {
                *seen = PSeen {
                    polls,
                    since: now,
                    syscall: None,
                    asleep_probe: None,
                    sched_probe: None,
                };
                continue;
            }
            if let Some(acted_on) = Self::retake_syscall(shared, i, seen) {
                self.watching_syscalls = true;
                acted |= acted_on;
                continue;
            }
            if polls != seen.polls {
                *seen = PSeen {
                    polls,
                    since: now,
                    syscall: None,
                    asleep_probe: None,
                    sched_probe: None,
                };
                continue;
            }
            suspect = true;
            let stuck_for = now.duration_since(seen.since);
            if stuck_for < RETAKE_ASLEEP_AFTER {
                continue;
            }
            stuck = true;
            if !work_waits_for(shared, i) {
                continue;
            }
            let Some(m) = shared.holder_of(i) else {
                continue;
            };
            let tid = m.tid.load(Relaxed);
            let first = match seen.sched_probe {
                Some(first) => Some(first),
                None => {
                    seen.sched_probe = crate::sys::thread_sched_ns(tid);
                    None
                }
            };
            if stuck_for < RETAKE_AFTER && !Self::asleep_all_along(seen, tid, now) {
                continue;
            }
            if stuck_for >= RETAKE_AFTER {
                match first {
                    // No baseline yet (sysmon dozed through the first
                    // 10 ms): judge it over the next round, at most 1 ms
                    // away, as a suspect.
                    None if seen.sched_probe.is_some() => continue,
                    Some(first) if Self::descheduled(seen, first, tid) => continue,
                    _ => {}
                }
            }
            if shared.handoff(i, &m) {
                acted = true;
            }
            seen.since = now;
            seen.sched_probe = None;
        }
        (acted, suspect, stuck)
    }

    /// The asleep rule of step 1: whether the holder thread `tid` of a
    /// stuck poll has been blocked in the kernel for at least
    /// `ASLEEP_PROBE`: asleep now, and its CPU time the same as at the
    /// first look. A thread merely caught in a brief futex wait (a lock,
    /// the allocator) between bursts of work reads as asleep at one
    /// instant but keeps gaining CPU time, so it keeps its P. So does a
    /// thread waiting in `futex` (a lock whose holder may be descheduled
    /// on a loaded machine): only the 10 ms rule hands such a P off.
    fn asleep_all_along(seen: &mut PSeen, tid: u32, now: Instant) -> bool {
        if !crate::sys::thread_asleep(tid) || crate::sys::thread_in_futex(tid) {
            seen.asleep_probe = None;
            return false;
        }
        let Some(cpu) = crate::sys::thread_cpu_ns(tid) else {
            return false;
        };
        match seen.asleep_probe {
            Some((first, at)) if first == cpu => now.duration_since(at) >= ASLEEP_PROBE,
            _ => {
                seen.asleep_probe = Some((cpu, now));
                false
            }
        }
    }

    /// The descheduled check of the 10 ms rule: whether the holder thread
    /// `tid` of a poll stuck that long waited for a CPU over twice as long
    /// as it ran since `first` (its CPU time and run delay when the poll
    /// was first seen stuck). Such a thread is not hogging anything: the
    /// machine is short of CPUs (other processes, CPU hogs beside a
    /// server), and a hand-off would only add a thread to the queue for
    /// them (an HTTP server beside two `yes` hogs grew to 22 workers that
    /// way). The queued tasks are stolen by the other Ps meanwhile.
    /// Re-baselines the probe, so a thread that starts running and keeps
    /// the P is judged on its next 10 ms.
    fn descheduled(seen: &mut PSeen, first: (u64, u64), tid: u32) -> bool {
        let Some(now) = crate::sys::thread_sched_ns(tid) else {
            return false;
        };
        let ran = now.0.saturating_sub(first.0);
        // Run delay is added when the thread gets a CPU back, so a thread
        // still waiting shows none yet; but a runnable thread (not asleep)
        // whose CPU time has not moved in 10 ms is waiting for a CPU.
        let waited = now.1.saturating_sub(first.1);
        if waited > 2 * ran || (ran == 0 && !crate::sys::thread_asleep(tid)) {
            seen.sched_probe = Some(now);
            seen.since = Instant::now();
            return true;
        }
        false
    }

    /// The syscall rule of step 1 (`syscall.rs`, step 3) for P `i`:
    /// `None` when its holder is not inside a `syscall`; otherwise whether
    /// this round handed the P off. The holder must have been seen in the
    /// same call (same `syscalltick`) in the previous round, and other
    /// work must wait for the P.
    fn retake_syscall(shared: &Arc<Shared>, i: usize, seen: &mut PSeen) -> Option<bool> {
        let holder = shared.holder_of(i)?;
        // SeqCst: pairs with the SeqCst stores in `enter_syscall` and
        // `exit_syscall`.
        if !holder.in_syscall.load(std::sync::atomic::Ordering::SeqCst) {
            seen.syscall = None;
            return None;
        }
        let tick = holder.syscalltick.load(Relaxed);
        if seen.syscall != Some(tick) {
            // First sight of this call: look again next round.
            seen.syscall = Some(tick);
            return Some(false);
        }
        if !work_waits_for(shared, i) {
            return Some(false);
        }
        seen.syscall = None;
        Some(shared.handoff(i, &holder))
    }

    /// Go's back-off: 20 µs after a retake, doubling after
    /// `IDLE_ROUNDS_BEFORE_BACKOFF` idle rounds up to 10 ms; at most 1 ms
    /// while a stall is watched, or a lone P runs with work queued
    /// (`close`); never past the next schedtrace line.
    fn back_off(&mut self, acted: bool, close: bool) {
        if acted {
            self.idle_rounds = 0;
            self.delay = MIN_DELAY;
        } else {
            self.idle_rounds += 1;
            if self.idle_rounds > IDLE_ROUNDS_BEFORE_BACKOFF {
                self.delay = (self.delay * 2).min(MAX_DELAY);
            }
        }
        if close {
            self.delay = self.delay.min(BUSY_MAX_DELAY);
        }
        if self.watching_syscalls {
            self.delay = self.delay.min(SYSCALL_WATCH_DELAY);
        }
        if self.settings.schedtrace_ms > 0 {
            self.delay = self.delay.min(
                self.next_trace
                    .saturating_duration_since(Instant::now())
                    .max(MIN_DELAY),
            );
        }
    }
}

#[cfg(all(test, not(gosched_loom)))]
mod tests {
    use super::*;

    fn monitor() -> Monitor {
        Monitor::new(DebugSettings::default(), Instant::now())
    }

    #[test]
    fn healthy_rounds_doze_to_ten_ms_and_a_watched_stall_or_a_nudge_brings_it_back() {
        let mut mon = monitor();
        for _ in 0..200 {
            mon.back_off(false, false);
        }
        assert_eq!(mon.delay, MAX_DELAY, "healthy rounds doze, busy or not");
        mon.back_off(false, true);
        assert_eq!(
            mon.delay, BUSY_MAX_DELAY,
            "a watched stall is looked at closely"
        );
        for _ in 0..200 {
            mon.back_off(false, false);
        }
        mon.nudged();
        assert!(mon.alert, "a nudge raises the alert");
        assert_eq!(mon.delay, ASLEEP_PROBE, "and looks at once");
        // Once the stall clears (no close look asked), the doze comes back
        // within a few doublings.
        for _ in 0..5 {
            mon.back_off(false, false);
        }
        assert_eq!(mon.delay, MAX_DELAY);
        mon.back_off(true, false);
        assert_eq!(mon.delay, MIN_DELAY, "a retake restarts at 20 µs");
    }

    #[test]
    fn a_nudge_cuts_a_doze_short_and_is_ignored_while_sysmon_is_awake() {
        let stop = Arc::new(SysmonStop::new());
        // Awake (not dozing): a nudge is a no-op, so the next short sleep
        // runs out its time.
        stop.nudge();
        assert!(stop.sleep(Duration::from_micros(100)) == Woke::Timeout);
        let s = stop.clone();
        let nudger = std::thread::spawn(move || {
            while !s.dozing.load(Relaxed) {
                std::thread::yield_now();
            }
            s.nudge();
        });
        // An hour-long doze: only the nudge ends it.
        assert!(stop.sleep(Duration::from_secs(3600)) == Woke::Nudged);
        assert!(!stop.dozing.load(Relaxed));
        nudger.join().unwrap();
        stop.stop();
        assert!(stop.sleep(Duration::from_secs(3600)) == Woke::Stopped);
    }
}
