//! `/debug/gosched/dashboard`: one self-contained HTML page (inline CSS,
//! JavaScript and SVG; no external assets, so it works offline) that reads
//! `metrics?format=json&groups=10` every second and draws the last five
//! minutes: run-queue length, polls, steals and hand-offs per second for
//! each P, threads and the blocking pool, and the top task groups by count
//! and by longest wait.
//!
//! The history lives in the browser: the server keeps none and samples
//! nothing while nobody looks.
//!
//! For tools (and the browser test), the page marks what it did in the
//! DOM: `#status` carries `data-state` (`waiting`, `ok`, `error`) and
//! `data-samples`; each chart's `<svg>` carries `data-rendered="true"` once
//! a series has a point, and each series is a `polyline.series` with
//! `data-name`, `data-points` and `data-last`; a script error sets
//! `data-script-error` on `<html>` and shows `#script-error`.

/// The page.
pub(crate) const HTML: &str = include_str!("dashboard.html");
