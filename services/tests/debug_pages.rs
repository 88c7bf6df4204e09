//! `gosched::debug` over real HTTP: each page fetched with a hyper client
//! on loopback, the metrics parsed by a Prometheus parser, the trace
//! parsed as JSON, and the dashboard loaded in headless Chromium, which
//! must have drawn its charts from live data.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use gosched::http::hyper::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use gosched::runtime::TaskState;
use gosched::sync::chan;

/// Runs `f` on a fresh 2-P runtime, failing after 120 s instead of hanging.
fn run<F: std::future::Future<Output = ()> + Send + 'static>(f: F) {
    run_within(Duration::from_secs(120), f);
}

/// Serves the debug pages of the current runtime on a loopback port.
async fn start() -> SocketAddr {
    let (listener, addr) = gosched_services::loopback_listener().await;
    drop(gosched::spawn(
        gosched::http::serve(listener, gosched::debug::router()).into_future(),
    ));
    addr
}

/// GETs `path`; returns status, content type and body.
async fn fetch(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let mut client = h1(addr).await;
    let resp = client.send_request(get(path)).await.unwrap();
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, text(resp).await)
}

/// Spawns `n` tasks that each yield `yields` times, and waits for them.
async fn load(n: usize, yields: usize) {
    let hs: Vec<_> = (0..n)
        .map(|_| {
            gosched::spawn(async move {
                for _ in 0..yields {
                    gosched::yield_now().await;
                }
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
}

/// Starts `n` tasks that wait forever on a channel nobody sends to (the
/// sender is returned, so it stays open); all share one spawn site, which
/// is returned as `file:line:col`.
#[track_caller]
fn leak(n: usize) -> (chan::Sender<()>, String) {
    let at = std::panic::Location::caller();
    let (tx, rx) = chan::bounded::<()>(0);
    for _ in 0..n {
        let rx = rx.clone();
        gosched::spawn(async move {
            let _ = rx.recv().await;
        });
    }
    (tx, format!("{}:{}:{}", at.file(), at.line(), at.column()))
}

/// Waits until no task of `site` is anything but waiting.
async fn until_parked(site: &str) {
    let handle = gosched::Handle::current();
    loop {
        let busy = handle.dump().into_iter().any(|t| {
            format!(
                "{}:{}:{}",
                t.location.file(),
                t.location.line(),
                t.location.column()
            ) == site
                && t.state != TaskState::Waiting
        });
        if !busy {
            return;
        }
        gosched::time::sleep(Duration::from_millis(1)).await;
    }
}

fn scrape(body: &str) -> prometheus_parse::Scrape {
    let lines = body.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).unwrap();
    let sample_lines = body
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    assert_eq!(
        scrape.samples.len(),
        sample_lines,
        "the parser skipped a line it could not read:\n{body}"
    );
    scrape
}

/// The value of `metric` (with label `p` = `p`, if given).
fn value(s: &prometheus_parse::Scrape, metric: &str, p: Option<&str>) -> f64 {
    use prometheus_parse::Value;
    let sample = s
        .samples
        .iter()
        .find(|x| x.metric == metric && p.is_none_or(|p| x.labels.get("p") == Some(p)))
        .unwrap_or_else(|| panic!("no sample {metric} p={p:?}"));
    match sample.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
        ref other => panic!("{metric}: unexpected {other:?}"),
    }
}

fn sum(s: &prometheus_parse::Scrape, metric: &str) -> f64 {
    (0..2).map(|p| value(s, metric, Some(&p.to_string()))).sum()
}

const COUNTERS: &[&str] = &[
    "gosched_tasks_spawned_total",
    "gosched_tasks_completed_total",
    "gosched_netpoll_waits_total",
];
const PER_P_COUNTERS: &[&str] = &[
    "gosched_p_polls_total",
    "gosched_p_steals_total",
    "gosched_p_stolen_tasks_total",
    "gosched_p_global_pulls_total",
    "gosched_p_parks_total",
    "gosched_p_forced_yields_total",
    "gosched_p_handoffs_total",
];
const GAUGES: &[&str] = &[
    "gosched_uptime_seconds",
    "gosched_procs",
    "gosched_tasks",
    "gosched_global_queue",
    "gosched_threads",
    "gosched_idle_procs",
    "gosched_spinning_threads",
    "gosched_blocking_threads",
    "gosched_blocking_busy",
    "gosched_blocking_queue",
    "gosched_timers_pending",
    "gosched_netpoll_registrations",
];

#[test]
fn index_links_every_page_and_unknown_pages_are_404_and_bad_parameters_400() {
    run(async {
        let addr = start().await;
        let (status, ctype, body) = fetch(addr, "/debug/gosched/").await;
        assert_eq!((status, ctype.as_str()), (200, "text/html; charset=utf-8"));
        for page in [
            "goroutine?debug=1",
            "goroutine?debug=2",
            "schedtrace",
            "metrics",
            "metrics?format=json",
            "trace?seconds=1",
            "dashboard",
        ] {
            assert!(
                body.contains(&format!("href=\"{page}\"")),
                "no link to {page}"
            );
        }
        let mut client = h1(addr).await;
        let moved = client.send_request(get("/debug/gosched")).await.unwrap();
        assert_eq!(moved.status(), 301);
        assert_eq!(moved.headers()["location"], "/debug/gosched/");
        assert_eq!(fetch(addr, "/debug/gosched/nope").await.0, 404);
        assert_eq!(fetch(addr, "/elsewhere").await.0, 404);
        assert_eq!(fetch(addr, "/debug/gosched/goroutine?debug=7").await.0, 400);
        assert_eq!(fetch(addr, "/debug/gosched/trace?seconds=0").await.0, 400);
        assert_eq!(
            fetch(addr, "/debug/gosched/metrics?format=xml").await.0,
            400
        );
    });
}

#[test]
fn metrics_parse_as_prometheus_and_the_counters_move_under_load() {
    run(async {
        let addr = start().await;
        let (status, ctype, body) = fetch(addr, "/debug/gosched/metrics").await;
        assert_eq!(status, 200);
        assert_eq!(ctype, "text/plain; version=0.0.4; charset=utf-8");
        let before = scrape(&body);
        use prometheus_parse::Value;
        for name in COUNTERS.iter().chain(PER_P_COUNTERS).chain(GAUGES) {
            assert!(before.docs.contains_key(*name), "no HELP for {name}");
        }
        for name in COUNTERS {
            let s = before.samples.iter().find(|s| s.metric == *name).unwrap();
            assert!(matches!(s.value, Value::Counter(_)), "{name} is a counter");
        }
        for name in PER_P_COUNTERS {
            let ps: BTreeSet<&str> = before
                .samples
                .iter()
                .filter(|s| s.metric == *name)
                .inspect(|s| assert!(matches!(s.value, Value::Counter(_))))
                .filter_map(|s| s.labels.get("p"))
                .collect();
            assert_eq!(ps, BTreeSet::from(["0", "1"]), "{name}: one sample per P");
        }
        for name in GAUGES {
            let s = before.samples.iter().find(|s| s.metric == *name).unwrap();
            assert!(matches!(s.value, Value::Gauge(_)), "{name} is a gauge");
        }
        assert_eq!(value(&before, "gosched_procs", None), 2.0);

        load(2000, 3).await;
        let after = scrape(&fetch(addr, "/debug/gosched/metrics").await.2);
        let moved = |name: &str| value(&after, name, None) - value(&before, name, None);
        assert!(moved("gosched_tasks_spawned_total") >= 2000.0);
        assert!(moved("gosched_tasks_completed_total") >= 2000.0);
        assert!(
            sum(&after, "gosched_p_polls_total") - sum(&before, "gosched_p_polls_total")
                >= 4.0 * 2000.0,
            "each task was polled at least four times"
        );
        assert!(moved("gosched_uptime_seconds") > 0.0);
    });
}

#[test]
fn metrics_json_has_the_same_counters_and_the_top_groups() {
    run(async {
        let addr = start().await;
        let (_tx, site) = leak(30);
        until_parked(&site).await;
        let (status, ctype, body) =
            fetch(addr, "/debug/gosched/metrics?format=json&groups=5").await;
        assert_eq!((status, ctype.as_str()), (200, "application/json"));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["procs"], 2);
        assert_eq!(v["per_p"].as_array().unwrap().len(), 2);
        for key in [
            "run_queue",
            "polls",
            "steals",
            "global_pulls",
            "parks",
            "forced_yields",
            "handoffs",
        ] {
            assert!(v["per_p"][1][key].is_u64(), "per_p.{key}");
        }
        for key in [
            "tasks",
            "tasks_spawned",
            "tasks_completed",
            "threads",
            "blocking_threads",
            "blocking_queue",
            "timers_pending",
            "netpoll_waits",
        ] {
            assert!(v[key].is_u64(), "{key}");
        }
        let top = &v["groups"]["by_count"][0];
        assert_eq!(top["count"], 30);
        assert_eq!(top["location"], site.as_str());
        assert_eq!(top["wait_reason"], "chan receive");
        assert!(v["groups"]["by_wait"].as_array().unwrap().len() <= 5);
        let plain: serde_json::Value =
            serde_json::from_str(&fetch(addr, "/debug/gosched/metrics?format=json").await.2)
                .unwrap();
        assert!(plain.get("groups").is_none(), "groups only when asked");
    });
}

#[test]
fn goroutine_debug1_finds_the_leaked_group_and_debug2_lists_every_task() {
    run(async {
        let addr = start().await;
        let (_tx, site) = leak(100);
        until_parked(&site).await;
        let (status, ctype, body) = fetch(addr, "/debug/gosched/goroutine?debug=1").await;
        assert_eq!((status, ctype.as_str()), (200, "text/plain; charset=utf-8"));
        assert!(body.starts_with("tasks: total "), "{body}");
        let line = body
            .lines()
            .find(|l| l.contains(&site))
            .unwrap_or_else(|| panic!("no group for {site} in:\n{body}"));
        assert!(
            line.starts_with(&format!("100 @ {site} [waiting, chan receive")),
            "{line}"
        );

        let (status, _, all) = fetch(addr, "/debug/gosched/goroutine?debug=2").await;
        assert_eq!(status, 200);
        let total: usize = all
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("tasks: total "))
            .unwrap()
            .parse()
            .unwrap();
        let tasks: Vec<&str> = all.lines().skip(1).collect();
        assert_eq!(tasks.len(), total);
        let leaked = tasks.iter().filter(|l| l.ends_with(&site)).count();
        assert_eq!(leaked, 100);
        assert!(tasks
            .iter()
            .filter(|l| l.ends_with(&site))
            .all(|l| l.contains("[waiting, chan receive")));
    });
}

