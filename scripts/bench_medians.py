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
            with open(os.path.join(dirpath, "benchmark.json")) as f:
                meta = json.load(f)
            func = meta["function_id"] or ""
            if meta.get("value_str"):
                func = f"{func}/{meta['value_str']}" if func else meta["value_str"]
            with open(os.path.join(dirpath, "estimates.json")) as f:
                med = json.load(f)["median"]["point_estimate"]
            groups.setdefault(meta["group_id"], {})[func] = med
    for group in sorted(groups):
        funcs = groups[group]
        # gosched's entry: "gosched", or "gosched_*" when the function
        # names a library and the value names the runtime.
        base = funcs.get("gosched")
        if base is None:
            ours = [f for f in funcs if f.startswith("gosched")]
            if len(ours) == 1:
                base = funcs[ours[0]]
        print(group)
        for func, med in sorted(funcs.items(), key=lambda kv: kv[1]):
            ratio = f"  gosched/{func} = {base / med:.3g}" if base and not func.startswith("gosched") else ""
            print(f"  {func:28} {fmt(med):>12}{ratio}")


if __name__ == "__main__":
    main()
