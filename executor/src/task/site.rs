//! Spawn sites, packed into a `u32` so the task header keeps 4 bytes for
//! the wait timestamp and stays at 72 bytes.
//!
//! `#[track_caller]` gives a `&'static Location` per spawn call. Every
//! `Location` the compiler emits for this program lives in its read-only
//! data, next to [`ANCHOR`]; a spawn stores the site's distance from the
//! anchor, a multiple of the `Location` alignment (8), so the code is even.
//! That is a subtraction and a range check: no lookup, no thread-local, no
//! lock on the spawn path. A site too far from the anchor to fit (code in
//! a dynamically loaded library) is interned instead, in a global table
//! that only grows by one entry per such site, and coded as
//! `index * 2 + 1` (odd).
//!
//! Decoding turns the distance back into a pointer. The address came from
//! a live `&'static Location` whose provenance was exposed when it was
//! encoded (`as usize`), so the pointer is rebuilt with exposed
//! provenance.
//!
//! Under `--cfg gosched_observe_off` (the build the observability-cost
//! bench compares against) nothing is recorded and every task reports the
//! same placeholder site.

#[cfg(any(gosched_observe_off, test))]
use std::panic::Location;

#[cfg(not(gosched_observe_off))]
pub(crate) use recorded::{intern, lookup};

#[cfg(not(gosched_observe_off))]
mod recorded {
    use std::panic::Location;
    use std::sync::{Mutex, OnceLock};

    /// The reference point for distances: a `Location` in this crate.
    static ANCHOR: &Location<'static> = Location::caller();

    fn anchor() -> usize {
        ANCHOR as *const Location<'static> as usize
    }

    /// Sites too far from the anchor, by index.
    fn table() -> &'static Mutex<Vec<&'static Location<'static>>> {
        static TABLE: OnceLock<Mutex<Vec<&'static Location<'static>>>> = OnceLock::new();
        TABLE.get_or_init(|| Mutex::new(Vec::new()))
    }

    /// The code of `loc` (see the module docs).
    #[inline]
    pub(crate) fn intern(loc: &'static Location<'static>) -> u32 {
        let off = (loc as *const Location<'static> as usize).wrapping_sub(anchor()) as isize;
        match i32::try_from(off) {
            Ok(off) if off % 2 == 0 => off as u32,
            _ => intern_far(loc),
        }
    }

    #[cold]
    pub(super) fn intern_far(loc: &'static Location<'static>) -> u32 {
        let mut t = crate::loom::lock_std(table());
        let i = match t.iter().position(|l| std::ptr::eq(*l, loc)) {
            Some(i) => i,
            None => {
                t.push(loc);
                t.len() - 1
            }
        };
        (i as u32) << 1 | 1
    }

    /// The site with code `code`.
    pub(crate) fn lookup(code: u32) -> &'static Location<'static> {
        if code & 1 == 1 {
            return crate::loom::lock_std(table())[(code >> 1) as usize];
        }
        let addr = anchor().wrapping_add(code as i32 as isize as usize);
        let ptr = std::ptr::with_exposed_provenance::<Location<'static>>(addr);
        // SAFETY: an even code is the distance of a `&'static Location`
        // from the anchor, taken in `intern` by an `as usize` cast that
        // exposed its provenance; adding it back gives that same address,
        // and the `Location` is static, so it is still valid.
        unsafe { &*ptr }
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

#[cfg(all(test, not(gosched_observe_off)))]
mod tests {
    use super::*;

    #[test]
    fn sites_round_trip() {
        let here = Location::caller();
        let there: &'static Location<'static> = std::hint::black_box(Location::caller());
        for loc in [here, there] {
            let code = intern(loc);
            assert_eq!(code % 2, 0, "a site in this binary is coded by distance");
            assert!(std::ptr::eq(lookup(code), loc));
        }
        // The path for a site too far away to code by distance.
        let far: &'static Location<'static> = Box::leak(Box::new(*here));
        let code = recorded::intern_far(far);
        assert_eq!(code % 2, 1);
        assert!(std::ptr::eq(lookup(code), far));
        assert_eq!(recorded::intern_far(far), code, "interned once");
    }
}
