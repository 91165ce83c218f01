#!/usr/bin/env python3
"""Ours and onnxruntime layer by layer on one model, interleaved.

bench_compare says which engine is faster; this says where. Each round runs
`resnet-check bench --format json` (its per-layer profile) and an onnxruntime
session with profiling on, for the same number of runs, and keeps each layer's
time. Convolutions are paired by the graph's conv they start from (onnxruntime
names a fused conv after some node of its chain: BN, activation, residual Add;
those names are mapped back), pools, GEMMs and the rest as one line per op type,
our layout copies as one more. Prints per layer the median over rounds of each
engine's per-run time (ours: the median of bench's profiled runs; onnxruntime:
the median of its timed runs), the ratio, and the sums, largest of ours first.
Node names are assumed unique, as exporters write them.

    scripts/layer_compare.py MODEL [--threads 1] [--rounds 5] [--runs 10] [--top 30]
                             [--binary .build/release/resnet-check] [--kernels avx2]

onnxruntime profiles with its own timer around each kernel, ours around each
step; both exclude graph overhead, so the sums are below each engine's latency.
"""
import argparse
import collections
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONV_OPS = {"Conv", "QLinearConv", "FusedConv", "ConvInteger"}
LAYOUT_OPS = {"ToChannelsLast", "ToChannelsFirst"}


def ours_round(args):
    cmd = [args.binary, "bench", args.model, "--threads", str(args.threads), "--runs", str(args.runs),
           "--top", "100000", "--format", "json"] + (["--kernels", args.kernels] if args.kernels else [])
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"layer_compare: {' '.join(cmd)} failed: {out.stderr.strip()}")
    report = json.loads(out.stdout)
    # bench lists layers by time; the conv order is the graph's, which `order` recovers from node order in the file.
    # Layout copies (ToChannelsLast/First) carry the name of the node they feed: summed apart, as one line.
    steps, layout = collections.defaultdict(float), 0.0
    for layer in report["layers"]:
        if layer["op"] in LAYOUT_OPS:
            layout += layer["milliseconds"]
        else:
            steps[layer["node"]] += layer["milliseconds"]
    return report["p50_ms"], steps, layout


def node_order(model_path):
    """Nodes in file order, and for every node that follows a conv in a fusible chain (BN, activation,
    residual Add) the conv's name: onnxruntime names a fused conv after some node of its chain."""
    import onnx
    model = onnx.load(model_path, load_external_data=False)
    consumers = collections.defaultdict(list)
    for n in model.graph.node:
        for i in n.input:
            consumers[i].append(n)
    owner = {}
    for n in model.graph.node:
        if n.op_type not in CONV_OPS:
            continue
        owner[n.name] = n.name
        node = n
        while len(node.output) == 1 and len(consumers[node.output[0]]) == 1:
            node = consumers[node.output[0]][0]
            if node.op_type not in {"BatchNormalization", "Relu", "Add", "Clip", "Sum"} or node.name in owner:
                break
            owner[node.name] = n.name
    return [(n.name, n.op_type) for n in model.graph.node], owner


