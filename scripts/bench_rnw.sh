#!/usr/bin/env bash
# Benchmark (not a test): .onnx <-> .rnw conversion and .rnw loading on
# torchvision-shaped models, with the disk's own ceiling measured in the same
# run: the writer fsyncs (atomic, durable output), so dd copying the same bytes
# with conv=fsync is the peer to compare with.
# Prints per model: mean wall time (hyperfine, 6 runs) and MB/s of
#   onnx->rnw, rnw->onnx, dd conv=fsync, dd without fsync; ratios to dd;
#   peak RSS of each conversion and its ratio to the file size;
#   in-process .rnw load time with and without data CRCs.
# Usage: scripts/bench_rnw.sh [MODEL ...]   (default: resnet50 resnet152)
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_BENCH_TOOLS=1 scripts/setup
command -v hyperfine >/dev/null || { sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo; $sudo apt-get install -y -qq hyperfine >/dev/null; }
swift build -c release --product resnet-convert >/dev/null
swift build -c release --product model-load-bench >/dev/null
bin="$(swift build -c release --show-bin-path)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
models=("$@"); [ ${#models[@]} -gt 0 ] || models=(resnet50 resnet152)
for a in "${models[@]}"; do
  model=.cache/models/$a/model.onnx
  [ -f "$model" ] || .venv/bin/python scripts/make_fixtures.py --large "$a" --no-reference >/dev/null
  "$bin/resnet-convert" "$model" "$out/$a.rnw" -q
  hyperfine -N -w 1 -r 6 --export-json "$out/h.json" \
    -n onnx-to-rnw "$bin/resnet-convert $model $out/o.rnw -q" \
    -n rnw-to-onnx "$bin/resnet-convert $out/$a.rnw $out/o.onnx -q" \
    -n dd-fsync "dd if=$model of=$out/dd.bin bs=1M conv=fsync status=none" \
    -n dd-no-fsync "dd if=$model of=$out/dd.bin bs=1M status=none" >/dev/null
  /usr/bin/time -f "%M" -o "$out/rss1" "$bin/resnet-convert" "$model" "$out/o.rnw" -q
  /usr/bin/time -f "%M" -o "$out/rss2" "$bin/resnet-convert" "$out/$a.rnw" "$out/o.onnx" -q
  python3 - "$out/h.json" "$(stat -c %s "$model")" "$(cat "$out/rss1")" "$(cat "$out/rss2")" "$a" <<'PY'
import json, sys
runs = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
size, rss = int(sys.argv[2]), {"onnx-to-rnw": int(sys.argv[3]) * 1024, "rnw-to-onnx": int(sys.argv[4]) * 1024}
dd = runs["dd-fsync"]["mean"]
print(f"{sys.argv[5]} ({size / 1e6:.1f} MB):")
for name, r in runs.items():
    line = f"  {name:12s} {r['mean'] * 1e3:7.0f} ms ± {r['stddev'] * 1e3:4.0f}  {size / 1e6 / r['mean']:6.0f} MB/s  {r['mean'] / dd:5.2f}x dd-fsync time"
    if name in rss:
        line += f"  peak RSS {rss[name] / 1e6:.0f} MB = {rss[name] / size:.2f}x the file"
    print(line)
PY
  "$bin/model-load-bench" "$out/$a.rnw" 10 | sed "s|^$out/||"
done
