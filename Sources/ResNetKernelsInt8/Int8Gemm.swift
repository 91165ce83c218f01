import CInt8Tiles
import Dispatch
import ResNetKernelsReference

/// Which integer tile a plan runs (issue 13): AVX-512 VNNI (vpdpbusd, 8 x 32), AVX2
/// (vpmaddwd on operands widened to 16 bits, 6 x 16, exact), AVX2 on bytes (vpmaddubsw on
/// the VNNI tile's operands, 6 x 16, its saturated pairs corrected: Int8Gemm), or the naive twin.
public enum Int8Tile: String, Sendable, CaseIterable {
    case vnni, avx2, avx2Bytes = "avx2-bytes", reference

    /// The integer tile for a float kernel set: AVX-512 plans use VNNI where the CPU has
    /// it and AVX2 on bytes otherwise; the reference set keeps the twin.
    public static func forSet(_ set: KernelSet) -> Int8Tile {
        switch set {
        case .avx512: return rt_cpu_has_avx512_vnni() != 0 ? .vnni : .avx2Bytes
        case .avx2: return .avx2Bytes
        case .reference: return .reference
        }
    }

    /// This tile for a product whose activations (as the kernels' uint8) have zero point
    /// `zeroPoint`: AVX2 on bytes gives way to the widening tile where they are centred away from
    /// 0 (an image's input, int8 activations shifted by 128). Why: the bytes tile's int16 pair sums
    /// saturate only where two large activations meet large weights, rare after a ReLU (zero
    /// point 0) but most pairs where values sit near 128, and those panels then run twice (Int8Gemm).
    public func forActivations(zeroPoint: Int32) -> Int8Tile {
        self == .avx2Bytes && zeroPoint > Self.bytesTileZeroPointLimit ? .avx2 : self
    }
    static let bytesTileZeroPointLimit: Int32 = 32

    /// Whether the operand and the weights come in groups of 4 bytes (VNNI's layout, which AVX2 on bytes reads too).
    public var readsByteGroups: Bool { self == .vnni || self == .avx2Bytes }

    public var isSupported: Bool {
        switch self {
        case .vnni: return rt_cpu_has_avx512_vnni() != 0
        case .avx2, .avx2Bytes: return CPU.hasAVX2FMA
        case .reference: return true
        }
    }

    /// The deepest K slice of this tile's plain products (sliceDepth). VNNI: 4,608 (resnet's
    /// deepest, layer4's 3x3), a B panel of up to 144 KiB that streams from L2 in step with the
    /// products (128 bytes per 16 vpdpbusd), where slices of at most 768 cost every tile a round
    /// trip of its int32 sums per slice. int8-gemm-bench --bytes --kc 768,-1 (one Zen 4 core, warm,
    /// medians): the 3x3s of K 1152 and 2304 421 -> 436 and 417 -> 430 GOP/s, K 4608 341 -> 353;
    /// resnet50-qop, 8 interleaved rounds, the summed layers
    /// 23.99 -> 23.63 ms on 1 thread (layer2's and layer3's 3x3s 0.59-0.60 -> 0.57-0.58), 12.85 ->
    /// 12.69 on 2. The AVX2 tiles: 768 (a 24 KiB B panel, in L1), as tuned on a Zen 3.
    public var sliceCap: Int { self == .vnni ? 4608 : 768 }

    /// Rows of a weight panel (output channels per tile): VNNI 8 (resnet's channel counts are
    /// multiples of 8), the AVX2 tiles 6 (12 of 16 ymm accumulate).
    public var rows: Int { self == .vnni ? 8 : 6 }
    /// Columns of an operand panel: AVX2 on bytes runs each 32-column panel as two 16-column tiles.
    public var columns: Int { readsByteGroups ? 32 : 16 }
    /// k values per packed step: 4 bytes per vpdpbusd or vpmaddubsw lane, 2 int16 per vpmaddwd lane.
    public var kStep: Int { readsByteGroups ? 4 : self == .avx2 ? 2 : 1 }
    /// K per slice of the transposed products (Int8Transposed) and of the peak measurement: the B
    /// panel is 512 x 32 bytes (VNNI) or 512 x 16 int16 (AVX2) = 16 KiB, in L1. The plain products
    /// slice K by sliceDepth(k:) (deeper ones measured even for the transposed: layer4's 3x3s).
    static let kc = 512

