//! Go's cheapness, in Rust: spawn N tasks that each yield a few times,
//! join them all, and report the time and the memory each task cost.
//!
//! ```text
//! cargo run --release --example goroutines -- --tasks 100000 --yields 3
//! cargo run --release --example goroutines -- --sleep 10ms
//! ```
//!
//! Options: `--tasks N` (default 100,000), `--yields K` (default 3),
//! `--sleep D` (each task also sleeps D on a timer, e.g. `10ms`, `500us`,
//! `1s`; Go needs about 50 ms for 100k goroutines sleeping 10 ms),
//! `--procs P` (default: `GOSCHED_PROCS` or the CPU count).

use std::time::{Duration, Instant};

/// Parses `10ms`, `500us`, `2s` or `1.5s`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let (num, unit) = s
        .find(|c: char| c.is_ascii_alphabetic())
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let v: f64 = num
        .parse()
        .map_err(|_| format!("--sleep: cannot parse {s:?}"))?;
    let secs = match unit {
        "s" => v,
        "ms" => v / 1e3,
        "us" | "µs" => v / 1e6,
        "ns" => v / 1e9,
        _ => {
            return Err(format!(
                "--sleep: unknown unit in {s:?} (use s, ms, us or ns)"
            ))
        }
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("--sleep: {s:?} is not a duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

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
            if a.starts_with("--")
                && !["--tasks", "--yields", "--procs", "--sleep"].contains(&a.as_str())
            {
                return Err(format!("unknown option {a}"));
            }
        }
        Ok((
            arg::<usize>(&args, "--tasks")?.unwrap_or(100_000),
            arg::<usize>(&args, "--yields")?.unwrap_or(3),
            arg::<usize>(&args, "--procs")?,
            arg::<String>(&args, "--sleep")?
                .map(|d| parse_duration(&d))
                .transpose()?,
        ))
    })();
    let (tasks, yields, procs, sleep) = match parsed {
        Ok(v) => v,
        Err(e) => {
            eprintln!("goroutines: {e}\nusage: goroutines [--tasks N] [--yields K] [--sleep D] [--procs P]");
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
                    if let Some(d) = sleep {
                        gosched::time::sleep(d).await;
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
    let slept = sleep.map(|d| format!(" + sleep {d:?}")).unwrap_or_default();
    println!(
        "{tasks} tasks x {yields} yields{slept} on {} procs: {:.1} ms, {:.0} tasks/s",
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
