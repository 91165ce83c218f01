#!/usr/bin/env python3
"""Writes full-size ResNet variants into .cache/models/<name>/model.onnx for
scripts/bench_compare and scripts/layer_compare.py: the models beyond
torchvision's resnet18/50 (which make_fixtures.py --large writes without torch)
that session 27 measured against onnxruntime: grouped convs (ResNeXt), SE and
ECA gates, selective-kernel blocks, ResNet-D's deep stem and pooled shortcut.

Developer-only, like make_real_fixtures.py (whose .venv-torch it uses; its
docstring says how to make it). Weights are random and seeded, BatchNorm in eval
mode (the legacy exporter folds it into the convs), batch 1 at 224x224, opset
17. Nothing is downloaded; the files are 60-280 MB and are not committed.

    .venv-torch/bin/python scripts/export_bench_models.py              # all below
    .venv-torch/bin/python scripts/export_bench_models.py --only timm-seresnet50
    .venv-torch/bin/python scripts/export_bench_models.py --quantize resnext50_32x4d   # also <name>-qop (QOperator, u8 x s8)
    scripts/bench_compare --models timm-seresnet50 resnext50_32x4d --batches 1 --threads 1 2
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

# name -> (library, constructor name)
MODELS = {
    "resnext50_32x4d": ("torchvision", "resnext50_32x4d"),
    "wide_resnet50_2": ("torchvision", "wide_resnet50_2"),
    "timm-seresnet50": ("timm", "seresnet50"),
    "timm-ecaresnet50t": ("timm", "ecaresnet50t"),
    "timm-resnet50d": ("timm", "resnet50d"),
    "timm-skresnet34": ("timm", "skresnet34"),
    "timm-seresnext26d_32x4d": ("timm", "seresnext26d_32x4d"),
}


def export(name, torch, torchvision, timm):
    library, constructor = MODELS[name]
    torch.manual_seed(0)
    model = getattr(torchvision.models, constructor)(weights=None) if library == "torchvision" else timm.create_model(constructor, pretrained=False)
    model.eval()
    folder = os.path.join(ROOT, ".cache", "models", name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "model.onnx")
    with torch.no_grad():
        torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), path, dynamo=False, opset_version=17, do_constant_folding=True,
                          input_names=["input"], output_names=["output"])
    print(f"{path}: {sum(p.numel() for p in model.parameters()):,} parameters")
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=sorted(MODELS), help="these models only")
    ap.add_argument("--quantize", nargs="+", default=[], choices=sorted(MODELS), help="also write <name>-qop, quantized as make_quantized_fixtures.py does")
    args = ap.parse_args()
    from make_real_fixtures import import_torch
    torch, torchvision, timm = import_torch()
    for name in args.only or sorted(MODELS):
        path = export(name, torch, torchvision, timm)
        if name in args.quantize:
            import make_quantized_fixtures
            make_quantized_fixtures.quantize(path, os.path.join(ROOT, ".cache", "models", name + "-qop"), "qop", True, 2, reference=False)
            print(f"{name}-qop written")


if __name__ == "__main__":
    main()
