import CInt8Tiles
import Dispatch
import ResNetKernelsReference

/// Which integer tile a plan runs (issue 13): AVX-512 VNNI (vpdpbusd, 6 x 32), AVX2
/// (vpmaddwd on operands widened to 16 bits, 6 x 16, exact), or the naive twin.
public enum Int8Tile: String, Sendable, CaseIterable {
    case vnni, avx2, reference

    /// The integer tile for a float kernel set: AVX-512 plans use VNNI where the CPU has
    /// it and the AVX2 tile otherwise; the reference set keeps the twin.
    public static func forSet(_ set: KernelSet) -> Int8Tile {
        switch set {
        case .avx512: return rt_cpu_has_avx512_vnni() != 0 ? .vnni : .avx2
        case .avx2: return .avx2
        case .reference: return .reference
        }
    }

    public var isSupported: Bool {
        switch self {
        case .vnni: return rt_cpu_has_avx512_vnni() != 0
        case .avx2: return CPU.hasAVX2FMA
        case .reference: return true
        }
    }

    public var rows: Int { 6 }
    public var columns: Int { self == .vnni ? 32 : 16 }
    /// k values per packed step: 4 bytes per vpdpbusd lane, 2 int16 per vpmaddwd lane.
    public var kStep: Int { self == .vnni ? 4 : self == .avx2 ? 2 : 1 }
    /// K per slice of the transposed products (Int8Transposed) and of the peak measurement: the B
    /// panel is 512 x 32 bytes (VNNI) or 512 x 16 int16 (AVX2) = 16 KiB, in L1. The plain products
    /// slice K by sliceDepth(k:).
    static let kc = 512

    /// The K slice a product of depth `k` runs in: the fewest slices of at most 768 (a 24 KiB VNNI
    /// B panel, still in L1), whole groups of 4, the last short by less than 4 per slice. Why: each slice costs its tiles a pass
    /// of the sums through memory, and a short last slice costs as much per tile as a full one;
    /// resnet50's 3x3 at 56x56 (K 576) ran 512 + 64 at 83% of the tile's peak and one slice of
    /// 576 at 89% (Benchmarks/int8-gemm-bench, 1 thread).
    public static func sliceDepth(k: Int) -> Int {
        let slices = Swift.max(1, (k + 767) / 768)
        return Swift.max(4, ((k + slices - 1) / slices + 3) / 4 * 4)
    }
}

/// int8 weights W[M,K] packed once, at plan time, for one tile, with Σ_k W[m,k] per row.
public final class PackedInt8Weights: @unchecked Sendable {
    // @unchecked Sendable: written once in init, read-only afterwards.
    public let m: Int, k: Int, tile: Int8Tile
    /// K per slice (a multiple of 4): the packing's and the product's.
    public let kc: Int
    public let rowSums: [Int32]
    /// VNNI: per K slice, per 6-row panel, per 4-k group, 6 x 4 bytes. AVX2: per slice, per panel,
    /// per k pair, 6 x 2 int16. Reference: W itself, row-major.
    let bytes: [Int8]
    let halves: [Int16]

    /// The caller checked M x K against its budget; K < 65,793 keeps every sum within int32.
    /// `kc` (a positive multiple of 4) is Int8Tile.sliceDepth(k:) but where a benchmark compares others.
    public init(weights w: UnsafePointer<Int8>, m: Int, k: Int, tile: Int8Tile, kc: Int? = nil) {
        let kc = kc ?? Int8Tile.sliceDepth(k: k)
        precondition(kc > 0 && kc % 4 == 0, "a K slice of whole groups of 4")
        self.m = m; self.k = k; self.tile = tile; self.kc = kc
        rowSums = Self.rowSums(w, m: m, k: k)
        let panels = (m + 5) / 6
        switch tile {
        case .reference:
            bytes = Array(UnsafeBufferPointer(start: w, count: m * k)); halves = []
        case .vnni, .avx2:
            let step = tile.kStep
            let paddedK = (k + step - 1) / step * step
            var out8 = [Int8](), out16 = [Int16]()
            let count = panels * 6 * paddedK
            if tile == .vnni { out8.reserveCapacity(count) } else { out16.reserveCapacity(count) }
            var k0 = 0
            while k0 < k {
                let kb = Swift.min(kc, k - k0), steps = (kb + step - 1) / step
                for pm in 0..<panels {
                    for s in 0..<steps {
                        for r in 0..<6 {
                            for t in 0..<step {
                                let row = pm * 6 + r, col = k0 + s * step + t
                                let v: Int8 = row < m && col < k0 + kb ? w[row * k + col] : 0
                                if tile == .vnni { out8.append(v) } else { out16.append(Int16(v)) }
                            }
                        }
                    }
                }
                k0 += kb
            }
            bytes = out8; halves = out16
        }
    }

