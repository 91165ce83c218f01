#!/usr/bin/env python3
"""Safetensors state dicts for resnet-tools' tests, with numpy only (CI has no
torch; the format is 8 bytes of little-endian header length, a JSON header,
then the tensors' bytes):

    python scripts/make_safetensors.py                 # fixtures/safetensors/hostile/*.safetensors
    python scripts/make_safetensors.py --arch resnet18 --out DIR
                                                       # DIR/model.onnx + DIR/weights.safetensors

--arch writes make_fixtures.py's torchvision-shaped model (random weights,
calibrated BatchNorm; built independently with onnx.helper) and its weights
as a torchvision state dict: the same keys (`layer1.0.downsample.0.weight`)
and a `num_batches_tracked` INT64 scalar per BatchNorm, as torch saves them.
The hostile files are each refused by the reader for one reason; the table
in Tests/integration/test_safetensors.py says which.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "F64": np.float64, "U16": np.uint16}


def encode(tensors, metadata=None):
    """tensors: name -> numpy array, or name -> (dtype name, shape, raw bytes) for BF16
    and hostile entries. Keys sorted, offsets contiguous, header space-padded to 8."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name]
        if isinstance(t, tuple):
            dtype, shape, raw = t
        else:
            dtype = next(k for k, v in DTYPES.items() if t.dtype == v)
            shape, raw = list(t.shape), np.ascontiguousarray(t).astype(t.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def write(path, tensors, metadata=None):
    with open(path, "wb") as f:
        f.write(encode(tensors, metadata))


def read(path):
    """(metadata, {name: (dtype, shape, raw bytes)}): enough to compare files in tests."""
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    return meta, {k: (v["dtype"], v["shape"], data[base + v["data_offsets"][0]:base + v["data_offsets"][1]])
                  for k, v in header.items()}


def bfloat16(a):
    """float32 -> BF16 bytes (truncated: the test compares the widened bits exactly)."""
    return (np.ascontiguousarray(a, dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()


def torchvision_key(name):
    """make_fixtures.py's names -> torchvision's (its downsample is Sequential(conv, bn))."""
    return name.replace(".downsample.conv.", ".downsample.0.").replace(".downsample.bn.", ".downsample.1.")


def state_dict(model):
    """A torchvision-layout state dict from a make_fixtures.torchvision_resnet model."""
    sd = {torchvision_key(t.name): numpy_helper.to_array(t) for t in model.graph.initializer}
    for bn in [k[:-len(".running_mean")] for k in sd if k.endswith(".running_mean")]:
        sd[bn + ".num_batches_tracked"] = np.array(0, dtype=np.int64)
    return sd


# name: (header bytes or a dict of entries, data bytes, stated header length or None)
HOSTILE = {
    "truncated": None,  # 5 bytes: no room for the header length
    "header-length-past-file": (b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', bytes(4), 4096),
    "header-length-huge": (b"{}", b"", 2**64 - 1),
    "not-utf8": (b'{"w\xff":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', bytes(4), None),
    "invalid-json": (b'{"conv1.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4],}}', bytes(4), None),
    "duplicate-key": (b'{"conv1.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                      b'"conv1.weight":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', bytes(8), None),
    "overlapping-offsets": (b'{"bn1.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                            b'"bn1.weight":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', bytes(12), None),
    "out-of-range-offsets": (b'{"fc.bias":{"dtype":"F32","shape":[2],"data_offsets":[64,72]}}', bytes(8), None),
    "gap-offsets": (b'{"bn1.bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                    b'"bn1.weight":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', bytes(12), None),
    "bytes-mismatch": (b'{"fc.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}', bytes(20), None),
    "unknown-dtype": (b'{"fc.weight":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}', bytes(16), None),
    "negative-dim": (b'{"fc.weight":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', bytes(4), None),
    "float-dim": (b'{"fc.weight":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', bytes(4), None),
}


def write_hostile(folder):
    os.makedirs(folder, exist_ok=True)
    for name, spec in HOSTILE.items():
        if spec is None:
            blob = b"\x10\x00\x00\x00\x00"
        else:
            header, data, length = spec
            blob = struct.pack("<Q", len(header) if length is None else length) + header + data
        with open(os.path.join(folder, name + ".safetensors"), "wb") as f:
            f.write(blob)
    return sorted(HOSTILE)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=sorted(make_fixtures.TORCHVISION))
    ap.add_argument("--out", help="output folder (default: fixtures/safetensors)")
    ap.add_argument("--no-calibrate", action="store_true", help="with --arch: random BN statistics (fast)")
    args = ap.parse_args()
    if args.arch:
        import onnx
        out = args.out or os.path.join(ROOT, ".cache", "safetensors", args.arch)
        os.makedirs(out, exist_ok=True)
        model = make_fixtures.torchvision_resnet(args.arch, calibrate=not args.no_calibrate)
        onnx.save(model, os.path.join(out, "model.onnx"))
        write(os.path.join(out, "weights.safetensors"), state_dict(model), {"format": "pt"})
        print(out)
        return
    folder = os.path.join(args.out or os.path.join(ROOT, "fixtures", "safetensors"), "hostile")
    names = write_hostile(folder)
    print(f"wrote {len(names)} hostile files to {folder}")


if __name__ == "__main__":
    sys.exit(main())
