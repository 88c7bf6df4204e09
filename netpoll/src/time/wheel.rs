//! The hierarchical timer wheel that holds every pending timer of a reactor.
//!
//! # Why a wheel and not Go's per-P heaps
//!
//! Go keeps a 4-ary heap of timers per P: insert and delete are O(log n),
//! and deleting needs the timer's index in the heap. The workloads gosched
//! cares about are *timeout churn* (a server wraps every read in a timeout
//! that almost never fires, so timers are set and cancelled at the request
//! rate) and *crowds of sleeps* firing together. A wheel does both in O(1)
//! per timer (link and unlink a list node; a due slot is taken whole),
//! whatever the number in flight. `heap_comparison.rs` measures the two
//! side by side: churn is within noise, firing 100k sleeps is 3-4x faster
//! on the wheel. Per-P structures need the executor's P id; one wheel per
//! reactor behind one mutex is simpler, and the lock is held for a few
//! dozen nanoseconds per operation.
//!
//! # Shape
//!
//! Time is counted in ticks of 62.5 µs (1/16 ms) since the wheel was made.
//! The tick is what makes timers precise: a deadline is rounded up to the
//! next tick, so it fires at most 62.5 µs after it is due plus the
//! poller's wake-up (a millisecond tick, tokio's, makes a 1 ms ticker
//! 1.3 ms late on average). 16 ticks to the millisecond, so a deadline of
//! whole milliseconds from a paused clock (which stops on a millisecond,
//! `clock.rs`) still falls on a tick boundary.
//! There are [`LEVELS`] levels of 64 slots; a slot of level `l` spans
//! `64^l` ticks, so the wheel covers 64^6 ticks (about 50 days) ahead;
//! timers further away park in the top level and are re-filed each time
//! their slot comes round. A timer is filed at the level of the highest
//! 6-bit digit in which its tick differs from `elapsed` (the tick the wheel
//! has advanced to): a timer due in 3 ms sits in level 0, one due in 10 ms
//! in level 1, one due in 30 s in level 3. A finer tick costs a fired timer
//! one more cascade (a relink) than a millisecond tick would; a timeout
//! that is cancelled before it fires, the common case, costs the same.
//! Each level keeps a 64-bit mask of occupied slots, so finding the next
//! slot to expire is a rotate and a count of trailing zeros.
//!
//! # Protocol
//!
//! 1. [`Wheel::insert`] takes a free entry from the slab, files it, and
//!    returns a [`TimerKey`] (slot index + generation, so a key of a freed
//!    and reused entry is recognised as stale).
//! 2. [`Wheel::advance`] moves `elapsed` forward to `now` one expiring slot
//!    at a time: it unlinks the slot's list, fires the entries that are due
//!    and re-files the rest at a lower level (the *cascade*). What firing
//!    does to an entry depends on its [`Action`] (`action.rs`): a sleep's
//!    waker, a one-shot channel send or a callback is handed out and the
//!    entry freed at once; a ticker's is handed out and re-filed one period
//!    on, past `now`, so one advance fires a ticker at most once.
//! 3. A sleep learns that it is due from the clock, not from the wheel
//!    (`sleep.rs`). Past its deadline, it forgets its key without the
//!    wheel lock when the wheel has advanced to the entry's tick (the
//!    driver publishes `elapsed` after each advance: such an entry has
//!    fired and been freed), and removes the entry otherwise. A key of a
//!    freed entry is stale, and [`Wheel::poll`] answers "fired" for it. A
//!    sleep dropped before its deadline frees its entry with
//!    [`Wheel::remove`]: a server that wraps
//!    every read in a timeout holds only the timers in flight. A `Timer`,
//!    `Ticker` or Context deadline removes its entry when stopped or
//!    dropped; [`Wheel::remove`] says whether it was still scheduled,
//!    which is Go's `Stop` result.
//!
//! # Invariants
//!
//! - Every scheduled entry has `when > elapsed`.
//! - A timer fires at tick `t` only when `advance(now)` was called with
//!   `now >= t`; ticks round deadlines *up*, so nothing fires early.
//! - Lists keep insertion order (append at the tail), so timers filed in
//!   one slot come out in the order they were set.

