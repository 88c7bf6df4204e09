//! One runtime per process, as Go: while the runtime of `gosched::run` on
//! the main thread lives, a plain thread started inside it spawns onto its
//! Ps (not a second, global runtime). No test harness: `run` must be on
//! the main thread, where libtest never runs a test.

fn main() {
    let (same_handle, task_ran_here) = gosched::run(async {
        let here = gosched::Handle::current();
        let plain = std::thread::spawn(|| {
            let seen = gosched::Handle::try_current();
            let task = gosched::spawn(async { gosched::Handle::current() });
            (seen, gosched::block_on(task).unwrap())
        });
        let (seen, task_rt) = plain.join().unwrap();
        (seen.as_ref() == Some(&here), task_rt == here)
    });
    assert!(same_handle, "a plain thread inside run sees run's runtime");
    assert!(task_ran_here, "its spawn ran on run's Ps");
    // Once run returns, the default is gone.
    let after = std::thread::spawn(gosched::Handle::try_current)
        .join()
        .unwrap();
    assert!(after.is_none(), "no default after run returned");
    println!("one runtime per process: ok");
}