    /// The K slice a product of depth `k` runs in: the fewest slices of at most `cap`, whole
    /// groups of 4, the last short by less than 4 per slice. Why: each slice costs its tiles a
    /// pass of the sums through memory, and a short last slice costs as much per tile as a full
    /// one; resnet50's 3x3 at 56x56 (K 576) ran 512 + 64 at 83% of the tile's peak and one slice
    /// of 576 at 89% (Benchmarks/int8-gemm-bench, 1 thread). `cap`: the tile's sliceCap, a
    /// positive multiple of 4 (a property of the tiles, not of a model).
    public static func sliceDepth(k: Int, cap: Int) -> Int {
        precondition(cap > 0 && cap % 4 == 0, "a slice cap of whole groups of 4")
        let slices = Swift.max(1, (k + cap - 1) / cap)
        return Swift.max(4, ((k + slices - 1) / slices + 3) / 4 * 4)
    }

    /// The K slice this tile's plain product of depth `k` runs in.
    public func sliceDepth(k: Int) -> Int { Int8Tile.sliceDepth(k: k, cap: sliceCap) }
}

/// int8 weights W[M,K] packed once, at plan time, for one tile, with Σ_k W[m,k] per row.
public final class PackedInt8Weights: @unchecked Sendable {
    // @unchecked Sendable: written once in init, read-only afterwards.
    public let m: Int, k: Int, tile: Int8Tile
    /// K per slice (a multiple of 4): the packing's and the product's.
    public let kc: Int
    public let rowSums: [Int32]
    /// VNNI: per K slice, per 8-row panel, per 4-k group, 8 x 4 bytes. AVX2: per slice, per 6-row
    /// panel, per k pair, 6 x 2 int16. Reference: W itself, row-major.
    let bytes: [Int8]
    let halves: [Int16]
    /// AVX2 on bytes only: saturationBounds(w, m:, k:) and saturationPairs(w, m:, k:).
    let saturationBounds: [Int8], saturationPairs: [Int8]

    /// The caller checked M x K against its budget; K < 65,793 keeps every sum within int32.
    /// `kc` (a positive multiple of 4) is tile.sliceDepth(k:) but where a benchmark compares others.
    public init(weights w: UnsafePointer<Int8>, m: Int, k: Int, tile: Int8Tile, kc: Int? = nil) {
        let kc = kc ?? tile.sliceDepth(k: k)
        precondition(kc > 0 && kc % 4 == 0, "a K slice of whole groups of 4")
        self.m = m; self.k = k; self.tile = tile; self.kc = kc
        rowSums = Self.rowSums(w, m: m, k: k)
        let mr = tile.rows, panels = Self.panels(m: m, tile: tile)
        switch tile {
        case .reference:
            bytes = Array(UnsafeBufferPointer(start: w, count: m * k)); halves = []
        case .vnni, .avx2, .avx2Bytes:
            let step = tile.kStep
            let paddedK = (k + step - 1) / step * step
            var out8 = [Int8](), out16 = [Int16]()
            let count = panels * mr * paddedK
            if tile.readsByteGroups { out8.reserveCapacity(count) } else { out16.reserveCapacity(count) }
            var k0 = 0
            while k0 < k {
                let kb = Swift.min(kc, k - k0), steps = (kb + step - 1) / step
                for pm in 0..<panels {
                    for s in 0..<steps {
                        for r in 0..<mr {
                            for t in 0..<step {
                                let row = pm * mr + r, col = k0 + s * step + t
                                let v: Int8 = row < m && col < k0 + kb ? w[row * k + col] : 0
                                if tile.readsByteGroups { out8.append(v) } else { out16.append(Int16(v)) }
                            }
                        }
                    }
                }
                k0 += kb
            }
            bytes = out8; halves = out16
        }
        saturationBounds = tile == .avx2Bytes ? Self.saturationBounds(w, m: m, k: k) : []
        saturationPairs = tile == .avx2Bytes ? Self.saturationPairs(w, m: m, k: k) : []
    }

