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

/// Runs `f` on a thread of its own and returns what it returns (a panic
/// in `f` is resumed here). Panics when `f` has not finished after
/// `limit`: a hang guard for tests whose bug is a hang, never a timing
/// assertion, so `limit` is generous.
pub fn hang_guard<T: Send + 'static>(
    limit: std::time::Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(v)) => {
            t.join().expect("the guarded thread finished");
            v
        }
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("still running after {limit:?}: hung"),
    }
}
