#!/usr/bin/env bash
# IR-level mutation sweep (issue 8): seeded mutants of every committed fixture
# through the shape checker, the planner and a run. Prints executions, outcomes
# by kind, worst time per mutant and peak memory (GNU time, when installed).
#   scripts/mutation_sweep.sh [COUNT] [SEED]      # default 100000 mutants, seed 1
# A crash names the mutant on stderr's last line; replay it with
#   MUTATION_SWEEP_TRACE=1 .build/debug/mutation-sweep fixtures/*/model.onnx --count 1 --first INDEX --seed SEED
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}
seed=${2:-1}
swift build --product mutation-sweep >/dev/null
bin="$(swift build --show-bin-path)/mutation-sweep"
models=$(ls fixtures/*/model.onnx fixtures/real/*/model.onnx fixtures/quantized/*/model.onnx | grep -v -e encodings -e external-data -e dynamo)
trace=$(mktemp); timefile=$(mktemp)
runner=()
command -v /usr/bin/time >/dev/null && runner=(/usr/bin/time -f "%M %e" -o "$timefile")
status=0
MUTATION_SWEEP_TRACE=1 "${runner[@]}" "$bin" $models --count "$count" --seed "$seed" 2>"$trace" || status=$?
if [ -s "$timefile" ] && read -r kib wall < <(tail -n 1 "$timefile"); then
  echo "  whole process (GNU time): peak RSS $((kib / 1024)) MiB, wall $wall s"
fi
if [ "$status" -ne 0 ]; then
  echo "mutation sweep FAILED with status $status; last mutant: $(grep '^seed ' "$trace" | tail -n 1)" >&2
  grep -v '^seed ' "$trace" >&2 || true
fi
rm -f "$trace" "$timefile"
exit "$status"