    /// Σ_k W[m, k] per row, wrapping as int32 (K < 65,793 keeps it exact); both packings keep it.
    static func rowSums(_ w: UnsafePointer<Int8>, m: Int, k: Int) -> [Int32] {
        (0..<m).map { i in (0..<k).reduce(Int32(0)) { $0 &+ Int32(w[i * k + $1]) } }
    }

    /// Where slice k0's panel pm starts, in elements: every earlier slice is kc wide.
    func panelOffset(k0: Int, kb: Int, pm: Int) -> Int {
        let panels = (m + 5) / 6
        let steps = (kb + tile.kStep - 1) / tile.kStep
        return k0 * panels * 6 + pm * steps * tile.kStep * 6
    }
}

/// Where B[k, j] sits in the interleaved operand the tiles read in place: groups of
/// `step` consecutive k (4 for vpdpbusd, 2 for vpmaddwd, 1 for the twin), each group
/// `paddedN` columns of `step` values: element (k, j) at (k / step) * paddedN * step
/// + j * step + k % step. Columns past N (to a whole tile) and k past K are zero.
public struct Int8BLayout: Sendable, Equatable {
    public let k: Int, n: Int, tile: Int8Tile
    public var step: Int { tile.kStep }
    public var paddedN: Int { tile == .reference ? n : (n + tile.columns - 1) / tile.columns * tile.columns }
    public var paddedK: Int { (k + step - 1) / step * step }
    /// Elements the operand takes (bytes; int16 for the AVX2 tile).
    public var count: Int { paddedK * paddedN }
    public init(k: Int, n: Int, tile: Int8Tile) { self.k = k; self.n = n; self.tile = tile }
    @inlinable public func offset(k p: Int, j: Int) -> Int { (p / step) * paddedN * step + j * step + p % step }
}

/// The integer GEMM's threads (a plan's), for its column split.
public final class Int8GemmWorkspace: @unchecked Sendable {
    public let threads: Int
    public init(threads: Int) { self.threads = Swift.max(threads, 1) }
    /// One thread: a product run inside one of several threads' own work (the chunked convs).
    public static let single = Int8GemmWorkspace(threads: 1)
}

/// A requantization the SIMD tiles apply as they finish (rt_requant_tile), so the int32 sums
/// never go to memory and back: a 1x1 conv at 56x56 wrote, read and wrote again 3.2 MB
/// apiece (sums, then float-coded outputs). Only where it needs no column sums (every
/// weight zero point 0: onnxruntime's default, symmetric int8 weights).
public struct Int8FusedRequantization: Sendable {
    /// Per row: Requantization.constant(row:), and its multiplier.
    public let constants: [Int32], multipliers: [Float]
    public let zeroPoint: Float, lo: Float, hi: Float

    public init?(_ r: Requantization) {
        guard !r.needsColumnSums else { return nil }
        constants = (0..<r.multiplier.count).map(r.constant(row:))
        multipliers = r.multiplier
        zeroPoint = r.outputZeroPoint; lo = r.range.lo; hi = r.range.hi
    }
}

