// gemm-bench: the packed GEMM alone on resnet50's convolution shapes (issue 11).
// For each shape (as GEMM: M = output channels, K = input channels x kh x kw,
// N = output plane) it prints GFLOP/s of the full call (packing B included) and
// of packing B alone, single-threaded and on --threads threads, next to the
// micro-kernel's measured peak: where a layer loses against the peak shows here
// without the rest of the model's noise.
//
//     swift build -c release --product gemm-bench && .build/release/gemm-bench [--threads 2] [--kernels avx512|avx2] [--only "l4"]
import Dispatch
import Glibc
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

struct Shape {
    let name: String; let cout: Int, cin: Int, k: Int, stride: Int, hw: Int
    /// The conv's geometry, padded as ResNet pads (k / 2 on every side).
    var geometry: ConvGeometry {
        let pad = k / 2, out = (hw + 2 * pad - k) / stride + 1
        return ConvGeometry(channels: cin, height: hw, width: hw, kernelH: k, kernelW: k, strideH: stride, strideW: stride,
                            padTop: pad, padLeft: pad, dilationH: 1, dilationW: 1, outH: out, outW: out)
    }
}

// resnet50 at 224x224: (name, cout, cin, kernel, stride, input H=W).
let shapes: [Shape] = [
    Shape(name: "stem 7x7 s2", cout: 64, cin: 3, k: 7, stride: 2, hw: 224),
    Shape(name: "l1 1x1 64>64", cout: 64, cin: 64, k: 1, stride: 1, hw: 56),
    Shape(name: "l1 3x3 64", cout: 64, cin: 64, k: 3, stride: 1, hw: 56),
    Shape(name: "l1 1x1 64>256", cout: 256, cin: 64, k: 1, stride: 1, hw: 56),
    Shape(name: "l1 1x1 256>64", cout: 64, cin: 256, k: 1, stride: 1, hw: 56),
    Shape(name: "l2 3x3 128 s2", cout: 128, cin: 128, k: 3, stride: 2, hw: 56),
    Shape(name: "l2 1x1 256>512 s2", cout: 512, cin: 256, k: 1, stride: 2, hw: 56),
    Shape(name: "l2 1x1 256>128", cout: 128, cin: 256, k: 1, stride: 1, hw: 56),
    Shape(name: "l2 3x3 128", cout: 128, cin: 128, k: 3, stride: 1, hw: 28),
    Shape(name: "l2 1x1 512>128", cout: 128, cin: 512, k: 1, stride: 1, hw: 28),
    Shape(name: "l2 1x1 128>512", cout: 512, cin: 128, k: 1, stride: 1, hw: 28),
    Shape(name: "l3 3x3 256 s2", cout: 256, cin: 256, k: 3, stride: 2, hw: 28),
    Shape(name: "l3 1x1 512>1024 s2", cout: 1024, cin: 512, k: 1, stride: 2, hw: 28),
    Shape(name: "l3 3x3 256", cout: 256, cin: 256, k: 3, stride: 1, hw: 14),
    Shape(name: "l3 1x1 1024>256", cout: 256, cin: 1024, k: 1, stride: 1, hw: 14),
    Shape(name: "l3 1x1 256>1024", cout: 1024, cin: 256, k: 1, stride: 1, hw: 14),
    Shape(name: "l4 3x3 512", cout: 512, cin: 512, k: 3, stride: 1, hw: 7),
    Shape(name: "l4 1x1 2048>512", cout: 512, cin: 2048, k: 1, stride: 1, hw: 7),
    Shape(name: "l4 1x1 512>2048", cout: 2048, cin: 512, k: 1, stride: 1, hw: 7),
    // resnet18's strided downsamples: small enough that the split between threads shows.
    Shape(name: "r18 l2 1x1 64>128 s2", cout: 128, cin: 64, k: 1, stride: 2, hw: 56),
    Shape(name: "r18 l3 1x1 128>256 s2", cout: 256, cin: 128, k: 1, stride: 2, hw: 28),
    Shape(name: "r18 l4 1x1 256>512 s2", cout: 512, cin: 256, k: 1, stride: 2, hw: 14),
]

