//! The thread contract of `sys/mod.rs` on Linux, answered from `/proc`.

/// The calling thread's kernel thread id, or 0.
#[cfg_attr(gosched_loom, allow(dead_code))]
pub(crate) fn current_tid() -> u32 {
    // /proc/thread-self links to "<pid>/task/<tid>".
    std::fs::read_link("/proc/thread-self")
        .ok()
        .and_then(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Whether kernel thread `tid` of this process is asleep in the kernel
/// (state S or D in /proc), i.e. blocked in a syscall rather than running
/// user code. False when unknown.
#[cfg_attr(gosched_loom, allow(dead_code))]
pub(crate) fn thread_asleep(tid: u32) -> bool {
    if tid == 0 {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
        return false;
    };
    // The state follows the parenthesised command name, which may itself
    // contain spaces or parentheses: look after the last ')'.
    stat.rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next())
        .is_some_and(|st| st == "S" || st == "D")
}

/// Whether kernel thread `tid` of this process is inside a `futex` call
/// (from `/proc/self/task/<tid>/syscall`): waiting on a lock or a condition
/// variable of its own process, not on the outside world. False when
/// unknown.
#[cfg_attr(gosched_loom, allow(dead_code))]
pub(crate) fn thread_in_futex(tid: u32) -> bool {
    if tid == 0 {
        return false;
    }
    let Some(futex) = SYS_FUTEX else {
        return false;
    };
    std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<i64>().ok())
        .is_some_and(|nr| nr == futex)
}

/// The `futex` syscall number (the kernel's `__NR_futex`) on this
/// architecture; `None` where this table does not know it.
const SYS_FUTEX: Option<i64> = if cfg!(target_arch = "x86_64") {
    Some(202)
} else if cfg!(any(target_arch = "aarch64", target_arch = "riscv64")) {
    Some(98)
} else if cfg!(any(target_arch = "x86", target_arch = "arm")) {
    Some(240)
} else {
    None
};

/// Nanoseconds thread `tid` of this process has spent on a CPU, from
/// `/proc/self/task/<tid>/schedstat` (its first field); `None` when
/// unknown. Two equal readings some time apart mean the thread did not
/// run at all in between.
#[cfg_attr(gosched_loom, allow(dead_code))]
pub(crate) fn thread_cpu_ns(tid: u32) -> Option<u64> {
    thread_sched_ns(tid).map(|(cpu, _)| cpu)
}

/// Thread `tid`'s CPU time and its *run delay* (time spent runnable but
/// waiting for a CPU), in nanoseconds, from the first two fields of
/// `/proc/self/task/<tid>/schedstat`; `None` when unknown. A thread whose
/// run delay grows faster than its CPU time is mostly descheduled: the
/// machine is short of CPUs, not the thread stuck.
#[cfg_attr(gosched_loom, allow(dead_code))]
pub(crate) fn thread_sched_ns(tid: u32) -> Option<(u64, u64)> {
    if tid == 0 {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
    let mut fields = stat.split_whitespace();
    let cpu = fields.next()?.parse().ok()?;
    let delay = fields.next()?.parse().ok()?;
    Some((cpu, delay))
}

#[cfg(all(test, not(gosched_loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::atomic::Ordering::Relaxed;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn a_sleeping_thread_reads_as_asleep_and_a_spinning_one_does_not() {
        let (tx, rx) = std::sync::mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let sleeper = std::thread::spawn(move || {
            tx.send(current_tid()).unwrap();
            std::thread::sleep(Duration::from_millis(300));
        });
        let (tx2, rx2) = std::sync::mpsc::channel();
        let spinner = std::thread::spawn(move || {
            tx2.send(current_tid()).unwrap();
            while !s.load(Relaxed) {
                std::hint::spin_loop();
            }
        });
        let (a, b) = (rx.recv().unwrap(), rx2.recv().unwrap());
        assert!(a != 0 && b != 0);
        std::thread::sleep(Duration::from_millis(50));
        assert!(thread_asleep(a), "sleeping thread not seen asleep");
        let cpu = thread_cpu_ns(a).expect("schedstat readable");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(thread_cpu_ns(a), Some(cpu), "a sleeping thread ran");
        // A spinning thread is runnable (R) even when descheduled.
        assert!(!thread_asleep(b), "spinning thread seen asleep");
        stop.store(true, Relaxed);
        sleeper.join().unwrap();
        spinner.join().unwrap();
        assert!(!thread_in_futex(a), "a sleep is not a futex wait");
        assert!(!thread_asleep(0));
        assert_eq!(thread_cpu_ns(0), None);
        assert_eq!(thread_sched_ns(0), None);
    }

    #[test]
    fn a_thread_blocked_on_a_lock_reads_as_in_futex_and_its_cpu_time_stands_still() {
        let lock = Arc::new(std::sync::Mutex::new(()));
        let held = lock.lock().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let l = lock.clone();
        let waiter = std::thread::spawn(move || {
            tx.send(current_tid()).unwrap();
            drop(l.lock().unwrap());
        });
        let tid = rx.recv().unwrap();
        // Wait until it is blocked in the lock (not still starting up).
        let t0 = std::time::Instant::now();
        while !(thread_asleep(tid) && thread_in_futex(tid)) {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "never saw the futex wait"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let (cpu, _) = thread_sched_ns(tid).expect("schedstat readable");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            thread_sched_ns(tid).map(|s| s.0),
            Some(cpu),
            "a blocked thread ran"
        );
        drop(held);
        waiter.join().unwrap();
        assert!(!thread_in_futex(0));
    }
}
