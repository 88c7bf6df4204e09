//! See into a running service: Go's `net/http/pprof` pages for gosched,
//! Prometheus metrics, an on-demand trace and a live dashboard (feature
//! `debug-http`).
//!
//! | page | what |
//! |---|---|
//! | `/debug/gosched/` | an index linking the others |
//! | `goroutine?debug=1` | tasks grouped by spawn site, state and wait reason, with counts and the longest wait (Go's `goroutine?debug=1`) |
//! | `goroutine?debug=2` | every task, one line each |
//! | `schedtrace` (`?detail=1`) | Go's SCHED line now (with a line per P and per M) |
//! | `metrics` (`?format=json`) | counters in Prometheus' text format, or JSON (`&groups=N` adds the top task groups) |
//! | `trace?seconds=N` | records N seconds (default 1, at most 60) of the Chrome/Perfetto event trace and downloads it |
//! | `dashboard` | a live page: run queues, polls per second, steals and hand-offs per P, threads, the blocking pool, top task groups |
//!
//! [`serve`] runs the pages on an address of their own, as Go's
//! `go http.ListenAndServe("localhost:6060", nil)` does; [`router`] is the
//! service, to mount under a server that already runs (answer requests
//! whose path [`is_debug_path`] with it).
//!
//! # Cost
//!
//! Nothing runs until a page is asked for: no sampling thread, no history
//! on the server (the dashboard keeps its own, in the browser). Each
//! request reads the counters once; a goroutine page walks the task
//! registry, shard by shard; a trace makes the workers record for its
//! duration, keeping at most [`DEFAULT_TRACE_LIMIT`] bytes of events.
//!
//! ```no_run
//! gosched::run(async {
//!     gosched::spawn(async {
//!         if let Err(e) = gosched::debug::serve("127.0.0.1:6060").await {
//!             eprintln!("debug pages: {e}");
//!         }
//!     });
//!     // ... the service itself ...
//! # gosched::time::sleep(std::time::Duration::from_secs(1)).await;
//! });
//! ```
//!
//! Mounted beside an application's own routes:
//!
//! ```no_run
//! use std::convert::Infallible;
//! use gosched::http::body_util::Full;
//! use gosched::http::hyper::{service::{service_fn, Service}, Request, Response};
//! use gosched::http::Bytes;
//!
//! gosched::run(async {
//!     let debug = gosched::debug::router();
//!     let app = service_fn(move |req: Request<_>| {
//!         let debug = debug.clone();
//!         async move {
//!             if gosched::debug::is_debug_path(req.uri().path()) {
//!                 return debug.call(req).await;
//!             }
//!             Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"app\n"))))
//!         }
//!     });
//!     let listener = gosched::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
//!     gosched::http::serve(listener, app).await;
//! });
//! ```

mod dashboard;
mod metrics;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};

use crate::http::body_util::Full;
use crate::http::Bytes;
use crate::runtime::DEFAULT_TRACE_LIMIT;
use crate::Handle;

/// Where the pages live.
pub const PREFIX: &str = "/debug/gosched/";

/// The longest trace a request may ask for, so a typo cannot make the
/// workers record for an hour.
pub const MAX_TRACE_SECONDS: u64 = 60;

/// Whether `path` is one of the debug pages' (starts with [`PREFIX`], or
/// is the prefix without its slash).
///
/// ```
/// assert!(gosched::debug::is_debug_path("/debug/gosched/metrics"));
/// assert!(gosched::debug::is_debug_path("/debug/gosched"));
/// assert!(!gosched::debug::is_debug_path("/api/users"));
/// ```
pub fn is_debug_path(path: &str) -> bool {
    path.starts_with(PREFIX) || path == &PREFIX[..PREFIX.len() - 1]
}

/// Serves the debug pages on `addr` until the listener fails: spawn it
/// beside the service it watches. It observes the runtime it runs on.
///
/// ```no_run
/// gosched::run(async {
///     gosched::spawn(gosched::debug::serve("127.0.0.1:6060"));
///     gosched::time::sleep(std::time::Duration::from_secs(3600)).await;
/// });
/// ```
pub async fn serve<A: crate::net::ToSocketAddrs>(addr: A) -> io::Result<()> {
    let listener = crate::net::TcpListener::bind(addr).await?;
    crate::http::serve(listener, router()).await;
    Ok(())
}

