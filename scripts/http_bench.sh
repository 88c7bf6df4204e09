#!/usr/bin/env bash
# HTTP benchmark, by hand on a quiet 2-core machine: wrk (HTTP/1.1) and
# h2load (h2c) against examples/http_hello.rs on gosched, the same hyper
# service on tokio (benches/examples/http_hello_tokio.rs) and, if `go` is
# installed, Go's net/http (benches/go/http_hello.go, HTTP/1.1 only); 2
# workers each, three alternating rounds. Reports requests per second,
# p99 latency and requests per server CPU-second (the server's user+sys
# time from /proc/PID/stat over the run).
#
# Needs Debian's wrk and nghttp2-client (h2load):
#   apt-get install -y wrk nghttp2-client      # and golang-go for the Go peer
#
# Usage: scripts/http_bench.sh [rounds=3] [seconds=10]
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in wrk h2load; do
  command -v "$tool" >/dev/null || {
    echo "http_bench: $tool is missing: apt-get install -y wrk nghttp2-client" >&2
    exit 1
  }
done
cargo build --release --example http_hello --features hyper
cargo build --release -p gosched-benches --example http_hello_tokio
GO_BIN=""
if command -v go >/dev/null; then
  GO_BIN=target/release/http_hello_go
  (cd benches/go && GO111MODULE=off go build -o ../../$GO_BIN http_hello.go)
fi
exec python3 scripts/http_bench.py "${1:-3}" "${2:-10}" "$GO_BIN"