#[test]
fn schedtrace_is_go_s_sched_line_and_detail_adds_ps_and_ms() {
    run(async {
        let addr = start().await;
        let (status, ctype, line) = fetch(addr, "/debug/gosched/schedtrace").await;
        assert_eq!((status, ctype.as_str()), (200, "text/plain; charset=utf-8"));
        assert!(line.starts_with("SCHED "), "{line}");
        assert!(line.contains("gomaxprocs=2"), "{line}");
        assert_eq!(line.lines().count(), 1);
        let (_, _, detail) = fetch(addr, "/debug/gosched/schedtrace?detail=1").await;
        assert!(
            detail.contains("\n  P0: ") && detail.contains("\n  P1: "),
            "{detail}"
        );
        assert!(detail.contains("\n  M0: "), "{detail}");
    });
}

#[test]
fn trace_downloads_valid_json_with_events_from_every_p() {
    run(async {
        let addr = start().await;
        // Keep both Ps busy while the trace records.
        let stop = Arc::new(AtomicBool::new(false));
        let busy: Vec<_> = (0..8)
            .map(|_| {
                let stop = stop.clone();
                gosched::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        load(50, 2).await;
                    }
                })
            })
            .collect();
        let mut client = h1(addr).await;
        let resp = client
            .send_request(get("/debug/gosched/trace?seconds=1"))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()[CONTENT_TYPE], "application/json");
        assert!(resp.headers()[CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment"));
        let body = text(resp).await;
        stop.store(true, Ordering::Relaxed);
        for h in busy {
            h.await.unwrap();
        }
        let v: serde_json::Value = serde_json::from_str(&body).expect("the trace is JSON");
        let events = v["traceEvents"].as_array().unwrap();
        let polls: HashMap<u64, usize> = events
            .iter()
            .filter(|e| e["name"] == "poll" && e["ph"] == "X")
            .fold(HashMap::new(), |mut m, e| {
                *m.entry(e["tid"].as_u64().unwrap()).or_default() += 1;
                m
            });
        assert!(
            polls.get(&0).is_some_and(|&n| n > 0),
            "no polls on P0: {polls:?}"
        );
        assert!(
            polls.get(&1).is_some_and(|&n| n > 0),
            "no polls on P1: {polls:?}"
        );
        assert_eq!(v["otherData"]["dropped_events"], 0);
    });
}

