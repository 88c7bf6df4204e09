//! `du` as a gosched user would write it: one task per directory found,
//! each listing its directory and stat-ing the entries through
//! `gosched::fs`, sizes summed over a channel that closes when the last
//! walker (the last sender) is done. Every file call runs on the
//! task's own thread (Go's syscall model); sysmon moves the P only if a
//! call blocks.
//!
//! ```text
//! cargo run --release --example du -- [DIR]
//! ```

use std::path::PathBuf;

use gosched::sync::chan;

/// Lists `dir`, sends the size of each file, and spawns a walker for each
/// subdirectory.
fn walk(dir: PathBuf, sizes: chan::Sender<u64>) {
    gosched::spawn(async move {
        let mut entries = match gosched::fs::read_dir(&dir).await {
            Ok(rd) => rd,
            Err(e) => {
                eprintln!("du: {e}");
                return;
            }
        };
        while let Some(entry) = gosched::stream::StreamExt::next(&mut entries).await {
            let Ok(entry) = entry else { continue };
            match entry.metadata().await {
                Ok(m) if m.is_dir() => walk(entry.path(), sizes.clone()),
                Ok(m) => {
                    let _ = sizes.send(m.len()).await;
                }
                Err(e) => eprintln!("du: {e}"),
            }
        }
    });
}

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    let start = std::time::Instant::now();
    let (files, bytes) = gosched::run(async move {
        let (tx, rx) = chan::bounded(1024);
        walk(root, tx);
        let (mut files, mut bytes) = (0u64, 0u64);
        while let Some(n) = rx.recv().await {
            files += 1;
            bytes += n;
        }
        (files, bytes)
    });
    println!(
        "{bytes} bytes in {files} files ({:.1} ms)",
        start.elapsed().as_secs_f64() * 1e3
    );
}
