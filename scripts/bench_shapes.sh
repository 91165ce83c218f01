#!/usr/bin/env bash
# Benchmark (not a test): whole-process time of `resnet-check shapes` next to
# onnx.load + onnx.checker.check_model(full_check=True) +
# onnx.shape_inference.infer_shapes on the same files, in the same run
# (hyperfine, 5 runs each after a warm-up). Prints means and the ratio.
# Usage: scripts/bench_shapes.sh [MODEL ...]   (default: resnet50 resnet152)
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_BENCH_TOOLS=1 scripts/setup
command -v hyperfine >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get install -y -qq hyperfine >/dev/null; }
swift build -c release --product resnet-check >/dev/null
bin="$(swift build -c release --show-bin-path)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cat > "$out/onnx_check.py" <<'PY'
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
onnx.shape_inference.infer_shapes(m)
PY
models=("$@"); [ ${#models[@]} -gt 0 ] || models=(resnet50 resnet152)
for a in "${models[@]}"; do
  model=.cache/models/$a/model.onnx
  [ -f "$model" ] || .venv/bin/python scripts/make_fixtures.py --large "$a" --no-reference >/dev/null
  hyperfine -N -w 1 -r 5 --export-json "$out/h.json" \
    -n resnet-check "$bin/resnet-check shapes $model --format json" \
    -n onnx ".venv/bin/python $out/onnx_check.py $model" >/dev/null
  python3 - "$out/h.json" "$a" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
ours, theirs = r["resnet-check"]["mean"], r["onnx"]["mean"]
print(f"{sys.argv[2]}: resnet-check shapes {ours*1e3:.0f} ms ± {r['resnet-check']['stddev']*1e3:.0f}; "
      f"onnx load+check(full)+infer_shapes {theirs*1e3:.0f} ms ± {r['onnx']['stddev']*1e3:.0f}; ratio {ours/theirs:.3f}x")
PY
done