/// The debug pages as a hyper service for the current runtime (the one
/// whose task calls it; see [`Handle::current`]), to serve with
/// [`http::serve`](crate::http::serve) or mount beside other routes.
///
/// # Panics
/// Outside any runtime; [`router_for`] takes a handle instead.
///
/// ```
/// use gosched::http::hyper::{service::Service, Request};
/// use gosched::http::body_util::BodyExt;
///
/// gosched::run(async {
///     let pages = gosched::debug::router();
///     let req = Request::get("/debug/gosched/schedtrace").body(()).unwrap();
///     let resp = pages.call(req).await.unwrap();
///     assert_eq!(resp.status(), 200);
///     let body = resp.into_body().collect().await.unwrap().to_bytes();
///     assert!(body.starts_with(b"SCHED "));
/// });
/// ```
#[track_caller]
pub fn router() -> DebugService {
    router_for(Handle::current())
}

/// The debug pages for `handle`'s runtime (see [`router`]).
///
/// ```
/// let rt = gosched::Runtime::new().unwrap();
/// let pages = gosched::debug::router_for(rt.handle().clone());
/// # drop(pages);
/// ```
pub fn router_for(handle: Handle) -> DebugService {
    DebugService { handle }
}

/// The debug pages as a hyper service (made by [`router`]); cheap to
/// clone. It answers `GET` and `HEAD` for the paths in the module docs and
/// 404 for every other path, whatever the request body type.
#[derive(Clone, Debug)]
pub struct DebugService {
    handle: Handle,
}

/// A response with the whole body in memory.
pub type DebugResponse = Response<Full<Bytes>>;

type BoxFuture = Pin<Box<dyn Future<Output = Result<DebugResponse, Infallible>> + Send>>;

impl<B> hyper::service::Service<Request<B>> for DebugService {
    type Response = DebugResponse;
    type Error = Infallible;
    type Future = BoxFuture;

    fn call(&self, req: Request<B>) -> Self::Future {
        let handle = self.handle.clone();
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let query = req.uri().query().unwrap_or("").to_string();
        drop(req);
        Box::pin(async move { Ok(route(&handle, &method, &path, &query).await) })
    }
}

/// The value of `key` in a query string, if present (no percent-decoding:
/// every parameter here is a number or a word).
fn param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

