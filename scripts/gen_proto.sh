#!/usr/bin/env bash
# Regenerates the protobuf-c code for schemas/onnx.proto into Sources/ONNXProtoC.
# The output is committed so that builds need no generator; run this after
# editing the schema (needs Debian's protobuf-c-compiler).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
protoc-c --proto_path=schemas --c_out="$out" schemas/onnx.proto
mkdir -p Sources/ONNXProtoC/include
# SwiftPM wants public headers under include/; the .c file includes "onnx.pb-c.h".
cp "$out/onnx.pb-c.h" Sources/ONNXProtoC/include/onnx.pb-c.h
cp "$out/onnx.pb-c.c" Sources/ONNXProtoC/onnx.pb-c.c
echo "generated with $(protoc-c --version | head -1) from schemas/onnx.proto"