var threads = 2
var only: String? = nil  // run only the shapes whose name contains this
var fused = false  // bias + residual + ReLU in the epilogue, as a block's last conv has
var set = KernelSet.detect()
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--threads": threads = Int(args.popFirst() ?? "") ?? threads
    case "--kernels": if let s = args.popFirst() { set = s == "avx2" ? .avx2 : s == "avx512" ? .avx512 : set }
    case "--residual": fused = true
    case "--only":
        guard let part = args.popFirst() else { print("usage: gemm-bench [--threads N] [--kernels avx512|avx2] [--residual] [--only NAME-PART]"); exit(64) }
        only = part
    default:
        print("usage: gemm-bench [--threads N] [--kernels avx512|avx2] [--residual] [--only NAME-PART]")
        exit(64)
    }
}
guard set != .reference else { fatalError("gemm-bench needs a SIMD kernel set") }
let mr = set.tileRows, nr = set.tileColumns
let peak = set == .avx512 ? SgemmAVX512.measurePeak() : SgemmAVX2.measurePeak()
func selected(_ s: Shape) -> Bool { only.map { s.name.contains($0) } ?? true }
print("kernels \(set), tile \(mr)x\(nr), peak \(Int(peak)) GFLOP/s per core; columns: GFLOP/s (% of peak x threads)")

func seconds(_ body: () -> Void) -> Double {
    var best = Double.infinity
    let deadline = DispatchTime.now().uptimeNanoseconds + 300_000_000
    repeat {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    } while DispatchTime.now().uptimeNanoseconds < deadline
    return best
}

func pct(_ gflops: Double, _ t: Int) -> String {
    let p = Int((gflops / (peak * Double(t)) * 100).rounded())
    return "\(Int(gflops.rounded()))".leftPad(5) + " (\(p)%)".leftPad(7)
}
extension String { func leftPad(_ n: Int) -> String { String(repeating: " ", count: max(0, n - count)) + self } }

/// One image's conv by ShiftedRowsConv on `threads` threads, as a closure to time.
func shiftedRowsConv(_ s: ShiftedRowsConv, x: UnsafePointer<Float>, a: PackedA, y: UnsafeMutablePointer<Float>, threads: Int,
                     bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?) -> () -> Void {
    let ws = PackedGemmWorkspace(threads: threads, nr: nr)
    ws.reserveShiftedRows(floats: s.planeFloats! + (s.gridIsOutput ? 0 : a.m * s.columns!))
    let offsets = s.rowOffsets()
    return {
        offsets.withUnsafeBufferPointer { o in
            if set == .avx512 {
                SgemmAVX512.convShiftedRows(s, image: x, rowOffsets: o.baseAddress!, weights: a, output: y, bias: bias, residual: residual, relu: fused, workspace: ws)
            } else {
                SgemmAVX2.convShiftedRows(s, image: x, rowOffsets: o.baseAddress!, weights: a, output: y, bias: bias, residual: residual, relu: fused, workspace: ws)
            }
        }
    }
}

print("shape".padding(18) + "M".leftPad(6) + "K".leftPad(6) + "N".leftPad(6) + "   1 thread    " + "\(threads) threads".leftPad(14) + "   narrow: 1 thread" + "\(threads) threads".leftPad(14)
      + "   shifted rows: 1" + "\(threads) threads".leftPad(12) + "   pack B only")