def ort_round(args, feeds, prefix):
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.enable_profiling = True
    options.profile_file_prefix = prefix
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    for _ in range(3):
        session.run(None, feeds)
    times = []
    import time
    for _ in range(args.runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append(time.perf_counter() - start)
    path = session.end_profiling()
    with open(path) as f:
        events = json.load(f)
    os.remove(path)
    per_node = collections.defaultdict(list)   # name -> (op, [durations in µs]) in first-seen order
    ops = {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            name = e["name"][: -len("_kernel_time")]
            name = name[: -len("_nchwc")] if name.endswith("_nchwc") else name   # its blocked-layout rewrite
            # Its channels-last rewrite (int8 QLinearConv, MaxPool) appends _token_N; only a name the
            # model has is mapped back, so nodes onnxruntime inserts under one op name stay apart.
            base = re.sub(r"_token_[0-9]+$", "", name)
            name = base if base in args.node_names else name
            per_node[name].append(e["dur"])
            ops[name] = e["args"].get("op_name", "?")
    # The profile holds warm-up runs too: keep the last `runs` of each node, per run in ms.
    layers = [(name, ops[name], statistics.median(d[-args.runs:]) / 1e3) for name, d in per_node.items()]
    return statistics.median(times) * 1e3, layers


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "resnet-check"))
    ap.add_argument("--kernels", choices=["avx512", "avx2", "reference"])
    args = ap.parse_args()
    if args.rounds < 1 or args.runs < 1:
        sys.exit("layer_compare: --rounds and --runs must be at least 1")

    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    inp = session.get_inputs()[0]
    shape = [d if isinstance(d, int) else 1 for d in inp.shape]
    feeds = {inp.name: np.random.default_rng(0).random(shape, dtype=np.float32)}
    order, owner = node_order(args.model)
    args.node_names = {name for name, _ in order}
    ours_latency, ort_latency = [], []
    ours_layers = collections.defaultdict(list)   # key -> [ms per round]
    ort_layers = collections.defaultdict(list)
    labels = {}
    conv_index = {name: k for k, name in enumerate(n for n, op in order if op in CONV_OPS)}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            p50, steps, layout = ours_round(args)
            ours_latency.append(p50)
            ours_steps = [(name, op, steps[name]) for name, op in order if name in steps]
            ours_steps.append(("(layout copies)", "LayoutCopy", layout))
            for key, ms in keyed(ours_steps, labels, None, conv_index).items():
                ours_layers[key].append(ms)
            p50, layers = ort_round(args, feeds, os.path.join(tmp, "ort"))
            ort_latency.append(p50)
            for key, ms in keyed(layers, None, owner, conv_index).items():
                ort_layers[key].append(ms)

    def med(values):
        return statistics.median(values) if values else 0.0

    print(f"{os.path.basename(os.path.dirname(args.model)) or args.model}: {args.threads} thread(s), "
          f"{args.rounds} rounds of {args.runs} runs; latency median ours {med(ours_latency):.2f} ms, "
          f"onnxruntime {med(ort_latency):.2f} ms ({med(ours_latency) / max(med(ort_latency), 1e-9):.2f}x)")
    keys = set(ours_layers) | set(ort_layers)
    rows = sorted(keys, key=lambda k: -med(ours_layers[k]))
    print(f"  {'layer':<34} {'ours ms':>8} {'ort ms':>8} {'ratio':>6}")
    for key in rows[: args.top]:
        a, b = med(ours_layers[key]), med(ort_layers[key])
        label = labels.get(key, key[0] + (" (all)" if key[0] != "conv" else f" #{key[1]}"))
        print(f"  {label:<34} {a:8.3f} {b:8.3f} {a / b if b > 0 else float('inf'):6.2f}")
    total_a = sum(med(v) for v in ours_layers.values())
    total_b = sum(med(v) for v in ort_layers.values())
    conv_a = sum(med(v) for k, v in ours_layers.items() if k[0] == "conv")
    conv_b = sum(med(v) for k, v in ort_layers.items() if k[0] == "conv")
    print(f"  {'sum of convolutions':<34} {conv_a:8.2f} {conv_b:8.2f} {conv_a / max(conv_b, 1e-9):6.2f}")
    print(f"  {'sum of all layers':<34} {total_a:8.2f} {total_b:8.2f} {total_a / max(total_b, 1e-9):6.2f}")


def keyed(layers, labels, owner, conv_index):
    """(name, op, ms) -> {("conv", k): ms of the file's k-th conv, (op, 0): summed ms of that op}.
    `owner` maps onnxruntime's fused-node names back to the conv they start from."""
    out = collections.defaultdict(float)
    for name, op, ms in layers:
        conv = (owner or {}).get(name, name)
        if op in CONV_OPS and conv in conv_index:
            key = ("conv", conv_index[conv])
            if labels is not None:
                labels[key] = name
        else:
            key = (op, 0)
        out[key] += ms
    return out


if __name__ == "__main__":
    main()
