//! Child processes on the netpoller: exit codes, piped streams, many
//! children at once, kill, and no zombie left behind.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use futures::{AsyncReadExt, AsyncWriteExt};
use gosched_netpoll::process::{Command, Stdio};

/// Whether `pid` is gone or a zombie is not left: /proc has no entry.
fn reaped(pid: u32) -> bool {
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Waits (bounded: a hang guard) until `pid` has been reaped.
fn wait_reaped(pid: u32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reaped(pid) {
        assert!(Instant::now() < deadline, "child {pid} still in /proc");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn exit_codes_and_output_are_reported() {
    let (rt, _reactor) = common::runtime(2);
    rt.block_on(rt.spawn(async {
        let ok = Command::new("true").status().await.unwrap();
        assert!(ok.success());
        let three = Command::new("sh")
            .args(["-c", "exit 3"])
            .status()
            .await
            .unwrap();
        assert_eq!(three.code(), Some(3));
        let out = Command::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 1"])
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        let missing = Command::new("/no/such/program").status().await.unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    }))
    .unwrap();
}

#[test]
fn sixteen_mib_round_trip_through_cat() {
    let (rt, _reactor) = common::runtime(2);
    let pid = rt
        .block_on(rt.spawn(async {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let pid = child.id();
            let data: Vec<u8> = (0..16 << 20).map(|i: u32| (i % 251) as u8).collect();
            let mut stdin = child.stdin.take().unwrap();
            let expected = data.clone();
            let writer = gosched_executor::spawn(async move {
                stdin.write_all(&data).await.unwrap();
                stdin.close().await.unwrap();
            });
            let mut got = Vec::new();
            child
                .stdout
                .take()
                .unwrap()
                .read_to_end(&mut got)
                .await
                .unwrap();
            writer.await.unwrap();
            assert!(child.wait().await.unwrap().success());
            assert_eq!(got.len(), expected.len());
            assert!(got == expected, "bytes changed on the way");
            pid
        }))
        .unwrap();
    wait_reaped(pid);
}

#[test]
fn two_hundred_children_at_once_all_exit_and_are_reaped() {
    let (rt, _reactor) = common::runtime(2);
    let pids = rt
        .block_on(rt.spawn(async {
            let children: Vec<_> = (0..200)
                .map(|i| {
                    Command::new("sh")
                        .args(["-c", &format!("exit {}", i % 7)])
                        .spawn()
                        .unwrap()
                })
                .collect();
            let waits: Vec<_> = children
                .into_iter()
                .enumerate()
                .map(|(i, mut c)| {
                    gosched_executor::spawn(async move {
                        let pid = c.id();
                        let s = c.wait().await.unwrap();
                        assert_eq!(s.code(), Some(i as i32 % 7));
                        pid
                    })
                })
                .collect();
            let mut pids = Vec::new();
            for w in waits {
                pids.push(w.await.unwrap());
            }
            pids
        }))
        .unwrap();
    for pid in pids {
        wait_reaped(pid);
    }
}

#[test]
fn killing_a_sleeping_child_ends_it_with_sigkill() {
    let (rt, _reactor) = common::runtime(1);
    let pid = rt
        .block_on(rt.spawn(async {
            let mut child = Command::new("sleep").arg("30").spawn().unwrap();
            assert!(child.try_wait().unwrap().is_none());
            child.kill().unwrap();
            let s = child.wait().await.unwrap();
            assert_eq!(s.signal(), Some(libc::SIGKILL));
            child.id()
        }))
        .unwrap();
    wait_reaped(pid);
}

#[test]
fn a_child_dropped_with_kill_on_drop_is_killed_and_reaped() {
    let (rt, _reactor) = common::runtime(1);
    let pid = rt
        .block_on(rt.spawn(async {
            let child = Command::new("sleep")
                .arg("30")
                .kill_on_drop(true)
                .spawn()
                .unwrap();
            child.id()
        }))
        .unwrap();
    // The reaper task on the runtime collects it: no zombie stays.
    wait_reaped(pid);
}

#[test]
fn without_a_pidfd_children_are_reaped_on_sigchld() {
    let (rt, _reactor) = common::runtime(2);
    let pids = rt
        .block_on(rt.spawn(async {
            let waits: Vec<_> = (0..20)
                .map(|i| {
                    let mut c = Command::new("sh")
                        .args(["-c", &format!("sleep 0.0{}; exit {}", i % 5, i % 3)])
                        .reap_with_sigchld(true)
                        .spawn()
                        .unwrap();
                    gosched_executor::spawn(async move {
                        let s = c.wait().await.unwrap();
                        assert_eq!(s.code(), Some(i % 3));
                        c.id()
                    })
                })
                .collect();
            let mut pids = Vec::new();
            for w in waits {
                pids.push(w.await.unwrap());
            }
            pids
        }))
        .unwrap();
    for pid in pids {
        wait_reaped(pid);
    }
}
