//! `examples/graceful_shutdown.rs` as a user runs it: a request in flight
//! when SIGTERM arrives is still answered, the server then exits 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The example's binary, which `cargo test` builds beside the tests (a
/// run of this test alone, `--test graceful_shutdown`, does not rebuild
/// it: build it with `cargo build --example graceful_shutdown` first).
fn example_binary() -> std::path::PathBuf {
    let deps = std::env::current_exe().unwrap();
    let profile_dir = deps.parent().unwrap().parent().unwrap();
    profile_dir.join("examples").join("graceful_shutdown")
}

#[test]
fn sigterm_drains_the_request_in_flight_then_exits_zero() {
    let mut server = Command::new(example_binary())
        .arg("127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example is built by cargo test");
    // Hang guard: a server that never answers is killed after a minute,
    // which ends every read below with an error.
    let pid = server.id();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(60));
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    });
    let mut stdout = BufReader::new(server.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let mut client = TcpStream::connect(&addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    client.write_all(b"hello\n").unwrap();
    // Once the server has taken the connection, signal it (it works on
    // the request for 200 ms, or longer on a loaded machine).
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(line.starts_with("serving"), "{line}");
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut answer = String::new();
    client.read_to_string(&mut answer).unwrap();
    assert_eq!(answer, "HELLO\n", "the request in flight was answered");
    let out = server.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}\n{stderr}", out.status);
    assert!(stderr.contains("drained"), "{stderr}");
}