use std::task::Waker;
use std::time::{Duration, Instant};

use super::action::{Action, Fire};
use super::sleep::far_deadline;

/// Number of levels.
pub(crate) const LEVELS: usize = 6;
/// Slots per level.
const SLOTS: u64 = 64;
/// Bits of a tick per level.
const LEVEL_BITS: u64 = 6;
/// How far ahead the wheel reaches, in ticks.
const MAX_RANGE: u64 = 1 << (LEVEL_BITS * LEVELS as u64);
/// Sentinel for "no entry".
const NIL: u32 = u32::MAX;
/// Nanoseconds in a tick (62.5 µs: 16 to the millisecond). Divisions by
/// it are by a constant, which compiles to a multiply.
pub(crate) const NANOS_PER_TICK: u64 = 62_500;

/// Names one timer entry; stale once the entry is freed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimerKey {
    index: u32,
    generation: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Free,
    Scheduled,
}

struct Entry {
    generation: u32,
    state: State,
    /// Due tick.
    when: u64,
    /// Exact deadline in nanoseconds since `start`, to fire a batch in
    /// deadline order. (Not an `Instant`: entries are kept small, 56
    /// bytes, because unlinking touches two neighbours that are usually
    /// cold in cache.)
    deadline_ns: u64,
    /// What firing does; `Wake(None)` while free.
    action: Action,
    /// List links while scheduled; `next` is the free-list link while free.
    prev: u32,
    next: u32,
    level: u8,
    slot: u8,
}

struct Level {
    /// Bit `s` set when slot `s` holds a timer.
    occupied: u64,
    head: [u32; SLOTS as usize],
    tail: [u32; SLOTS as usize],
}

impl Level {
    fn new() -> Level {
        Level {
            occupied: 0,
            head: [NIL; SLOTS as usize],
            tail: [NIL; SLOTS as usize],
        }
    }
}

/// A timer that fired during [`Wheel::advance`].
pub(crate) struct Fired {
    /// Its deadline (nanoseconds since the wheel's start), for the tests.
    #[cfg(test)]
    pub(crate) deadline_ns: u64,
    /// What to do once every lock is dropped.
    pub(crate) fire: Fire,
}

/// An entry taken out by [`Wheel::remove`].
pub(crate) struct Removed {
    /// It was still waiting to fire (Go's `Stop` returns true). False for a
    /// sleep that fired and was not yet freed.
    pub(crate) was_scheduled: bool,
    /// Its action, to be dropped outside the lock (a waker or callback may
    /// hold the last reference to a task).
    pub(crate) action: Action,
}

/// The wheel. Plain data: the reactor keeps it behind a mutex.
pub(crate) struct Wheel {
    /// Tick 0.
    start: Instant,
    /// The tick the wheel has advanced to.
    elapsed: u64,
    levels: Box<[Level; LEVELS]>,
    entries: Vec<Entry>,
    free_head: u32,
    /// Entries in use (scheduled, or fired and not yet removed).
    len: usize,
}

impl Wheel {
    /// An empty wheel whose tick 0 is `start`.
    pub(crate) fn new(start: Instant) -> Wheel {
        Wheel {
            start,
            elapsed: 0,
            levels: Box::new(std::array::from_fn(|_| Level::new())),
            entries: Vec::new(),
            free_head: NIL,
            len: 0,
        }
    }

    /// Entries in use: timers set and not yet dropped.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Entries allocated, in use or free (the slab never shrinks; churn
    /// reuses free entries).
    pub(crate) fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// The tick the wheel has advanced to.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// The tick of `deadline` (rounded up) and its offset in nanoseconds
    /// from the wheel's start.
    pub(crate) fn offset_of(&self, deadline: Instant) -> (u64, u64) {
        let ns = self.nanos_since_start(deadline);
        (ns.div_ceil(NANOS_PER_TICK), ns)
    }

