// Times loading one model in-process: best and median of N runs.
//   .onnx: "parse" = map + pre-scan + protobuf-c + IR (weights left mapped);
//          "parse+touch" also reads every tensor byte once (what onnx.load's
//          copy into Python objects includes).
//   .rnw:  "load+crc" = map + preamble + header + table + every CRC;
//          "load, crc skipped" = the same without data checksums.
// Usage: model-load-bench MODEL [RUNS]
import ResNetIR
import ResNetONNX
import ResNetRNW
import ResNetSystem
#if canImport(Glibc)
import Glibc
#endif

let args = CommandLine.arguments
guard args.count >= 2 else {
    ProcessInfoLite.writeStandardError("usage: model-load-bench MODEL.onnx|MODEL.rnw [RUNS]\n")
    exit(64)
}
let path = args[1]
let runs = args.count > 2 ? max(1, Int(args[2]) ?? 10) : 10

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = ProcessInfoLite.monotonicSeconds()
    try body()
    return ProcessInfoLite.monotonicSeconds() - t0
}

/// Reads every byte of every tensor (a sum, so the compiler cannot drop it).
func touch(_ model: Model) -> UInt64 {
    var sum: UInt64 = 0
    for t in model.graph.initializers {
        t.data.withUnsafeBytes { bytes in
            for i in 0..<(bytes.count / 8) { sum &+= bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) }
        }
    }
    return sum
}

var first: [Double] = [], second: [Double] = []
var size = 0, tensors = 0, checksum: UInt64 = 0
let isRNW = path.hasSuffix(".rnw")
do {
    for _ in 0..<runs {
        if isRNW {
            first.append(try seconds { let r = try RNWReader.read(path: path); size = r.fileSize; tensors = r.tensors.count })
            second.append(try seconds { _ = try RNWReader.read(path: path, options: RNWReadOptions(verifyData: false)) })
        } else {
            first.append(try seconds { let r = try ONNXReader.read(path: path); size = r.fileSize; tensors = r.model.graph.initializers.count })
            second.append(try seconds { checksum &+= touch(try ONNXReader.read(path: path).model) })
        }
    }
} catch {
    ProcessInfoLite.writeStandardError("model-load-bench: \(error)\n")
    exit(2)
}

func report(_ label: String, _ samples: [Double]) {
    let sorted = samples.sorted()
    let median = sorted[sorted.count / 2]
    print("  \(label): best \(Int(sorted[0] * 1e6)) us, median \(Int(median * 1e6)) us, \(Int(Double(size) / 1e6 / median)) MB/s (median)")
}
print("\(path): \(size) bytes, \(tensors) tensors, \(runs) runs")
report(isRNW ? "load+crc         " : "parse            ", first)
report(isRNW ? "load, crc skipped" : "parse+touch      ", second)
if checksum == 42 { print("") }  // keeps the sum alive