#[test]
fn a_second_trace_while_one_records_is_a_conflict() {
    run(async {
        let addr = start().await;
        let recording = gosched::Handle::current()
            .start_trace(gosched::runtime::DEFAULT_TRACE_LIMIT)
            .unwrap();
        let (status, _, body) = fetch(addr, "/debug/gosched/trace?seconds=1").await;
        assert_eq!(status, 409, "{body}");
        drop(recording);
    });
}

#[test]
fn debug_serve_answers_on_the_address_it_was_given() {
    run(async {
        // A free port: bind, note it, let it go.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        drop(gosched::spawn(gosched::debug::serve(addr)));
        let stream = loop {
            match gosched::net::TcpStream::connect(addr).await {
                Ok(s) => break s,
                Err(_) => gosched::time::sleep(Duration::from_millis(5)).await,
            }
        };
        drop(stream);
        let (status, _, body) = fetch(addr, "/debug/gosched/").await;
        assert_eq!(status, 200);
        assert!(body.contains("dashboard"));
    });
}

/// Where Debian's package puts Chromium; `.ci/run` installs it.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Loads `url` in headless Chromium with `budget_ms` of virtual time and
/// returns the DOM it ended with.
fn chromium_dom(url: &str, budget_ms: u64) -> String {
    assert!(
        std::path::Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: the dashboard test needs Debian's chromium \
         (apt-get install -y chromium; .ci/run installs it)"
    );
    let profile = std::env::temp_dir().join(format!(
        "gosched-chromium-{}-{}",
        std::process::id(),
        budget_ms
    ));
    let _ = std::fs::remove_dir_all(&profile);
    std::fs::create_dir_all(&profile).unwrap();
    let mut child = std::process::Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--virtual-time-budget={budget_ms}"))
        .arg("--dump-dom")
        .arg(url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).unwrap();
        s
    });
    // A hung browser fails the test instead of the whole run.
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let dom = reader.join().unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    assert!(status.success(), "chromium failed: {status}");
    dom
}

