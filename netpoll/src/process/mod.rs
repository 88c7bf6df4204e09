//! Child processes on the netpoller: [`Command`] (std's builder), a
//! [`Child`] whose exit is awaited without a thread, and its standard
//! streams as async streams (`pipe.rs`).
//!
//! # Reaping without a thread per child
//!
//! On Linux 5.3 and later a child's *pidfd* (`pidfd_open`) becomes readable
//! when the child exits; it is registered with the reactor like a socket,
//! so `wait().await` parks the task until then and reaps the child with a
//! non-blocking `waitpid` (std's `try_wait`). Where `pidfd_open` fails
//! (older kernels), a SIGCHLD watcher (`signal::watch`, the same self-pipe
//! as every signal) wakes every waiting `wait` on each SIGCHLD, and each
//! tries `try_wait` again: no thread either. A waiter registers its waker
//! *before* its `try_wait`, so an exit either shows in that `try_wait` or
//! raises a SIGCHLD that wakes it.
//!
//! A `Child` dropped before its exit was collected is handed to a reaper
//! task on the current runtime (killed first with `kill_on_drop`), so it
//! does not stay a zombie; outside a runtime it is reaped by the next
//! `spawn` or `wait` of this module.

mod pipe;

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{ExitStatus, Output};
use std::sync::Mutex;
use std::task::{Context, Poll};

use futures::AsyncReadExt;

pub use pipe::{ChildOutput, ChildStderr, ChildStdin, ChildStdout};
pub use std::process::Stdio;

use crate::reactor::io_state::Direction;
use crate::reactor::poll_io::PollIo;

/// A child's pidfd, as a mio source.
struct PidFd(OwnedFd);

impl mio::event::Source for PidFd {
    fn register(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).register(registry, token, interests)
    }

    fn reregister(
        &mut self,
        registry: &mio::Registry,
        token: mio::Token,
        interests: mio::Interest,
    ) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).reregister(registry, token, interests)
    }

    fn deregister(&mut self, registry: &mio::Registry) -> io::Result<()> {
        mio::unix::SourceFd(&self.0.as_raw_fd()).deregister(registry)
    }
}

/// `pidfd_open(pid, 0)`.
fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: the syscall takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just returned this descriptor; we own it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Children dropped outside a runtime before they were reaped.
static ORPHANS: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());

/// Reaps the orphans that have exited.
fn reap_orphans() {
    let mut orphans = crate::loom::lock_std(&ORPHANS);
    orphans.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
}

/// A command to run (std's `Command`, with async `spawn` results).
///
/// ```
/// # gosched::runtime::Reactor::new().unwrap().block_on(async {
/// let out = gosched::process::Command::new("echo")
///     .arg("hello")
///     .output()
///     .await?;
/// assert!(out.status.success());
/// assert_eq!(out.stdout, b"hello\n");
/// # std::io::Result::Ok(())
/// # }).unwrap();
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// Reap with the SIGCHLD watcher even where a pidfd is available.
    sigchld_only: bool,
}

impl Command {
    /// A command running `program`.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            std: std::process::Command::new(program),
            kill_on_drop: false,
            sigchld_only: false,
        }
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts from an empty environment.
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input (default: inherited by `spawn` and
    /// `status`, null for `output`).
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// The child's standard output (default: inherited; piped for
    /// `output`).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// The child's standard error (default: inherited; piped for
    /// `output`).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Kill the child (SIGKILL) when its [`Child`] is dropped before the
    /// child exited.
    pub fn kill_on_drop(&mut self, yes: bool) -> &mut Command {
        self.kill_on_drop = yes;
        self
    }

    /// Reaps this child through the SIGCHLD watcher instead of a pidfd, as
    /// on kernels older than 5.3; for testing that path.
    #[doc(hidden)]
    pub fn reap_with_sigchld(&mut self, yes: bool) -> &mut Command {
        self.sigchld_only = yes;
        self
    }

    /// Starts the child. Must be called from inside a gosched runtime (its
    /// netpoller carries the child's pipes and exit).
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        reap_orphans();
        let mut std = self.std.spawn()?;
        let stdin = std.stdin.take().map(ChildStdin::new).transpose()?;
        let stdout = std
            .stdout
            .take()
            .map(|o| ChildOutput::new(mio::unix::pipe::Receiver::from(o)))
            .transpose()?;
        let stderr = std
            .stderr
            .take()
            .map(|o| ChildOutput::new(mio::unix::pipe::Receiver::from(o)))
            .transpose()?;
        let pidfd = match (self.sigchld_only, pidfd_open(std.id())) {
            (false, Ok(fd)) => Some(PollIo::new(PidFd(fd), mio::Interest::READABLE)?),
            _ => {
                watch_sigchld()?;
                None
            }
        };
        Ok(Child {
            std: Some(std),
            pidfd,
            status: None,
            kill_on_drop: self.kill_on_drop,
            stdin,
            stdout,
            stderr,
        })
    }

    /// Runs the child to its end with inherited streams; its exit status.
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        // Inherited or configured streams: nothing of ours to drain.
        child.stdin = None;
        child.wait().await
    }

    /// Runs the child to its end, collecting its standard output and
    /// error (both piped, standard input null unless set).
    pub async fn output(&mut self) -> io::Result<Output> {
        self.std.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.spawn()?;
        child.wait_with_output().await
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.std, f)
    }
}

