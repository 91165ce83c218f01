// swift-tools-version:6.0
// resnet-tools: convert, validate and run ResNet-family models stored as ONNX.
//
// One target per layer; dependencies point one way:
//   C shims (CProtobufC, CZlib, ONNXProtoC) -> ResNetSystem (POSIX) -> ResNetIR
//   -> formats (ResNetONNX, ResNetRNW, ResNetSafetensors; ResNetTorchvision graphs)
//   -> tools (ResNetCLI) -> executables.
// Only one file per layer touches a C module (see README "Layout").
import PackageDescription

/// Byte-crunching code (the ONNX wire scan) is optimised even in debug builds,
/// so the hostile-input sweeps in the test suite run in seconds.
let optimizedInDebug: [SwiftSetting] = [
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]

/// SIMD kernel targets (the executor, issue 5) also get AVX2/FMA: without
/// -march=x86-64-v3 each SIMD8<Float> FMA becomes 8 fmaf calls. Only kernel
/// targets get it, so the other tools still run on CPUs without AVX2.
let simdKernelSettings: [SwiftSetting] = optimizedInDebug + [
    .unsafeFlags(["-Xcc", "-march=x86-64-v3"]),
]

/// The AVX-512 kernel set: SIMD16<Float> FMAs become zmm instructions only for
/// x86-64-v4. Its code runs only where CPUID reports AVX-512 (KernelSet.detect).
let avx512KernelSettings: [SwiftSetting] = optimizedInDebug + [
    .unsafeFlags(["-Xcc", "-march=x86-64-v4"]),
]

