//! Idle Ps, idle Ms, and the spinning protocol (Go's `pidle`, `midle`,
//! `nmspinning`, `wakep`, `startm`, `stopm`).
//!
//! # The problem
//!
//! Worker threads must sleep when there is nothing to do, yet no task may
//! wait while a P sits idle. Waking a thread costs a syscall, so waking one
//! per submitted task would drown a busy runtime in futex calls, and
//! letting every idle thread poll the queues would burn the cores.
//!
//! # The protocol (Go's, from proc.go's design essay)
//!
//! An M that looks for work while holding a P is *spinning*; `nmspinning`
//! counts them, and at most half of the busy Ps' count may spin at once.
//!
//! 1. A submitter queues the task (local ring or global queue).
//! 2. StoreLoad fence (`fence(SeqCst)` in `Shared::wakep`).
//! 3. If `nmspinning == 0` and a P is idle, it CASes `nmspinning` 0 -> 1 and
//!    starts an M with an idle P (`startm`), spinning. Otherwise a spinner
//!    exists and will find the task.
//! 4. A spinner that finds work stops spinning and calls `wakep` again, so
//!    the last spinner to find work replaces itself (`reset_spinning`).
//! 5. A spinner that finds nothing gives its P back, decrements
//!    `nmspinning` (SeqCst), and only then re-checks the global queue and
//!    every ring; if it finds work it takes an idle P and spins again.
//!    Steps 2 and 5 form a Dekker pair: either the submitter sees the
//!    spinner, or the spinner sees the task. A running P's `runnext` is
//!    not counted: it is that P's own next task, and counting it kept a
//!    spinner bouncing the slot's cache line through a whole chain of
//!    spawns (chained_spawn ran 330 us instead of 205 us). The submitter's
//!    `wakep` still wakes a thief for it, which is what lets a child be
//!    stolen from a parent that then blocks.
//!
//! # Parking Ms
//!
//! An idle M is put on `midle` in the same critical section in which its P
//! goes to `pidle`, so whenever a P is idle an M to run it is on the list
//! and `startm` never has to create a thread in the steady state. The first
//! idle M blocks in the driver (netpoll) if there is one; the rest sleep on
//! their thread parker. `startm` prefers a parker-sleeping M, so the poller
//! stays in the poller. A wake-up is handed over in the M's `slot`.

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

use super::processor::PToken;
use crate::loom::{lock, thread, AtomicBool, AtomicU64, AtomicUsize, Mutex};
use crate::Driver;

/// What a sleeping M is woken with.
#[derive(Debug)]
pub(crate) enum Wakeup {
    /// Run this P, spinning or not.
    P(PToken, bool),
    /// A spare M idle too long: exit the thread (never sent by others;
    /// `stopm` returns it after taking itself off `midle`).
    Exit,
    /// The runtime is shutting down: exit.
    Shutdown,
}

/// How an idle M sleeps and is woken. Shared between the M (the sleeper)
/// and whoever wakes it; each field says who writes it.
pub(crate) struct MPark {
    /// The hand-off: filled by a waker (`wake`, or the hand-off for a
    /// fresh M), taken by the M.
    pub(crate) slot: Mutex<Option<Wakeup>>,
    /// Blocked in the driver rather than the thread parker. Written by
    /// the M around its park; read by wakers.
    pub(crate) in_driver: AtomicBool,
    /// The M's thread, to unpark: written once by the M before it first
    /// sleeps.
    pub(crate) thread: Mutex<Option<thread::Thread>>,
    /// The P this M holds (`usize::MAX`: none). Written by the M when it
    /// acquires or releases a P; read by schedtrace.
    pub(crate) cur_p: AtomicUsize,
    /// Set (under the idle lock) when this M's P was handed to another M;
    /// cleared by this M once it has let go of the P.
    pub(crate) retaken: AtomicBool,
    /// The M thread's kernel thread id (0: unknown), for sysmon's look at
    /// whether a stuck thread is asleep in a syscall.
    pub(crate) tid: std::sync::atomic::AtomicU32,
    /// Inside a blocking call made through `syscall` (Go's `_Psyscall`):
    /// written by the M on enter and exit, read by sysmon.
    pub(crate) in_syscall: AtomicBool,
    /// Bumped by the M on every `syscall` entry (Go's `syscalltick`), so
    /// sysmon can tell one long call from many short ones.
    pub(crate) syscalltick: AtomicU64,
}

