//! Files and directories, Go's way: each operation runs the blocking call
//! on the task's own thread through [`gosched_executor::syscall`], so a
//! quick call (a warm page cache) costs no thread hop, and one that stays
//! blocked has its P handed to another thread by sysmon within tens of
//! microseconds. (tokio sends every file operation to a thread pool; that
//! hop is most of the cost of a small read.)
//!
//! Every function is the `std::fs` one of the same name, as a future. An
//! error is the `io::Error` std returns, with the operation and the path
//! in its message (`open /x: No such file or directory`), as Go's
//! `*PathError` reads; its `kind()` and `raw_os_error()` are std's.
//!
//! Each operation spends one unit of the task's coop budget.
//!
//! ```
//! # gosched::runtime::Reactor::new().unwrap().block_on(async {
//! let dir = std::env::temp_dir().join(format!("gosched-fs-doc-{}", std::process::id()));
//! gosched::fs::create_dir_all(&dir).await?;
//! let path = dir.join("hello.txt");
//! gosched::fs::write(&path, b"hello").await?;
//! assert_eq!(gosched::fs::read_to_string(&path).await?, "hello");
//! gosched::fs::remove_dir_all(&dir).await?;
//! # std::io::Result::Ok(())
//! # }).unwrap();
//! ```

mod file;
mod read_dir;

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use gosched_executor::coop;

pub use file::{File, OpenOptions};
pub use read_dir::{read_dir, DirEntry, ReadDir};
pub use std::fs::{FileType, Metadata, Permissions};

/// A blocking call as a future: on its first poll it spends a budget unit
/// and runs the call under [`gosched_executor::syscall`].
pub(crate) struct Syscall<F>(Option<F>);

impl<F> Unpin for Syscall<F> {}

impl<F: FnOnce() -> R, R> Future for Syscall<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
        let progress = std::task::ready!(coop::poll_proceed(cx));
        let f = self
            .0
            .take()
            .expect("fs operation polled after it completed");
        let out = gosched_executor::syscall(f);
        progress.made_progress();
        Poll::Ready(out)
    }
}

/// Runs `f` as one blocking call (see [`Syscall`]).
pub(crate) fn run<F: FnOnce() -> R, R>(f: F) -> Syscall<F> {
    Syscall(Some(f))
}

/// Adds the operation and the path to an error, Go's `*PathError` style.
pub(crate) fn with_path(op: &str, path: &Path, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        PathError {
            op: op.to_owned(),
            path: path.to_owned(),
            err: e,
        },
    )
}

/// The error a failed file operation carries: the operation, the path and
/// std's error, which stays reachable as the source.
#[derive(Debug)]
struct PathError {
    op: String,
    path: PathBuf,
    err: io::Error,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.op, self.path.display(), self.err)
    }
}

impl std::error::Error for PathError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.err)
    }
}

/// Reads a whole file (`std::fs::read`).
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::read(&path).map_err(|e| with_path("read", &path, e))).await
}

/// Reads a whole file as UTF-8 (`std::fs::read_to_string`).
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::read_to_string(&path).map_err(|e| with_path("read", &path, e))).await
}

/// Writes a whole file, creating or truncating it (`std::fs::write`).
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref();
    run(|| std::fs::write(&path, contents).map_err(|e| with_path("write", &path, e))).await
}

/// A file's metadata, following symlinks (`std::fs::metadata`).
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::metadata(&path).map_err(|e| with_path("stat", &path, e))).await
}

/// A file's metadata, not following a final symlink
/// (`std::fs::symlink_metadata`).
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::symlink_metadata(&path).map_err(|e| with_path("lstat", &path, e))).await
}

/// Creates a directory and its missing parents (`std::fs::create_dir_all`).
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::create_dir_all(&path).map_err(|e| with_path("mkdir", &path, e))).await
}

/// Creates one directory (`std::fs::create_dir`).
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::create_dir(&path).map_err(|e| with_path("mkdir", &path, e))).await
}

/// Removes a file (`std::fs::remove_file`).
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::remove_file(&path).map_err(|e| with_path("remove", &path, e))).await
}

/// Removes an empty directory (`std::fs::remove_dir`).
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::remove_dir(&path).map_err(|e| with_path("remove", &path, e))).await
}

/// Removes a directory and everything in it (`std::fs::remove_dir_all`).
/// One call: sysmon hands the P off if it takes long.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::remove_dir_all(&path).map_err(|e| with_path("remove", &path, e))).await
}

/// Renames a file or directory (`std::fs::rename`); the error names both
/// paths.
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    run(move || {
        std::fs::rename(&from, &to)
            .map_err(|e| with_path(&format!("rename {} ->", from.display()), &to, e))
    })
    .await
}

/// Copies a file's contents and permissions (`std::fs::copy`); returns
/// the bytes copied. The error names both paths.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    run(move || {
        std::fs::copy(&from, &to)
            .map_err(|e| with_path(&format!("copy {} ->", from.display()), &to, e))
    })
    .await
}

/// The absolute path with every symlink resolved (`std::fs::canonicalize`).
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    run(move || std::fs::canonicalize(&path).map_err(|e| with_path("realpath", &path, e))).await
}