let package = Package(
    name: "resnet-tools",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "resnet-convert", targets: ["resnet-convert"]),
        .executable(name: "resnet-check", targets: ["resnet-check"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    ],
    targets: [
        // MARK: C shims
        // Linked by what pkg-config says (no `link` in the module maps), so
        // scripts/package can point PKG_CONFIG_PATH at .pc files naming the
        // static archives and ship binaries without these .so dependencies.
        .systemLibrary(
            name: "CProtobufC", pkgConfig: "libprotobuf-c",
            providers: [.apt(["libprotobuf-c-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // protoc-c output for schemas/onnx.proto (scripts/gen_proto.sh), committed.
        .target(
            name: "ONNXProtoC", dependencies: ["CProtobufC"],
            cSettings: [.unsafeFlags(["-Wno-everything"])]),

        // MARK: Swift layers
        .target(name: "ResNetSystem"),
        .target(name: "ResNetIR", dependencies: ["ResNetSystem"], swiftSettings: optimizedInDebug),
        .target(
            name: "ResNetONNX", dependencies: ["ResNetIR", "ResNetSystem", "ONNXProtoC"],
            swiftSettings: optimizedInDebug),
        .target(
            name: "ResNetRNW", dependencies: ["ResNetIR", "ResNetSystem", "CZlib"],
            swiftSettings: optimizedInDebug),
        // Weights-only files (issue 12): safetensors, and the torchvision graphs a state dict fills.
        .target(name: "ResNetSafetensors", dependencies: ["ResNetIR", "ResNetSystem"], swiftSettings: optimizedInDebug),
        .target(name: "ResNetTorchvision", dependencies: ["ResNetIR"]),
        // Shape rules and integer constant folding, shared by the checker and the executor.
        .target(name: "ResNetShapes", dependencies: ["ResNetIR"], swiftSettings: optimizedInDebug),
        .target(name: "ResNetCheck", dependencies: ["ResNetIR", "ResNetShapes"], swiftSettings: optimizedInDebug),
        // Executor kernels: portable scalar twins (and ops that need no SIMD), then the SIMD ones.
        .target(name: "CCPU"),
        .target(name: "CParallel", cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "ResNetKernelsReference", dependencies: ["CCPU", "CParallel"], swiftSettings: optimizedInDebug),
        .target(name: "ResNetKernels", dependencies: ["ResNetKernelsReference"], swiftSettings: simdKernelSettings),
        .target(name: "ResNetKernelsAVX512", dependencies: ["ResNetKernelsReference"], swiftSettings: avx512KernelSettings),
        // Integer (int8) GEMM tiles (issue 13): C, because Swift cannot ask for vpdpbusd; each
        // function carries its own target attribute, so no -march flag. -O2 even in debug.
        .target(name: "CInt8Tiles", cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "ResNetKernelsInt8", dependencies: ["CInt8Tiles", "ResNetKernelsReference"], swiftSettings: optimizedInDebug),
        .target(name: "ResNetExec", dependencies: ["ResNetIR", "ResNetShapes", "ResNetSystem", "ResNetKernels", "ResNetKernelsAVX512", "ResNetKernelsInt8", "ResNetKernelsReference"],
                swiftSettings: optimizedInDebug),
        .target(
            name: "ResNetCLI",
            dependencies: [
                "ResNetIR", "ResNetONNX", "ResNetRNW", "ResNetSafetensors", "ResNetTorchvision", "ResNetShapes", "ResNetCheck", "ResNetExec", "ResNetSystem",
                "ResNetKernelsReference",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .executableTarget(name: "resnet-convert", dependencies: ["ResNetCLI"]),
        .executableTarget(name: "resnet-check", dependencies: ["ResNetCLI"]),
        // Seeded IR-level mutants through the checker and the executor (tests and scripts/mutation_sweep.sh).
        .target(name: "ResNetMutation", dependencies: ["ResNetIR", "ResNetCheck", "ResNetExec", "ResNetSystem"],
                swiftSettings: optimizedInDebug),
        .executableTarget(name: "mutation-sweep", dependencies: ["ResNetMutation", "ResNetONNX", "ResNetIR", "ResNetSystem"],
            path: "Benchmarks/mutation-sweep", swiftSettings: optimizedInDebug),
        .executableTarget(name: "gemm-bench", dependencies: ["ResNetKernels", "ResNetKernelsAVX512", "ResNetKernelsReference"],
            path: "Benchmarks/gemm-bench", swiftSettings: optimizedInDebug),
        .executableTarget(name: "int8-gemm-bench", dependencies: ["ResNetKernelsInt8", "ResNetKernelsReference"],
            path: "Benchmarks/int8-gemm-bench", swiftSettings: optimizedInDebug),
        .executableTarget(name: "ab-inproc", dependencies: ["ResNetExec", "ResNetONNX", "ResNetKernelsReference"],
            path: "Benchmarks/ab-inproc", swiftSettings: optimizedInDebug),
        .executableTarget(name: "model-load-bench", dependencies: ["ResNetONNX", "ResNetRNW", "ResNetSystem"],
            path: "Benchmarks/model-load-bench", swiftSettings: optimizedInDebug),

        // MARK: Fuzzing (issue 10): entries shared by the libFuzzer builds (scripts/fuzz,
        // -sanitize=fuzzer -D FUZZING) and the tests that replay fixtures/fuzz.
        .target(name: "ResNetFuzz", dependencies: ["ResNetCLI", "ResNetCheck", "ResNetIR", "ResNetONNX", "ResNetRNW", "ResNetSafetensors", "ResNetShapes"],
                swiftSettings: optimizedInDebug),
        .executableTarget(name: "fuzz-onnx", dependencies: ["ResNetFuzz"], path: "Fuzz/fuzz-onnx"),
        .executableTarget(name: "fuzz-rnw", dependencies: ["ResNetFuzz"], path: "Fuzz/fuzz-rnw"),
        .executableTarget(name: "fuzz-ci", dependencies: ["ResNetFuzz"], path: "Fuzz/fuzz-ci"),
        .executableTarget(name: "fuzz-safetensors", dependencies: ["ResNetFuzz"], path: "Fuzz/fuzz-safetensors"),

        // MARK: Tests
        .testTarget(
            name: "ResNetONNXTests", dependencies: ["ResNetONNX", "ResNetIR", "ResNetSystem"]),
        .testTarget(
            name: "ResNetRNWTests", dependencies: ["ResNetRNW", "ResNetIR"]),
        .testTarget(
            name: "ResNetSafetensorsTests", dependencies: ["ResNetSafetensors", "ResNetTorchvision", "ResNetIR"]),
        .testTarget(
            name: "ResNetMutationTests", dependencies: ["ResNetMutation", "ResNetONNX", "ResNetIR"]),
        .testTarget(
            name: "ResNetShapesTests", dependencies: ["ResNetShapes", "ResNetIR"]),
        .testTarget(
            name: "ResNetCheckTests", dependencies: ["ResNetCheck", "ResNetShapes", "ResNetIR", "ResNetONNX"]),
        .testTarget(
            name: "ResNetExecTests", dependencies: ["ResNetExec", "ResNetONNX", "ResNetIR", "ResNetKernelsReference", "ResNetShapes"], swiftSettings: optimizedInDebug),
        .testTarget(
            name: "ResNetKernelsTests", dependencies: ["ResNetKernels", "ResNetKernelsAVX512", "ResNetKernelsReference", "ResNetKernelsInt8"],
            swiftSettings: optimizedInDebug),
        .testTarget(name: "ResNetFuzzTests", dependencies: ["ResNetFuzz", "ResNetIR", "ResNetONNX", "ResNetRNW", "ResNetSafetensors"], swiftSettings: optimizedInDebug),
        .testTarget(
            name: "ResNetCLITests", dependencies: ["ResNetCLI", "ResNetKernelsReference", "resnet-convert", "resnet-check"],
            exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v5]
)