    /// Per k (padded to whole groups of 4), the largest |W[i, k]| over the rows, at most 127: the
    /// bytes tile's saturation scan (rt_int8_saturation_scan) bounds each pair's sum by it.
    static func saturationBounds(_ w: UnsafePointer<Int8>, m: Int, k: Int) -> [Int8] {
        var bounds = [Int8](repeating: 0, count: (k + 3) / 4 * 4)
        for i in 0..<m { for j in 0..<k { bounds[j] = Swift.max(bounds[j], Int8(Swift.min(127, abs(Int(w[i * k + j]))))) } }
        return bounds
    }

    /// Rows per group of the corrections' weights (rt_int8_saturation_correct reads 8 rows at a time).
    var pairRows: Int { (m + 7) / 8 * 8 }

    /// W's columns in pairs, each pair's rows together: pair p (k = 2p, 2p + 1), row i at 2 (p x pairRows + i),
    /// 0 past M or K, and 8 rows of zeros after the last pair (a thread's rows start on a 6-row panel, AVX2
    /// on bytes being the only tile with corrections, so its last group of 8 may reach 7 rows past M). The bytes tile's corrections read a flagged pair's
    /// weights of every row from it.
    static func saturationPairs(_ w: UnsafePointer<Int8>, m: Int, k: Int) -> [Int8] {
        let rows = (m + 7) / 8 * 8, pairs = (k + 3) / 4 * 2
        var out = [Int8](repeating: 0, count: 2 * pairs * rows + 16)
        for i in 0..<m {
            for j in 0..<k { out[2 * ((j / 2) * rows + i) + j % 2] = w[i * k + j] }
        }
        return out
    }

    /// Row panels of M rows on `tile` (its rows each, the last padded with zero rows): the packing's,
    /// the product's and the planner's budget's count.
    public static func panels(m: Int, tile: Int8Tile) -> Int { m <= 0 ? 0 : (m - 1) / tile.rows + 1 }

    /// Σ_k W[m, k] per row, wrapping as int32 (K < 65,793 keeps it exact); both packings keep it.
    static func rowSums(_ w: UnsafePointer<Int8>, m: Int, k: Int) -> [Int32] {
        (0..<m).map { i in (0..<k).reduce(Int32(0)) { $0 &+ Int32(w[i * k + $1]) } }
    }

