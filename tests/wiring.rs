//! What only the root crate can test: the netpoller installed as every
//! runtime's driver, and the sub-crates working together under a runtime
//! (timers and sockets in blocking closures, sync locks inside
//! `block_on` inside `block_in_place`, Context deadlines).

use std::time::Duration;

use gosched::sync::context::Context;
use gosched::sync::Mutex;

fn has_netpoller(h: &gosched::Handle) -> bool {
    h.driver()
        .is_some_and(|d| d.as_any().is::<gosched_netpoll::Reactor>())
}

#[test]
fn every_runtime_gets_the_netpoller_as_its_driver() {
    let rt = gosched::Runtime::builder().procs(1).build().unwrap();
    assert!(has_netpoller(rt.handle()));
    assert!(has_netpoller(gosched::Runtime::new().unwrap().handle()));
    assert!(gosched::run(async {
        has_netpoller(&gosched::Handle::current())
    }));
    // And the global runtime behind `spawn` too.
    let global = gosched::block_on(gosched::spawn(async { gosched::Handle::current() })).unwrap();
    assert!(has_netpoller(&global));
    let from_blocking =
        gosched::block_on(gosched::spawn_blocking(gosched::Handle::current)).unwrap();
    assert!(has_netpoller(&from_blocking));
}

#[test]
fn timers_sockets_and_spawn_work_inside_spawn_blocking() {
    let rt = gosched::Runtime::builder().procs(2).build().unwrap();
    let handle = rt.handle().clone();
    let out = rt.block_on(rt.spawn_blocking(move || {
        // The closure runs in its runtime's context: this is a timer and a
        // socket of that runtime, driven by its netpoller.
        let h = gosched::Handle::current();
        assert!(h == handle, "a blocking closure entered another runtime");
        h.block_on(async {
            gosched::time::sleep(Duration::from_millis(1)).await;
            let listener = gosched::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap();
            let addr = listener.local_addr().unwrap();
            let client =
                gosched::spawn(
                    async move { gosched::net::TcpStream::connect(addr).await.map(|_| ()) },
                );
            let (_conn, _) = listener.accept().await.unwrap();
            client.await.unwrap().unwrap();
            7
        })
    }));
    assert_eq!(out.unwrap(), 7);
}

#[test]
fn block_on_inside_block_in_place_takes_a_gosched_mutex_and_sleeps() {
    let rt = gosched::Runtime::builder().procs(2).build().unwrap();
    let lock = std::sync::Arc::new(Mutex::new(0u32));
    let held = lock.clone();
    let out = rt.block_on(rt.spawn(async move {
        let guard = held.lock().await;
        // Another task waits for the lock we hold, then we release it from
        // inside block_on on a thread that has handed its P off.
        let waiter = {
            let held = held.clone();
            gosched::spawn(async move { *held.lock().await += 1 })
        };
        gosched::block_in_place(|| {
            gosched::Handle::current().block_on(async {
                gosched::time::sleep(Duration::from_millis(1)).await;
                drop(guard);
                waiter.await.unwrap();
                gosched::yield_now().await;
                let v = *held.lock().await;
                v
            })
        })
    }));
    assert_eq!(out.unwrap(), 1);
    assert_eq!(*lock.try_lock().unwrap(), 1);
}

#[test]
fn a_context_deadline_cancels_under_a_runtime() {
    let out = gosched::run(async {
        let (ctx, _cancel) = Context::background().with_timeout(Duration::from_millis(5));
        ctx.done().await;
        ctx.err()
    });
    assert!(
        out.is_some(),
        "the deadline passed, so the context reports why"
    );
}
