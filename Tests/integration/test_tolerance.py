"""parity --tolerance auto (issue 9): a deep net's float32 outputs drift from
the exact ones by more than a fixed 1e-4 can hold, so the candidate also runs
in float64 (reference kernels) and an element passes within a multiple of that
noise floor. A correct torchvision-shaped resnet152 passes; the same model with
one conv weight scaled by 1.01 still fails."""
import json
import os
import shutil
import subprocess

import numpy as np
import onnx
from onnx import numpy_helper

from conftest import FIXTURES, large_model, tool


def parity(model, reference, *extra):
    r = subprocess.run([tool("resnet-check"), "parity", model, "--reference", reference, "--format", "json", *extra],
                       capture_output=True, text=True)
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def test_small_fixture_reports_its_floor():
    folder = os.path.join(FIXTURES, "v1.5")
    code, report = parity(os.path.join(folder, "model.onnx"), folder, "--tolerance", "auto")
    assert code == 0 and report["tolerance"] == "auto"
    for case in report["cases"]:
        for o in case["outputs"]:
            assert 0 < o["noise_floor"] < 1e-4 and o["floor_multiple"] == 4


def test_resnet152_passes_auto_and_a_scaled_weight_fails(tmp_path):
    model = large_model("resnet152", False)
    folder = os.path.dirname(model)
    code, report = parity(model, folder, "--tolerance", "auto")
    out = report["cases"][0]["outputs"][0]
    print(f"\nresnet152: max abs error {out['max_abs_error']:.3e}, float32 noise floor {out['noise_floor']:.3e}")
    assert code == 0, report
    # One conv weight scaled by 1.01: a real change, which no noise floor may hide.
    m = onnx.load(model)
    conv = next(n for n in m.graph.node if n.op_type == "Conv" and "layer3" in n.name)
    w = next(t for t in m.graph.initializer if t.name == conv.input[1])
    w.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(w) * np.float32(1.01), w.name))
    changed = str(tmp_path / "changed.onnx")
    onnx.save(m, changed)
    for s in os.listdir(folder):
        if s.startswith("test_data_set_"):
            shutil.copytree(os.path.join(folder, s), str(tmp_path / s))
    code, report = parity(changed, str(tmp_path), "--tolerance", "auto")
    out = report["cases"][0]["outputs"][0]
    print(f"scaled {conv.name}: max abs error {out['max_abs_error']:.3e}, floor {out['noise_floor']:.3e}, "
          f"{out['failing_elements']} of {out['elements']} failing")
    assert code == 1 and out["failing_elements"] > 0
