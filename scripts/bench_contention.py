#!/usr/bin/env python3
"""How much a co-runner streaming memory slows ours and onnxruntime (issue 11).

This project's machines are shared: in some hours bench_compare's ratio on resnet50
moved from 1.04x to 1.3x while onnxruntime's own times moved by 5-10%, and every one
of our layers ran 1.3-1.9x slower than its best run. This reproduces that kind of
noise on demand: a co-runner (numpy adding 1 to a 64 MB array, over and over: a read
and a write stream through the shared L3 and memory) on its own CPU, while ours and
onnxruntime run on the others, pinned. In interleaved rounds, without and with it, it
prints each side's median latency, the slowdown, and our layers that lose the most
milliseconds (from bench's profiled runs per round: each step's median).

    scripts/bench_contention.py .cache/models/resnet50/model.onnx [--threads 1] [--rounds 6]

Needs the release build (swift build -c release --product resnet-check), onnxruntime
and numpy (scripts/setup), and at least threads + 1 CPUs.
"""
import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The co-runner: pins itself to CPU argv[1], streams 64 MB, and stops once its parent is gone.
CO_RUNNER = """
import os, sys
import numpy as np
os.sched_setaffinity(0, {int(sys.argv[1])})
parent = os.getppid()
a = np.zeros(16 << 20, np.float32)
while os.getppid() == parent:
    a += 1.0
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=6, help="interleaved rounds per condition")
    ap.add_argument("--runs", type=int, default=10, help="timed runs per round and side")
    ap.add_argument("--layers", type=int, default=12, help="our layers to list")
    args = ap.parse_args()
    if args.rounds < 1 or args.runs < 1 or args.threads < 1:
        sys.exit("bench_contention: --rounds, --runs and --threads must be at least 1")
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < args.threads + 1:
        sys.exit(f"bench_contention: {args.threads} thread(s) and a co-runner need {args.threads + 1} CPUs, this process has {len(cpus)}")
    measured, spare = set(cpus[:args.threads]), cpus[-1]
    tool = os.path.join(ROOT, ".build", "release", "resnet-check")
    if not os.path.exists(tool):
        sys.exit("build first: swift build -c release --product resnet-check")
    import numpy as np
    import onnxruntime as ort

    os.sched_setaffinity(0, measured)  # onnxruntime's threads, and ours (inherited), on the measured CPUs
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.random.default_rng(1).standard_normal([d if isinstance(d, int) else 1 for d in i.shape]).astype(np.float32)
             for i in sess.get_inputs()}
    ours_cmd = [tool, "bench", args.model, "--threads", str(args.threads), "--runs", str(args.runs), "--warmup", "2",
                "--top", "100000", "--format", "json"]
    ours = {False: [], True: []}
    theirs = {False: [], True: []}
    layers = {False: collections.defaultdict(list), True: collections.defaultdict(list)}
    for _ in range(args.rounds):
        for contended in (False, True):
            co = None
            try:
                if contended:
                    co = subprocess.Popen([sys.executable, "-c", CO_RUNNER, str(spare)])
                    time.sleep(0.5)  # the array allocated and streaming
                run = subprocess.run(ours_cmd, capture_output=True, text=True)
                if run.returncode != 0:
                    sys.exit(f"bench_contention: resnet-check bench failed (exit {run.returncode}):\n{run.stderr}")
                rep = json.loads(run.stdout)
                ours[contended].append(rep["p50_ms"])
                for layer in rep["layers"]:
                    layers[contended][layer["node"]].append(layer["milliseconds"])
                for _ in range(2):
                    sess.run(None, feeds)
                times = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    sess.run(None, feeds)
                    times.append((time.perf_counter() - t) * 1e3)
                theirs[contended].append(statistics.median(times))
                if co and co.poll() is not None:
                    sys.exit(f"bench_contention: the co-runner stopped (exit {co.returncode}), so that round ran alone")
            finally:
                if co:
                    co.kill()
                    co.wait()
    print(f"{args.model}, {args.threads} thread(s) on CPU {sorted(measured)}, co-runner on CPU {spare}; "
          f"medians of {args.rounds} rounds of {args.runs} runs (ms)")
    for name, side in (("ours", ours), ("onnxruntime", theirs)):
        quiet, busy = statistics.median(side[False]), statistics.median(side[True])
        print(f"  {name:12} alone {quiet:8.2f}   with the co-runner {busy:8.2f}   slowdown {busy / quiet:5.2f}x")
    q = statistics.median(ours[False]) / statistics.median(theirs[False])
    b = statistics.median(ours[True]) / statistics.median(theirs[True])
    print(f"  ratio ours / onnxruntime: alone {q:.2f}x, with the co-runner {b:.2f}x")
    added = sorted(((statistics.median(layers[True][n]) - statistics.median(v), n, statistics.median(v), statistics.median(layers[True][n]))
                    for n, v in layers[False].items() if n in layers[True]), reverse=True)
    print(f"  our layers that lose the most (ms alone -> with the co-runner):")
    for extra, node, quiet, busy in added[:args.layers]:
        print(f"    {node:36} {quiet:7.3f} -> {busy:7.3f}  ({extra:+.3f}, {busy / quiet if quiet else 0:.2f}x)")


if __name__ == "__main__":
    main()
