//! What the scheduler asks the operating system about its own threads,
//! behind one small contract per platform (as mio's `sys/` does).
//!
//! # The contract
//!
//! - `current_tid()`: the calling thread's kernel thread id, or 0 when the
//!   platform cannot say. Called once per M, when it starts.
//! - `thread_asleep(tid)`: whether that thread of this process is asleep in
//!   the kernel right now (blocked in a syscall or a sleep), as opposed to
//!   running or runnable user code. False for tid 0 and whenever unknown:
//!   a false "asleep" would hand off a P from a healthy M, while a false
//!   "awake" only delays a hand-off to sysmon's slower rule.
//! - `thread_cpu_ns(tid)`: how long that thread has spent on a CPU, or
//!   `None` when unknown. sysmon reads it twice to tell a thread blocked
//!   all along from one caught in a brief wait between bursts of work.
//! - `thread_in_futex(tid)`: whether that thread waits in `futex` (a lock
//!   or condition variable of this process), false when unknown. sysmon's
//!   1 ms asleep rule leaves such a thread its P: on a loaded machine a
//!   lock wait lasts as long as the lock holder is descheduled, and a
//!   hand-off would only add a thread; the 10 ms rule still applies.
//! - `thread_sched_ns(tid)`: that CPU time and the thread's run delay
//!   (runnable, waiting for a CPU), or `None` when unknown. sysmon's 10 ms
//!   rule leaves a P with a thread that mostly waited for a CPU.
//!
//! Linux answers from `/proc`; other platforms answer "unknown", and sysmon
//! falls back to its time-only rule.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
#[cfg_attr(gosched_loom, allow(unused_imports))] // loom models run no real M
pub(crate) use linux::{
    current_tid, thread_asleep, thread_cpu_ns, thread_in_futex, thread_sched_ns,
};

#[cfg(not(target_os = "linux"))]
mod other;
#[cfg(not(target_os = "linux"))]
pub(crate) use other::{
    current_tid, thread_asleep, thread_cpu_ns, thread_in_futex, thread_sched_ns,
};
