//! [`File`] and [`OpenOptions`]: `std::fs::File` behind `futures::io`'s
//! `AsyncRead`, `AsyncWrite` and `AsyncSeek`, each call one blocking call
//! on the task's thread under [`gosched_executor::syscall`].
//!
//! A file is not a socket: the kernel has no readiness for it, so a read
//! never returns `Pending`; it runs (and, if the disk is slow, blocks its
//! thread while sysmon moves the P elsewhere). Only a spent coop budget
//! makes a file operation return `Pending`.

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncSeek, AsyncWrite};
use gosched_executor::coop;

use super::{run, with_path, Metadata};

/// An open file.
///
/// ```
/// use gosched::io::{AsyncReadExt, AsyncWriteExt};
/// # gosched::runtime::Reactor::new().unwrap().block_on(async {
/// let path = std::env::temp_dir().join(format!("gosched-file-doc-{}", std::process::id()));
/// let mut f = gosched::fs::File::create(&path).await?;
/// f.write_all(b"hi there").await?;
/// f.sync_all().await?;
/// let mut s = String::new();
/// gosched::fs::File::open(&path).await?.read_to_string(&mut s).await?;
/// assert_eq!(s, "hi there");
/// gosched::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub struct File {
    std: std::fs::File,
}

impl File {
    /// Opens a file for reading (`std::fs::File::open`).
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Creates or truncates a file for writing (`std::fs::File::create`).
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Wraps an open std file.
    pub fn from_std(std: std::fs::File) -> File {
        File { std }
    }

    /// The std file inside.
    pub fn into_std(self) -> std::fs::File {
        self.std
    }

    /// Flushes data and metadata to the device (`fsync`).
    pub async fn sync_all(&self) -> io::Result<()> {
        run(|| self.std.sync_all()).await
    }

    /// Flushes data to the device (`fdatasync`).
    pub async fn sync_data(&self) -> io::Result<()> {
        run(|| self.std.sync_data()).await
    }

    /// Truncates or extends the file to `size` bytes.
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        run(|| self.std.set_len(size)).await
    }

    /// The file's metadata.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        run(|| self.std.metadata()).await
    }

    /// One blocking call on the file, with a budget unit spent.
    fn poll_call<R>(
        &mut self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut std::fs::File) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let progress = std::task::ready!(coop::poll_proceed(cx));
        let out = gosched_executor::syscall(|| f(&mut self.std));
        progress.made_progress();
        Poll::Ready(out)
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_call(cx, |f| f.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [io::IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_call(cx, |f| f.read_vectored(bufs))
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_call(cx, |f| f.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_call(cx, |f| f.write_vectored(bufs))
    }

    /// A std file has no user-space buffer: nothing to flush.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Nothing to do: the descriptor closes when the `File` drops.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        self.get_mut().poll_call(cx, |f| f.seek(pos))
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File").field("std", &self.std).finish()
    }
}

/// How to open a file (`std::fs::OpenOptions`).
///
/// ```
/// # gosched::runtime::Reactor::new().unwrap().block_on(async {
/// let path = std::env::temp_dir().join(format!("gosched-opts-doc-{}", std::process::id()));
/// let f = gosched::fs::OpenOptions::new()
///     .write(true)
///     .create_new(true)
///     .open(&path)
///     .await?;
/// f.set_len(10).await?;
/// assert_eq!(f.metadata().await?.len(), 10);
/// gosched::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions(std::fs::OpenOptions);

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}

impl OpenOptions {
    /// Every option off.
    pub fn new() -> OpenOptions {
        OpenOptions(std::fs::OpenOptions::new())
    }

    /// Open for reading.
    pub fn read(&mut self, yes: bool) -> &mut OpenOptions {
        self.0.read(yes);
        self
    }

    /// Open for writing.
    pub fn write(&mut self, yes: bool) -> &mut OpenOptions {
        self.0.write(yes);
        self
    }

    /// Every write goes to the end.
    pub fn append(&mut self, yes: bool) -> &mut OpenOptions {
        self.0.append(yes);
        self
    }

    /// Truncate an existing file to 0 bytes.
    pub fn truncate(&mut self, yes: bool) -> &mut OpenOptions {
        self.0.truncate(yes);
        self
    }

    /// Create the file if it does not exist.
    pub fn create(&mut self, yes: bool) -> &mut OpenOptions {
        self.0.create(yes);
        self
    }

    /// Create the file, failing if it exists.
    pub fn create_new(&mut self, yes: bool) -> &mut OpenOptions {
        self.0.create_new(yes);
        self
    }

    /// Opens `path` with these options.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let opts = self.0.clone();
        run(move || opts.open(&path).map_err(|e| with_path("open", &path, e)))
            .await
            .map(File::from_std)
    }
}
