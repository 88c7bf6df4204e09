"""Runs the servers of scripts/http_bench.sh under wrk and h2load and
prints medians; see that script for what and why."""

import os
import re
import statistics
import subprocess
import sys
import time

ROUNDS = int(sys.argv[1])
SECONDS = int(sys.argv[2])
GO_BIN = sys.argv[3] if len(sys.argv) > 3 else ""
TICK = os.sysconf("SC_CLK_TCK")

SERVERS = [
    ("gosched", ["target/release/examples/http_hello", "127.0.0.1:18080"], "127.0.0.1:18080"),
    ("tokio", ["target/release/examples/http_hello_tokio", "127.0.0.1:18081"], "127.0.0.1:18081"),
]
if GO_BIN:
    SERVERS.append(("go", [GO_BIN, "127.0.0.1:18082"], "127.0.0.1:18082"))

ENV = dict(os.environ, GOSCHED_PROCS="2", TOKIO_WORKERS="2", GOMAXPROCS="2")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15; after the ")" split they are
    # at indices 11 and 12.
    return (int(fields[11]) + int(fields[12])) / TICK


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def wrk(addr):
    out = subprocess.run(
        ["wrk", "-t1", "-c50", f"-d{SECONDS}s", "--latency", f"http://{addr}/"],
        capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = to_ms(re.search(r"99%\s+(\S+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    if errors:
        print(f"    wrk reported: {errors.group(0)}", file=sys.stderr)
    return requests, rps, p99


def h2load(addr):
    out = subprocess.run(
        ["h2load", "-n", "200000", "-c", "50", "-m", "10", f"http://{addr}/"],
        capture_output=True, text=True, check=True).stdout
    done = int(re.search(r"requests: \d+ total, \d+ started, (\d+) done", out).group(1))
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
    return done, rps, None


def measure(cmd, addr, load):
    server = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        server.stdout.readline()  # "listening on ..."
        time.sleep(0.2)
        before = cpu_seconds(server.pid)
        requests, rps, p99 = load(addr)
        cpu = cpu_seconds(server.pid) - before
        return {"rps": rps, "p99": p99, "per_cpu": requests / cpu if cpu else float("nan")}
    finally:
        server.terminate()
        server.wait()


def main():
    results = {}
    for rnd in range(ROUNDS):
        for name, cmd, addr in SERVERS:
            loads = [("http1", wrk)] + ([("h2", h2load)] if name != "go" else [])
            for proto, load in loads:
                r = measure(cmd, addr, load)
                results.setdefault((name, proto), []).append(r)
                p99 = f"{r['p99']:.2f} ms" if r["p99"] is not None else "-"
                print(f"round {rnd + 1} {name:8} {proto:5} {r['rps']:9.0f} rps  p99 {p99:>9}  "
                      f"{r['per_cpu']:9.0f} req/CPU-s", flush=True)
    print("\nmedians of", ROUNDS, "rounds")
    print(f"{'server':8} {'proto':5} {'rps':>9} {'p99':>9} {'req/CPU-s':>10} {'vs tokio (per CPU-s)':>22}")
    for (name, proto), rs in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rps = statistics.median(r["rps"] for r in rs)
        p99s = [r["p99"] for r in rs if r["p99"] is not None]
        p99 = f"{statistics.median(p99s):.2f} ms" if p99s else "-"
        per_cpu = statistics.median(r["per_cpu"] for r in rs)
        base = results.get(("tokio", proto))
        ratio = per_cpu / statistics.median(r["per_cpu"] for r in base) if base else float("nan")
        print(f"{name:8} {proto:5} {rps:9.0f} {p99:>9} {per_cpu:10.0f} {ratio:22.2f}")


main()
