//! The coarse clock: a process-wide millisecond count that sysmon
//! advances, so that hot paths (a task recording when it parked) read one
//! relaxed atomic instead of the system clock.
//!
//! sysmon advances it every round (every 20 µs to 10 ms, its sleep), and
//! busy Ms every 61st scheduling tick (`sched/stuck_watch.rs`), so it lags
//! by well under a millisecond while tasks run and by up to 10 ms while
//! the runtime idles; readers must not need better. 0 means the
//! clock was never set (no runtime has started).

use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::OnceLock;
use std::time::Instant;

/// Milliseconds since the first runtime started, plus one (0: never set).
/// Written only by sysmon threads, read anywhere; Relaxed both ways, since
/// it orders nothing.
static COARSE_MS: AtomicU32 = AtomicU32::new(0);

fn clock_origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// Advances the coarse clock to `now`. Called by sysmon each round.
pub(crate) fn tick(now: Instant) {
    let ms = now
        .saturating_duration_since(clock_origin())
        .as_millis()
        .min(u32::MAX as u128 - 1) as u32
        + 1;
    COARSE_MS.store(ms, Relaxed);
}

/// The coarse clock, in milliseconds (see the module docs).
#[inline]
pub(crate) fn coarse_ms() -> u32 {
    COARSE_MS.load(Relaxed)
}
