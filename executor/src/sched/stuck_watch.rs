//! The Ms' watch for a P stuck in one poll, so that sysmon can doze.
//!
//! # Why
//!
//! sysmon finds a P whose M blocked inside a poll (an unmarked blocking
//! call, a CPU hog) by looking at every P's poll counter round after
//! round. Looking every millisecond while any P runs cost a busy server
//! one context switch per millisecond on a core it needs (about 3% of a
//! core on a 2-core TCP echo), for a stall that almost never happens.
//! Go's sysmon backs off to 10 ms whatever the load.
//!
//! # What the Ms do
//!
//! sysmon backs off to 10 ms while every running P keeps polling. The Ms
//! watch each other instead, on paths they take anyway:
//!
//! - an M holding a P, on its every 61st tick (the fairness check of
//!   `find_runnable`), looks at the other Ps;
//! - an M without a P that woke in the driver, made tasks ready and found
//!   no idle P to run them on (`stopm`), looks at every P.
//!
//! Each M remembers, per P, the poll count it last saw and when. A running
//! P whose count has not moved for [`STUCK_AFTER`] is stuck in one poll:
//! the M nudges sysmon ([`super::sysmon::SysmonStop::nudge`]), which wakes
//! from its doze and watches closely again, with the usual rules deciding
//! whether to hand the P off. A nudge costs nothing while sysmon is awake
//! or already nudged (one atomic swap).
//!
//! With one P and its M blocked there is no other M holding a P; the M
//! parked in the driver is the one that notices, when timers or sockets
//! make tasks ready that nobody can run: the only case in which the stall
//! matters. With no driver and one P, sysmon's own 10 ms look remains.
//!
//! # Invariants
//!
//! - Heuristics only: a nudge makes sysmon look, never hand off; a missed
//!   nudge delays detection to sysmon's own next look (at most 10 ms plus
//!   the retake rules), never loses a task.
//! - Cost on the hot path: one `Instant::now()`, a relaxed load per P and
//!   a store to the coarse clock (`clock.rs`, which this keeps fresh while
//!   sysmon dozes) every 61 ticks; nothing per poll.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use super::Shared;

/// How long a P's poll count must stand still before an M nudges sysmon.
/// Half of sysmon's own "asleep" threshold, so that sysmon's close look
/// starts before that rule could act.
pub(crate) const STUCK_AFTER: Duration = Duration::from_micros(500);

/// One M's view of the other Ps (module docs).
#[derive(Default)]
pub(crate) struct StuckWatch {
    /// Per P: the poll count last seen, and when it was first seen.
    seen: Vec<(u64, Instant)>,
}

impl StuckWatch {
    /// Looks at every P but `mine` (the one this M holds, if any) and
    /// nudges sysmon when one has been stuck in a poll for
    /// [`STUCK_AFTER`] (module docs).
    pub(crate) fn check(&mut self, shared: &Shared, mine: Option<usize>) {
        let now = Instant::now();
        // The clock read is paid anyway: keep the coarse clock fresh while
        // sysmon dozes.
        crate::clock::tick(now);
        if self.seen.len() != shared.procs.len() {
            self.seen = shared
                .procs
                .iter()
                .map(|p| (p.metrics.polls.load(Relaxed), now))
                .collect();
            return;
        }
        let mut stuck = false;
        for (i, p) in shared.procs.iter().enumerate() {
            if Some(i) == mine {
                continue;
            }
            let polls = p.metrics.polls.load(Relaxed);
            let seen = &mut self.seen[i];
            if polls != seen.0 || !p.running.load(Relaxed) {
                *seen = (polls, now);
            } else if now.duration_since(seen.1) >= STUCK_AFTER {
                stuck = true;
            }
        }
        if stuck {
            shared.nudge_sysmon();
        }
    }
}