/// A running (or finished) child process.
pub struct Child {
    /// `None` only after the drop handed it to a reaper.
    std: Option<std::process::Child>,
    /// Readable when the child exits (Linux 5.3+).
    pidfd: Option<PollIo<PidFd>>,
    /// The exit status, once reaped.
    status: Option<ExitStatus>,
    kill_on_drop: bool,
    /// The child's standard input, when piped.
    pub stdin: Option<ChildStdin>,
    /// The child's standard output, when piped.
    pub stdout: Option<ChildStdout>,
    /// The child's standard error, when piped.
    pub stderr: Option<ChildStderr>,
}

/// Wakers of `wait`s without a pidfd, woken (and dropped) on each SIGCHLD.
static SIGCHLD_WAITERS: Mutex<Vec<std::task::Waker>> = Mutex::new(Vec::new());

/// The SIGCHLD watcher: wakes every waiting `wait` without a pidfd.
fn on_sigchld() {
    let waiters = std::mem::take(&mut *crate::loom::lock_std(&SIGCHLD_WAITERS));
    for w in waiters {
        w.wake();
    }
}

/// Installs the SIGCHLD watcher once (for children without a pidfd).
#[track_caller]
fn watch_sigchld() -> io::Result<()> {
    static WATCHING: Mutex<bool> = Mutex::new(false);
    let mut watching = crate::loom::lock_std(&WATCHING);
    if !*watching {
        crate::signal::watch(crate::signal::Signal::Child, on_sigchld)?;
        *watching = true;
    }
    Ok(())
}

impl Child {
    fn std(&mut self) -> &mut std::process::Child {
        self.std.as_mut().expect("a live Child has its process")
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.std
            .as_ref()
            .expect("a live Child has its process")
            .id()
    }

    /// Sends SIGKILL (a child already reaped is left alone).
    pub fn kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        self.std().kill()
    }

    /// The exit status if the child has exited, without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.std().try_wait()?;
        }
        Ok(self.status)
    }

    /// Waits for the child to exit and reaps it. Standard input, if piped
    /// and still open, is closed first (a child reading it would otherwise
    /// wait for ever).
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.stdin = None;
        let status = std::future::poll_fn(|cx| self.poll_wait(cx)).await;
        reap_orphans();
        status
    }

    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        loop {
            if let Some(s) = self.try_wait()? {
                return Poll::Ready(Ok(s));
            }
            match &self.pidfd {
                Some(pidfd) => {
                    let ev = std::task::ready!(pidfd.poll_ready(cx, Direction::Read))?;
                    if let Some(s) = self.try_wait()? {
                        return Poll::Ready(Ok(s));
                    }
                    if let Some(pidfd) = &self.pidfd {
                        pidfd.clear(ev);
                    }
                }
                None => {
                    // Register first, then look (see the module docs).
                    crate::loom::lock_std(&SIGCHLD_WAITERS).push(cx.waker().clone());
                    return match self.try_wait()? {
                        Some(s) => Poll::Ready(Ok(s)),
                        None => Poll::Pending,
                    };
                }
            }
        }
    }

    /// Closes standard input, reads standard output and error to their
    /// ends (both at once, so a child filling one pipe cannot stall), and
    /// waits for the exit.
    pub async fn wait_with_output(&mut self) -> io::Result<Output> {
        self.stdin = None;
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let (stdout, stderr) = (self.stdout.take(), self.stderr.take());
        let read_out = async {
            if let Some(mut s) = stdout {
                s.read_to_end(&mut out).await?;
            }
            io::Result::Ok(())
        };
        let read_err = async {
            if let Some(mut s) = stderr {
                s.read_to_end(&mut err).await?;
            }
            io::Result::Ok(())
        };
        let (a, b) = futures::join!(read_out, read_err);
        a?;
        b?;
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout: out,
            stderr: err,
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.status.is_some() {
            return;
        }
        let Some(mut std) = self.std.take() else {
            return;
        };
        if self.kill_on_drop {
            let _ = std.kill();
        }
        if let Ok(Some(_)) = std.try_wait() {
            return;
        }
        // Reap it later: on this runtime if there is one, else with the
        // next spawn or wait.
        match (gosched_executor::Handle::try_current(), self.pidfd.take()) {
            (Some(h), Some(pidfd)) => {
                let mut reaper = Child {
                    std: Some(std),
                    pidfd: Some(pidfd),
                    status: None,
                    kill_on_drop: false,
                    stdin: None,
                    stdout: None,
                    stderr: None,
                };
                drop(h.spawn(async move {
                    let _ = reaper.wait().await;
                }));
            }
            _ => crate::loom::lock_std(&ORPHANS).push(std),
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("pid", &self.std.as_ref().map(|c| c.id()))
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}
