// Times ONNXReader on one model: best and median of N runs, in-process.
// Two figures, because the reader maps the file and leaves weight pages
// untouched until used: "parse" is map + pre-scan + protobuf-c + IR;
// "parse+touch" also reads every tensor byte once (what a consumer pays
// eventually, and what onnx.load's copy into Python objects includes).
// Usage: onnx-parse-bench MODEL.onnx [RUNS]
import ResNetIR
import ResNetONNX
import ResNetSystem
#if canImport(Glibc)
import Glibc
#endif

let args = CommandLine.arguments
guard args.count >= 2 else {
    ProcessInfoLite.writeStandardError("usage: onnx-parse-bench MODEL.onnx [RUNS]\n")
    exit(64)
}
let path = args[1]
let runs = args.count > 2 ? max(1, Int(args[2]) ?? 10) : 10

func time(_ body: () throws -> Void) rethrows -> Double {
    let t0 = ProcessInfoLite.monotonicSeconds()
    try body()
    return ProcessInfoLite.monotonicSeconds() - t0
}

/// Reads every byte of every tensor (a sum, so the compiler cannot drop it).
func touch(_ model: Model) -> UInt64 {
    var sum: UInt64 = 0
    for t in model.graph.initializers {
        t.data.withUnsafeBytes { bytes in
            let words = bytes.count / 8
            for i in 0..<words { sum &+= bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self) }
        }
    }
    return sum
}

var parse: [Double] = [], touched: [Double] = []
var size = 0, tensors = 0, checksum: UInt64 = 0
do {
    for _ in 0..<runs {
        parse.append(try time {
            let r = try ONNXReader.read(path: path)
            size = r.fileSize
            tensors = r.model.graph.initializers.count
        })
        touched.append(try time { checksum &+= touch(try ONNXReader.read(path: path).model) })
    }
} catch {
    ProcessInfoLite.writeStandardError("onnx-parse-bench: \(error)\n")
    exit(2)
}

func report(_ label: String, _ samples: [Double]) {
    let sorted = samples.sorted()
    let best = sorted[0], median = sorted[sorted.count / 2]
    let mbps = Double(size) / 1e6 / median
    print("\(label): best \(Int(best * 1e6)) us, median \(Int(median * 1e6)) us, \(Int(mbps)) MB/s (median)")
}
print("resnet-tools ONNXReader on \(path): \(size) bytes, \(tensors) initializers, \(runs) runs")
report("  parse       ", parse)
report("  parse+touch ", touched)
if checksum == 42 { print("") }  // keeps the sum alive