extension String { func padding(_ n: Int) -> String { self + String(repeating: " ", count: max(0, n - count)) } }
for s in shapes where selected(s) {
    let g = s.geometry
    let m = s.cout, k = s.cin * s.k * s.k, n = g.outH * g.outW
    let w = UnsafeMutablePointer<Float>.allocate(capacity: m * k); defer { w.deallocate() }
    let x = UnsafeMutablePointer<Float>.allocate(capacity: s.cin * s.hw * s.hw); defer { x.deallocate() }
    let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n); defer { c.deallocate() }
    let residualStore = UnsafeMutablePointer<Float>.allocate(capacity: m * n); defer { residualStore.deallocate() }
    residualStore.initialize(repeating: 0.5, count: m * n)
    let biasStore = UnsafeMutablePointer<Float>.allocate(capacity: m); defer { biasStore.deallocate() }
    biasStore.initialize(repeating: 0.1, count: m)
    let (bias, residual): (UnsafePointer<Float>?, UnsafePointer<Float>?) = fused ? (UnsafePointer(biasStore), UnsafePointer(residualStore)) : (nil, nil)
    let epilogue = GemmEpilogue(relu: fused)
    for i in 0..<(m * k) { w[i] = Float(i % 13) * 0.01 }
    for i in 0..<(s.cin * s.hw * s.hw) { x[i] = Float(i % 7) * 0.1 }
    let a = PackedA(a: w, lda: k, m: m, k: k, mr: mr)
    let flops = 2.0 * Double(m) * Double(k) * Double(n)
    var line = s.name.padding(18) + "\(m)".leftPad(6) + "\(k)".leftPad(6) + "\(n)".leftPad(6)
    for t in [1, threads] {
        let ws = PackedGemmWorkspace(threads: t, nr: nr)
        let run = {
            if g.isPointwise {
                let b = MatrixB(b: x, ldb: n)
                if set == .avx512 { SgemmAVX512.sgemm(n: n, a: a, b: b, c: c, ldc: n, bias: bias, residual: residual, epilogue: epilogue, workspace: ws) }
                else { SgemmAVX2.sgemm(n: n, a: a, b: b, c: c, ldc: n, bias: bias, residual: residual, epilogue: epilogue, workspace: ws) }
            } else {
                let b = ConvPatchesB(x: x, g: g)
                if set == .avx512 { SgemmAVX512.sgemm(n: n, a: a, b: b, c: c, ldc: n, bias: bias, residual: residual, epilogue: epilogue, workspace: ws) }
                else { SgemmAVX2.sgemm(n: n, a: a, b: b, c: c, ldc: n, bias: bias, residual: residual, epilogue: epilogue, workspace: ws) }
            }
        }
        line += "  " + pct(flops / seconds(run) / 1e9, t)
    }
    // The narrow-output path: positions as the tile's rows, channels as its columns.
    let weights = PackedA(a: w, lda: k, m: m, k: k, mr: nr)
    line += "   "
    for t in [1, threads] {
        let ws = PackedGemmWorkspace(threads: t, nr: nr)
        ws.reserveTransposed(floats: m * n)
        let run = {
            if g.isPointwise {
                let b = MatrixB(b: x, ldb: n)
                if set == .avx512 { SgemmAVX512.sgemmNarrow(n: n, weights: weights, b: b, c: c, ldc: n, bias: bias, residual: residual, epilogue: epilogue, workspace: ws) }
                else { SgemmAVX2.sgemmNarrow(n: n, weights: weights, b: b, c: c, ldc: n, bias: bias, residual: residual, epilogue: epilogue, workspace: ws) }
            } else {
                let b = ConvPatchesB(x: x, g: g)
                if set == .avx512 { SgemmAVX512.sgemmNarrow(n: n, weights: weights, b: b, c: c, ldc: n, bias: bias, residual: residual, epilogue: epilogue, workspace: ws) }
                else { SgemmAVX2.sgemmNarrow(n: n, weights: weights, b: b, c: c, ldc: n, bias: bias, residual: residual, epilogue: epilogue, workspace: ws) }
            }
        }
        line += "  " + pct(flops / seconds(run) / 1e9, t)
    }
    // Non-pointwise convs as the planner runs them: B's rows read in place from the padded,
    // phase-split input (ShiftedRowsConv), the fill and the compaction included.
    line += "   "
    for t in [1, threads] {
        guard !g.isPointwise, let shifted = ShiftedRowsConv(g) else { line += "".leftPad(13); continue }
        line += "  " + pct(flops / seconds(shiftedRowsConv(shifted, x: x, a: a, y: c, threads: t, bias: bias, residual: residual)) / 1e9, t)
    }
    // Packing B alone, one thread, over the whole K x N (what each GEMM call pays once per thread's columns).
    // An upper bound: the packer is inlined here, into this benchmark's baseline x86-64 build, where
    // inside a kernel set's GEMM it is compiled for that set's vectors (ConvPatchesB's pointwise
    // table: 33 us here for resnet18's layer2 downsample, 4% of the AVX-512 GEMM's profile).
    let buf = UnsafeMutablePointer<Float>.allocate(capacity: PackedA.kc * (PackedGemmWorkspace.nc + nr)); defer { buf.deallocate() }
    let packTime = seconds {
        var n0 = 0
        while n0 < n {
            let nb = min(PackedGemmWorkspace.nc, n - n0)
            var k0 = 0
            while k0 < k {
                let kb = min(PackedA.kc, k - k0)
                if g.isPointwise { MatrixB(b: x, ldb: n).pack(k0: k0, kb: kb, n0: n0, nb: nb, nr: nr, into: buf) }
                else { ConvPatchesB(x: x, g: g).pack(k0: k0, kb: kb, n0: n0, nb: nb, nr: nr, into: buf) }
                k0 += kb
            }
            n0 += nb
        }
    }
    let full = flops / (peak * 1e9)  // seconds at the kernel's peak on one core
    line += "   \(String(Int((packTime * 1e6).rounded())).leftPad(6)) us = \(Int((packTime / full * 100).rounded()))% of peak time"
    print(line)
}

