"""resnet-check ci (issue 10): one gate, one exit code, a report in JSON
(schemas/ci-report.schema.json), JUnit XML and GitHub annotations."""
import json
import os
import subprocess
import xml.etree.ElementTree as ET

import jsonschema
import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from conftest import FIXTURES, ROOT, fixture_names, tool

SCHEMA = json.load(open(os.path.join(ROOT, "schemas", "ci-report.schema.json")))
HOSTILE = os.path.join(FIXTURES, "hostile")


def ci(*args):
    return subprocess.run([tool("resnet-check"), "ci", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_and_its_rnw_passes(name, tmp_path):
    model = os.path.join(FIXTURES, name, "model.onnx")
    rnw = str(tmp_path / "model.rnw")
    subprocess.run([tool("resnet-convert"), model, rnw, "-q"], check=True)
    for path, extra in ((model, ["--reference", os.path.join(FIXTURES, name)]), (rnw, ["--against", model])):
        r = ci(path, "--format", "json", *extra)
        assert r.returncode == 0, r.stdout + r.stderr
        report = json.loads(r.stdout)
        jsonschema.validate(report, SCHEMA)
        assert report["pass"] and [s["name"] for s in report["steps"]] == ["integrity", "validation", "shapes", "run"]
        junit = str(tmp_path / "junit.xml")
        r = ci(path, "--format", "junit", "--report", junit, *extra)
        assert r.returncode == 0, r.stdout + r.stderr
        suite = ET.parse(junit).getroot().find("testsuite")
        assert suite.get("tests") == "4" and suite.get("failures") == "0"


def test_altered_weight_fails_against_the_original_and_is_named(tmp_path):
    model = os.path.join(FIXTURES, "v1.5", "model.onnx")
    m = onnx.load(model)
    w = next(t for t in m.graph.initializer if t.name.endswith("conv2.weight"))
    a = numpy_helper.to_array(w).copy()
    a.flat[0] += 0.5
    w.CopyFrom(numpy_helper.from_array(a, w.name))
    changed = str(tmp_path / "changed.onnx")
    onnx.save(m, changed)
    rnw = str(tmp_path / "changed.rnw")
    subprocess.run([tool("resnet-convert"), changed, rnw, "-q"], check=True)
    r = ci(rnw, "--against", model, "--format", "json")
    assert r.returncode == 1, r.stdout + r.stderr
    report = json.loads(r.stdout)
    run = report["steps"][3]
    assert any(d["code"] == "RN033" and d["node"] == w.name for d in run["diagnostics"]), run


def test_nan_weight_warns_and_fails_at_fail_on_warning(tmp_path):
    m = onnx.load(os.path.join(FIXTURES, "v1.5", "model.onnx"))
    w = next(t for t in m.graph.initializer if t.name.endswith("fc.weight") or t.name == "fc.weight")
    a = numpy_helper.to_array(w).copy()
    a.flat[:] = np.nan
    w.CopyFrom(numpy_helper.from_array(a, w.name))
    path = str(tmp_path / "nan.onnx")
    onnx.save(m, path)
    r = ci(path, "--format", "json")
    assert r.returncode == 0, r.stdout
    codes = [d["code"] for s in json.loads(r.stdout)["steps"] for d in s["diagnostics"]]
    assert "RN031" in codes
    assert ci(path, "--fail-on", "warning").returncode == 1


def test_unused_initializer_informs(tmp_path):
    m = onnx.load(os.path.join(FIXTURES, "v1.5", "model.onnx"))
    m.graph.initializer.append(numpy_helper.from_array(np.zeros(3, np.float32), "unused"))
    path = str(tmp_path / "unused.onnx")
    onnx.save(m, path)
    r = ci(path, "--format", "json")
    assert r.returncode == 0
    diags = [d for s in json.loads(r.stdout)["steps"] for d in s["diagnostics"]]
    assert any(d["code"] == "RN006" and d["severity"] == "info" for d in diags)
    assert ci(path, "--fail-on", "info").returncode == 1


def test_unreadable_and_usage_exit_codes(tmp_path):
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    assert ci(str(empty)).returncode == 2
    assert ci(str(tmp_path / "missing.onnx")).returncode == 2
    assert ci("model.txt").returncode == 64


CASES = json.load(open(os.path.join(HOSTILE, "index.json")))["cases"]


@pytest.mark.parametrize("case", [c for c in CASES if c["expect"]["run"]["exit"] == [2]], ids=lambda c: c["name"])
def test_hostile_models_fail_the_gate(case, tmp_path):
    r = ci(os.path.join(HOSTILE, case["file"]), "--format", "github")
    assert r.returncode in (1, 2), r.stdout + r.stderr
    assert r.returncode >= 0


def test_convert_never_writes_what_verify_refuses(tmp_path):
    """A graph verify refuses (here: a value produced twice) is not converted; nothing is written."""
    m = onnx.load(os.path.join(FIXTURES, "v1.5", "model.onnx"))
    m.graph.node[1].output[0] = m.graph.node[0].output[0]
    bad = str(tmp_path / "ssa.onnx")
    onnx.save(m, bad)
    assert subprocess.run([tool("resnet-check"), "verify", bad], capture_output=True).returncode == 1
    for out in ("out.rnw", "out.onnx"):
        r = subprocess.run([tool("resnet-convert"), bad, str(tmp_path / out)], capture_output=True, text=True)
        assert r.returncode == 2 and "nothing was written" in r.stderr, r.stderr
        assert not os.path.exists(tmp_path / out)


def test_current_onnx_versions_are_valid_and_unknown_ones_are_not(tmp_path):
    """A model written by the onnx wheel's defaults (IR 14, opset 28 with onnx 1.23) is valid ONNX;
    ir_version 99 and opset 99 are not (RN020, RN021)."""
    m = onnx.load(os.path.join(FIXTURES, "v1.5", "model.onnx"))
    for ir, opset, bad in ((onnx.IR_VERSION, onnx.defs.onnx_opset_version(), set()), (99, 13, {"RN020"}), (7, 99, {"RN021"})):
        m.ir_version = ir
        m.opset_import[0].version = opset
        path = str(tmp_path / f"m{ir}_{opset}.onnx")
        onnx.save(m, path)
        report = json.loads(ci(path, "--format", "json").stdout)
        codes = {d["code"] for d in report["steps"][1]["diagnostics"]}
        assert codes == bad, (ir, opset, codes)


def _validation_cases(tmp_path):
    """Models only ci's validation step refused before the gate was shared."""
    base = onnx.load(os.path.join(FIXTURES, "v1.5", "model.onnx"))
    out = []
    for name, edit in (
        ("ir_version_99", lambda m: setattr(m, "ir_version", 99)),
        ("opset_99", lambda m: m.opset_import[0].__setattr__("version", 99)),
        ("duplicate_initializer", lambda m: m.graph.initializer.append(m.graph.initializer[0])),
        ("int64_input", lambda m: m.graph.input[0].type.tensor_type.__setattr__("elem_type", onnx.TensorProto.INT64)),
    ):
        m = onnx.ModelProto()
        m.CopyFrom(base)
        edit(m)
        path = str(tmp_path / f"{name}.onnx")
        onnx.save(m, path)
        out.append(path)
    # A validation warning (duplicate node names) must not hide a shape error from the gate.
    m = onnx.load(os.path.join(FIXTURES, "defects", "broken-broadcast", "model.onnx"))
    m.graph.node[1].name = m.graph.node[0].name
    path = str(tmp_path / "warning_and_broken_join.onnx")
    onnx.save(m, path)
    out.append(path)
    return out


def test_run_and_parity_refuse_what_ci_refuses_and_accept_what_it_passes(tmp_path):
    """One gate (issue 10, item 2): over the hostile table and the validation cases, a model ci fails
    in its integrity, validation or shapes step is refused by run and parity (exit 2); a model ci passes
    runs (and parity compares it rather than refusing it)."""
    paths = [os.path.join(HOSTILE, c["file"]) for c in CASES] + _validation_cases(tmp_path)
    refused = accepted = 0
    for path in paths:
        r = ci(path, "--format", "json")
        if r.returncode == 2:
            gate_fails = True
        else:
            report = json.loads(r.stdout)
            gate_fails = any(d["severity"] == "error" for s in report["steps"][:3] for d in s["diagnostics"])
        run = subprocess.run([tool("resnet-check"), "run", path, "--size", "32"], capture_output=True, text=True, timeout=120)
        parity = subprocess.run([tool("resnet-check"), "parity", path, path, "--size", "32"], capture_output=True, text=True, timeout=120)
        if gate_fails:
            refused += 1
            assert run.returncode == 2, (path, run.stdout, run.stderr)
            assert parity.returncode == 2, (path, parity.stdout, parity.stderr)
        elif r.returncode == 0:
            accepted += 1
            assert run.returncode == 0, (path, run.stderr)
            # Not refused; a NaN output may still fail the comparison with itself (exit 1).
            assert parity.returncode in (0, 1), (path, parity.stderr)
    assert refused >= 190 and accepted >= 10, (refused, accepted)
