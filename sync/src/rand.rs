//! A tiny per-thread random number generator for `select!`'s fair choice.
//!
//! `select!` needs a uniformly random order of its arms on every call; a
//! cryptographic generator or a shared atomic one would cost more than the
//! channel operation itself. This is xorshift64* (Vigna, "An experimental
//! exploration of Marsaglia's xorshift generators", 2016) in a thread-local,
//! seeded once per thread from std's randomly keyed `RandomState`, the same
//! idea as Go's per-M `cheaprand`.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

thread_local! {
    static STATE: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_usize(&h as *const _ as usize);
    h.finish() | 1
}

/// A random number in `0..n` (`n > 0`), by Lemire's multiply-shift (bias
/// below 2^-32 for the small `n` used here).
///
/// Under loom it always returns 0: a loom model must be deterministic, and
/// the models check exclusivity of arms, not fairness.
pub(crate) fn below(n: u32) -> u32 {
    debug_assert!(n > 0);
    if cfg!(gosched_loom) {
        return 0;
    }
    let x = STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    });
    (((x >> 32) * n as u64) >> 32) as u32
}

#[cfg(all(test, not(gosched_loom)))]
mod tests {
    #[test]
    fn below_covers_the_range_and_nothing_else() {
        let mut seen = [0u32; 5];
        for _ in 0..10_000 {
            seen[super::below(5) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 1_000), "{seen:?}");
    }
}
