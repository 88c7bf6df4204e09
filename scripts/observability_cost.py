#!/usr/bin/env python3
"""What metrics and dump bookkeeping cost the executor's hot paths.

Usage: python3 scripts/observability_cost.py [rounds]   (default 3)

Builds the executor bench twice, as shipped and with
`RUSTFLAGS="--cfg gosched_observe_off"` (per-P metric counters other than
polls, the forced-yield count, wait reasons and park times, and spawn-site
interning compiled out), in separate target directories. Then runs the
gosched half of `benches/executor.rs` alternately with each build, `rounds`
times, so that drift in a noisy machine hits both sides alike, and prints
per workload the median over rounds of criterion's median for each build
and the on/off ratio. The issue's target: every ratio at most 1.03.

Run it on a quiet machine: nothing else building.
"""
import json
import os
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
    cmd = ["cargo", "bench", "--bench", BENCH] + extra
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


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for build in BUILDS:
        run(build, ["--no-run"])
    seen = {b: {} for b in BUILDS}
    for r in range(rounds):
        for build in BUILDS:
            print(f"== round {r + 1}/{rounds}: metrics and dumps {build} ==", flush=True)
            run(build, ["--", "gosched"])
            for group, med in medians(build).items():
                seen[build].setdefault(group, []).append(med)
    print(f"\n{'workload':28} {'on (µs)':>10} {'off (µs)':>10} {'on/off':>7}")
    worst = 0.0
    for group in sorted(seen["on"]):
        on = statistics.median(seen["on"][group]) / 1e3
        off = statistics.median(seen["off"].get(group, [float("nan")])) / 1e3
        ratio = on / off
        worst = max(worst, ratio)
        print(f"{group:28} {on:10.1f} {off:10.1f} {ratio:7.3f}")
    print(f"\nworst on/off ratio: {worst:.3f} (target <= 1.03)")


if __name__ == "__main__":
    main()
