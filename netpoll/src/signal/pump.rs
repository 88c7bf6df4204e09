//! The pump: the self-pipe's read end in the netpoller, whose waker reads
//! the signal numbers and dispatches them (`mod.rs`, "Design").
//!
//! The waker *is* the work: when the netpoller sees the socket readable it
//! wakes the pump, which reads every byte waiting, dispatches each signal,
//! and polls again with itself as the waker until the read would block.
//! A pump whose netpoller shut down reads an error and marks itself dead;
//! the next listener makes a new one.

use std::io;
use std::os::fd::IntoRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use super::{dispatch, Signal, Table, WRITE_FD};
use crate::reactor::poll_io::PollIo;

/// A live pump (the table keeps it).
pub(super) struct Pump(Arc<Inner>);

struct Inner {
    io: PollIo<mio::net::UnixStream>,
    /// The read failed for good (the netpoller shut down).
    dead: AtomicBool,
}

/// The self-pipe's read end, made once per process with its write end
/// (whose descriptor goes to `WRITE_FD` for the handler, never closed).
fn read_end() -> io::Result<&'static std::os::unix::net::UnixStream> {
    static READ: OnceLock<std::os::unix::net::UnixStream> = OnceLock::new();
    if let Some(r) = READ.get() {
        return Ok(r);
    }
    let (read, write) = std::os::unix::net::UnixStream::pair()?;
    read.set_nonblocking(true)?;
    write.set_nonblocking(true)?;
    let r = READ.get_or_init(|| read);
    // Relaxed: handlers are installed after this (under the table lock,
    // and sigaction orders our stores before any delivery).
    if WRITE_FD.load(Ordering::Relaxed) < 0 {
        WRITE_FD.store(write.into_raw_fd(), Ordering::Relaxed);
    }
    Ok(r)
}

/// Makes a pump in the current runtime's netpoller unless a live one
/// exists; returns the new one for the caller to arm once it has dropped
/// the table lock.
#[track_caller]
pub(super) fn ensure(t: &mut Table) -> io::Result<Option<PumpArm>> {
    if let Some(p) = &t.pump {
        if !p.0.dead.load(Ordering::Acquire) {
            return Ok(None);
        }
    }
    let read = read_end()?.try_clone()?;
    let io = PollIo::new(
        mio::net::UnixStream::from_std(read),
        mio::Interest::READABLE,
    )?;
    let inner = Arc::new(Inner {
        io,
        dead: AtomicBool::new(false),
    });
    t.pump = Some(Pump(inner.clone()));
    Ok(Some(PumpArm(inner)))
}

/// A new pump, to be armed (first poll) outside the table lock.
pub(super) struct PumpArm(Arc<Inner>);

impl PumpArm {
    /// The first poll: reads what is waiting and registers the waker.
    pub(super) fn arm(&self) {
        self.0.clone().pump();
    }
}

impl Inner {
    /// Reads and dispatches until the read would block (the waker is then
    /// registered) or fails for good.
    fn pump(self: Arc<Self>) {
        let waker = Waker::from(self.clone());
        let mut cx = Context::from_waker(&waker);
        let mut buf = [0u8; 64];
        loop {
            match self.io.poll_read(&mut cx, &mut buf) {
                Poll::Ready(Ok(n)) if n > 0 => {
                    for &b in &buf[..n] {
                        if let Some(sig) = Signal::from_number(i32::from(b)) {
                            dispatch(sig);
                        }
                    }
                }
                Poll::Ready(_) => {
                    // Release: pairs with the Acquire load in `ensure`.
                    self.dead.store(true, Ordering::Release);
                    return;
                }
                Poll::Pending => return,
            }
        }
    }
}

impl Wake for Inner {
    fn wake(self: Arc<Self>) {
        self.pump();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.clone().pump();
    }
}
