//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use gosched_executor::Runtime;
use gosched_netpoll::Reactor;

/// A runtime with `procs` Ps whose driver is a fresh reactor.
pub fn runtime(procs: usize) -> (Runtime, Reactor) {
    let reactor = Reactor::new().expect("reactor");
    let rt = Runtime::builder()
        .procs(procs)
        .driver(Arc::new(reactor.clone()))
        .build()
        .expect("runtime");
    (rt, reactor)
}

/// Raises the soft RLIMIT_NOFILE to `want` (capped by the hard limit);
/// returns the soft limit in force afterwards.
pub fn raise_nofile(want: libc::rlim_t) -> libc::rlim_t {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for the call.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    assert_eq!(rc, 0, "getrlimit");
    let target = want.min(lim.rlim_max);
    if lim.rlim_cur < target {
        lim.rlim_cur = target;
        // SAFETY: `lim` is a valid rlimit with cur <= max.
        let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
        assert_eq!(rc, 0, "setrlimit");
    }
    lim.rlim_cur
}

/// Sets the soft RLIMIT_NOFILE to exactly `n`.
pub fn set_nofile(n: libc::rlim_t) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for the call.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    assert_eq!(rc, 0, "getrlimit");
    lim.rlim_cur = n;
    // SAFETY: `lim` is a valid rlimit; lowering the soft limit is allowed.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
    assert_eq!(rc, 0, "setrlimit");
}
