//! Goroutine dumps: every live task, one line each, or grouped the way
//! Go's `pprof goroutine?debug=1` groups identical stacks.
//!
//! A task has no stack to print; what identifies it is its spawn site,
//! its state (runnable, running, waiting) and its wait reason. The grouped
//! form counts tasks that agree on all three, most common first, which is
//! usually enough to spot a leak: ten thousand tasks waiting on
//! "chan receive" at one spawn site.

use std::fmt;

use crate::task::{TaskInfo, TaskState, WaitReason};

/// Tasks sharing a spawn site, state and wait reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskGroup {
    /// How many tasks are in the group.
    pub count: usize,
    /// Where they were spawned.
    pub location: &'static std::panic::Location<'static>,
    /// Their state.
    pub state: TaskState,
    /// Their wait reason.
    pub wait_reason: WaitReason,
    /// The longest any of them has been waiting, when known.
    pub longest_wait: Option<std::time::Duration>,
}

/// A grouped dump (see the module docs); `Display` prints it like Go.
/// Made by [`dump_grouped`](crate::dump_grouped) and
/// [`Handle::dump_grouped`](crate::Handle::dump_grouped).
///
/// ```
/// use gosched::runtime::TaskState;
/// let rt = gosched::Runtime::new().unwrap();
/// let (_tx, rx) = gosched::sync::chan::bounded::<()>(0);
/// for _ in 0..100 {
///     let rx = rx.clone();
///     rt.spawn(async move { rx.recv().await });
/// }
/// // Wait until every task has parked on the channel.
/// while rt.handle().dump().iter().any(|t| t.state != TaskState::Waiting) {
///     std::thread::yield_now();
/// }
/// let grouped = rt.handle().dump_grouped();
/// assert_eq!(grouped.total, 100);
/// let top = &grouped.groups[0];
/// assert_eq!((top.count, top.wait_reason.to_string().as_str()), (100, "chan receive"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct GroupedDump {
    /// Total live tasks.
    pub total: usize,
    /// The groups, largest first.
    pub groups: Vec<TaskGroup>,
}

impl GroupedDump {
    pub(crate) fn from_tasks(tasks: Vec<TaskInfo>) -> GroupedDump {
        let total = tasks.len();
        let mut map: std::collections::HashMap<
            (String, u32, u32, TaskState, WaitReason),
            TaskGroup,
        > = std::collections::HashMap::new();
        for t in tasks {
            let key = (
                t.location.file().to_string(),
                t.location.line(),
                t.location.column(),
                t.state,
                t.wait_reason,
            );
            let g = map.entry(key).or_insert(TaskGroup {
                count: 0,
                location: t.location,
                state: t.state,
                wait_reason: t.wait_reason,
                longest_wait: None,
            });
            g.count += 1;
            g.longest_wait = g.longest_wait.max(t.waiting_for);
        }
        let mut groups: Vec<TaskGroup> = map.into_values().collect();
        groups.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.location.file().cmp(b.location.file()))
                .then_with(|| a.location.line().cmp(&b.location.line()))
        });
        GroupedDump { total, groups }
    }
}

/// Go's dump style: minutes when long, else seconds or milliseconds.
fn human(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms >= 60_000 {
        format!("{} minutes", ms / 60_000)
    } else if ms >= 1000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{ms} ms")
    }
}

impl fmt::Display for GroupedDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "tasks: total {}", self.total)?;
        for g in &self.groups {
            let what = match (g.state, g.longest_wait) {
                (TaskState::Waiting, Some(d)) => {
                    format!("waiting, {}, {}", g.wait_reason, human(d))
                }
                (TaskState::Waiting, None) => format!("waiting, {}", g.wait_reason),
                (s, _) => s.to_string(),
            };
            writeln!(
                f,
                "{} @ {}:{}:{} [{}]",
                g.count,
                g.location.file(),
                g.location.line(),
                g.location.column(),
                what
            )?;
        }
        Ok(())
    }
}