    /// Where slice k0's panel pm starts, in elements: every earlier slice is kc wide.
    func panelOffset(k0: Int, kb: Int, pm: Int) -> Int {
        let mr = tile.rows, panels = Self.panels(m: m, tile: tile)
        let steps = (kb + tile.kStep - 1) / tile.kStep
        return k0 * panels * mr + pm * steps * tile.kStep * mr
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

public enum Int8Gemm {
    /// C[M,N] = W · B: packed int8 weights times the interleaved uint8 operand (`layout`;
    /// `bytes` for the byte-group tiles and the twin, `halves` for the widening AVX2 tile), exact
    /// int32 sums into C (leading dimension ldc). Threads take disjoint column panels (or, with few
    /// panels, disjoint rows: splitRows). With
    /// `requantize` (SIMD tiles only), the last K slice writes the requantized floats to `output`
    /// (leading dimension ldo; none where it is nil) instead of the sums to C; earlier slices still
    /// accumulate in C (and AVX2 on bytes may write a panel's corrections there before its first
    /// slice, so C is always used). With `byteImage` as well, the tile also writes each output there
    /// as bytes plus the offset (Int8Patches.bytes' conversion), at the output's offsets (leading
    /// dimension ldo). At least one of the two.
    /// `groupStride`, when given, replaces the layout's distance between B's groups of k (in
    /// elements): B read in place from a larger image (Int8ChunkedConv.readsInPlace), whose
    /// columns past N to the tile's width must be readable (their sums are never stored).
    public static func gemm(weights w: PackedInt8Weights, layout: Int8BLayout, bytes: UnsafePointer<UInt8>, halves: UnsafePointer<Int16>,
                            c: UnsafeMutablePointer<Int32>, ldc: Int, workspace: Int8GemmWorkspace,
                            requantize: (Int8FusedRequantization, output: UnsafeMutablePointer<Float>?, ldo: Int)? = nil,
                            byteImage: (UnsafeMutablePointer<UInt8>, offset: Int)? = nil, groupStride givenStride: Int? = nil) {
        precondition(requantize == nil || (w.tile != .reference && requantize!.0.constants.count == w.m), "fused requantization for another product")
        precondition(requantize == nil || w.k > 0, "an empty sum (K = 0) is requantized by the separate pass")
        precondition(byteImage == nil || requantize != nil, "a byte image comes from the tile's requantization")
        precondition(requantize == nil || requantize!.output != nil || byteImage != nil, "a requantized product written nowhere")
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
        let nr = w.tile.columns, mr = w.tile.rows, panelsN = (n + nr - 1) / nr, panelsM = PackedInt8Weights.panels(m: m, tile: w.tile)
        let step = layout.step, groupStride = givenStride ?? layout.paddedN * step
        // Few column panels (a late stage's 49 or 196 positions: 2 or 7 panels of 32): threads split
        // the weights' rows instead, each reading its half of them once, where with one panel
        // apiece each read all of them. And a thread with only two panels runs them inside the K
        // slice and M loops, so the weights stream once (both B slices, 2 x 16 KB then, in L1; VNNI's
        // deeper slices since stream from L2):
        // resnet50-qop's layer4 3x3s 0.78-0.83 -> 0.69-0.72 ms on 1 thread; layer3's (7 panels)
        // ran 5-15% slower in pairs, so more panels than two still run one at a time.
        // And on VNNI where the column panels split unevenly (rowSplitBalancesBetter; measured on VNNI only).
        let splitRows = workspace.threads > 1 && panelsM >= workspace.threads
            && (panelsN < 2 * workspace.threads
                || (w.tile == .vnni && rowSplitBalancesBetter(n: n, columns: nr, rowPanels: panelsM, threads: workspace.threads)))
        let threads = splitRows ? workspace.threads : Swift.min(workspace.threads, panelsN)
        // The requantization's figures as plain values, outside the loops: a tile call must not
        // retain anything (ARC on arrays shared by both threads took a quarter of the run when it did).
        let constants = requantize?.0.constants ?? [], multipliers = requantize?.0.multipliers ?? []
        let fused = requantize != nil, output = requantize?.output, ldo = requantize?.ldo ?? 0
        let imageBytes = byteImage?.0, imageOffset = Float(byteImage?.offset ?? 0)
        let zp = requantize?.0.zeroPoint ?? 0, lo = requantize?.0.lo ?? 0, hi = requantize?.0.hi ?? 0
        let vnni = w.tile == .vnni, onBytes = w.tile == .avx2Bytes
        // AVX2 on bytes: the scan's groups (of 4 k) over the whole operand.
        let groupsK = layout.paddedK / 4
        // One K slice and an output past this Zen 5's 1 MB L2 (2^18 values): the tiles run row
        // panel by row panel, each along all of the thread's column panels, so C (or the
        // requantized output) is written a row panel at a time from left to right instead of a
        // 32-column strip down every row (hundreds of streams no prefetcher follows); B, read
        // once per row panel, stays in L2. resnet50-qop, 8 interleaved rounds: layer1's conv3
        // (256 x 3136, K 64) 0.46 -> 0.31 ms on 1 thread and 0.25 -> 0.15 on 2; layer3's conv3
        // (1024 x 196, below the threshold) had run 0.16 -> 0.20 ms so on 1 thread.
        let (outputValues, outputOverflow) = m.multipliedReportingOverflow(by: n)
        // (Measured with K up to 768: a deeper single VNNI slice keeps the column-first order, whose B
        // block no longer stays in L2 along a row panel.)
        let rowsFirst = k <= w.kc && k <= 768 && (outputOverflow || outputValues >= 1 << 18)
        let work = { (t: Int) in
            constants.withUnsafeBufferPointer { constants in multipliers.withUnsafeBufferPointer { multipliers in
            w.bytes.withUnsafeBufferPointer { a8 in w.halves.withUnsafeBufferPointer { a16 in
            w.saturationBounds.withUnsafeBufferPointer { bounds in w.saturationPairs.withUnsafeBufferPointer { pairs in
            // Sound: the scan writes at most groupsK groups and 4 masks each; `panelState` has a value per column panel
            // (AVX2 on bytes: 0 clean, 1 corrected, 2 run split).
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: onBytes ? 5 * groupsK : 0) { scan in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: onBytes ? panelsN : 0) { panelState in
            // A panel's split halves, one K slice at a time (kc / 4 groups of 128 bytes each: 48 KiB in all at AVX2's
            // slices of at most 768, the only tile on bytes; int8-gemm-bench's deeper slices take more).
            let splitHalf = onBytes ? (w.kc + 3) / 4 * 128 : 0
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * splitHalf) { split in
            let columnPanels = splitRows ? 0..<panelsN : (panelsN * t / threads)..<(panelsN * (t + 1) / threads)
            let rowPanels = splitRows ? (panelsM * t / threads)..<(panelsM * (t + 1) / threads) : 0..<panelsM
            let together = columnPanels.count <= 2 ? 2 : rowsFirst ? columnPanels.count : 1
            // The tile(s) of row panel pm and column panel pn over the K slice k0 ..< k0 + kb, B's group
            // 0 of that slice at `source` (groups `stride` bytes apart; source's memory is B's element
            // type): C += or = the sums, or, requantizing, the outputs (+ C's sums when accumulating).
            // `body` with the fused requantization of the tiles whose first output is row `row`, column `column`
            // (nil unless `requantizing` on a fused product). Sound: rows from `row` (< m) index constants and
            // multipliers (m each); the outputs lie in rows row ..< m, columns column ..< n of the caller's
            // output and byte image (the tile or the C loop stays within them).
            @inline(__always) func withRequantization(row: Int, column: Int, _ requantizing: Bool, _ body: (UnsafePointer<rt_requant_tile>?) -> Void) {
                guard requantizing, fused else { return body(nil) }
                var rq = rt_requant_tile(constant: constants.baseAddress! + row, multiplier: multipliers.baseAddress! + row,
                                         zp: zp, lo: lo, hi: hi, out: output.map { $0 + row * ldo + column }, ldo: ldo,
                                         bytes: imageBytes.map { $0 + row * ldo + column }, byte_offset: imageOffset)
                withUnsafePointer(to: &rq) { body($0) }
            }
            @inline(__always) func tiles(pm: Int, pn: Int, k0: Int, kb: Int, source: UnsafeRawPointer, stride: Int, accumulate: Bool, requantizing: Bool) {
                let j0 = pn * nr, cols = Swift.min(nr, n - j0), steps = (kb + step - 1) / step
                let rows = Int32(Swift.min(mr, m - pm * mr)), out = c + pm * mr * ldc + j0, add: Int32 = accumulate ? 1 : 0
                // Sound: the weights' slice/panel offset is within init's packing; B's reads stay
                // within paddedK x paddedN (whole groups, whole tiles of columns), or, with a
                // groupStride given, within the image the caller says holds them, or within a split slice.
                let weights = w.panelOffset(k0: k0, kb: kb, pm: pm)
                @inline(__always) func run(_ rq: UnsafePointer<rt_requant_tile>?) {
                    if onBytes {
                        // Two 16-column tiles per 32-column panel (the right one where columns remain), C (and the
                        // requantized output) 16 columns on.
                        for half in 0..<2 where 16 * half < cols {
                            let halfCols = Swift.min(16, cols - 16 * half)
                            @inline(__always) func runHalf(_ rqHalf: UnsafePointer<rt_requant_tile>?) {
                                let tile = halfCols <= 8 ? rt_int8_tile_avx2_bytes_half : rt_int8_tile_avx2_bytes
                                tile(steps, a8.baseAddress! + weights, source.assumingMemoryBound(to: UInt8.self) + 64 * half, stride,
                                     out + 16 * half, ldc, rows, Int32(halfCols), add, rqHalf)
                            }
                            guard var shifted = rq?.pointee else { runHalf(nil); continue }
                            // The right half's outputs (and byte image) 16 columns on.
                            shifted.out = shifted.out.map { $0 + 16 * half }
                            shifted.bytes = shifted.bytes.map { $0 + 16 * half }
                            withUnsafePointer(to: &shifted) { runHalf($0) }
                        }
                    } else if vnni {
                        rt_int8_tile_vnni(steps, a8.baseAddress! + weights, source.assumingMemoryBound(to: UInt8.self), stride, out, ldc, rows,
                                          Int32(cols), add, rq)
                    } else {
                        // int16 elements, the stride counted in them. A panel of 8 columns or fewer on the tile's left half alone.
                        let words = source.assumingMemoryBound(to: Int16.self), wordStride = stride / 2
                        if cols <= 8 {
                            rt_int8_tile_avx2_half(steps, a16.baseAddress! + weights, words, wordStride, out, ldc, rows, Int32(cols), add, rq)
                        } else {
                            rt_int8_tile_avx2(steps, a16.baseAddress! + weights, words, wordStride, out, ldc, rows, Int32(cols), add, rq)
                        }
                    }
                }
                withRequantization(row: pm * mr, column: j0, requantizing, run)
            }
            // VNNI, one column panel at a time: the row panels' tiles of a slice in one C call (rt_int8_tiles_vnni).
            @inline(__always) func tilesDown(pn: Int, k0: Int, kb: Int, source: UnsafeRawPointer, stride: Int, accumulate: Bool,
                                             requantizing: Bool) {
                let j0 = pn * nr, cols = Int32(Swift.min(nr, n - j0)), groups = (kb + 3) / 4, first = rowPanels.lowerBound
                let rows = Swift.min(m, rowPanels.upperBound * mr) - first * mr, add: Int32 = accumulate ? 1 : 0
                // Sound: as tiles(pm:...) for each row panel: the C function shifts the weights by 32 x groups bytes,
                // C, the outputs and the figures by 8 rows per panel (mr, VNNI's), within rowPanels.
                let weights = a8.baseAddress! + w.panelOffset(k0: k0, kb: kb, pm: first), out = c + first * mr * ldc + j0
                let b = source.assumingMemoryBound(to: UInt8.self)
                withRequantization(row: first * mr, column: j0, requantizing) {
                    rt_int8_tiles_vnni(groups, weights, rowPanels.count, b, stride, out, ldc, rows, cols, add, $0)
                }
            }
            // VNNI, one row panel along several column panels in one C call (rt_int8_tiles_vnni_across).
            @inline(__always) func tilesAcross(pm: Int, panels: Range<Int>, k0: Int, kb: Int, source: UnsafeRawPointer, stride: Int,
                                               accumulate: Bool, requantizing: Bool) {
                let j0 = panels.lowerBound * nr, groups = (kb + 3) / 4, rows = Int32(Swift.min(mr, m - pm * mr)), add: Int32 = accumulate ? 1 : 0
                // Sound: as tiles(pm:pn:...) for each panel: the C function shifts B by 128 bytes, C and the outputs
                // by 32 columns per panel, within columns j0 ..< n.
                let weights = a8.baseAddress! + w.panelOffset(k0: k0, kb: kb, pm: pm), out = c + pm * mr * ldc + j0
                let b = source.assumingMemoryBound(to: UInt8.self), columns = Swift.min(n, panels.upperBound * nr) - j0
                withRequantization(row: pm * mr, column: j0, requantizing) {
                    rt_int8_tiles_vnni_across(groups, weights, b, stride, panels.count, columns, out, ldc, rows, add, $0)
                }
            }
            // B's elements: bytes for the byte tiles, int16 for AVX2's widened operand.
            let elementBytes = vnni || onBytes ? 1 : 2
            let operand = vnni || onBytes ? UnsafeRawPointer(bytes) : UnsafeRawPointer(halves)
            let rowRange = rowPanels.lowerBound * mr..<Swift.min(m, rowPanels.upperBound * mr)
            for pair in stride(from: columnPanels.lowerBound, to: columnPanels.upperBound, by: together) {
                let panels = pair..<Swift.min(pair + together, columnPanels.upperBound)
                if onBytes {
                    // Before a panel's first slice: its flagged pairs' corrections into C, which the first slice then
                    // adds to; or, where too many are flagged, the whole product now as two exact halves.
                    for pn in panels {
                        switch correctSaturation(w, pairs: pairs.baseAddress!, bounds: bounds.baseAddress!, b: bytes + pn * nr * 4,
                                                 groupStride: groupStride, groups: groupsK, columns: pn * nr..<Swift.min(n, pn * nr + nr),
                                                 rows: rowRange, c: c, ldc: ldc, scan: scan.baseAddress!) {
                        case .none: panelState[pn] = 0
                        case .corrected: panelState[pn] = 1
                        case .tooMany:
                            panelState[pn] = 2
                            var k0 = 0
                            while k0 < k {
                                let kb = Swift.min(w.kc, k - k0), last = k0 + kb == k
                                // x = min(x, 127) + max(x - 127, 0): neither part's pair sums can saturate with int8
                                // weights (at most 127 x 127 x 2 and 128 x 127 x 2, at least -127 x 128 x 2 and
                                // -128 x 128 x 2 = -32768), and the tile adds the second to the first in C.
                                // Sound: the slice's groups of the panel (128 bytes each, whole in the layout) into
                                // split's two halves (kc / 4 groups of 128 bytes each).
                                rt_int8_split_bytes(bytes + (k0 / 4) * groupStride + pn * nr * 4, groupStride, (kb + 3) / 4,
                                                    split.baseAddress!, split.baseAddress! + splitHalf)
                                for pm in rowPanels {
                                    tiles(pm: pm, pn: pn, k0: k0, kb: kb, source: UnsafeRawPointer(split.baseAddress!), stride: 128,
                                          accumulate: k0 > 0, requantizing: false)
                                    tiles(pm: pm, pn: pn, k0: k0, kb: kb, source: UnsafeRawPointer(split.baseAddress! + splitHalf), stride: 128,
                                          accumulate: true, requantizing: last)
                                }
                                k0 += kb
                            }
                        }
                    }
                }
                var k0 = 0
                while k0 < k {
                    // Slices of kc (a multiple of 4): the panels' B slices, kc x nr values each, stay in L1 at
                    // AVX2's 768 and stream from L2 at VNNI's deeper slices (as when rowsFirst takes all of the
                    // thread's panels together).
                    let kb = Swift.min(w.kc, k - k0), last = k0 + kb == k
                    if vnni && panels.count == 1 && !rowPanels.isEmpty {
                        let pn = panels.lowerBound, origin = (k0 / step) * groupStride + pn * nr * step
                        tilesDown(pn: pn, k0: k0, kb: kb, source: operand + origin, stride: groupStride, accumulate: k0 > 0, requantizing: last)
                        k0 += kb
                        continue
                    }
                    if vnni && panels.count > 1 {
                        let origin = (k0 / step) * groupStride + panels.lowerBound * nr * step
                        for pm in rowPanels {
                            tilesAcross(pm: pm, panels: panels, k0: k0, kb: kb, source: operand + origin, stride: groupStride, accumulate: k0 > 0,
                                        requantizing: last)
                        }
                        k0 += kb
                        continue
                    }
                    for pm in rowPanels { for pn in panels where !onBytes || panelState[pn] < 2 {
                        let origin = (k0 / step) * groupStride + pn * nr * step
                        // A first slice adds to C where corrections were written there.
                        tiles(pm: pm, pn: pn, k0: k0, kb: kb, source: operand + origin * elementBytes, stride: groupStride * elementBytes,
                              accumulate: k0 > 0 || (onBytes && panelState[pn] == 1), requantizing: last)
                    } }
                    k0 += kb
                }
            }
            } } }
            } } }
            } }
            }
        }
        if threads > 1 { DispatchFor.concurrent(threads, work) } else { work(0) }
    }

    /// Whether splitting a product's row panels between `threads` leaves the busiest thread less
    /// work than splitting its column panels (contiguous runs, as gemm takes them), by more than
    /// 1/16: work counted in half tiles, a last panel of at most half the tile's columns being one
    /// (the tiles' left half alone). Why: resnet50's 14x14 products have 6 full panels and 4
    /// columns, which split 3 + 3.5 between two threads, where 32 row panels split evenly.
    public static func rowSplitBalancesBetter(n: Int, columns nr: Int, rowPanels: Int, threads: Int) -> Bool {
        guard n > 0, nr > 1, rowPanels > 0, threads > 1 else { return false }
        let panels = (n - 1) / nr + 1, lastHalves = n - (panels - 1) * nr <= nr / 2 ? 1 : 2
        // Half tiles in a run of panels (2 a panel, the last one's lastHalves): at most 2 x panels, which
        // fits (panels <= n / 2).
        func halves(_ range: Range<Int>) -> Int { range.isEmpty ? 0 : 2 * range.count - (range.upperBound == panels ? 2 - lastHalves : 0) }
        let byColumns = (0..<threads).map { t in halves((panels * t / threads)..<(panels * (t + 1) / threads)) }.max() ?? 0
        // Both ways in half tiles: the busiest thread's row panels x all the columns' halves, or its halves x all row panels.
        return DispatchFor.splitsEvenlier(((rowPanels - 1) / threads + 1, halves(0..<panels)), than: (byColumns, rowPanels))
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
