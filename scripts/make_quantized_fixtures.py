#!/usr/bin/env python3
"""int8 versions of resnet-tools' float fixtures, made by onnxruntime's own
quantizer (issue 13), with onnxruntime's outputs as reference:

    python scripts/make_quantized_fixtures.py                     # fixtures/quantized/<name>-qdq, -qop
    python scripts/make_quantized_fixtures.py --large resnet18    # .cache/models/resnet18-qdq, -qop

Each float model goes through `quant_pre_process` (BN folded into the convs,
as users are told to do) and then `quantize_static` with a seeded calibration
reader: uint8 activations, int8 weights, in the QDQ format (QuantizeLinear/
DequantizeLinear around float operators) and the QOperator format
(QLinearConv and com.microsoft QLinearAdd, QGemm, QLinearGlobalAveragePool...).
The large models are quantized from make_fixtures.py's --large ones
(generated first when absent). make_fixtures.py calls main() for the small set.
"""
import argparse
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import torchvision_resnet, write_reference  # noqa: E402

# name: (float fixture, per_channel weights). Each is written in both formats.
SMALL = {
    "basic-B": ("basic-B", False),   # basic blocks, option B, per-tensor weights
    "v1.5": ("v1.5", True),          # bottlenecks, torch's Shape->Reshape flatten, per-channel weights
    "v1d": ("v1d", True),            # ResNet-D: AvgPool (QLinearAveragePool in QOperator) before the projection
}
FORMATS = ("qdq", "qop")


class SeededReader:
    """onnxruntime.quantization's CalibrationDataReader protocol: seeded normal batches."""

    def __init__(self, input_name, shape, count, seed):
        rng = np.random.default_rng(seed)
        self.batches = iter([{input_name: rng.standard_normal(shape).astype(np.float32)} for _ in range(count)])

    def get_next(self):
        return next(self.batches, None)


def quantize(float_path, folder, fmt, per_channel, samples, seed=3, reference=True):
    """quant_pre_process + quantize_static into folder/model.onnx, then onnxruntime's outputs (batch 1)."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    model = onnx.load(float_path)
    inp = model.graph.input[0]
    dims = [d.dim_value if d.dim_value > 0 else 1 for d in inp.type.tensor_type.shape.dim]
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    path = os.path.join(folder, "model.onnx")
    with tempfile.TemporaryDirectory() as tmp:
        pre = os.path.join(tmp, "pre.onnx")
        quant_pre_process(float_path, pre, skip_symbolic_shape=True)
        quantize_static(pre, path, SeededReader(inp.name, dims, samples, seed),
                        quant_format=QuantFormat.QDQ if fmt == "qdq" else QuantFormat.QOperator,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=per_channel)
    q = onnx.load(path)
    q.producer_name, q.producer_version = "resnet-tools make_quantized_fixtures.py", "1"
    # quantize_static keeps the pre-processed model's imports of every domain onnxruntime knows;
    # only the default one and com.microsoft are used.
    used = {n.domain for n in q.graph.node}
    keep = [o for o in q.opset_import if o.domain in ("", "ai.onnx") or o.domain in used]
    del q.opset_import[:]
    q.opset_import.extend(keep)
    onnx.checker.check_model(q)
    onnx.save(q, path)
    if reference:
        write_reference(path, folder, (1,), seed=1)
    return path


def small(fixtures_root):
    out = os.path.join(fixtures_root, "quantized")
    for name, (source, per_channel) in SMALL.items():
        for fmt in FORMATS:
            quantize(os.path.join(fixtures_root, source, "model.onnx"), os.path.join(out, f"{name}-{fmt}"), fmt,
                     per_channel, samples=8)
    return out


def large(arch, out, reference=True):
    """resnet18/50 (make_fixtures.py --large) quantized in both formats, per-channel weights."""
    float_folder = os.path.join(out, arch)
    float_path = os.path.join(float_folder, "model.onnx")
    if not os.path.exists(float_path):
        os.makedirs(float_folder, exist_ok=True)
        onnx.save(torchvision_resnet(arch), float_path)
    paths = [quantize(float_path, os.path.join(out, f"{arch}-{fmt}"), fmt, True, samples=2, reference=reference)
             for fmt in FORMATS]
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--large", choices=["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"],
                    help="quantize one torchvision-shaped model into .cache/models/<arch>-qdq and -qop")
    ap.add_argument("--out", default=None, help="output folder (default: fixtures/, or .cache/models with --large)")
    ap.add_argument("--no-reference", action="store_true", help="with --large: skip onnxruntime outputs")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if args.large:
        for p in large(args.large, args.out or os.path.join(root, ".cache", "models"), reference=not args.no_reference):
            print(p)
        return
    print(f"wrote {len(SMALL) * len(FORMATS)} quantized fixtures to {small(args.out or os.path.join(root, 'fixtures'))}")


if __name__ == "__main__":
    sys.exit(main())
