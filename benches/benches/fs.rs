//! File system benchmarks: gosched's `fs` (blocking calls on the task's
//! own thread, Go's syscall model) against tokio's `fs` (every call sent to
//! its blocking pool) and the same loop in plain `std::fs` on two threads,
//! in the same criterion groups. Two workers each.
//!
//! - `fs_read_10k`: 10,000 files of 4 KiB read by 100 tasks (warm cache).
//! - `fs_du_50k`: a `du`-like walk of a tree of 50,000 files (tokio-rs/tokio
//!   #3664's workload): list each directory, stat each entry, sum sizes.
//!
//! The files are made once under `target/fs-bench/` and kept.
//!
//! Run: `cargo bench -p gosched-benches --bench fs` (on a quiet 2-core machine).

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use futures::StreamExt;

const WORKERS: usize = 2;
const READ_FILES: usize = 10_000;
const READ_SIZE: usize = 4096;
const READ_TASKS: usize = 100;
/// The du tree: TOP directories, each with MID subdirectories of LEAF files.
const TOP: usize = 10;
const MID: usize = 10;
const LEAF: usize = 500;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/fs-bench")
}

/// Makes `dir` with `make` unless a marker says it is complete.
fn ensure(dir: &Path, make: impl FnOnce(&Path)) {
    let done = dir.join(".complete");
    if done.exists() {
        return;
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    make(dir);
    std::fs::write(done, b"").unwrap();
}

fn read_files() -> Arc<Vec<PathBuf>> {
    let dir = root().join("read");
    ensure(&dir, |d| {
        let data = vec![7u8; READ_SIZE];
        for i in 0..READ_FILES {
            std::fs::write(d.join(format!("f{i}")), &data).unwrap();
        }
    });
    Arc::new((0..READ_FILES).map(|i| dir.join(format!("f{i}"))).collect())
}

fn du_tree() -> Vec<PathBuf> {
    let dir = root().join("du");
    ensure(&dir, |d| {
        for t in 0..TOP {
            for m in 0..MID {
                let sub = d.join(format!("t{t}/m{m}"));
                std::fs::create_dir_all(&sub).unwrap();
                for l in 0..LEAF {
                    std::fs::write(sub.join(format!("f{l}")), [1u8; 10]).unwrap();
                }
            }
        }
    });
    (0..TOP).map(|t| dir.join(format!("t{t}"))).collect()
}

// ---- gosched ---------------------------------------------------------

fn gosched_read(rt: &gosched::Runtime, files: &Arc<Vec<PathBuf>>) -> usize {
    rt.block_on(async {
        let per = READ_FILES / READ_TASKS;
        let hs: Vec<_> = (0..READ_TASKS)
            .map(|k| {
                let files = files.clone();
                gosched::spawn(async move {
                    let mut n = 0;
                    for p in &files[k * per..(k + 1) * per] {
                        n += gosched::fs::read(p).await.unwrap().len();
                    }
                    n
                })
            })
            .collect();
        let mut n = 0;
        for h in hs {
            n += h.await.unwrap();
        }
        n
    })
}

async fn gosched_du(dir: PathBuf) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        let mut rd = gosched::fs::read_dir(&d).await.unwrap();
        while let Some(e) = rd.next().await {
            let e = e.unwrap();
            let m = e.metadata().await.unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else {
                total += m.len();
            }
        }
    }
    total
}

fn gosched_walk(rt: &gosched::Runtime, tops: &[PathBuf]) -> u64 {
    rt.block_on(async {
        let hs: Vec<_> = tops
            .iter()
            .cloned()
            .map(|t| gosched::spawn(gosched_du(t)))
            .collect();
        let mut n = 0;
        for h in hs {
            n += h.await.unwrap();
        }
        n
    })
}

// ---- tokio -----------------------------------------------------------

fn tokio_read(rt: &tokio::runtime::Runtime, files: &Arc<Vec<PathBuf>>) -> usize {
    rt.block_on(async {
        let per = READ_FILES / READ_TASKS;
        let hs: Vec<_> = (0..READ_TASKS)
            .map(|k| {
                let files = files.clone();
                tokio::spawn(async move {
                    let mut n = 0;
                    for p in &files[k * per..(k + 1) * per] {
                        n += tokio::fs::read(p).await.unwrap().len();
                    }
                    n
                })
            })
            .collect();
        let mut n = 0;
        for h in hs {
            n += h.await.unwrap();
        }
        n
    })
}

async fn tokio_du(dir: PathBuf) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        let mut rd = tokio::fs::read_dir(&d).await.unwrap();
        while let Some(e) = rd.next_entry().await.unwrap() {
            let m = e.metadata().await.unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else {
                total += m.len();
            }
        }
    }
    total
}

fn tokio_walk(rt: &tokio::runtime::Runtime, tops: &[PathBuf]) -> u64 {
    rt.block_on(async {
        let hs: Vec<_> = tops
            .iter()
            .cloned()
            .map(|t| tokio::spawn(tokio_du(t)))
            .collect();
        let mut n = 0;
        for h in hs {
            n += h.await.unwrap();
        }
        n
    })
}

// ---- plain std on two threads -----------------------------------------

fn std_read(files: &Arc<Vec<PathBuf>>) -> usize {
    let half = READ_FILES / WORKERS;
    let hs: Vec<_> = (0..WORKERS)
        .map(|k| {
            let files = files.clone();
            std::thread::spawn(move || {
                files[k * half..(k + 1) * half]
                    .iter()
                    .map(|p| std::fs::read(p).unwrap().len())
                    .sum::<usize>()
            })
        })
        .collect();
    hs.into_iter().map(|h| h.join().unwrap()).sum()
}

fn std_du(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else {
                total += m.len();
            }
        }
    }
    total
}

fn std_walk(tops: &[PathBuf]) -> u64 {
    let hs: Vec<_> = (0..WORKERS)
        .map(|k| {
            let mine: Vec<PathBuf> = tops.iter().skip(k).step_by(WORKERS).cloned().collect();
            std::thread::spawn(move || mine.iter().map(|t| std_du(t)).sum::<u64>())
        })
        .collect();
    hs.into_iter().map(|h| h.join().unwrap()).sum()
}

fn benches(c: &mut Criterion) {
    let g = gosched::Runtime::builder().procs(WORKERS).build().unwrap();
    let t = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .unwrap();
    let files = read_files();
    let want = READ_FILES * READ_SIZE;
    let mut group = c.benchmark_group("fs_read_10k");
    group.bench_function("gosched", |b| {
        b.iter(|| assert_eq!(gosched_read(&g, &files), want))
    });
    group.bench_function("tokio", |b| {
        b.iter(|| assert_eq!(tokio_read(&t, &files), want))
    });
    group.bench_function("std", |b| b.iter(|| assert_eq!(std_read(&files), want)));
    group.finish();

    let tops = du_tree();
    let want = (TOP * MID * LEAF * 10) as u64;
    let mut group = c.benchmark_group("fs_du_50k");
    group.bench_function("gosched", |b| {
        b.iter(|| assert_eq!(gosched_walk(&g, &tops), want))
    });
    group.bench_function("tokio", |b| {
        b.iter(|| assert_eq!(tokio_walk(&t, &tops), want))
    });
    group.bench_function("std", |b| b.iter(|| assert_eq!(std_walk(&tops), want)));
    group.finish();
}

criterion_group! {
    name = fs;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_secs(1)).measurement_time(std::time::Duration::from_secs(5));
    targets = benches
}
criterion_main!(fs);