    /// Nanoseconds from the wheel's start to `t` (0 if earlier; saturating
    /// at 584 years). u64 arithmetic: a u128 division here costs more than
    /// the rest of an insert.
    #[inline]
    fn nanos_since_start(&self, t: Instant) -> u64 {
        let d = t.saturating_duration_since(self.start);
        d.as_secs()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(d.subsec_nanos()))
    }

    /// The tick of `deadline`, rounded up so a timer never fires early.
    pub(crate) fn tick_for(&self, deadline: Instant) -> u64 {
        self.nanos_since_start(deadline).div_ceil(NANOS_PER_TICK)
    }

    /// The tick `now` is in, rounded down.
    pub(crate) fn now_tick(&self, now: Instant) -> u64 {
        self.nanos_since_start(now) / NANOS_PER_TICK
    }

    /// The instant tick `t` starts (saturating: a tick too far to
    /// represent maps to `FAR_FUTURE` after the start).
    pub(crate) fn instant_of(&self, t: u64) -> Instant {
        far_deadline(
            self.start,
            Duration::from_nanos(t.saturating_mul(NANOS_PER_TICK)),
        )
    }

    /// Sets a timer for `deadline` that wakes `waker`; returns its key and
    /// tick. Returns `None` when the deadline's tick has already been
    /// passed (the caller treats the timer as fired and allocates nothing).
    #[cfg(test)]
    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> Option<(TimerKey, u64)> {
        let (when, ns) = self.offset_of(deadline);
        self.insert_at(when, ns, Action::Wake(Some(waker))).ok()
    }

    /// Sets a timer at tick `when`, `deadline_ns` after the start (see
    /// [`Wheel::offset_of`]), that does `action`; returns its key and
    /// tick. When the tick has already been passed, nothing is allocated
    /// and the action comes back: the caller treats the timer as fired.
    pub(crate) fn insert_at(
        &mut self,
        when: u64,
        deadline_ns: u64,
        action: Action,
    ) -> Result<(TimerKey, u64), Action> {
        if when <= self.elapsed {
            return Err(action);
        }
        let index = if self.free_head != NIL {
            let i = self.free_head;
            self.free_head = self.entries[i as usize].next;
            i
        } else {
            let i = u32::try_from(self.entries.len())
                .ok()
                .filter(|&i| i != NIL)
                .expect("more than 2^32 - 1 timers");
            self.entries.push(Entry {
                generation: 0,
                state: State::Free,
                when: 0,
                deadline_ns,
                action: Action::Wake(None),
                prev: NIL,
                next: NIL,
                level: 0,
                slot: 0,
            });
            i
        };
        let e = &mut self.entries[index as usize];
        e.state = State::Scheduled;
        e.when = when;
        e.deadline_ns = deadline_ns;
        e.action = action;
        let generation = e.generation;
        self.link(index);
        self.len += 1;
        Ok((TimerKey { index, generation }, when))
    }

    /// Whether the sleep of `key` fired (its entry was freed as it fired:
    /// the key is stale); if not, makes `waker` the one it will wake.
    pub(crate) fn poll(&mut self, key: TimerKey, waker: &Waker) -> bool {
        let Some(e) = self.entry_mut(key) else {
            return true;
        };
        match &mut e.action {
            Action::Wake(Some(w)) if w.will_wake(waker) => {}
            Action::Wake(w) => *w = Some(waker.clone()),
            _ => debug_assert!(false, "Wheel::poll on an entry that is not a sleep"),
        }
        false
    }

    /// Frees the entry of `key`. A stale key (the entry was freed already,
    /// by its owner or by firing) frees nothing.
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<Removed> {
        self.entry_mut(key)?;
        self.unlink(key.index);
        let action = self.free(key.index);
        Some(Removed {
            was_scheduled: true,
            action,
        })
    }

    /// Puts entry `i` (unlinked) on the free list; returns its action.
    #[inline]
    fn free(&mut self, i: u32) -> Action {
        let free_head = self.free_head;
        let e = &mut self.entries[i as usize];
        let action = std::mem::replace(&mut e.action, Action::Wake(None));
        e.state = State::Free;
        e.generation = e.generation.wrapping_add(1);
        e.next = free_head;
        self.free_head = i;
        self.len -= 1;
        action
    }

    /// Takes every entry's action out, leaving the entries in place so
    /// their keys stay valid (shutdown): sleeps' wakers are returned to
    /// be woken, the rest (channel senders, callbacks) to be dropped.
    pub(crate) fn take_actions(&mut self) -> (Vec<Waker>, Vec<Action>) {
        let mut wakers = Vec::new();
        let mut dropped = Vec::new();
        for e in &mut self.entries {
            match std::mem::replace(&mut e.action, Action::Wake(None)) {
                Action::Wake(Some(w)) => wakers.push(w),
                Action::Wake(None) => {}
                other => dropped.push(other),
            }
        }
        (wakers, dropped)
    }

    /// The tick of the next slot to process, if any timer is set. May be
    /// earlier than the next timer's own tick (a higher-level slot is
    /// processed when it starts, to cascade), never later.
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.next_slot().map(|(_, _, t)| t)
    }

    /// Advances to tick `now`, pushing fired timers onto `fired`.
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<Fired>) {
        // A ticker is re-filed past this, so it fires once per advance.
        let now_ns = now.saturating_mul(NANOS_PER_TICK);
        while let Some((level, slot, deadline)) = self.next_slot() {
            if deadline > now {
                break;
            }
            debug_assert!(deadline >= self.elapsed);
            self.elapsed = deadline;
            let lvl = &mut self.levels[level];
            let mut i = lvl.head[slot];
            lvl.head[slot] = NIL;
            lvl.tail[slot] = NIL;
            lvl.occupied &= !(1 << slot);
            while i != NIL {
                let e = &mut self.entries[i as usize];
                let next = e.next;
                if e.when <= self.elapsed {
                    e.prev = NIL;
                    e.next = NIL;
                    #[cfg(test)]
                    let deadline_ns = e.deadline_ns;
                    if let Some(fire) = self.fire_entry(i, now, now_ns) {
                        fired.push(Fired {
                            #[cfg(test)]
                            deadline_ns,
                            fire,
                        });
                    }
                } else {
                    self.link(i);
                }
                i = next;
            }
        }
        if now > self.elapsed {
            self.elapsed = now;
        }
    }

    /// Fires entry `i`, due and unlinked, during an advance to tick `now`
    /// (`now_ns` in nanoseconds): settles the entry's fate by its action
    /// (module docs, step 2) and returns what is left to run.
    fn fire_entry(&mut self, i: u32, now: u64, now_ns: u64) -> Option<Fire> {
        let e = &mut self.entries[i as usize];
        match &mut e.action {
            Action::Wake(w) => {
                let w = w.take();
                self.free(i);
                w.map(Fire::Wake)
            }
            Action::Tick { tx, period_ns } => {
                let tx = tx.clone();
                // The first deadline of the schedule past `now`: Go's
                // ticker drops the ticks it missed.
                let periods = (now_ns.saturating_sub(e.deadline_ns) / *period_ns).saturating_add(1);
                e.deadline_ns = e
                    .deadline_ns
                    .saturating_add(periods.saturating_mul(*period_ns));
                e.when = e.deadline_ns.div_ceil(NANOS_PER_TICK).max(now + 1);
                let key = TimerKey {
                    index: i,
                    generation: e.generation,
                };
                self.link(i);
                Some(Fire::Tick(tx, key))
            }
            Action::Send(_) | Action::Call(_) => match self.free(i) {
                Action::Send(tx) => Some(Fire::Send(tx)),
                Action::Call(f) => Some(Fire::Call(f)),
                Action::Wake(_) | Action::Tick { .. } => None,
            },
        }
    }

    fn entry_mut(&mut self, key: TimerKey) -> Option<&mut Entry> {
        let e = self.entries.get_mut(key.index as usize)?;
        (e.generation == key.generation && e.state != State::Free).then_some(e)
    }

    /// Files entry `i` (scheduled, unlinked) at the tail of its slot.
    #[inline]
    fn link(&mut self, i: u32) {
        let when = self.entries[i as usize].when;
        debug_assert!(when > self.elapsed);
        let (level, slot) = if when - self.elapsed >= MAX_RANGE {
            // Beyond the wheel's reach: park in the top-level slot that
            // comes round last, and be re-filed when it does.
            let top = LEVELS - 1;
            let now_slot = (self.elapsed >> (LEVEL_BITS * top as u64)) % SLOTS;
            (top, ((now_slot + SLOTS - 1) % SLOTS) as usize)
        } else {
            let masked = (self.elapsed ^ when) | (SLOTS - 1);
            let significant = 63 - masked.leading_zeros() as u64;
            // Capped: crossing a top-level window boundary sets a bit above
            // the top level; such a timer sits in a top slot "behind" the
            // current one, which `next_slot` reads as the next window.
            let level = ((significant / LEVEL_BITS) as usize).min(LEVELS - 1);
            let slot = (when >> (LEVEL_BITS * level as u64)) % SLOTS;
            (level, slot as usize)
        };
        let lvl = &mut self.levels[level];
        let tail = lvl.tail[slot];
        if tail == NIL {
            lvl.head[slot] = i;
        }
        lvl.tail[slot] = i;
        lvl.occupied |= 1 << slot;
        if tail != NIL {
            self.entries[tail as usize].next = i;
        }
        let e = &mut self.entries[i as usize];
        e.prev = tail;
        e.next = NIL;
        e.level = level as u8;
        e.slot = slot as u8;
    }

    /// Unlinks scheduled entry `i` from its slot.
    #[inline]
    fn unlink(&mut self, i: u32) {
        let (prev, next, level, slot) = {
            let e = &self.entries[i as usize];
            (e.prev, e.next, e.level as usize, e.slot as usize)
        };
        if prev != NIL {
            self.entries[prev as usize].next = next;
        } else {
            self.levels[level].head[slot] = next;
        }
        if next != NIL {
            self.entries[next as usize].prev = prev;
        } else {
            self.levels[level].tail[slot] = prev;
        }
        if self.levels[level].head[slot] == NIL {
            self.levels[level].occupied &= !(1 << slot);
        }
        let e = &mut self.entries[i as usize];
        e.prev = NIL;
        e.next = NIL;
    }

    /// The earliest occupied slot over all levels: (level, slot, tick it
    /// starts at).
    fn next_slot(&self) -> Option<(usize, usize, u64)> {
        let mut best: Option<(usize, usize, u64)> = None;
        for (level, lvl) in self.levels.iter().enumerate() {
            if lvl.occupied == 0 {
                continue;
            }
            let shift = LEVEL_BITS * level as u64;
            let slot_range = 1u64 << shift;
            let level_range = slot_range << LEVEL_BITS;
            let now_slot = (self.elapsed >> shift) % SLOTS;
            let zeros = lvl.occupied.rotate_right(now_slot as u32).trailing_zeros() as u64;
            let slot = (zeros + now_slot) % SLOTS;
            let level_start = self.elapsed & !(level_range - 1);
            let mut deadline = level_start + slot * slot_range;
            if deadline <= self.elapsed {
                // Only the top level can hold a slot "behind" `elapsed`
                // (the parking slot for far timers): it comes round next
                // time the level wraps.
                deadline += level_range;
            }
            if best.is_none_or(|(_, _, t)| deadline < t) {
                best = Some((level, slot as usize, deadline));
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker;

    /// `t` ticks.
    fn ticks(t: u64) -> Duration {
        Duration::from_nanos(t * NANOS_PER_TICK)
    }

    /// The tick `ms` milliseconds from the start.
    fn ms(ms: u64) -> u64 {
        ms * 1_000_000 / NANOS_PER_TICK
    }

    fn fire_until(w: &mut Wheel, now: u64) -> Vec<Fired> {
        let mut fired = Vec::new();
        w.advance(now, &mut fired);
        fired
    }

    #[test]
    fn timers_fire_at_their_tick_and_not_before_across_levels() {
        let start = Instant::now();
        let mut w = Wheel::new(start);
        let due = [
            1u64, 5, 63, 64, 65, 200, 4095, 4096, 4097, 300_000, 20_000_000,
        ];
        let keys: Vec<_> = due
            .iter()
            .map(|&t| w.insert(start + ticks(t), noop_waker()).unwrap().0)
            .collect();
        let mut fired_at = Vec::new();
        let mut now = 0;
        while w.next_expiration().is_some() {
            let next = w.next_expiration().unwrap();
            assert!(next >= now, "expirations move forward");
            now = next;
            for f in fire_until(&mut w, now) {
                fired_at.push((f.deadline_ns, now));
            }
        }
        assert_eq!(fired_at.len(), due.len());
        for (ns, at) in fired_at {
            assert_eq!(
                at * NANOS_PER_TICK,
                ns,
                "the timer due at {ns} ns fired at its tick"
            );
        }
        for k in keys {
            assert!(w.poll(k, &noop_waker()));
            w.remove(k);
        }
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn a_removed_timer_never_fires_and_its_entry_is_reused() {
        let start = Instant::now();
        let mut w = Wheel::new(start);
        for _ in 0..1000 {
            let k = w
                .insert(start + Duration::from_secs(30), noop_waker())
                .unwrap()
                .0;
            w.remove(k);
        }
        assert_eq!(w.len(), 0);
        assert_eq!(w.capacity(), 1);
        assert!(w.next_expiration().is_none());
        assert!(fire_until(&mut w, ms(60_000)).is_empty());
    }

    #[test]
    fn timers_set_in_one_tick_come_out_in_the_order_set() {
        let start = Instant::now();
        let mut w = Wheel::new(start);
        for i in 0..100 {
            let d = start + Duration::from_millis(699) + Duration::from_nanos(1 + i * 1000);
            w.insert(d, noop_waker()).unwrap();
        }
        let fired = fire_until(&mut w, ms(700));
        let ns: Vec<u64> = fired.iter().map(|f| f.deadline_ns).collect();
        let expected: Vec<u64> = (0..100).map(|i| 699_000_001 + i * 1000).collect();
        assert_eq!(ns, expected);
    }

    #[test]
    fn a_timer_beyond_the_wheel_reach_does_not_fire_early() {
        let start = Instant::now();
        let mut w = Wheel::new(start);
        let far = MAX_RANGE + 5000;
        w.insert(start + ticks(far), noop_waker()).unwrap();
        let mut now = 0;
        let mut rounds = 0;
        loop {
            let next = w.next_expiration().unwrap();
            now = now.max(next);
            let fired = fire_until(&mut w, now);
            rounds += 1;
            if !fired.is_empty() {
                break;
            }
            assert!(rounds < 1000);
        }
        assert_eq!(now, far);
    }

    #[test]
    fn a_deadline_between_milliseconds_fires_within_one_tick_of_it() {
        let start = Instant::now();
        let mut w = Wheel::new(start);
        // 1.03 ms: tokio's millisecond tick would hold it until 2 ms.
        let due = Duration::from_micros(1030);
        let (_, tick) = w.insert(start + due, noop_waker()).unwrap();
        let at = w.instant_of(tick) - start;
        assert!(at >= due, "never early: {at:?}");
        assert!(at - due < ticks(1), "late by less than a tick: {at:?}");
        let before = w.now_tick(start + due);
        assert!(fire_until(&mut w, before).is_empty());
        assert_eq!(fire_until(&mut w, tick).len(), 1);
    }

    #[test]
    fn the_instant_of_a_tick_too_far_to_represent_saturates() {
        let start = Instant::now();
        let w = Wheel::new(start);
        assert!(w.instant_of(u64::MAX) > start);
    }

    #[test]
    fn a_stale_key_is_ignored() {
        let start = Instant::now();
        let mut w = Wheel::new(start);
        let k = w
            .insert(start + Duration::from_millis(10), noop_waker())
            .unwrap()
            .0;
        w.remove(k);
        let k2 = w
            .insert(start + Duration::from_millis(10), noop_waker())
            .unwrap()
            .0;
        assert!(w.remove(k).is_none());
        assert!(w.poll(k, &noop_waker()));
        assert!(!w.poll(k2, &noop_waker()));
        assert_eq!(w.len(), 1);
    }
}