fn respond(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> DebugResponse {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

const TEXT: &str = "text/plain; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";
/// Prometheus' text exposition format, version 0.0.4.
const PROMETHEUS: &str = "text/plain; version=0.0.4; charset=utf-8";

fn bad_request(msg: String) -> DebugResponse {
    respond(StatusCode::BAD_REQUEST, TEXT, msg + "\n")
}

async fn route(handle: &Handle, method: &Method, path: &str, query: &str) -> DebugResponse {
    if method != Method::GET && method != Method::HEAD {
        let mut resp = respond(StatusCode::METHOD_NOT_ALLOWED, TEXT, "only GET and HEAD\n");
        resp.headers_mut()
            .insert(hyper::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    if !is_debug_path(path) {
        return respond(StatusCode::NOT_FOUND, TEXT, "not found\n");
    }
    let Some(page) = path.get(PREFIX.len()..) else {
        // The prefix without its slash: the index's relative links need it.
        let mut resp = respond(StatusCode::MOVED_PERMANENTLY, TEXT, "");
        resp.headers_mut()
            .insert(hyper::header::LOCATION, HeaderValue::from_static(PREFIX));
        return resp;
    };
    match page {
        "" => respond(StatusCode::OK, HTML, INDEX),
        "goroutine" => goroutine(handle, query),
        "schedtrace" => {
            let detail = param(query, "detail").is_some_and(|v| v != "0");
            respond(StatusCode::OK, TEXT, handle.schedtrace(detail))
        }
        "metrics" => metrics_page(handle, query),
        "trace" => trace(handle, query).await,
        "dashboard" => respond(StatusCode::OK, HTML, dashboard::HTML),
        _ => respond(
            StatusCode::NOT_FOUND,
            TEXT,
            format!("no page {page:?}: see {PREFIX}\n"),
        ),
    }
}

const INDEX: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>gosched debug</title></head>
<body style="font-family:sans-serif">
<h1>gosched</h1>
<ul>
<li><a href="goroutine?debug=1">goroutine?debug=1</a>: tasks grouped by spawn site, state and wait reason</li>
<li><a href="goroutine?debug=2">goroutine?debug=2</a>: every task</li>
<li><a href="schedtrace">schedtrace</a> (<a href="schedtrace?detail=1">detail=1</a>): the SCHED line now</li>
<li><a href="metrics">metrics</a> (<a href="metrics?format=json">format=json</a>): counters for Prometheus</li>
<li><a href="trace?seconds=1">trace?seconds=1</a>: record and download the event trace (open it in Perfetto)</li>
<li><a href="dashboard">dashboard</a>: live charts</li>
</ul>
</body></html>
"#;

fn goroutine(handle: &Handle, query: &str) -> DebugResponse {
    match param(query, "debug").unwrap_or("1") {
        "1" => respond(StatusCode::OK, TEXT, handle.dump_grouped().to_string()),
        "2" => {
            use std::fmt::Write as _;
            let mut tasks = handle.dump();
            tasks.sort_by_key(|t| t.id);
            let mut out = format!("tasks: total {}\n", tasks.len());
            for t in &tasks {
                let _ = write!(out, "task {} [{}", t.id, t.state);
                if t.state == crate::runtime::TaskState::Waiting {
                    let _ = write!(out, ", {}", t.wait_reason);
                    if let Some(d) = t.waiting_for {
                        let _ = write!(out, ", {} ms", d.as_millis());
                    }
                }
                let _ = writeln!(
                    out,
                    "] spawned at {}:{}:{}",
                    t.location.file(),
                    t.location.line(),
                    t.location.column()
                );
            }
            respond(StatusCode::OK, TEXT, out)
        }
        other => bad_request(format!("debug={other:?}: use debug=1 or debug=2")),
    }
}

fn metrics_page(handle: &Handle, query: &str) -> DebugResponse {
    let snapshot = metrics::Snapshot::read(handle);
    match param(query, "format").unwrap_or("prometheus") {
        "prometheus" | "text" => {
            respond(StatusCode::OK, PROMETHEUS, metrics::prometheus(&snapshot))
        }
        "json" => {
            let groups = match param(query, "groups").map(str::parse::<usize>) {
                None => None,
                Some(Ok(n)) => Some((handle.dump_grouped(), n)),
                Some(Err(_)) => return bad_request("groups must be a number".into()),
            };
            respond(StatusCode::OK, JSON, metrics::json(&snapshot, groups))
        }
        other => bad_request(format!("format={other:?}: use prometheus or json")),
    }
}

async fn trace(handle: &Handle, query: &str) -> DebugResponse {
    let seconds = match param(query, "seconds").map(str::parse::<u64>) {
        None => 1,
        Some(Ok(n)) if (1..=MAX_TRACE_SECONDS).contains(&n) => n,
        _ => {
            return bad_request(format!(
                "seconds must be a whole number from 1 to {MAX_TRACE_SECONDS}"
            ))
        }
    };
    let recording = match handle.start_trace(DEFAULT_TRACE_LIMIT) {
        Ok(r) => r,
        Err(busy) => return respond(StatusCode::CONFLICT, TEXT, format!("{busy}\n")),
    };
    crate::time::sleep(Duration::from_secs(seconds)).await;
    // `finish` waits (briefly) for busy workers to hand in their events:
    // not on a worker.
    let trace = match handle.spawn_blocking(move || recording.finish()).await {
        Ok(t) => t,
        Err(e) => {
            return respond(
                StatusCode::INTERNAL_SERVER_ERROR,
                TEXT,
                format!("trace failed: {e}\n"),
            )
        }
    };
    let mut resp = respond(StatusCode::OK, JSON, trace.into_json());
    resp.headers_mut().insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"gosched-trace.json\""),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_finds_keys_with_and_without_values() {
        assert_eq!(param("debug=2&x", "debug"), Some("2"));
        assert_eq!(param("debug=2&x", "x"), Some(""));
        assert_eq!(param("debug=2", "seconds"), None);
    }
}
