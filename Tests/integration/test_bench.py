"""`resnet-check bench` (issue 11): its JSON report holds to schemas/bench-report.schema.json
on every kernel set this CPU runs; float layers are rated against the float tile's peak and
an int8 model's integer layers against the integer tile's own (measured) peak; the text
report says which; bad arguments are usage errors (exit 64) and an unreadable model exits 2."""
import json
import os
import subprocess

import jsonschema
import pytest

from conftest import FIXTURES, ROOT, tool

SCHEMA = json.load(open(os.path.join(ROOT, "schemas", "bench-report.schema.json")))
FLOAT = os.path.join(FIXTURES, "v1.5", "model.onnx")
INT8 = os.path.join(FIXTURES, "quantized", "v1.5-qdq", "model.onnx")


def bench(*args):
    return subprocess.run([tool("resnet-check"), "bench", *args], capture_output=True, text=True, timeout=300)


def report(*args):
    if "--profile-runs" not in args:
        args = (*args, "--profile-runs", "1")  # one profiled run is enough to check the report's shape
    r = bench(*args, "--runs", "2", "--warmup", "1", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    jsonschema.validate(out, SCHEMA)
    return out


def supported(kernels):
    return subprocess.run([tool("resnet-check"), "run", FLOAT, "--kernels", kernels], capture_output=True).returncode == 0


@pytest.mark.parametrize("kernels", ["avx512", "avx2", "reference"])
def test_float_report(kernels):
    if not supported(kernels):
        pytest.skip(f"this CPU does not run {kernels}")
    out = report(FLOAT, "--kernels", kernels, "--threads", "2", "--top", "50")
    assert out["kernels"] == kernels and out["threads"] == 2 and out["runs"] == 2
    assert out["gmacs"] > 0 and out["p50_ms"] > 0 and out["min_ms"] <= out["p50_ms"] <= out["p90_ms"]
    assert "kernel_peak_int8_gops_per_core" not in out
    assert not any(l["integer"] for l in out["layers"])
    convs = [l for l in out["layers"] if l["op"] == "Conv"]
    assert convs and all(l["gflops_per_second"] > 0 for l in convs)
    # Each conv names the kernel set and the algorithm its plan chose; other steps name none.
    assert all(l["kernel"].startswith("reference" if kernels == "reference" else kernels) for l in convs)
    assert all("kernel" not in l for l in out["layers"] if l["op"] not in ("Conv", "Gemm", "MatMul"))
    if kernels == "reference":
        assert out["kernel_peak_gflops_per_core"] == 0 and "percent_of_peak" not in out
    else:
        assert out["kernel_peak_gflops_per_core"] > 0 and out["percent_of_peak"] > 0
        # A layer's percentage is its rate over the float peak x threads.
        peak = out["kernel_peak_gflops_per_core"] * 2
        for l in convs:
            assert l["percent_of_peak"] == pytest.approx(100 * l["gflops_per_second"] / peak, rel=1e-9)


@pytest.mark.parametrize("kernels", ["avx512", "avx2"])
def test_int8_layers_are_rated_against_the_integer_tile(kernels):
    if not supported(kernels):
        pytest.skip(f"this CPU does not run {kernels}")
    out = report(INT8, "--kernels", kernels, "--top", "100")
    threads = out["threads"]
    int_peak, float_peak = out["kernel_peak_int8_gops_per_core"] * threads, out["kernel_peak_gflops_per_core"] * threads
    assert int_peak > 0 and float_peak > 0
    integer = [l for l in out["layers"] if l["integer"]]
    assert integer and {l["op"] for l in integer} <= {"QLinearConv", "QLinearMatMul", "QGemm"}
    # Each names the integer tile it ran on: VNNI where the CPU has it on the AVX-512 set, else AVX2's.
    assert all(l["kernel"].split()[:2] in (["int8", "vnni"], ["int8", "avx2"], ["int8", "avx2-bytes"]) for l in integer)
    assert kernels == "avx512" or all(l["kernel"].split()[1] != "vnni" for l in integer)
    # The rest (quantize, dequantize, integer adds and pools) has no multiply-adds to rate.
    assert all(l["gflops_per_second"] == 0 and "percent_of_peak" not in l for l in out["layers"] if not l["integer"])
    for l in integer:
        assert l["percent_of_peak"] == pytest.approx(100 * l["gflops_per_second"] / int_peak, rel=1e-9)
    # The whole run: the time its multiply-adds take at the two peaks over p50, so below
    # what the float peak alone would give for the same rate.
    assert 0 < out["percent_of_peak"] < 100 * out["gflops_per_second"] / float_peak


def test_text_report_names_the_integer_tile():
    r = bench(INT8, "--runs", "1", "--warmup", "0", "--top", "3")
    assert r.returncode == 0, r.stderr
    assert "integer tile:" in r.stdout and "GOP/s (int8)" in r.stdout
    r = bench(FLOAT, "--runs", "1", "--warmup", "0", "--top", "3")
    assert r.returncode == 0, r.stderr
    assert "integer tile" not in r.stdout and "GFLOP/s" in r.stdout


def test_profile_runs_are_reported():
    out = report(FLOAT, "--profile-runs", "3", "--top", "5")
    assert out["profile_runs"] == 3 and len(out["layers"]) == 5
    r = bench(FLOAT, "--runs", "1", "--warmup", "0", "--top", "1", "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["profile_runs"] == 5, r.stderr  # the default
    r = bench(FLOAT, "--runs", "1", "--warmup", "0", "--top", "2")
    assert r.returncode == 0 and "slowest layers (median of 5 profiled runs):" in r.stdout, r.stderr
    r = bench(FLOAT, "--runs", "1", "--warmup", "0", "--top", "2", "--profile-runs", "1")
    assert r.returncode == 0, r.stderr
    assert "slowest layers (median of 1 profiled run):" in r.stdout
    # --top 0: no layers, none profiled.
    out = report(FLOAT, "--top", "0", "--profile-runs", "4")
    assert out["profile_runs"] == 0 and out["layers"] == []


@pytest.mark.parametrize("args", [["--runs", "0"], ["--threads", "0"], ["--batch", "0"], ["--format", "xml"], ["--kernels", "sse"],
                                  ["--profile-runs", "0"], ["--profile-runs", "1001"]])
def test_bad_arguments_are_usage_errors(args):
    r = bench(FLOAT, *args)
    assert r.returncode == 64, (args, r.stdout, r.stderr)
    assert r.stderr.strip()


def test_an_unreadable_model_exits_2(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07\x12\x00garbage")
    r = bench(str(bad), "--runs", "1")
    assert r.returncode == 2 and "bad.onnx" in r.stderr and not r.stdout.strip()
