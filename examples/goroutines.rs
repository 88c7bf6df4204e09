//! Go's cheapness, in Rust: spawn N tasks that each yield a few times,
//! join them all, and report the time and the memory each task cost.
//!
//! ```text
//! cargo run --release --example goroutines -- --tasks 100000 --yields 3
//! ```
//!
//! Options: `--tasks N` (default 100,000), `--yields K` (default 3),
//! `--procs P` (default: `GOSCHED_PROCS` or the CPU count).

use std::time::Instant;

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Result<Option<T>, String> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => {
            let v = args
                .get(i + 1)
                .ok_or_else(|| format!("{name} needs a value"))?;
            v.parse()
                .map(Some)
                .map_err(|_| format!("{name}: cannot parse {v:?}"))
        }
    }
}

/// A field of /proc/self/status in KiB (Linux), or None elsewhere.
fn status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let parsed = (|| -> Result<_, String> {
        for a in &args {
            if a.starts_with("--") && !["--tasks", "--yields", "--procs"].contains(&a.as_str()) {
                return Err(format!("unknown option {a}"));
            }
        }
        Ok((
            arg::<usize>(&args, "--tasks")?.unwrap_or(100_000),
            arg::<usize>(&args, "--yields")?.unwrap_or(3),
            arg::<usize>(&args, "--procs")?,
        ))
    })();
    let (tasks, yields, procs) = match parsed {
        Ok(v) => v,
        Err(e) => {
            eprintln!("goroutines: {e}\nusage: goroutines [--tasks N] [--yields K] [--procs P]");
            std::process::exit(2);
        }
    };
    let mut builder = gosched::Runtime::builder();
    if let Some(p) = procs {
        builder = builder.procs(p);
    }
    let rt = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("goroutines: {e}");
            std::process::exit(2);
        }
    };
    let rss_before = status_kib("VmRSS:");
    let start = Instant::now();
    let sum = rt.block_on(async move {
        let handles: Vec<_> = (0..tasks)
            .map(|i| {
                gosched::spawn(async move {
                    for _ in 0..yields {
                        gosched::yield_now().await;
                    }
                    i as u64
                })
            })
            .collect();
        let mut sum = 0u64;
        for h in handles {
            sum += h.await.expect("task failed");
        }
        sum
    });
    let elapsed = start.elapsed();
    let n = tasks as u64;
    assert_eq!(
        sum,
        n * n.saturating_sub(1) / 2,
        "every task must report exactly once"
    );
    println!(
        "{tasks} tasks x {yields} yields on {} procs: {:.1} ms, {:.0} tasks/s",
        rt.handle().procs(),
        elapsed.as_secs_f64() * 1e3,
        tasks as f64 / elapsed.as_secs_f64()
    );
    match (rss_before, status_kib("VmHWM:")) {
        (Some(before), Some(peak)) if tasks > 0 => println!(
            "peak RSS {:.1} MiB, {:.0} bytes per task (JoinHandles included)",
            peak as f64 / 1024.0,
            (peak.saturating_sub(before) * 1024) as f64 / tasks as f64
        ),
        _ => println!("peak RSS: not available on this platform"),
    }
}