// Winograd on the 3x3 stride-1 shapes, one thread, one image: each step's time, and the
// whole against the direct path's (shifted rows, as the planner runs it), as one block.
print("\nWinograd, 1 thread: input transform, GEMMs, output transform (us); whole vs direct")
// (Above 28 columns both F(2x2) and the F(3x3) the planner now runs there; the model runs those
// convs with the channel-lane transforms, not these tile-lane ones.)
for s in shapes where s.k == 3 && s.stride == 1 && selected(s) { for tile in s.hw > 28 ? [WinogradTile.f2x2, .f3x3] : [.f4x4] {
    let g = s.geometry
    let (tr, tc) = tile.tiles(g), tiles = tr * tc, ld = tiles + 16, m = s.cout, c = s.cin, positions = tile.positions
    let x = UnsafeMutablePointer<Float>.allocate(capacity: c * s.hw * s.hw); defer { x.deallocate() }
    for i in 0..<(c * s.hw * s.hw) { x[i] = Float(i % 7) * 0.1 }
    let w = UnsafeMutablePointer<Float>.allocate(capacity: m * c * 9); defer { w.deallocate() }
    for i in 0..<(m * c * 9) { w[i] = Float(i % 13) * 0.01 }
    let u = UnsafeMutablePointer<Float>.allocate(capacity: positions * m * c); defer { u.deallocate() }
    tile.transformWeights(w, m: m, c: c, into: u)
    let narrow = m >= nr && tiles * 5 < (tiles + nr - 1) / nr * nr * 4
    let packed = (0..<positions).map { PackedA(a: u + $0 * m * c, lda: c, m: m, k: c, mr: narrow ? nr : mr) }
    let v = UnsafeMutablePointer<Float>.allocate(capacity: positions * c * ld); defer { v.deallocate() }
    let mt = UnsafeMutablePointer<Float>.allocate(capacity: positions * m * ld); defer { mt.deallocate() }
    let y = UnsafeMutablePointer<Float>.allocate(capacity: m * s.hw * s.hw); defer { y.deallocate() }
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: tile.scratchFloats(g)); defer { scratch.deallocate() }
    v.initialize(repeating: 0, count: positions * c * ld)
    let ws = PackedGemmWorkspace(threads: 1, nr: nr)
    ws.reserveTransposed(floats: m * tiles)
    let input = seconds {
        if set == .avx512 { WinogradAVX512.transformInput(tile, x, g, channels: 0..<c, tileRows: 0..<tr, v: v, ldv: ld, tileBase: 0, scratch: scratch) }
        else { WinogradAVX2.transformInput(tile, x, g, channels: 0..<c, tileRows: 0..<tr, v: v, ldv: ld, tileBase: 0, scratch: scratch) }
    }
    let gemms = seconds {
        for xi in 0..<positions {
            let b = MatrixB(b: v + xi * c * ld, ldb: ld), out = mt + xi * m * ld
            switch (set == .avx512, narrow) {
            case (true, true): SgemmAVX512.sgemmNarrow(n: tiles, weights: packed[xi], b: b, c: out, ldc: ld, bias: nil, residual: nil, epilogue: GemmEpilogue(), workspace: ws)
            case (true, false): SgemmAVX512.sgemm(n: tiles, a: packed[xi], b: b, c: out, ldc: ld, bias: nil, residual: nil, epilogue: GemmEpilogue(), workspace: ws)
            case (false, true): SgemmAVX2.sgemmNarrow(n: tiles, weights: packed[xi], b: b, c: out, ldc: ld, bias: nil, residual: nil, epilogue: GemmEpilogue(), workspace: ws)
            case (false, false): SgemmAVX2.sgemm(n: tiles, a: packed[xi], b: b, c: out, ldc: ld, bias: nil, residual: nil, epilogue: GemmEpilogue(), workspace: ws)
            }
        }
    }
    let output = seconds {
        if set == .avx512 { WinogradAVX512.transformOutput(tile, mt, g, outputs: 0..<m, tileRows: 0..<tr, m: m, ldm: ld, tileBase: 0, bias: nil, residual: nil, relu: true, into: y, scratch: scratch) }
        else { WinogradAVX2.transformOutput(tile, mt, g, outputs: 0..<m, tileRows: 0..<tr, m: m, ldm: ld, tileBase: 0, bias: nil, residual: nil, relu: true, into: y, scratch: scratch) }
    }
    let a = PackedA(a: w, lda: c * 9, m: m, k: c * 9, mr: mr)
    let direct = seconds(shiftedRowsConv(ShiftedRowsConv(g)!, x: x, a: a, y: y, threads: 1, bias: nil, residual: nil))
    let us = { (t: Double) in String(Int((t * 1e6).rounded())).leftPad(6) }
    print(s.name.padding(18) + "\(tile)".padding(6) + us(input) + us(gemms) + us(output) + "   whole" + us(input + gemms + output) + " vs direct" + us(direct)
          + "  (\(Double(Int((direct / (input + gemms + output) * 100).rounded())) / 100)x)")
} }