public enum Int8Gemm {
    /// C[M,N] = W · B: packed int8 weights times the interleaved uint8 operand (`layout`;
    /// `bytes` for the VNNI tile and the twin, `halves` for AVX2), exact int32 sums into C
    /// (leading dimension ldc). Threads take disjoint column panels. With `requantize` (SIMD
    /// tiles only), the last K slice writes the requantized floats to `output` (leading
    /// dimension ldo) instead of the sums to C; earlier slices still accumulate in C. With
    /// `byteImage` as well (VNNI only), the tile also writes each output there as bytes plus the
    /// offset (Int8Patches.bytes' conversion), at the output's offsets (leading dimension ldo).
    /// `groupStride`, when given, replaces the layout's distance between B's groups of k (in
    /// elements): B read in place from a larger image (Int8ChunkedConv.readsInPlace), whose
    /// columns past N to the tile's width must be readable (their sums are never stored).
    public static func gemm(weights w: PackedInt8Weights, layout: Int8BLayout, bytes: UnsafePointer<UInt8>, halves: UnsafePointer<Int16>,
                            c: UnsafeMutablePointer<Int32>, ldc: Int, workspace: Int8GemmWorkspace,
                            requantize: (Int8FusedRequantization, output: UnsafeMutablePointer<Float>, ldo: Int)? = nil,
                            byteImage: (UnsafeMutablePointer<UInt8>, offset: Int)? = nil, groupStride givenStride: Int? = nil) {
        precondition(requantize == nil || (w.tile != .reference && requantize!.0.constants.count == w.m), "fused requantization for another product")
        precondition(requantize == nil || w.k > 0, "an empty sum (K = 0) is requantized by the separate pass")
        precondition(byteImage == nil || (requantize != nil && w.tile == .vnni), "a byte image comes from the VNNI tile's requantization")
        precondition(givenStride == nil || w.tile == .avx2, "B read in place is the AVX2 tile's (Int8ChunkedConv.readsInPlace)")
        let m = w.m, k = w.k, n = layout.n
        precondition(layout.k == k && layout.tile == w.tile, "B laid out for another GEMM")
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) }
            return
        }
        if w.tile == .reference {
            w.bytes.withUnsafeBufferPointer { a in
                // Sound: bytes holds m x k weights (init, reference layout); B is k x paddedN (= n).
                Int8GemmReference.gemm(m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: bytes, ldb: layout.paddedN, c: c, ldc: ldc, accumulate: false)
            }
            return
        }
        let nr = w.tile.columns, panelsN = (n + nr - 1) / nr, panelsM = (m + 5) / 6
        let step = layout.step, groupStride = givenStride ?? layout.paddedN * step
        // Few column panels (a late stage's 49 or 196 positions: 2 or 7 panels of 32): threads split
        // the weights' rows instead, each reading its half of them once, where with one panel
        // apiece each read all of them. And a thread with only two panels runs them inside the K
        // slice and M loops, so the weights stream once (both B slices, 2 x 16 KB, stay in L1):
        // resnet50-qop's layer4 3x3s 0.78-0.83 -> 0.69-0.72 ms on 1 thread; layer3's (7 panels)
        // ran 5-15% slower in pairs, so more panels than two still run one at a time.
        let splitRows = workspace.threads > 1 && panelsN < 2 * workspace.threads && panelsM >= workspace.threads
        let threads = splitRows ? workspace.threads : Swift.min(workspace.threads, panelsN)
        // The requantization's figures as plain values, outside the loops: a tile call must not
        // retain anything (ARC on arrays shared by both threads took a quarter of the run when it did).
        let constants = requantize?.0.constants ?? [], multipliers = requantize?.0.multipliers ?? []
        let output = requantize?.output, ldo = requantize?.ldo ?? 0
        let imageBytes = byteImage?.0, imageOffset = Float(byteImage?.offset ?? 0)
        let zp = requantize?.0.zeroPoint ?? 0, lo = requantize?.0.lo ?? 0, hi = requantize?.0.hi ?? 0
        let vnni = w.tile == .vnni
        // One K slice and an output past this Zen 5's 1 MB L2 (2^18 values): the tiles run row
        // panel by row panel, each along all of the thread's column panels, so C (or the
        // requantized output) is written six rows at a time from left to right instead of a
        // 32-column strip down every row (hundreds of streams no prefetcher follows); B, read
        // once per row panel, stays in L2. resnet50-qop, 8 interleaved rounds: layer1's conv3
        // (256 x 3136, K 64) 0.46 -> 0.31 ms on 1 thread and 0.25 -> 0.15 on 2; layer3's conv3
        // (1024 x 196, below the threshold) had run 0.16 -> 0.20 ms so on 1 thread.
        let (outputValues, outputOverflow) = m.multipliedReportingOverflow(by: n)
        let rowsFirst = k <= w.kc && (outputOverflow || outputValues >= 1 << 18)
        let work = { (t: Int) in
            constants.withUnsafeBufferPointer { constants in multipliers.withUnsafeBufferPointer { multipliers in
            w.bytes.withUnsafeBufferPointer { a8 in w.halves.withUnsafeBufferPointer { a16 in
            let columnPanels = splitRows ? 0..<panelsN : (panelsN * t / threads)..<(panelsN * (t + 1) / threads)
            let rowPanels = splitRows ? (panelsM * t / threads)..<(panelsM * (t + 1) / threads) : 0..<panelsM
            let together = columnPanels.count <= 2 ? 2 : rowsFirst ? columnPanels.count : 1
            for pair in stride(from: columnPanels.lowerBound, to: columnPanels.upperBound, by: together) {
                var k0 = 0
                while k0 < k {
                    // Slices of kc (a multiple of 4): the panels' B slices, kc x nr values each, stay in L1
                    // (in L2 when rowsFirst takes all of the thread's panels together).
                    let kb = Swift.min(w.kc, k - k0), steps = (kb + step - 1) / step
                    let last = k0 + kb == k
                    for pm in rowPanels { for pn in pair..<Swift.min(pair + together, columnPanels.upperBound) {
                        let j0 = pn * nr, cols = Swift.min(nr, n - j0)
                        let origin = (k0 / step) * groupStride + j0 * step
                        let rows = Int32(Swift.min(6, m - pm * 6)), out = c + pm * 6 * ldc + j0
                        // Sound: the weights' slice/panel offset is within init's packing; B's reads stay
                        // within paddedK x paddedN (whole groups, whole tiles of columns), or, with a
                        // groupStride given, within the image the caller says holds them.
                        let weights = w.panelOffset(k0: k0, kb: kb, pm: pm)
                        @inline(__always) func run(_ rq: UnsafePointer<rt_requant_tile>?) {
                            if vnni {
                                rt_int8_tile_vnni(steps, a8.baseAddress! + weights, bytes + origin, groupStride, out, ldc, rows, Int32(cols), k0 > 0 ? 1 : 0, rq)
                            } else {
                                // A panel of 8 columns or fewer on the tile's left half alone.
                                if cols <= 8 {
                                    rt_int8_tile_avx2_half(steps, a16.baseAddress! + weights, halves + origin, groupStride, out, ldc, rows, Int32(cols), k0 > 0 ? 1 : 0, rq)
                                } else {
                                    rt_int8_tile_avx2(steps, a16.baseAddress! + weights, halves + origin, groupStride, out, ldc, rows, Int32(cols), k0 > 0 ? 1 : 0, rq)
                                }
                            }
                        }
                        guard last, let output else { run(nil); continue }
                        // Sound: the panel's rows (< m) index constants and multipliers (m each); its outputs
                        // lie in rows pm * 6 ..< m, columns j0 ..< j0 + cols of the caller's output (and of its byte image).
                        var rq = rt_requant_tile(constant: constants.baseAddress! + pm * 6, multiplier: multipliers.baseAddress! + pm * 6,
                                                 zp: zp, lo: lo, hi: hi, out: output + pm * 6 * ldo + j0, ldo: ldo,
                                                 bytes: imageBytes.map { $0 + pm * 6 * ldo + j0 }, byte_offset: imageOffset)
                        withUnsafePointer(to: &rq) { run($0) }
                    } }
                    k0 += kb
                }
            }
            } }
            } }
        }
        if threads > 1 { DispatchFor.concurrent(threads, work) } else { work(0) }
    }

    /// A row-major uint8 matrix B[K, N] (leading dimension ldb) in `layout` (tests, QLinearMatMul).
    public static func interleave(_ b: UnsafePointer<UInt8>, ldb: Int, layout: Int8BLayout,
                                  bytes: UnsafeMutablePointer<UInt8>, halves: UnsafeMutablePointer<Int16>) {
        if layout.tile == .avx2 { halves.update(repeating: 0, count: layout.count) } else { bytes.update(repeating: 0, count: layout.count) }
        for p in 0..<layout.k {
            let src = b + p * ldb
            for j in 0..<layout.n {
                let o = layout.offset(k: p, j: j)
                if layout.tile == .avx2 { halves[o] = Int16(src[j]) } else { bytes[o] = src[j] }
            }
        }
    }
}

