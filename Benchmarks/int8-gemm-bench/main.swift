// int8-gemm-bench: the integer GEMM alone (Int8Gemm.gemm, requantizing in the tile) on
// resnet50's convolution shapes as the planner runs them whole (issue 11, int8): for each
// shape (M = output channels, K = input channels x kh x kw, N = output positions) GOP/s of
// the product on its interleaved operand, against the integer tile's measured peak, with
// the K slice at the plan's depth (the tile's sliceDepth) and at others. Where a layer's product loses shows
// here without the operand's construction or the rest of the model.
//
//     swift build -c release --product int8-gemm-bench && .build/release/int8-gemm-bench [--threads 1] [--kc -1,512,1024,0] [--tile vnni|avx2|avx2-bytes]
//         [--saturating] [--bytes] [--cold] [--transposed]
//     (--kc 0: one slice of the whole K; -1: the plan's, the tile's sliceDepth)
// The weights are within ±30, so AVX2 on bytes never flags a pair here: its figures are those of
// a product with nothing to correct (the scan's cost included). `--saturating` takes weights of
// ±127 and activations of 200...255 instead: every pair flagged, every panel of AVX2 on bytes run
// as its two exact halves (Int8Gemm.correctSaturation), its worst case.
// `--transposed` times the transposed VNNI product instead (Int8Gemm.gemmTransposed, the planner's for
// narrow outputs: resnet50's layer4), whose K slice is fixed (Int8Tile.kc): one column, the plan's.
// `--bytes` writes the requantized outputs as bytes alone, as a model's convs read by the next conv
// do; `--cold` writes 64 MB before each call and reads the operand again, so the weights and the
// output come from memory and the operand from cache, as in a model run (session 28, Zen 4: the
// 56x56 3x3 at 68-72% of the peak so, 88-90% warm).
import Dispatch
import Glibc
import ResNetKernelsInt8
import ResNetKernelsReference

struct Shape { let name: String, m: Int, k: Int, n: Int }

// resnet50 at 224x224 as products: 3x3s tap-major (K = 9 C), pointwise convs whole.
let shapes: [Shape] = [
    Shape(name: "l1 3x3 64", m: 64, k: 576, n: 3136),
    Shape(name: "l1 1x1 256>64", m: 64, k: 256, n: 3136),
    Shape(name: "l1 1x1 64>256", m: 256, k: 64, n: 3136),
    Shape(name: "l2 3x3 128", m: 128, k: 1152, n: 784),
    Shape(name: "l2 1x1 512>128", m: 128, k: 512, n: 784),
    Shape(name: "l2 1x1 128>512", m: 512, k: 128, n: 784),
    Shape(name: "l3 3x3 256", m: 256, k: 2304, n: 196),
    Shape(name: "l3 1x1 1024>256", m: 256, k: 1024, n: 196),
    Shape(name: "l3 1x1 256>1024", m: 1024, k: 256, n: 196),
    Shape(name: "l4 3x3 512", m: 512, k: 4608, n: 49),
    Shape(name: "l4 1x1 512>2048", m: 2048, k: 512, n: 49),
]

var threads = 1
var depths = [-1, 512, 1024, 0]
var tile = Int8Tile.vnni.isSupported ? Int8Tile.vnni : .avx2
var saturating = false
var cold = false
// --bytes: the requantized outputs written as bytes alone (a model's convs read by the next conv), not floats.
var bytesOut = false
// --transposed: the transposed VNNI product (Int8Gemm.gemmTransposed, as the planner runs narrow outputs) instead of the plain tile's.
var transposed = false
nonisolated(unsafe) var blackHole: UInt8 = 0
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--threads": threads = Int(args.popFirst() ?? "") ?? threads
    case "--kc": depths = (args.popFirst() ?? "").split(separator: ",").compactMap { Int($0) }.filter { $0 == -1 || ($0 >= 0 && $0 % 4 == 0) }
    case "--tile" where ![nil, .reference].contains(Int8Tile(rawValue: args.first ?? "")): tile = Int8Tile(rawValue: args.popFirst()!)!
    case "--saturating": saturating = true
    case "--cold": cold = true
    case "--bytes": bytesOut = true
    case "--transposed": transposed = true
    default:
        print("usage: int8-gemm-bench [--threads N] [--kc -1,512,1024,0] [--tile vnni|avx2|avx2-bytes] [--saturating] [--bytes] [--cold] [--transposed]")
        exit(64)
    }
}
// The transposed product slices K at Int8Tile.kc whatever --kc says: one column.
if transposed { depths = [-1] }
guard tile.isSupported, threads >= 1, !depths.isEmpty, !transposed || (tile == .vnni && !bytesOut) else { print("needs the \(tile) tile (CPUID), --threads >= 1, --kc depths that are multiples of 4, and --transposed the vnni tile without --bytes"); exit(0) }

