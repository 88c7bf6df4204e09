#!/usr/bin/env bash
# sysmon under a real server, by hand on a 2-core machine: serves
# examples/http_hello.rs (GOSCHED_PROCS=2) under `wrk -c CONNS` for SECONDS,
# once alone and once beside two `yes > /dev/null` CPU hogs, and reports
# from /proc: the most threads the server had (and their names), its peak
# resident memory, and sysmon's own CPU time and wake-ups (voluntary
# context switches) over the run, with wrk's requests per second and p99.
#
# Needs Debian's wrk. Usage: scripts/sysmon_check.sh [conns=1000] [seconds=9]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || {
  echo "sysmon_check: wrk is missing: apt-get install -y wrk" >&2
  exit 1
}
CONNS=${1:-1000}
SECS=${2:-9}
ADDR=127.0.0.1:18097
cargo build --release --example http_hello --features hyper
BIN=target/release/examples/http_hello
HZ=$(getconf CLK_TCK)

sysmon_stat() { # pid -> "cpu_ticks wakeups"
  for t in /proc/"$1"/task/*; do
    if [ "$(cat "$t/comm")" = gosched-sysmon ]; then
      echo "$(awk '{print $14 + $15}' "$t/stat") $(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status")"
    fi
  done
}

run() { # hogs
  local hogs=$1 pids=() maxt=0 maxr=0
  GOSCHED_PROCS=2 "$BIN" "$ADDR" >/dev/null 2>&1 &
  local server=$!
  sleep 0.5
  for _ in $(seq "$hogs"); do
    yes >/dev/null &
    pids+=($!)
  done
  read -r cpu0 wake0 < <(sysmon_stat "$server")
  wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "http://$ADDR/" >/tmp/sysmon_check_wrk.txt 2>&1 &
  local wrk=$!
  while kill -0 "$wrk" 2>/dev/null; do
    local t r
    t=$(awk '/^Threads/ {print $2}' /proc/"$server"/status)
    r=$(awk '/^VmRSS/ {print $2}' /proc/"$server"/status)
    [ "$t" -gt "$maxt" ] && maxt=$t
    [ "$r" -gt "$maxr" ] && maxr=$r
    sleep 0.2
  done
  read -r cpu1 wake1 < <(sysmon_stat "$server")
  local names
  names=$(for t in /proc/"$server"/task/*; do cat "$t/comm"; done | sort | uniq -c | awk '{printf "%s x%s, ", $2, $1}')
  for p in "${pids[@]}"; do kill "$p"; done
  kill -INT "$server"
  wait "$server" 2>/dev/null || true
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' /tmp/sysmon_check_wrk.txt)
  p99=$(awk '$1 == "99%" {print $2}' /tmp/sysmon_check_wrk.txt)
  echo "hogs=$hogs: threads max $maxt (at the end: ${names%, }); rss max $((maxr / 1024)) MiB;" \
    "sysmon $(((cpu1 - cpu0) * 1000 / HZ)) ms CPU, $(((wake1 - wake0) / SECS)) wake-ups/s;" \
    "$rps req/s, p99 $p99"
}

run 0
run 2
