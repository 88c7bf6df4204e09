//! Spawn sites, interned to a `u32` so the task header keeps 4 bytes for
//! the wait timestamp and stays at 72 bytes.
//!
//! `#[track_caller]` gives a `&'static Location` per spawn call. A spawn
//! first compares it with the last one this thread interned (the common
//! case: a loop spawning from one line), and only on a miss takes the
//! global table's lock. Indices are never reused; the table only grows,
//! by one entry per distinct spawn site in the program.
//!
//! Under `--cfg gosched_observe_off` (the build the observability-cost
//! bench compares against) nothing is recorded and every task reports the
//! same placeholder site.

#[cfg(gosched_observe_off)]
use std::panic::Location;

#[cfg(not(gosched_observe_off))]
pub(crate) use recorded::{intern, lookup};

#[cfg(not(gosched_observe_off))]
mod recorded {
    use std::cell::Cell;
    use std::collections::HashMap;
    use std::panic::Location;
    use std::sync::{Mutex, OnceLock};

    struct Table {
        index: HashMap<usize, u32>,
        sites: Vec<&'static Location<'static>>,
    }

    fn table() -> &'static Mutex<Table> {
        static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
        TABLE.get_or_init(|| {
            Mutex::new(Table {
                index: HashMap::new(),
                sites: Vec::new(),
            })
        })
    }

    thread_local! {
        /// The last site this thread interned: (address, index).
        static LAST: Cell<(usize, u32)> = const { Cell::new((0, 0)) };
    }

    /// The index of `loc`, interning it on first use.
    #[inline]
    pub(crate) fn intern(loc: &'static Location<'static>) -> u32 {
        let key = loc as *const Location<'static> as usize;
        if let Ok((k, i)) = LAST.try_with(|l| l.get()) {
            if k == key {
                return i;
            }
        }
        let i = intern_slow(key, loc);
        let _ = LAST.try_with(|l| l.set((key, i)));
        i
    }

    #[cold]
    fn intern_slow(key: usize, loc: &'static Location<'static>) -> u32 {
        let mut t = table().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&i) = t.index.get(&key) {
            return i;
        }
        let i = t.sites.len() as u32;
        t.sites.push(loc);
        t.index.insert(key, i);
        i
    }

    /// The site with index `i`.
    pub(crate) fn lookup(i: u32) -> &'static Location<'static> {
        table().lock().unwrap_or_else(|e| e.into_inner()).sites[i as usize]
    }
}

/// Records nothing (`gosched_observe_off`).
#[cfg(gosched_observe_off)]
#[inline(always)]
pub(crate) fn intern(_loc: &'static Location<'static>) -> u32 {
    0
}

/// The placeholder site of every task (`gosched_observe_off`): this line.
#[cfg(gosched_observe_off)]
pub(crate) fn lookup(_i: u32) -> &'static Location<'static> {
    Location::caller()
}