let peak = Int8KernelPeak.measure(tile, seconds: 0.3)
print("\(tile) tile peak \(Int(peak)) GOP/s per core; \(threads) thread(s); best and median of 15 calls after 3, GOP/s (% of peak x threads)")
var seed: UInt64 = 0x2545_F491_4F6C_DD1D
func next() -> UInt8 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return UInt8(truncatingIfNeeded: seed >> 33) }
let workspace = Int8GemmWorkspace(threads: threads)
// --cold: 64 MB written before each call, so the weights and the operand come from memory, as in a model run.
var evictBuffer = [UInt8](repeating: 0, count: 64 << 20)
func evict() { evictBuffer.withUnsafeMutableBufferPointer { p in for i in stride(from: 0, to: p.count, by: 64) { p[i] &+= 1 } } }
print("shape".padding(toLength: 20, withPad: " ", startingAt: 0) + depths.map { ("kc " + ($0 == 0 ? "K" : $0 < 0 ? "plan's" : String($0))).padding(toLength: 26, withPad: " ", startingAt: 0) }.joined())
for s in shapes {
    let layout = Int8BLayout(k: s.k, n: s.n, tile: tile)
    let weights = (0..<(s.m * s.k)).map { _ in saturating ? (next() % 2 == 0 ? Int8(127) : -127) : Int8(truncatingIfNeeded: Int(next() % 61) - 30) }
    // B in the plans' own scratch (64-byte aligned, as the executor's operand is), not an Array's
    // storage (16 bytes past a page when large: every other AVX2 load of B split across two lines).
    let scratch = Int8Scratch(threads: 1)
    scratch.reserve(plane: 1, operand: layout, accumulators: 1, columnSums: 1)
    for i in 0..<layout.count {
        let value = saturating ? 200 + next() % 56 : next()
        if tile == .avx2 { scratch.halves[i] = Int16(value) } else { scratch.bytes[i] = value }
    }
    // Twice M x N with --transposed: Cᵀ beside C (Int8ProductWeights.gemm's contract).
    var sums = [Int32](repeating: 0, count: 2 * s.m * s.n), output = [Float](repeating: 0, count: s.m * s.n)
    let ops = 2.0 * Double(s.m * s.k * s.n)
    var line = s.name.padding(toLength: 20, withPad: " ", startingAt: 0)
    for depth in depths {
        let kc = depth == 0 ? (s.k + 3) / 4 * 4 : depth < 0 ? tile.sliceDepth(k: s.k) : depth
        let packed = weights.withUnsafeBufferPointer { PackedInt8Weights(weights: $0.baseAddress!, m: s.m, k: s.k, tile: tile, kc: kc) }
        let multipliers: [Float] = (0..<s.m).map { i in 0.0007 + Float(i % 13) * 0.0001 }
        let biases: [Int32] = (0..<s.m).map { i in Int32(i * 37 - 100) }
        let r = Requantization(multiplier: multipliers, bias: biases,
                               weightRowSums: packed.rowSums, weightZeroPoints: Array(repeating: 0, count: s.m), inputZeroPoint: 117,
                               outputZeroPoint: 5, range: .uint8, k: s.k)
        let fused = Int8FusedRequantization(r)!
        let channelWeights = transposed
            ? Int8ProductWeights.channels(weights.withUnsafeBufferPointer { PackedInt8ChannelWeights(weights: $0.baseAddress!, m: s.m, k: s.k) }) : nil
        var times: [Double] = []
        sums.withUnsafeMutableBufferPointer { c in
            output.withUnsafeMutableBufferPointer { o in
                for rep in 0..<18 {
                    if cold {
                        evict()
                        // The operand warm again, as a model's is (its producer just wrote it).
                        var touch: UInt8 = 0
                        for i in stride(from: 0, to: layout.count, by: 64) { touch &+= scratch.bytes[i] }
                        blackHole = touch
                    }
                    let start = DispatchTime.now().uptimeNanoseconds
                    if let channelWeights {
                        channelWeights.gemm(layout: layout, bytes: scratch.bytes, halves: scratch.halves, c: c.baseAddress!, ldc: s.n,
                                            workspace: workspace, requantize: (fused, output: o.baseAddress!, ldo: s.n))
                    } else if bytesOut {
                        o.withMemoryRebound(to: UInt8.self) { ob in
                            Int8Gemm.gemm(weights: packed, layout: layout, bytes: scratch.bytes, halves: scratch.halves, c: c.baseAddress!, ldc: s.n,
                                          workspace: workspace, requantize: (fused, output: nil, ldo: s.n), byteImage: (ob.baseAddress!, offset: 0))
                        }
                    } else {
                        Int8Gemm.gemm(weights: packed, layout: layout, bytes: scratch.bytes, halves: scratch.halves, c: c.baseAddress!, ldc: s.n,
                                      workspace: workspace, requantize: (fused, output: o.baseAddress!, ldo: s.n))
                    }
                    if rep >= 3 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start)) }
                }
            }
        }
        times.sort()
        let best = ops / times[0], median = ops / times[times.count / 2]
        line += "\(Int(best)) / \(Int(median)) (\(Int(100 * best / (peak * Double(threads))))%)".padding(toLength: 26, withPad: " ", startingAt: 0)
    }
    print(line)
}
