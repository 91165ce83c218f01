#!/usr/bin/env python3
"""Two or more builds of resnet-check against each other, interleaved, layer by layer.

On a shared machine a configuration moves by 40% within minutes, and our fresh
processes vary more than the code changes being measured. This runs
`resnet-check bench --format json` for each binary in turn, --rounds times, and
prints per binary the median and minimum p50 over rounds, then each layer's
median (or --statistic min: minimum) time over rounds (each the median of bench's profiled runs) side by side, largest first, and their sums.
Compare builds of two commits (copy .build/release/resnet-check aside between
builds); a difference smaller than the rounds' spread is noise. (Builds before
session 29's 691afc8 report a layer's mean of three profiled runs, later ones
the median of five: compare per-layer figures across that line with care.)

    scripts/bench_ab.py MODEL OLD_BINARY NEW_BINARY [--threads 2] [--batch 8] [--rounds 5] [--layers 40]
"""
import argparse
import json
import statistics
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("binaries", nargs="+", help="resnet-check executables (two or more)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=10, help="timed runs per round")
    ap.add_argument("--layers", type=int, default=40, help="layers to list")
    ap.add_argument("--statistic", choices=["median", "min"], default="median",
                    help="per layer, the median or the minimum over rounds (the minimum is steadier on a shared host, "
                         "where other tenants only ever add time)")
    args = ap.parse_args()
    if len(args.binaries) < 2:
        sys.exit("bench_ab: give two or more binaries")
    p50s = {b: [] for b in args.binaries}
    layers = {b: {} for b in args.binaries}
    for _ in range(args.rounds):
        for b in args.binaries:
            out = subprocess.run([b, "bench", args.model, "--threads", str(args.threads), "--batch", str(args.batch),
                                  "--runs", str(args.runs), "--top", "100000", "--format", "json"],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"bench_ab: {b} exited {out.returncode}: {out.stderr.strip()}")
            report = json.loads(out.stdout)
            p50s[b].append(report["p50_ms"])
            for layer in report["layers"]:
                # A layout copy is a step of its own, named after the node it feeds: kept apart.
                name = layer["node"] + (f" [{layer['op']}]" if layer["op"].startswith("ToChannels") else "")
                layers[b].setdefault(name, []).append(layer["milliseconds"])
    for b in args.binaries:
        runs = ", ".join(f"{v:.1f}" for v in p50s[b])
        print(f"{b}: p50 median {statistics.median(p50s[b]):.2f} ms, min {min(p50s[b]):.2f} ms (rounds: {runs})")
    first = args.binaries[0]
    pick = min if args.statistic == "min" else statistics.median
    medians = {b: {n: pick(v) for n, v in layers[b].items()} for b in args.binaries}
    names = sorted(medians[first], key=lambda n: -medians[first][n])
    width = max([len(n) for n in names[:args.layers]] + [5]) + 2
    print("layer".ljust(width) + "".join(f"{i + 1:>12}" for i in range(len(args.binaries))) + f"   (ms, {args.statistic} over rounds, columns in the order given)")
    for n in names[:args.layers]:
        print(n.ljust(width) + "".join(f"{medians[b].get(n, float('nan')):12.3f}" for b in args.binaries))
    print("sum of layers".ljust(width) + "".join(f"{sum(medians[b].values()):12.3f}" for b in args.binaries))


if __name__ == "__main__":
    main()
