//! `fs` on a runtime: every operation against std's, errors that name the
//! operation and path, `File` through `futures::io`, `read_dir` as a
//! stream.

mod common;

use std::path::PathBuf;

use futures::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, StreamExt};
use gosched_netpoll::fs;

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("gosched-fs-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn whole_file_operations_match_std() {
    let dir = TempDir::new("whole");
    let (rt, _reactor) = common::runtime(2);
    let d = dir.0.clone();
    rt.block_on(rt.spawn(async move {
        let a = d.join("a/b/c");
        fs::create_dir_all(&a).await.unwrap();
        let f = a.join("x.txt");
        fs::write(&f, b"hello world").await.unwrap();
        assert_eq!(fs::read(&f).await.unwrap(), b"hello world");
        assert_eq!(fs::read_to_string(&f).await.unwrap(), "hello world");
        assert_eq!(fs::metadata(&f).await.unwrap().len(), 11);
        assert!(fs::symlink_metadata(&a).await.unwrap().is_dir());
        let g = d.join("y.txt");
        assert_eq!(fs::copy(&f, &g).await.unwrap(), 11);
        let h = d.join("z.txt");
        fs::rename(&g, &h).await.unwrap();
        assert!(!g.exists() && h.exists());
        assert_eq!(
            fs::canonicalize(&h).await.unwrap(),
            std::fs::canonicalize(&h).unwrap()
        );
        fs::remove_file(&h).await.unwrap();
        fs::create_dir(d.join("empty")).await.unwrap();
        fs::remove_dir(d.join("empty")).await.unwrap();
        fs::remove_dir_all(d.join("a")).await.unwrap();
        assert!(!d.join("a").exists());
    }))
    .unwrap();
}

#[test]
fn errors_keep_std_kind_and_name_the_operation_and_path() {
    let dir = TempDir::new("errors");
    let (rt, _reactor) = common::runtime(1);
    let missing = dir.0.join("missing.txt");
    let m = missing.clone();
    let (read, open, rename) = rt
        .block_on(rt.spawn(async move {
            (
                fs::read(&m).await.unwrap_err(),
                fs::File::open(&m).await.unwrap_err(),
                fs::rename(&m, m.with_extension("new")).await.unwrap_err(),
            )
        }))
        .unwrap();
    for e in [&read, &open, &rename] {
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
        assert!(e.to_string().contains("missing.txt"), "{e}");
    }
    assert!(read.to_string().starts_with("read "), "{read}");
    assert!(open.to_string().starts_with("open "), "{open}");
    assert!(rename.to_string().contains("missing.new"), "{rename}");
    let source = std::error::Error::source(read.get_ref().unwrap()).unwrap();
    assert!(source.downcast_ref::<std::io::Error>().is_some());
}

#[test]
fn a_file_reads_writes_seeks_and_syncs_through_futures_io() {
    let dir = TempDir::new("file");
    let (rt, _reactor) = common::runtime(2);
    let path = dir.0.join("f.bin");
    rt.block_on(rt.spawn(async move {
        let mut f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        f.write_all(&data).await.unwrap();
        f.sync_all().await.unwrap();
        f.seek(std::io::SeekFrom::Start(1000)).await.unwrap();
        let mut buf = vec![0u8; 500];
        f.read_exact(&mut buf).await.unwrap();
        assert_eq!(buf, &data[1000..1500]);
        f.set_len(10).await.unwrap();
        assert_eq!(f.metadata().await.unwrap().len(), 10);
        let mut all = Vec::new();
        fs::File::open(&path)
            .await
            .unwrap()
            .read_to_end(&mut all)
            .await
            .unwrap();
        assert_eq!(all, &data[..10]);
        assert!(fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .is_err());
    }))
    .unwrap();
}

#[test]
fn read_dir_streams_every_entry_once() {
    let dir = TempDir::new("readdir");
    for i in 0..300 {
        std::fs::write(dir.0.join(format!("f{i}")), [i as u8]).unwrap();
    }
    std::fs::create_dir(dir.0.join("sub")).unwrap();
    let (rt, _reactor) = common::runtime(2);
    let d = dir.0.clone();
    let (mut names, dirs) = rt
        .block_on(rt.spawn(async move {
            let mut names = Vec::new();
            let mut dirs = 0;
            let mut rd = fs::read_dir(&d).await.unwrap();
            while let Some(e) = rd.next().await {
                let e = e.unwrap();
                if e.file_type().await.unwrap().is_dir() {
                    dirs += 1;
                } else {
                    assert_eq!(e.metadata().await.unwrap().len(), 1);
                }
                names.push(e.file_name().into_string().unwrap());
            }
            (names, dirs)
        }))
        .unwrap();
    names.sort();
    assert_eq!(names.len(), 301);
    assert_eq!(dirs, 1);
    assert!(names.contains(&"f299".to_string()));
}
