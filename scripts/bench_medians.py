#!/usr/bin/env python3
"""Print criterion medians per group with gosched/peer ratios.

Usage: python3 scripts/bench_medians.py [target/criterion]

Reads every <group>/<function>/new/estimates.json that criterion wrote and
prints, per group, each function's median and its ratio to gosched's.
"""
import json
import os
import sys


def fmt(ns):
    for unit, div in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= div:
            return f"{ns / div:.3f} {unit}"
    return f"{ns:.1f} ns"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
    groups = {}
    for dirpath, _dirs, files in os.walk(root):
        if "estimates.json" in files and os.path.basename(dirpath) == "new":
            rel = os.path.relpath(os.path.dirname(dirpath), root).split(os.sep)
            if len(rel) < 2:
                continue
            group, func = "/".join(rel[:-1]), rel[-1]
            with open(os.path.join(dirpath, "estimates.json")) as f:
                groups.setdefault(group, {})[func] = json.load(f)["median"]["point_estimate"]
    for group in sorted(groups):
        funcs = groups[group]
        base = funcs.get("gosched")
        print(group)
        for func, med in sorted(funcs.items(), key=lambda kv: kv[1]):
            ratio = f"  gosched/{func} = {base / med:.3g}" if base and func != "gosched" else ""
            print(f"  {func:24} {fmt(med):>12}{ratio}")


if __name__ == "__main__":
    main()
