//! The listen backlog of the listeners gosched binds.
//!
//! mio (like std) listens with a backlog of 128. A server accepting on one
//! task while thousands of clients connect at once overflows that queue,
//! and each overflowed SYN is retried by the client a second or more later.
//! Go listens with the system's `somaxconn`; tokio with 1024. We take
//! 1024: `listen(2)` may be called again on a listening socket to change
//! the backlog, and the kernel caps the value at `somaxconn` anyway.
//! Listeners made by the user (`from_std`) keep the backlog they have.

use std::io;
use std::os::fd::AsRawFd;

/// Backlog passed to `listen(2)`.
const BACKLOG: libc::c_int = 1024;

/// Re-listens on `socket` with [`BACKLOG`].
pub(crate) fn widen(socket: &impl AsRawFd) -> io::Result<()> {
    // SAFETY: `socket` is an open, bound, listening socket owned by the
    // caller for the duration of the call; listen(2) only reads the fd.
    let rc = unsafe { libc::listen(socket.as_raw_fd(), BACKLOG) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
