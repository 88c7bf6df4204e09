//! Running tokio-bound code from gosched tasks (the `tokio-compat`
//! feature).
//!
//! Crates built on tokio (reqwest, tokio-postgres, most database and
//! cloud clients) call `tokio::spawn`, `tokio::net` and `tokio::time`,
//! which panic unless a tokio runtime is *entered* on the calling thread.
//! [`tokio()`](tokio()) (or [`CompatExt::compat`]) wraps such a future so that every
//! poll of it, and its drop, happens with a tokio context entered.
//!
//! # What runs where
//!
//! - The wrapped future itself is polled by gosched, on whichever worker
//!   runs the task that awaits it, like any other future.
//! - The tokio context is one lazily started tokio runtime with a
//!   current-thread scheduler, driven by one background thread named
//!   `gosched-tokio`. That thread runs tokio's reactor (epoll for tokio's
//!   sockets) and its timers, plus any task the tokio-bound crate spawns
//!   with `tokio::spawn` (reqwest's connection tasks, for example). It is
//!   started on the first poll of a wrapped future, never before, and
//!   lives until the process exits.
//! - When a tokio socket or timer becomes ready, the tokio thread wakes
//!   the gosched task, which is then polled on a gosched worker.
//!
//! So tokio-bound I/O costs one extra thread for the whole process and a
//! cross-thread wake per readiness event; gosched's own sockets, timers
//! and tasks are untouched. Prefer gosched's types where both exist.
//!
//! ```no_run
//! use gosched::compat::CompatExt;
//! gosched::run(async {
//!     // Any future that needs a tokio context:
//!     let n = async { tokio::time::sleep(std::time::Duration::from_millis(1)).await; 7 }
//!         .compat()
//!         .await;
//!     assert_eq!(n, 7);
//! });
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

/// The process's tokio runtime, started on first use with its driver
/// thread.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("gosched-tokio")
            .build()
            .expect("gosched::compat: cannot build the tokio runtime");
        // Only `Runtime::block_on` drives a current-thread runtime's I/O
        // and timers (`Handle::block_on` does not), so the thread blocks
        // on the runtime itself, which it gets from this `OnceLock` once
        // the initialisation below has returned.
        std::thread::Builder::new()
            .name("gosched-tokio".into())
            .spawn(|| runtime().block_on(std::future::pending::<()>()))
            .expect("gosched::compat: cannot start the tokio thread");
        rt
    })
}

/// A handle to the tokio runtime behind [`tokio()`](tokio()), started if it was not
/// yet: for code that needs a `tokio::runtime::Handle` itself.
pub fn tokio_handle() -> tokio::runtime::Handle {
    runtime().handle().clone()
}

pin_project_lite::pin_project! {
    /// A future polled (and dropped) inside the tokio context; see the
    /// module docs.
    pub struct Compat<F> {
        #[pin]
        inner: Option<F>,
    }

    impl<F> PinnedDrop for Compat<F> {
        fn drop(this: Pin<&mut Self>) {
            // Tokio resources inside may want their context on drop.
            let mut this = this.project();
            if this.inner.is_some() {
                let _tokio = runtime().enter();
                this.inner.set(None);
            }
        }
    }
}

/// Wraps `fut` so that it runs inside the tokio context (see the module
/// docs).
///
/// ```no_run
/// gosched::run(async {
///     let listener = gosched::compat::tokio(tokio::net::TcpListener::bind("127.0.0.1:0"))
///         .await
///         .unwrap();
///     println!("a tokio listener on {}", listener.local_addr().unwrap());
/// });
/// ```
pub fn tokio<F: Future>(fut: F) -> Compat<F> {
    Compat { inner: Some(fut) }
}

/// `.compat()` on every future: [`tokio()`](tokio()) as a method.
pub trait CompatExt: Future + Sized {
    /// Runs `self` inside the tokio context.
    fn compat(self) -> Compat<Self> {
        tokio(self)
    }
}

impl<F: Future> CompatExt for F {}

impl<F: Future> Future for Compat<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _tokio = runtime().enter();
        self.project()
            .inner
            .as_pin_mut()
            .expect("gosched::compat::Compat polled after completion")
            .poll(cx)
    }
}