/// The attributes of the first element whose start tag contains `marker`.
fn tag_with<'a>(dom: &'a str, marker: &str) -> &'a str {
    let at = dom
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in the DOM:\n{dom}"));
    let start = if marker.starts_with('<') {
        at
    } else {
        dom[..at].rfind('<').unwrap()
    };
    let end = at + dom[at..].find('>').unwrap();
    &dom[start..=end]
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    Some(&tag[at..at + tag[at..].find('"')?])
}

#[test]
fn dashboard_renders_charts_from_live_data_in_headless_chromium() {
    run(async {
        let addr = start().await;
        let (_tx, site) = leak(20);
        until_parked(&site).await;
        let (status, ctype, html) = fetch(addr, "/debug/gosched/dashboard").await;
        assert_eq!((status, ctype.as_str()), (200, "text/html; charset=utf-8"));
        // Self-contained: no scripts, styles or images from anywhere else.
        assert!(!html.contains(" src="), "an external asset");
        assert!(!html.contains("<link"), "an external stylesheet");
        assert!(
            html.replace("http://www.w3.org/2000/svg", "")
                .find("http")
                .is_none(),
            "a URL to elsewhere"
        );

        // Load while the browser watches, so the rates have data.
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let busy = gosched::spawn(async move {
            while !stopped.load(Ordering::Relaxed) {
                load(100, 2).await;
                gosched::time::sleep(Duration::from_millis(5)).await;
            }
        });
        let url = format!("http://{addr}/debug/gosched/dashboard");
        let dom = gosched::spawn_blocking(move || chromium_dom(&url, 6000))
            .await
            .unwrap();
        stop.store(true, Ordering::Relaxed);
        busy.await.unwrap();

        let root = tag_with(&dom, "<html");
        assert!(
            attr(root, "data-script-error").is_none(),
            "the page reported a script error:\n{dom}"
        );
        let error_box = tag_with(&dom, "id=\"script-error\"");
        assert!(error_box.contains(" hidden"), "{error_box}");
        let status = tag_with(&dom, "id=\"status\"");
        assert_eq!(attr(status, "data-state"), Some("ok"), "{status}");
        let samples: usize = attr(status, "data-samples").unwrap().parse().unwrap();
        assert!(samples >= 3, "only {samples} samples: {status}");
        for (chart, series) in [
            ("chart-runq", 2),
            ("chart-polls", 2),
            ("chart-steals", 2),
            ("chart-handoffs", 2),
            ("chart-threads", 4),
        ] {
            let svg = tag_with(&dom, &format!("id=\"{chart}\""));
            assert_eq!(attr(svg, "data-rendered"), Some("true"), "{svg}");
            assert_eq!(
                attr(svg, "data-series"),
                Some(&*series.to_string()),
                "{svg}"
            );
            let body_start = dom.find(svg).unwrap() + svg.len();
            let body = &dom[body_start..body_start + dom[body_start..].find("</svg>").unwrap()];
            let lines: Vec<&str> = body
                .match_indices("<polyline")
                .map(|(i, _)| &body[i..i + body[i..].find('>').unwrap()])
                .collect();
            assert_eq!(lines.len(), series, "{chart}: {body}");
            if chart == "chart-polls" {
                // Rates need two samples; some P polled between the last two.
                let last: f64 = lines
                    .iter()
                    .map(|l| attr(l, "data-last").unwrap().parse::<f64>().unwrap_or(0.0))
                    .sum();
                assert!(last > 0.0, "no polls per second drawn: {body}");
            }
            for line in lines {
                let points: usize = attr(line, "data-points").unwrap().parse().unwrap();
                assert!(points >= 1, "{chart}: an empty series: {line}");
                let coords = attr(line, "points").unwrap();
                assert_eq!(coords.split(' ').count(), points, "{line}");
            }
        }
        // The leak is at the top of the groups table.
        let table = tag_with(&dom, "id=\"groups-count\"");
        let rows: usize = attr(table, "data-rows").unwrap().parse().unwrap();
        assert!(rows >= 1);
        assert!(dom.contains(&site), "the leaked group is listed");
    });
}
