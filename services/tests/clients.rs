//! Real clients from outside gosched: curl against the axum example
//! (GET, POST JSON, 404), reqwest through `gosched::compat` against
//! `serve`, and a tokio-util codec over gosched sockets (`tokio-io`).

use std::future::IntoFuture;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use gosched::compat::CompatExt;
use gosched::http::body_util::Full;
use gosched::http::hyper::{body::Incoming, service::service_fn, Request, Response};
use gosched::http::Bytes;
use gosched::sync::context::Context;

/// `target/<profile>/examples/NAME`: cargo builds a package's examples
/// before its tests.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(path.exists(), "{} is not built", path.display());
    path
}

/// Runs curl with `args`; returns (HTTP status, body).
fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "20", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("curl is not installed (.ci/run installs it from Debian's packages)");
    assert!(out.status.success(), "curl {args:?} failed: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.trim().parse().unwrap(), body.to_string())
}

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn curl_against_the_axum_example_gets_posts_json_and_gets_404() {
    let mut child = Kill(
        Command::new(example("axum_app"))
            .arg("127.0.0.1:0")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let url = |path: &str| format!("http://{addr}{path}");

    assert_eq!(curl(&[&url("/health")]), (200, "ok".to_string()));
    let (code, body) = curl(&[
        "-H",
        "content-type: application/json",
        "-d",
        r#"{"name":"gopher"}"#,
        &url("/users"),
    ]);
    assert_eq!(code, 201);
    let user: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(user["name"], "gopher");
    let id = user["id"].as_u64().unwrap();

    let (code, body) = curl(&[&url(&format!("/users/{id}"))]);
    assert_eq!(code, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        user
    );

    let (code, body) = curl(&[&url("/users/999")]);
    assert_eq!(code, 404);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["error"],
        "no user 999"
    );
    assert_eq!(curl(&[&url("/no/such/route")]).0, 404);
    // A body that is not JSON: axum's extractor rejects it.
    let (code, _) = curl(&[
        "-H",
        "content-type: application/json",
        "-d",
        "{",
        &url("/users"),
    ]);
    assert_eq!(code, 400);

    // SIGINT shuts it down gracefully.
    // SAFETY: plain kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.0.id() as i32, libc::SIGINT) }, 0);
    let status = child.0.wait().unwrap();
    assert!(status.success(), "axum_app exited with {status}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut out, &mut rest).unwrap();
    assert!(rest.starts_with("stopped"), "{rest:?}");
}

#[test]
fn reqwest_through_compat_fetches_from_our_own_server() {
    gosched::run(async {
        let (listener, addr) = gosched_services::loopback_listener().await;
        let (ctx, stop) = Context::background().with_cancel();
        let server = gosched::spawn(
            gosched::http::serve(
                listener,
                service_fn(|req: Request<Incoming>| async move {
                    let body = format!("you asked for {}", req.uri().path());
                    Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(body))))
                }),
            )
            .graceful(&ctx)
            .into_future(),
        );
        let client = reqwest::Client::new();
        let fetches: Vec<_> = (0..20)
            .map(|i| {
                let client = client.clone();
                gosched::spawn(async move {
                    let resp = client
                        .get(format!("http://{addr}/item/{i}"))
                        .send()
                        .compat()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), 200);
                    let text = resp.text().compat().await.unwrap();
                    assert_eq!(text, format!("you asked for /item/{i}"));
                })
            })
            .collect();
        for f in fetches {
            f.await.unwrap();
        }
        // tokio's timers and tokio::spawn work inside the context too.
        let spawned = async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            tokio::spawn(async { 6 * 7 }).await.unwrap()
        };
        assert_eq!(spawned.compat().await, 42);
        stop.cancel();
        assert_eq!(server.await.unwrap().dropped, 0);
    });
}

#[test]
fn a_tokio_util_codec_runs_over_gosched_sockets() {
    use futures::{SinkExt, StreamExt};
    use tokio_util::codec::{Framed, LinesCodec};
    gosched::run(async {
        let listener = gosched::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let server = gosched::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let mut lines = Framed::new(stream, LinesCodec::new());
            while let Some(line) = lines.next().await {
                let line = line.unwrap();
                lines.send(line.to_uppercase()).await.unwrap();
            }
        });
        let stream = gosched::net::TcpStream::connect(addr).await.unwrap();
        let mut lines = Framed::new(stream, LinesCodec::new());
        for word in ["go", "sched", "tokio-io"] {
            lines.send(word).await.unwrap();
            assert_eq!(lines.next().await.unwrap().unwrap(), word.to_uppercase());
        }
        drop(lines);
        server.await.unwrap();
    });
}
