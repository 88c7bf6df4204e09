#!/usr/bin/env python3
"""What metrics and dump bookkeeping cost the executor's hot paths.

Usage: python3 scripts/observability_cost.py [rounds] [workload regex]
       (defaults: 5 rounds, every workload)
       python3 scripts/observability_cost.py --callgrind [workload regex]

Builds the executor bench twice, as shipped and with
`RUSTFLAGS="--cfg gosched_observe_off"` (per-P metric counters other than
polls, the forced-yield count, wait reasons and park times, and spawn-site
interning compiled out), in separate target directories. Then runs the
gosched half of `benches/executor.rs` alternately with each build, `rounds`
times, so that drift in a noisy machine hits both sides alike, and prints
per workload, for each build, the median and the minimum over rounds of
criterion's median, and the on/off ratios of both. On a shared VM a run
can be twice as slow as the next; the minimum is the steadier figure.
The target: every ratio at most 1.03.

With --callgrind it counts instructions instead (valgrind's callgrind,
which does not move with machine noise): each workload runs on one P
with the bench binary's fixed-count mode, at 5 and at 15 iterations, and
the difference over 10 is the cost of one iteration, runtime start-up
excluded. Expect these to repeat within about 0.1%.

Run it on a quiet machine: nothing else building.
"""
import json
import os
import re
import statistics
import subprocess
import sys

BENCH = "executor"
BUILDS = {
    "on": {},
    "off": {
        "RUSTFLAGS": "--cfg gosched_observe_off",
        "CARGO_TARGET_DIR": "target/observe_off",
    },
}


def run(build, extra):
    env = dict(os.environ, **BUILDS[build])
    cmd = ["cargo", "bench", "-p", "gosched-benches", "--bench", BENCH] + extra
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL if extra[:1] == ["--no-run"] else None)


def medians(build):
    root = os.path.join(BUILDS[build].get("CARGO_TARGET_DIR", "target"), "criterion")
    out = {}
    for group in sorted(os.listdir(root)):
        est = os.path.join(root, group, "gosched", "new", "estimates.json")
        if os.path.exists(est):
            with open(est) as f:
                out[group] = json.load(f)["median"]["point_estimate"]
    return out


# spawn_many_remote_busy is left out of the instruction counts: its busy
# tasks yield for as long as the spawning thread takes, so its count
# measures valgrind's thread scheduling, not the runtime.
WORKLOADS = [
    "spawn_many_local",
    "spawn_many_remote_idle",
    "yield_many",
    "ping_pong",
    "chained_spawn",
]


def bench_binary(build):
    env = dict(os.environ, **BUILDS[build])
    cmd = ["cargo", "bench", "-p", "gosched-benches", "--bench", BENCH, "--no-run", "--message-format=json"]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg.get("executable") and msg["target"]["name"] == BENCH:
            return msg["executable"]
    raise SystemExit(f"no executable for bench {BENCH}")


def instructions(binary, workload, iters):
    env = dict(os.environ, GOSCHED_BENCH_WORKLOAD=workload, GOSCHED_BENCH_ITERS=str(iters))
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", binary]
    err = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stderr
    m = re.search(r"Collected : (\d+)", err)
    if not m:
        raise SystemExit(f"callgrind printed no total:\n{err}")
    return int(m.group(1))


def callgrind(only):
    binaries = {build: bench_binary(build) for build in BUILDS}
    print(f"{'workload':24} {'Ir/iter on':>12} {'off':>12} {'on/off':>7}")
    worst = 0.0
    for w in WORKLOADS:
        if not re.fullmatch(only or ".*", w):
            continue
        per = {}
        for build, binary in binaries.items():
            per[build] = (instructions(binary, w, 15) - instructions(binary, w, 5)) / 10
        ratio = per["on"] / per["off"]
        worst = max(worst, ratio)
        print(f"{w:24} {per['on']:12.0f} {per['off']:12.0f} {ratio:7.4f}", flush=True)
    print(f"\nworst on/off ratio: {worst:.4f} (target <= 1.03)")


def main():
    if sys.argv[1:2] == ["--callgrind"]:
        callgrind(sys.argv[2] if len(sys.argv) > 2 else "")
        return
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    for build in BUILDS:
        run(build, ["--no-run"])
    seen = {b: {} for b in BUILDS}
    for r in range(rounds):
        for build in BUILDS:
            print(f"== round {r + 1}/{rounds}: metrics and dumps {build} ==", flush=True)
            run(build, ["--", f"({only or '.*'})/gosched"])
            for group, med in medians(build).items():
                if re.fullmatch(only or ".*", group):
                    seen[build].setdefault(group, []).append(med)
    print(f"\n{'workload':24} {'median on':>10} {'off':>9} {'on/off':>7}   {'min on':>9} {'off':>9} {'on/off':>7}  (µs)")
    worst = 0.0
    for group in sorted(g for g in seen["on"] if g in seen["off"]):
        on, off = seen["on"][group], seen["off"][group]
        mon, moff = statistics.median(on) / 1e3, statistics.median(off) / 1e3
        lon, loff = min(on) / 1e3, min(off) / 1e3
        worst = max(worst, lon / loff)
        print(f"{group:24} {mon:10.1f} {moff:9.1f} {mon / moff:7.3f}   {lon:9.1f} {loff:9.1f} {lon / loff:7.3f}")
    print(f"\nworst on/off ratio of the minima: {worst:.3f} (target <= 1.03)")


if __name__ == "__main__":
    main()
