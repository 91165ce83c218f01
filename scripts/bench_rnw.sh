#!/usr/bin/env bash
# Benchmark (not a test): .onnx -> .rnw conversion and .rnw loading on
# torchvision-shaped models. The writer fsyncs (atomic, durable output), so
# dd's copy of the same bytes, with and without fsync, is printed alongside as
# the disk's own ceiling. Prints, per model: convert wall time and MB/s
# (median of 3 whole-process runs), peak RSS and its ratio to the file size,
# and in-process .rnw load time with and without data CRCs.
# Usage: scripts/bench_rnw.sh [MODEL ...]   (default: resnet50 resnet152)
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_BENCH_TOOLS=1 scripts/setup
swift build -c release --product resnet-convert >/dev/null
swift build -c release --product model-load-bench >/dev/null
bin="$(swift build -c release --show-bin-path)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for arch in "${@:-resnet50 resnet152}"; do
  for a in $arch; do
    model=.cache/models/$a/model.onnx
    [ -f "$model" ] || .venv/bin/python scripts/make_fixtures.py --large "$a" --no-reference >/dev/null
    size=$(stat -c %s "$model")
    for dir in "onnx->rnw" "rnw->onnx"; do
      src=$model; dst=$out/$a.rnw
      [ "$dir" = "rnw->onnx" ] && { src=$out/$a.rnw; dst=$out/$a.back.onnx; }
      runs=()
      for i in 1 2 3; do
        /usr/bin/time -f "%e %M" -o "$out/time" "$bin/resnet-convert" "$src" "$dst" -q
        runs+=("$(cat "$out/time")")
      done
      printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p | {
        read -r wall rss
        python3 -c "
s=$size; w=$wall; r=$rss*1024
print(f'$a $dir: {s/1e6:.1f} MB in {w:.2f} s (median of 3) = {s/1e6/w:.0f} MB/s; peak RSS {r/1e6:.0f} MB = {r/s:.2f}x the file')"
      }
    done
    # Peer in the same run: copying the same bytes with dd, with and without fsync.
    for mode in "" "conv=fsync"; do
      /usr/bin/time -f "%e" -o "$out/time" dd if="$model" of="$out/dd.bin" bs=1M $mode status=none
      t=$(cat "$out/time")
      python3 -c "print(f'$a dd ${mode:-(no fsync)}: {$size/1e6:.1f} MB in {$t:.2f} s = {$size/1e6/$t:.0f} MB/s')"
    done
    rm -f "$out/dd.bin"
    "$bin/model-load-bench" "$out/$a.rnw" 10 | sed "s|^$out/||"
  done
done
