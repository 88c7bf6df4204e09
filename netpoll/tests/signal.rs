//! Signals, each scenario in a child process that signals itself (a
//! signal is process-wide, and the last scenario ends its process).

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::time::Duration;

use gosched_netpoll::signal::{self, Signal};
use gosched_sync::context::Context;

const SCENARIO: &str = "GOSCHED_SIGNAL_SCENARIO";

/// In the parent: runs this test binary again, only `test`, with the
/// scenario set; returns the child's exit status and stdout. In the
/// child: `None` (run the scenario).
fn in_child(test: &str) -> Option<(std::process::ExitStatus, String)> {
    if std::env::var_os(SCENARIO).is_some() {
        return None;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(SCENARIO, test)
        .output()
        .unwrap();
    Some((
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

fn raise(sig: i32) {
    // SAFETY: raising a valid signal in this (child) process.
    unsafe { libc::raise(sig) };
}

#[test]
fn each_signal_reaches_every_listener_once() {
    if let Some((status, out)) = in_child("each_signal_reaches_every_listener_once") {
        assert!(status.success(), "{status:?}\n{out}");
        assert!(out.contains("listeners ok"), "{out}");
        return;
    }
    let (rt, _reactor) = common::runtime(2);
    rt.block_on(rt.spawn(async {
        let a = signal::notify(&[Signal::User1]).unwrap();
        let b = signal::notify(&[Signal::User1, Signal::User2]).unwrap();
        raise(libc::SIGUSR1);
        assert_eq!(a.recv().await, Some(Signal::User1));
        assert_eq!(b.recv().await, Some(Signal::User1));
        raise(libc::SIGUSR2);
        assert_eq!(b.recv().await, Some(Signal::User2));
        // Once each: nothing more arrives.
        gosched_netpoll::time::sleep(Duration::from_millis(50)).await;
        assert!(a.try_recv().is_err() && b.try_recv().is_err());
    }))
    .unwrap();
    println!("listeners ok");
}

#[test]
fn ctrl_c_returns_on_sigint() {
    if let Some((status, out)) = in_child("ctrl_c_returns_on_sigint") {
        assert!(status.success(), "{status:?}\n{out}");
        assert!(out.contains("ctrl-c ok"), "{out}");
        return;
    }
    let (rt, _reactor) = common::runtime(1);
    rt.block_on(rt.spawn(async {
        let waiter = gosched_executor::spawn(signal::ctrl_c());
        // Once the waiter listens (its handler is installed), one SIGINT.
        while !signal_is_handled(libc::SIGINT) {
            gosched_netpoll::time::sleep(Duration::from_millis(1)).await;
        }
        raise(libc::SIGINT);
        waiter.await.unwrap().unwrap();
    }))
    .unwrap();
    println!("ctrl-c ok");
}

/// Whether `sig`'s action is not the default one (a listener exists).
fn signal_is_handled(sig: i32) -> bool {
    // SAFETY: a zeroed sigaction is a valid out-parameter; only reading.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: querying the current action of a valid signal.
    unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) };
    old.sa_sigaction != libc::SIG_DFL
}

#[test]
fn notify_context_is_cancelled_and_a_second_sigint_ends_the_process() {
    if let Some((status, out)) =
        in_child("notify_context_is_cancelled_and_a_second_sigint_ends_the_process")
    {
        assert!(out.contains("context cancelled"), "{out}");
        assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}\n{out}");
        return;
    }
    let (rt, _reactor) = common::runtime(1);
    rt.block_on(rt.spawn(async {
        let (ctx, _stop) =
            signal::notify_context(&Context::background(), &[Signal::Interrupt]).unwrap();
        raise(libc::SIGINT);
        ctx.done().await;
        assert!(ctx.err().is_some());
        println!("context cancelled");
        // The listener is gone: the default action ends the process.
        raise(libc::SIGINT);
        gosched_netpoll::time::sleep(Duration::from_secs(30)).await;
    }))
    .unwrap();
    println!("still alive");
}

#[test]
fn a_signal_nobody_listens_to_any_more_gets_its_default_action() {
    if let Some((status, out)) =
        in_child("a_signal_nobody_listens_to_any_more_gets_its_default_action")
    {
        assert!(out.contains("dropped"), "{out}");
        assert_eq!(status.signal(), Some(libc::SIGUSR1), "{status:?}\n{out}");
        return;
    }
    let (rt, _reactor) = common::runtime(1);
    rt.block_on(rt.spawn(async {
        let rx = signal::notify(&[Signal::User1]).unwrap();
        drop(rx);
        println!("dropped");
        raise(libc::SIGUSR1);
        gosched_netpoll::time::sleep(Duration::from_secs(30)).await;
    }))
    .unwrap();
    println!("still alive");
}