// Every shape the planner may run transposed, one image: the 3x3s read in place from a
// padded copy (PackedGemm.convGather; against the "shifted rows" column above, what the
// planner's choice between the two, runsTransposed, rests on) and the pointwise ones of 14x14
// and 7x7 outputs (sgemmNarrow, strided ones packing their patches), all channels first in and
// out; then every one by convGather between channels-last activations, as the planner runs
// them inside a ResNet's late stages. "cold" rotates over copies of the packed weights (64 MB
// and more in all), so each call streams its weights from memory as inside a model, where
// the weights of every other layer pass through the caches between two calls.
print("\nTransposed, GFLOP/s (% of peak x threads): channels first, warm weights and cold; channels last, cold")
let fewPositions = shapes.filter { $0.k > 1 } + [Shape(name: "l4 3x3 256>512 s2", cout: 512, cin: 256, k: 3, stride: 2, hw: 14)]
    + shapes.filter { $0.k == 1 && ($0.hw <= 14 || $0.name.hasPrefix("r18")) }
    + [Shape(name: "l3 1x1 512>1024 s2", cout: 1024, cin: 512, k: 1, stride: 2, hw: 28),
       Shape(name: "l4 1x1 1024>2048 s2", cout: 2048, cin: 1024, k: 1, stride: 2, hw: 14)]