/// The integer tile's own speed on one core, operands in L1: the ceiling `bench` reports
/// integer layers against (the float tile's peak says nothing about vpdpbusd or vpmaddwd).
public enum Int8KernelPeak {
    /// GOP/s (2 per multiply-add) of one full tile over a K slice (512), measured for about
    /// `seconds`; 0 for the reference twin.
    public static func measure(_ tile: Int8Tile, seconds: Double = 0.2) -> Double {
        guard tile != .reference, tile.isSupported else { return 0 }
        let k = Int8Tile.kc, rows = tile.rows, cols = tile.columns
        let a8 = [Int8](repeating: 3, count: k * rows), b8 = [UInt8](repeating: 5, count: k * cols)
        let a16 = [Int16](repeating: 3, count: k * rows), b16 = [Int16](repeating: 5, count: k * cols)
        var c = [Int32](repeating: 0, count: rows * cols)
        var best = 0.0
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
        repeat {
            let reps = 2000
            let start = DispatchTime.now().uptimeNanoseconds
            c.withUnsafeMutableBufferPointer { cp in
                // Sound: A holds k x 6 values, B k x cols (groups of kStep, `cols * kStep` apart), C 6 x cols.
                for _ in 0..<reps {
                    if tile == .vnni {
                        rt_int8_tile_vnni(k / 4, a8, b8, cols * 4, cp.baseAddress!, cols, Int32(rows), Int32(cols), 1, nil)
                    } else {
                        rt_int8_tile_avx2(k / 2, a16, b16, cols * 2, cp.baseAddress!, cols, Int32(rows), Int32(cols), 1, nil)
                    }
                }
            }
            let ns = Double(DispatchTime.now().uptimeNanoseconds - start)
            best = max(best, Double(2 * k * rows * cols * reps) / ns)
        } while DispatchTime.now().uptimeNanoseconds < deadline
        return best
    }
}
