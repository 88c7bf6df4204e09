//! Shutdown and drop: a runtime dropped while tasks wait on sockets and
//! timers returns (no hang) and frees every registration, timer and
//! descriptor; a reactor shut down or dropped while sockets are still
//! registered releases the wakers it held and leaks nothing, and a sleep
//! polled after the shutdown panics instead of waiting forever.
//!
//! One test function, because it counts the process's open descriptors
//! and tests in one binary run in parallel.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures::AsyncRead;
use gosched_executor::Driver;
use gosched_netpoll::net::{TcpListener, TcpStream, UnixStream};
use gosched_netpoll::{time, Reactor};

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

struct Counted(Arc<AtomicUsize>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

struct CountingWaker;
impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {}
}

fn runtime_drop_with_parked_tasks_frees_everything() {
    let before = open_fds();
    let dropped = Arc::new(AtomicUsize::new(0));
    let (rt, reactor) = common::runtime(2);
    // A listener nobody connects to, and a connection whose peer stays
    // silent: tasks waiting on them wait forever.
    let (listener, stream, silent_peer) = rt.block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let l2 = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l2.local_addr().unwrap();
        let (a, c) = futures::join!(l2.accept(), TcpStream::connect(addr.to_string()));
        (l, c.unwrap(), a.unwrap().0)
    });
    let g = Counted(dropped.clone());
    rt.spawn(async move {
        let _g = g;
        let _ = listener.accept().await;
    });
    let g = Counted(dropped.clone());
    rt.spawn(async move {
        let _g = g;
        let mut buf = [0u8; 8];
        let _ = futures::AsyncReadExt::read(&mut &stream, &mut buf).await;
    });
    let g = Counted(dropped.clone());
    rt.spawn(async move {
        let _g = g;
        time::sleep(Duration::from_secs(3600)).await;
    });
    std::thread::sleep(Duration::from_millis(50));
    assert!(reactor.num_registrations() >= 2);
    assert_eq!(reactor.num_timers(), 1);
    drop(rt); // must return: nobody may be left blocked in the reactor
    assert_eq!(dropped.load(Ordering::SeqCst), 3, "every task was dropped");
    assert_eq!(
        reactor.num_registrations(),
        1,
        "only the silent peer is left"
    );
    drop(silent_peer);
    assert_eq!(reactor.num_registrations(), 0);
    assert_eq!(reactor.num_timers(), 0);
    drop(reactor);
    assert_eq!(open_fds(), before, "epoll, eventfd and sockets closed");
}

fn reactor_shutdown_and_drop_with_sockets_still_registered() {
    let before = open_fds();
    let reactor = Reactor::new().unwrap();
    let _enter = reactor.enter();
    let (mut a, b) = UnixStream::pair().unwrap();
    let waker_state = Arc::new(CountingWaker);
    let waker = Waker::from(waker_state.clone());
    let mut cx = Context::from_waker(&waker);
    let mut buf = [0u8; 4];
    // Park a read: the registration now holds a clone of our waker.
    assert!(std::pin::Pin::new(&mut a)
        .poll_read(&mut cx, &mut buf)
        .is_pending());
    assert_eq!(
        Arc::strong_count(&waker_state),
        3,
        "ours, cx's, the reactor's"
    );
    let mut sleep = time::sleep(Duration::from_secs(3600));
    assert!(std::pin::Pin::new(&mut sleep).poll(&mut cx).is_pending());
    assert_eq!(Arc::strong_count(&waker_state), 4);

    reactor.shutdown();
    assert_eq!(
        Arc::strong_count(&waker_state),
        2,
        "shutdown released every stored waker"
    );
    match std::pin::Pin::new(&mut a).poll_read(&mut cx, &mut buf) {
        Poll::Ready(Err(e)) => assert!(e.to_string().contains("shut down"), "{e}"),
        other => panic!("a read after shutdown should fail, got {other:?}"),
    }
    // A timer can never fire after shutdown: polling it panics rather
    // than wait forever.
    let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        std::pin::Pin::new(&mut sleep).poll(&mut cx)
    }));
    assert!(polled.is_err(), "a sleep polled after shutdown panics");
    assert_eq!(
        Arc::strong_count(&waker_state),
        2,
        "no waker stored after shutdown"
    );
    drop(_enter);
    // Drop the handle first, sockets after: the sockets keep the reactor
    // alive until they go; then everything closes.
    drop(reactor);
    drop(sleep);
    drop((a, b));
    assert_eq!(open_fds(), before, "nothing leaked");
}

use std::future::Future;

#[test]
fn shutdown_and_drop_release_everything_without_hanging() {
    runtime_drop_with_parked_tasks_frees_everything();
    reactor_shutdown_and_drop_with_sockets_still_registered();
}
