//! [`read_dir`]: a directory's entries as a `futures::Stream`, each step
//! one call under [`gosched_executor::syscall`] (std reads entries from
//! the kernel in batches, so most steps make no syscall at all).

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use gosched_executor::coop;

use super::{run, with_path, FileType, Metadata};

/// Opens a directory for listing (`std::fs::read_dir`).
///
/// ```
/// use futures::StreamExt;
/// # gosched::runtime::Reactor::new().unwrap().block_on(async {
/// let mut entries = gosched::fs::read_dir(".").await?;
/// let mut n = 0;
/// while let Some(entry) = entries.next().await {
///     let entry = entry?;
///     assert!(!entry.file_name().is_empty());
///     n += 1;
/// }
/// assert!(n > 0);
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    run(move || {
        std::fs::read_dir(&path)
            .map(|inner| ReadDir {
                inner,
                path: path.clone(),
            })
            .map_err(|e| with_path("open", &path, e))
    })
    .await
}

/// The entries of a directory, as a stream (see [`read_dir`]).
pub struct ReadDir {
    inner: std::fs::ReadDir,
    path: PathBuf,
}

impl Stream for ReadDir {
    type Item = io::Result<DirEntry>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let progress = std::task::ready!(coop::poll_proceed(cx));
        let next = gosched_executor::syscall(|| this.inner.next());
        progress.made_progress();
        Poll::Ready(next.map(|r| {
            r.map(DirEntry)
                .map_err(|e| with_path("readdir", &this.path, e))
        }))
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadDir").field("path", &self.path).finish()
    }
}

/// One entry of a [`ReadDir`].
#[derive(Debug)]
pub struct DirEntry(std::fs::DirEntry);

impl DirEntry {
    /// The entry's full path (the directory's path joined with its name).
    pub fn path(&self) -> PathBuf {
        self.0.path()
    }

    /// The entry's name in its directory.
    pub fn file_name(&self) -> OsString {
        self.0.file_name()
    }

    /// The entry's metadata, not following a symlink (Linux: `lstat`).
    pub async fn metadata(&self) -> io::Result<Metadata> {
        run(|| {
            self.0
                .metadata()
                .map_err(|e| with_path("lstat", &self.0.path(), e))
        })
        .await
    }

    /// The entry's type; usually known from the directory listing itself,
    /// else one `lstat`.
    pub async fn file_type(&self) -> io::Result<FileType> {
        run(|| {
            self.0
                .file_type()
                .map_err(|e| with_path("lstat", &self.0.path(), e))
        })
        .await
    }
}