for s in fewPositions where selected(s) {
    let g = s.geometry
    let m = s.cout, k = s.cin * s.k * s.k, n = g.outH * g.outW
    let w = UnsafeMutablePointer<Float>.allocate(capacity: m * k); defer { w.deallocate() }
    let x = UnsafeMutablePointer<Float>.allocate(capacity: s.cin * s.hw * s.hw); defer { x.deallocate() }
    let y = UnsafeMutablePointer<Float>.allocate(capacity: m * n); defer { y.deallocate() }
    for i in 0..<(m * k) { w[i] = Float(i % 13) * 0.01 }
    for i in 0..<(s.cin * s.hw * s.hw) { x[i] = Float(i % 7) * 0.1 }
    let copies = max(2, (64 << 20) / (m * k * 4) + 1)
    let weights = (0..<copies).map { _ in PackedA(a: w, lda: k, m: m, k: k, mr: nr) }
    let gatherFirst = g.kernelH * g.kernelW > 1 ? GatherConv(g, input: .channelsFirst)! : nil
    let gatherLast = GatherConv(g, input: .channelsLast)!
    let firstOffsets = gatherFirst?.rowOffsets() ?? [], lastOffsets = gatherLast.rowOffsets()
    let flops = 2.0 * Double(m) * Double(k) * Double(n)
    var line = s.name.padding(20) + "\(m)".leftPad(6) + "\(k)".leftPad(6) + "\(n)".leftPad(6)
    func gather(_ c: GatherConv, _ offsets: [Int], _ a: PackedA, _ layout: ActivationLayout, _ ws: PackedGemmWorkspace) {
        offsets.withUnsafeBufferPointer { o in
            if set == .avx512 {
                SgemmAVX512.convGather(c, image: x, rowOffsets: o.baseAddress!, weights: a, output: y, outputLayout: layout, bias: nil, residual: nil,
                                       relu: false, workspace: ws)
            } else {
                SgemmAVX2.convGather(c, image: x, rowOffsets: o.baseAddress!, weights: a, output: y, outputLayout: layout, bias: nil, residual: nil,
                                     relu: false, workspace: ws)
            }
        }
    }
    for t in [1, threads] {
        let ws = PackedGemmWorkspace(threads: t, nr: nr)
        ws.reserveShiftedRows(floats: max(gatherFirst?.paddedFloats ?? 0, gatherLast.paddedFloats, 1))
        ws.reserveTransposed(floats: m * n)
        for (cold, channelsLast) in [(false, false), (true, false), (true, true)] {
            var call = 0
            let time = seconds {
                let a = weights[cold ? call % copies : 0]
                call += 1
                if channelsLast {
                    gather(gatherLast, lastOffsets, a, .channelsLast, ws)
                } else if let gatherFirst {
                    gather(gatherFirst, firstOffsets, a, .channelsFirst, ws)
                } else if s.stride == 1 {
                    let b = MatrixB(b: x, ldb: n)
                    if set == .avx512 { SgemmAVX512.sgemmNarrow(n: n, weights: a, b: b, c: y, ldc: n, bias: nil, residual: nil, epilogue: GemmEpilogue(), workspace: ws) }
                    else { SgemmAVX2.sgemmNarrow(n: n, weights: a, b: b, c: y, ldc: n, bias: nil, residual: nil, epilogue: GemmEpilogue(), workspace: ws) }
                } else {
                    let b = ConvPatchesB(x: x, g: g)
                    if set == .avx512 { SgemmAVX512.sgemmNarrow(n: n, weights: a, b: b, c: y, ldc: n, bias: nil, residual: nil, epilogue: GemmEpilogue(), workspace: ws) }
                    else { SgemmAVX2.sgemmNarrow(n: n, weights: a, b: b, c: y, ldc: n, bias: nil, residual: nil, epilogue: GemmEpilogue(), workspace: ws) }
                }
            }
            line += "  " + pct(flops / time / 1e9, t)
        }
    }
    print(line)
}
