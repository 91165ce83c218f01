#!/usr/bin/env bash
# Benchmark (not a test): ONNX parse time of resnet-tools vs onnx.load on the
# same file, same machine, same run. Prints both and the ratio.
# Usage: scripts/bench_parse.sh [resnet50|resnet152|PATH.onnx] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_BENCH_TOOLS=1 scripts/setup
target=${1:-resnet50}
runs=${2:-10}
if [ -f "$target" ]; then model=$target; else
  model=.cache/models/$target/model.onnx
  [ -f "$model" ] || .venv/bin/python scripts/make_fixtures.py --large "$target" --no-reference >/dev/null
fi
swift build -c release --product model-load-bench >/dev/null
swift build -c release --product resnet-convert >/dev/null
bin="$(swift build -c release --show-bin-path)"
ours=$("$bin/model-load-bench" "$model" "$runs")
echo "$ours"
theirs=$(.venv/bin/python - "$model" "$runs" <<'PY'
import sys, time, statistics, onnx
path, runs = sys.argv[1], int(sys.argv[2])
samples = []
for _ in range(runs):
    t0 = time.perf_counter(); m = onnx.load(path); samples.append(time.perf_counter() - t0)
size = len(open(path, "rb").read())
med = statistics.median(samples)
print(f"onnx {onnx.__version__} onnx.load: best {int(min(samples)*1e6)} us, median {int(med*1e6)} us, {int(size/1e6/med)} MB/s (median)")
print(int(med * 1e6))
PY
)
echo "$theirs" | head -1
onnx_us=$(echo "$theirs" | tail -1)
parse_us=$(echo "$ours" | sed -n 's/.*parse            : best [0-9]* us, median \([0-9]*\) us.*/\1/p')
touch_us=$(echo "$ours" | sed -n 's/.*parse+touch      : best [0-9]* us, median \([0-9]*\) us.*/\1/p')
python3 -c "print(f'ratio (median): parse {${parse_us}/${onnx_us}:.3f}x of onnx.load, parse+touch {${touch_us}/${onnx_us}:.3f}x')"
out=$(mktemp -d)
/usr/bin/time -f "resnet-convert onnx->onnx (whole process): %e s wall, peak RSS %M KB" \
  "$bin/resnet-convert" "$model" "$out/out.onnx" -q
rm -rf "$out"