impl MPark {
    pub(crate) fn new() -> Arc<MPark> {
        Arc::new(MPark {
            slot: Mutex::new(None),
            in_driver: AtomicBool::new(false),
            thread: Mutex::new(None),
            cur_p: AtomicUsize::new(usize::MAX),
            retaken: AtomicBool::new(false),
            tid: std::sync::atomic::AtomicU32::new(0),
            in_syscall: AtomicBool::new(false),
            syscalltick: AtomicU64::new(0),
        })
    }

    /// Records the calling thread as the one to unpark. Called once by
    /// the M's thread before it first sleeps.
    pub(crate) fn register_current_thread(&self) {
        *lock(&self.thread) = Some(thread::current());
        #[cfg(not(gosched_loom))]
        self.tid.store(
            crate::sys::current_tid(),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Takes a hand-off left in the slot, if any.
    pub(crate) fn take(&self) -> Option<Wakeup> {
        lock(&self.slot).take()
    }

    /// Sleeps once: in the driver when `driver` is given and nobody else
    /// is in it (`driver_busy`), else on the thread parker. Returns the
    /// hand-off if one arrived (and whether it slept in the driver); `None` after a driver wake-up with no
    /// hand-off (events may have made tasks ready: the caller re-checks)
    /// or a spurious wake-up.
    ///
    /// Protocol against lost wake-ups, with [`MPark::wake`]:
    /// 1. set `in_driver` (SeqCst), 2. fence, 3. check the slot, 4. block.
    ///    The waker: 1. fills the slot, 2. fence, 3. reads `in_driver` and
    ///    unparks the driver if set, 4. always unparks the thread. Either
    ///    the sleeper sees the slot, or the waker sees `in_driver`; and a
    ///    thread unpark before `park` makes `park` return at once.
    pub(crate) fn park_once(
        &self,
        driver: Option<&dyn Driver>,
        driver_busy: &AtomicBool,
        timeout: Option<std::time::Duration>,
    ) -> (Option<Wakeup>, bool) {
        if let Some(w) = self.take() {
            return (Some(w), false);
        }
        match driver {
            // SeqCst swap: one M wins the driver; it pairs with the
            // SeqCst store that frees it below (another M then may enter).
            Some(d) if !driver_busy.swap(true, SeqCst) => {
                // Step 1 of the protocol above; the fence after it pairs
                // with the fence in `wake` (a Dekker pair on slot and
                // `in_driver`).
                self.in_driver.store(true, SeqCst);
                crate::loom::fence(SeqCst);
                let handed = self.take();
                if handed.is_none() {
                    d.park(None);
                }
                self.in_driver.store(false, SeqCst);
                driver_busy.store(false, SeqCst);
                (handed.or_else(|| self.take()), true)
            }
            _ => {
                match timeout {
                    #[cfg(not(gosched_loom))]
                    Some(t) => thread::park_timeout(t),
                    _ => thread::park(),
                }
                (self.take(), false)
            }
        }
    }

    /// Hands `w` to this sleeping M and wakes it through whatever it
    /// sleeps in (see [`MPark::park_once`] for the protocol).
    pub(crate) fn wake(&self, w: Wakeup, driver: Option<&dyn Driver>) {
        *lock(&self.slot) = Some(w);
        crate::loom::fence(SeqCst);
        if self.in_driver.load(SeqCst) {
            if let Some(d) = driver {
                d.unpark();
            }
        }
        if let Some(t) = lock(&self.thread).as_ref() {
            t.unpark();
        }
    }
}

/// What `Idle::lists` guards: every field is read and written only with
/// that lock held, which the `&mut Lists` argument of the functions below
/// proves.
pub(crate) struct Lists {
    /// Idle Ps (Go's `pidle`): `pidleput` by an M giving its P up,
    /// `pidleget` by `startm`, a re-checking M, or `block_in_place`.
    pub(crate) pidle: Vec<PToken>,
    /// Idle Ms (Go's `midle`): an M pushes itself before it sleeps;
    /// `startm`, the hand-off and shutdown pop them; a spare M that exits
    /// removes itself.
    pub(crate) midle: Vec<Arc<MPark>>,
    /// Set once by `Shared::shutdown`; no M goes to sleep after seeing it.
    pub(crate) shutdown: bool,
    /// Spinning Ms in their linger sleep (`Worker::linger`): each adds and
    /// removes itself; a push to the global queue unparks them
    /// (`Shared::unpark_lingering`).
    pub(crate) lingering: Vec<Arc<MPark>>,
}

/// The scheduler's idle state (Go's part of `schedt` under `sched.lock`).
pub(crate) struct Idle {
    /// Number of idle Ps (Go's `npidle`); changed under `lists`.
    pub(crate) npidle: AtomicUsize,
    /// Number of spinning Ms (Go's `nmspinning`).
    pub(crate) nmspinning: AtomicUsize,
    /// Someone is blocked in (or about to enter) the driver.
    pub(crate) driver_busy: AtomicBool,
    /// Times an idle M blocked in the driver (netpoll waits), for
    /// `metrics()`: added to by that M as it returns (`Worker::stopm`).
    pub(crate) netpoll_waits: AtomicU64,
    /// Number of Ms in `lists.lingering`; changed under `lists`, read
    /// without it by pushes to the global queue.
    pub(crate) nmlinger: AtomicUsize,
    pub(crate) lists: Mutex<Lists>,
}

impl Idle {
    pub(crate) fn new(ps: Vec<PToken>, ms: Vec<Arc<MPark>>) -> Idle {
        Idle {
            npidle: AtomicUsize::new(ps.len()),
            nmspinning: AtomicUsize::new(0),
            driver_busy: AtomicBool::new(false),
            netpoll_waits: AtomicU64::new(0),
            nmlinger: AtomicUsize::new(0),
            lists: Mutex::new(Lists {
                pidle: ps,
                midle: ms,
                shutdown: false,
                lingering: Vec::new(),
            }),
        }
    }

    /// Go's `pidleget`: called with `lists` locked.
    pub(crate) fn pidleget(&self, lists: &mut Lists) -> Option<PToken> {
        let p = lists.pidle.pop()?;
        // SeqCst: `wakep` and spinning Ms read it after their StoreLoad
        // fences (steps 2 and 5 of the protocol); the lock orders writers.
        self.npidle.fetch_sub(1, SeqCst);
        Some(p)
    }

    /// Go's `pidleput`: called with `lists` locked.
    pub(crate) fn pidleput(&self, lists: &mut Lists, p: PToken) {
        lists.pidle.push(p);
        // SeqCst: as in `pidleget`.
        self.npidle.fetch_add(1, SeqCst);
    }

    /// Removes `m` from `midle` if it is there (called with `lists` locked).
    pub(crate) fn remove_m(lists: &mut Lists, m: &Arc<MPark>) -> bool {
        match lists.midle.iter().position(|x| Arc::ptr_eq(x, m)) {
            Some(i) => {
                lists.midle.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Pops an idle M, preferring one that is not in the driver.
    pub(crate) fn mget(lists: &mut Lists) -> Option<Arc<MPark>> {
        let i = lists
            .midle
            .iter()
            // SeqCst: reads the flag `park_once` stores (a preference
            // only; a stale read picks a less ideal M, never a wrong one).
            .rposition(|m| !m.in_driver.load(SeqCst))
            .or_else(|| lists.midle.len().checked_sub(1))?;
        Some(lists.midle.swap_remove(i))
    }
}
