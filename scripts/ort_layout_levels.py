#!/usr/bin/env python3
"""onnxruntime on one model at two graph optimisation levels, interleaved.

Why: onnxruntime's highest level (ORT_ENABLE_ALL) adds, over ORT_ENABLE_EXTENDED,
its layout transformer, which on CPU rewrites a ResNet's convolutions, max pool and
global pool into its NCHWc blocked layout (com.microsoft.nchwc). The difference
between the two is what that layout (and the kernels written for it) is worth to
onnxruntime itself: the question behind the executor's next structural step
(docs/performance-log.md, session 18). Each round runs both sessions alternately on the same
seeded input; prints medians and minima of per-run latency, per thread count.

    .venv/bin/python scripts/ort_layout_levels.py MODEL [--threads 1 2] [--rounds 7] [--runs 5]
"""
import argparse
import statistics
import time

import numpy as np
import onnxruntime as ort


def session(model, level, threads):
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5, help="runs per round and level")
    args = parser.parse_args()
    levels = {"all (NCHWc)": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
              "extended (no NCHWc)": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED}
    for threads in args.threads:
        sessions = {name: session(args.model, level, threads) for name, level in levels.items()}
        first = next(iter(sessions.values())).get_inputs()[0]
        shape = [d if isinstance(d, int) else 1 for d in first.shape]
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        outputs = {name: s.run(None, {first.name: x})[0] for name, s in sessions.items()}
        worst = float(np.max(np.abs(outputs["all (NCHWc)"] - outputs["extended (no NCHWc)"])))
        times = {name: [] for name in sessions}
        for _ in range(args.rounds):
            for name, s in sessions.items():
                start = time.perf_counter()
                for _ in range(args.runs):
                    s.run(None, {first.name: x})
                times[name].append((time.perf_counter() - start) / args.runs * 1e3)
        a, b = (statistics.median(v) for v in times.values())
        print(f"{threads} thread(s): " + "; ".join(f"{name} median {statistics.median(v):.1f} ms, min {min(v):.1f}" for name, v in times.items())
              + f"; extended / all {b / a:.2f}x; outputs differ by at most {worst:.2e}")


if __name__ == "__main__":
    main()
