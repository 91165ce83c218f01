import ResNetKernelsReference

/// The AVX2 kernel set's GEMM tile: 6 rows x 16 columns, 12 of the 16 ymm
/// registers as accumulators (6 x 2 SIMD8), B loaded as 2 ymm per k and A
/// broadcast per row. Built for x86-64-v3, so each addingProduct is one vfmadd231ps.
public enum AVX2Tile: GemmMicroKernel {
    public static let mr = 6
    public static let nr = 16
    @inlinable public static var gatherRows: Int { 6 }
    /// Channels last, a 1x1's six positions lie C floats apart: six streams, whose lines fall in
    /// one L1 set where C x 4 bytes is a multiple of 4 KB (C = 1024, 2048); packed (once per
    /// position panel and K slice; eight steps at a time since session 23, PositionPacking.vector,
    /// the thresholds below measured with the float-at-a-time copy before it) they are one. Worth its copy from 1024 input
    /// channels, or from 512 output channels, where 32 channel panels or more share it (layer2's
    /// 128 -> 512). Zen 3, ab-inproc 12-20 rounds, minima: resnet50's layer3 conv1s (1024 -> 256)
    /// 1.27-1.29 -> 1.23-1.24 ms on 1 thread (even on 2); layer4's 512 -> 2048 1.41 -> 1.33-1.35 on
    /// 1 and 0.71-0.72 -> 0.67-0.69 on 2, its 2048 -> 512 1.39 -> 1.35 and 0.71 -> 0.70; the strided
    /// downsamples 3-6%; layer2's conv3s (128 -> 512) 0.66 -> 0.64 on 2; the 7x7 Winograd's products
    /// (512 -> 512, 16 tiles) even on 1 thread, layer4's 3x3s 1.44-1.46 -> 1.41-1.43 ms on 2. Not
    /// below: layer2's conv1s (512 -> 128) 1.23 -> 1.30-1.34 on 1 thread, and the 14x14 Winograd's
    /// products (256 -> 256, 49 tiles) 1-2% slower on 2.
    /// (On a Zen 4 with AVX-512 reading in place had measured faster: that set keeps the default.)
    @inlinable public static func packsChannelsLastPointwise(channels: Int, outputChannels: Int) -> Bool {
        channels >= 1024 || outputChannels >= 512
    }

    /// convGather's software prefetch of the next two weight units into L2 (measured faster on a
    /// Zen 4 with AVX-512, which keeps it) costs time on a Zen 3 core, where the hardware
    /// prefetcher follows the units alone. resnet50, ab-inproc (one plan, variants alternating):
    /// 1 thread, 12 rounds, summed steps 86.54 -> 85.17 ms (layer4 20.57 -> 19.32, layer3 28.77 ->
    /// 28.42); 2 threads, 30 rounds, 47.37 -> 45.84 ms (minima 44.92 -> 43.53; layer3 15.44 ->
    /// 14.79, layer4 10.90 -> 10.33). Dropping only the unit after next gained less (85.34, 46.33).
    @inlinable public static var prefetchesWeightUnits: Bool { false }

    /// Nor the next panel's output rows (prefetchRows; the Zen 4 had measured layer3's conv3s 5-8%
    /// faster with it). resnet50 on the Zen 3, ab-inproc: 1 thread, 24 rounds, summed steps 82.03 ->
    /// 80.68 ms (minima 80.74 -> 79.28; layers 2-4 each 1.6-2.3% faster), an earlier 20 rounds 83.02 ->
    /// 83.00; 2 threads, 30 rounds, minima 42.30 -> 42.29, an earlier 30 rounds 42.61 -> 42.21 (medians).
    @inlinable public static var prefetchesOutputRows: Bool { false }

    /// A channels-last 1x1 read in place (below packsChannelsLastPointwise's thresholds) runs 16
    /// position panels at a time: 96 positions, whose rows of a K slice (256 floats each, 96 KB)
    /// stay in the Zen 3's 512 KB L2 while every channel panel passes over them. With the whole
    /// plane as one block, each channel panel streamed all of it again (resnet50's layer2 conv1s,
    /// 512 -> 128 at 28x28: 1.6 MB per pass, eight passes) from L3. The sums are the same, in the
    /// same order. resnet50, ab-inproc (one plan, variants alternating), medians: 1 thread, 20
    /// rounds, layer2's conv1s 1.235-1.242 -> 1.133-1.167 ms, layer3.0.conv1 (512 -> 256 at 28x28)
    /// 2.502 -> 2.298; 2 threads, 24 rounds, 0.647-0.700 -> 0.591-0.605 and 1.361 -> 1.250. Blocks of
    /// 11, 22 and 33 panels measured within 2% of 16 on 1 thread; the windowed convs read in place
    /// (the strided 3x3s) gained nothing blocked so (layer3.0.conv2 1.41 -> 1.44-1.48 ms on 2 threads).
    @inlinable public static var inPlacePointwiseBlockPanels: Int? { 16 }

    /// Eight floats a move where the steps are consecutive (PositionPacking.vector, tested against
    /// the scalar twin): the wide channels-last 1x1s this set packs.
    @inline(__always)
    public static func packPositions(source: UnsafeRawPointer, steps: UnsafePointer<Int>, kb: Int, offsets: UnsafePointer<Int>,
                                     consecutiveSteps: Bool, into dst: UnsafeMutablePointer<Float>) {
        PositionPacking.vector(source: source, steps: steps, kb: kb, offsets: offsets, rows: gatherRows, consecutiveSteps: consecutiveSteps, into: dst)
    }

    @inline(__always)
    public static func tile(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                            rows: Int, cols: Int, accumulate: Bool, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool) {
        let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
        // Sound: the A panel holds k x 6 floats (PackedA), the packed B panel k x 16 (PackedBSource.pack).
        product(k: k, aRow: { rawA + $0 * 24 }, aOffsets: (0, 4, 8, 12, 16, 20), bRow: { rawB + $0 * 64 }, c: c, ldc: ldc,
                rows: rows, cols: cols, accumulate: accumulate, bias: bias, columnBias: nil, residual: residual, relu: relu)
    }

    @inline(__always)
    public static func tileRows(k: Int, a: UnsafePointer<Float>, b: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, c: UnsafeMutablePointer<Float>,
                                ldc: Int, rows: Int, cols: Int, accumulate: Bool, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                relu: Bool) {
        let rawA = UnsafeRawPointer(a)
        // Sound: the A panel holds k x 6 floats (PackedA); the caller (PackedGemm.sgemmRows) keeps
        // b + rowOffsets[p] ..< +64 bytes inside B's allocation for p < k.
        product(k: k, aRow: { rawA + $0 * 24 }, aOffsets: (0, 4, 8, 12, 16, 20), bRow: { b + rowOffsets[$0] }, c: c, ldc: ldc,
                rows: rows, cols: cols, accumulate: accumulate, bias: bias, columnBias: nil, residual: residual, relu: relu)
    }

    @inline(__always)
    public static func tileGather(k: Int, positions: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, positionOffsets: UnsafePointer<Int>,
                                  b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool,
                                  columnBias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool) {
        let rawB = UnsafeRawPointer(b)
        // Sound: the caller (PackedGemm.convGather) keeps positions + rowOffsets[p] + each of positionOffsets
        // inside the activation it reads for p < k; the packed B panel holds k x 16 floats; columnBias holds
        // the tile's cols floats, residual C's rows x cols.
        let o = positionOffsets  // six (gatherRows)
        product(k: k, aRow: { positions + rowOffsets[$0] }, aOffsets: (o[0], o[1], o[2], o[3], o[4], o[5]), bRow: { rawB + $0 * 64 }, c: c, ldc: ldc,
                rows: rows, cols: cols, accumulate: accumulate, bias: nil, columnBias: columnBias, residual: residual, relu: relu)
    }

    /// tileGather for a panel of one to four positions (the last of a plane: 49 = 8 x 6 + 1 at
    /// 7x7, 196 = 32 x 6 + 4 at 14x14, 16 = 2 x 6 + 4 for the 7x7 Winograd's tiles), on a tile of
    /// one, three or four rows: the six-row tile spent six rows' FMAs on them.
    /// Its own entry, chosen by the driver (convGather): a branch inside tileGather made the
    /// six-row tile's body an out-of-line closure call per step (gemm-bench: 75 -> 19 GFLOP/s).
    @inline(__always)
    public static func tileGatherFew(k: Int, positions: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, positionOffsets: UnsafePointer<Int>,
                                     b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool,
                                     columnBias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool) {
        let rawB = UnsafeRawPointer(b)
        if rows == 1 {
            shortProduct(rowsComputed: 1, k: k, positions: positions, rowOffsets: rowOffsets, positionOffsets: positionOffsets, b: rawB, c: c,
                         ldc: ldc, rows: rows, cols: cols, accumulate: accumulate, columnBias: columnBias, residual: residual, relu: relu)
        } else if rows == 4 {
            shortProduct(rowsComputed: 4, k: k, positions: positions, rowOffsets: rowOffsets, positionOffsets: positionOffsets, b: rawB, c: c,
                         ldc: ldc, rows: rows, cols: cols, accumulate: accumulate, columnBias: columnBias, residual: residual, relu: relu)
        } else {
            shortProduct(rowsComputed: 3, k: k, positions: positions, rowOffsets: rowOffsets, positionOffsets: positionOffsets, b: rawB, c: c,
                         ldc: ldc, rows: rows, cols: cols, accumulate: accumulate, columnBias: columnBias, residual: residual, relu: relu)
        }
    }

    /// tileGatherFew's body: `rowsComputed` rows (1, 3 or 4, a constant at each call, so the unused
    /// rows fold away) of two accumulators each.
    @inline(__always)
    static func shortProduct(rowsComputed: Int, k: Int, positions: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, positionOffsets o: UnsafePointer<Int>,
                             b: UnsafeRawPointer, c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool,
                             columnBias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>(), c20 = SIMD8<Float>(), c21 = SIMD8<Float>()
        var c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        let (o0, o1, o2, o3) = (o[0], o[1], o[2], o[3])
        var first = 0
        if rowsComputed == 1 {
            // One row: its two sums split four ways by step (p mod 4), added at the end. Why: one pair
            // of accumulators waits an FMA's latency (4 cycles) each step, so the row ran at a quarter
            // of the FMA rate; with four pairs in flight the steps overlap. (49 = 8 x 6 + 1 positions:
            // resnet50's layer4 and its 14x14 Winograd products. ab-inproc, 1 thread, 20 rounds:
            // layer4 18.63 -> 18.29 ms, layer3 27.26 -> 27.02, summed steps 80.53 -> 79.94.)
            var d00 = SIMD8<Float>(), d01 = SIMD8<Float>(), e00 = SIMD8<Float>(), e01 = SIMD8<Float>(), f00 = SIMD8<Float>(), f01 = SIMD8<Float>()
            @inline(__always) func step(_ p: Int, _ lo: inout SIMD8<Float>, _ hi: inout SIMD8<Float>) {
                // Sound: as tileGather's.
                let row = b + p * 64
                let x = SIMD8<Float>(repeating: (positions + rowOffsets[p]).load(fromByteOffset: o0, as: Float.self))
                lo.addProduct(x, row.loadUnaligned(as: SIMD8<Float>.self)); hi.addProduct(x, row.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
            }
            while first + 4 <= k {
                step(first, &c00, &c01); step(first + 1, &d00, &d01); step(first + 2, &e00, &e01); step(first + 3, &f00, &f01)
                first += 4
            }
            c00 = (c00 + d00) + (e00 + f00); c01 = (c01 + d01) + (e01 + f01)
        }
        for p in first..<k {
            // Sound: as tileGather's (rows past the last position repeat it: offsets 1 to 3 are readable).
            let row = b + p * 64
            let b0 = row.loadUnaligned(as: SIMD8<Float>.self), b1 = row.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            let ap = positions + rowOffsets[p]
            var x = SIMD8<Float>(repeating: ap.load(fromByteOffset: o0, as: Float.self)); c00.addProduct(x, b0); c01.addProduct(x, b1)
            if rowsComputed > 1 {
                x = SIMD8<Float>(repeating: ap.load(fromByteOffset: o1, as: Float.self)); c10.addProduct(x, b0); c11.addProduct(x, b1)
                x = SIMD8<Float>(repeating: ap.load(fromByteOffset: o2, as: Float.self)); c20.addProduct(x, b0); c21.addProduct(x, b1)
            }
            if rowsComputed > 3 {
                x = SIMD8<Float>(repeating: ap.load(fromByteOffset: o3, as: Float.self)); c30.addProduct(x, b0); c31.addProduct(x, b1)
            }
        }
        let cb = columnBias.map(UnsafeRawPointer.init)
        if cols == 16 {
            // Whole rows: storeWhole, inlined (Sgemm.storeWhole).
            Sgemm.storeWhole(c00, c01, row: c, accumulate: accumulate, bias: nil, columnBias: cb, residual: residual, relu: relu)
            if rows > 1 { Sgemm.storeWhole(c10, c11, row: c + ldc, accumulate: accumulate, bias: nil, columnBias: cb, residual: residual.map { $0 + ldc }, relu: relu) }
            if rows > 2 { Sgemm.storeWhole(c20, c21, row: c + 2 * ldc, accumulate: accumulate, bias: nil, columnBias: cb, residual: residual.map { $0 + 2 * ldc }, relu: relu) }
            if rows > 3 { Sgemm.storeWhole(c30, c31, row: c + 3 * ldc, accumulate: accumulate, bias: nil, columnBias: cb, residual: residual.map { $0 + 3 * ldc }, relu: relu) }
            return
        }
        Sgemm.store(c00, c01, row: c, cols: cols, accumulate: accumulate, bias: nil, columnBias: cb, residual: residual, relu: relu)
        if rows > 1 { Sgemm.store(c10, c11, row: c + ldc, cols: cols, accumulate: accumulate, bias: nil, columnBias: cb, residual: residual.map { $0 + ldc }, relu: relu) }
        if rows > 2 { Sgemm.store(c20, c21, row: c + 2 * ldc, cols: cols, accumulate: accumulate, bias: nil, columnBias: cb, residual: residual.map { $0 + 2 * ldc }, relu: relu) }
        if rows > 3 { Sgemm.store(c30, c31, row: c + 3 * ldc, cols: cols, accumulate: accumulate, bias: nil, columnBias: cb, residual: residual.map { $0 + 3 * ldc }, relu: relu) }
    }

    /// The tile's body: row r of A at step p is the float at aRow(p) + aOffsets.r bytes (a packed
    /// panel, or six positions of shifted-row planes), B's row p the 16 floats at bRow(p). One
    /// code for packed, shifted-row and gathered operands.
    @inline(__always)
    static func product(k: Int, aRow: (Int) -> UnsafeRawPointer, aOffsets: (Int, Int, Int, Int, Int, Int), bRow: (Int) -> UnsafeRawPointer,
                        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool, bias: UnsafePointer<Float>?, columnBias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool) {
        var c00 = SIMD8<Float>(), c01 = SIMD8<Float>(), c10 = SIMD8<Float>(), c11 = SIMD8<Float>()
        var c20 = SIMD8<Float>(), c21 = SIMD8<Float>(), c30 = SIMD8<Float>(), c31 = SIMD8<Float>()
        var c40 = SIMD8<Float>(), c41 = SIMD8<Float>(), c50 = SIMD8<Float>(), c51 = SIMD8<Float>()
        for p in 0..<k {
            // Sound: row p of B holds 16 floats, A six at the offsets (the callers above).
            let row = bRow(p)
            let b0 = row.loadUnaligned(as: SIMD8<Float>.self)
            let b1 = row.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            let ap = aRow(p)
            var x = SIMD8<Float>(repeating: ap.load(fromByteOffset: aOffsets.0, as: Float.self)); c00.addProduct(x, b0); c01.addProduct(x, b1)
            x = SIMD8<Float>(repeating: ap.load(fromByteOffset: aOffsets.1, as: Float.self)); c10.addProduct(x, b0); c11.addProduct(x, b1)
            x = SIMD8<Float>(repeating: ap.load(fromByteOffset: aOffsets.2, as: Float.self)); c20.addProduct(x, b0); c21.addProduct(x, b1)
            x = SIMD8<Float>(repeating: ap.load(fromByteOffset: aOffsets.3, as: Float.self)); c30.addProduct(x, b0); c31.addProduct(x, b1)
            x = SIMD8<Float>(repeating: ap.load(fromByteOffset: aOffsets.4, as: Float.self)); c40.addProduct(x, b0); c41.addProduct(x, b1)
            x = SIMD8<Float>(repeating: ap.load(fromByteOffset: aOffsets.5, as: Float.self)); c50.addProduct(x, b0); c51.addProduct(x, b1)
        }
        let cb = columnBias.map(UnsafeRawPointer.init)
        if cols == 16 {
            // Whole rows (every panel but a last partial one): storeWhole, inlined (Sgemm.storeWhole).
            Sgemm.storeWhole(c00, c01, row: c, accumulate: accumulate, bias: bias?[0], columnBias: cb, residual: residual, relu: relu)
            if rows > 1 { Sgemm.storeWhole(c10, c11, row: c + ldc, accumulate: accumulate, bias: bias?[1], columnBias: cb, residual: residual.map { $0 + ldc }, relu: relu) }
            if rows > 2 { Sgemm.storeWhole(c20, c21, row: c + 2 * ldc, accumulate: accumulate, bias: bias?[2], columnBias: cb, residual: residual.map { $0 + 2 * ldc }, relu: relu) }
            if rows > 3 { Sgemm.storeWhole(c30, c31, row: c + 3 * ldc, accumulate: accumulate, bias: bias?[3], columnBias: cb, residual: residual.map { $0 + 3 * ldc }, relu: relu) }
            if rows > 4 { Sgemm.storeWhole(c40, c41, row: c + 4 * ldc, accumulate: accumulate, bias: bias?[4], columnBias: cb, residual: residual.map { $0 + 4 * ldc }, relu: relu) }
            if rows > 5 { Sgemm.storeWhole(c50, c51, row: c + 5 * ldc, accumulate: accumulate, bias: bias?[5], columnBias: cb, residual: residual.map { $0 + 5 * ldc }, relu: relu) }
            return
        }
        if rows > 0 { Sgemm.store(c00, c01, row: c, cols: cols, accumulate: accumulate, bias: bias?[0], columnBias: cb, residual: residual, relu: relu) }
        if rows > 1 { Sgemm.store(c10, c11, row: c + ldc, cols: cols, accumulate: accumulate, bias: bias?[1], columnBias: cb, residual: residual.map { $0 + ldc }, relu: relu) }
        if rows > 2 { Sgemm.store(c20, c21, row: c + 2 * ldc, cols: cols, accumulate: accumulate, bias: bias?[2], columnBias: cb, residual: residual.map { $0 + 2 * ldc }, relu: relu) }
        if rows > 3 { Sgemm.store(c30, c31, row: c + 3 * ldc, cols: cols, accumulate: accumulate, bias: bias?[3], columnBias: cb, residual: residual.map { $0 + 3 * ldc }, relu: relu) }
        if rows > 4 { Sgemm.store(c40, c41, row: c + 4 * ldc, cols: cols, accumulate: accumulate, bias: bias?[4], columnBias: cb, residual: residual.map { $0 + 4 * ldc }, relu: relu) }
        if rows > 5 { Sgemm.store(c50, c51, row: c + 5 * ldc, cols: cols, accumulate: accumulate, bias: bias?[5], columnBias: cb, residual: residual.map { $0 + 5 * ldc }, relu: relu) }
    }
}

/// The AVX2 set's entry points.
public enum SgemmAVX2 {
    /// C[M,N] (+)= packed A · B (+ bias) (+ residual) (ReLU), B from a matrix or straight
    /// from an image's patches (implicit GEMM), on this set's tile. The tile, and with the
    /// planner's two sources (MatrixB, ConvPatchesB: @_specialize) their pack loops, are
    /// compiled here at this set's instruction level; called generically, a source's pack ran
    /// the reference module's baseline x86-64 copy. (sgemmNarrow likewise.)
    @_specialize(where Source == MatrixB)
    @_specialize(where Source == ConvPatchesB)
    public static func sgemm<Source: PackedBSource>(n: Int, a: PackedA, b: Source, c: UnsafeMutablePointer<Float>, ldc: Int,
                                                    bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                                    epilogue: GemmEpilogue, workspace: PackedGemmWorkspace) {
        PackedGemm<AVX2Tile>.sgemm(n: n, a: a, b: b, c: c, ldc: ldc, bias: bias, residual: residual, epilogue: epilogue, workspace: workspace)
    }
}

extension SgemmAVX2 {
    /// C[M,N] (+)= W · B for narrow N (PackedGemm.sgemmNarrow): positions as the tile's
    /// rows, channels as its columns; W packed with AVX2Tile.nr-row panels.
    @_specialize(where Source == MatrixB)
    @_specialize(where Source == ConvPatchesB)
    public static func sgemmNarrow<Source: PackedBSource>(n: Int, weights: PackedA, b: Source, c: UnsafeMutablePointer<Float>, ldc: Int,
                                                          bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                                          epilogue: GemmEpilogue, workspace: PackedGemmWorkspace) {
        PackedGemm<AVX2Tile>.sgemmNarrow(n: n, weights: weights, b: b, c: c, ldc: ldc, bias: bias, residual: residual,
                                        epilogue: epilogue, workspace: workspace)
    }
}

extension SgemmAVX2 {
    /// C[M,N] (+)= packed A · B with B's rows read in place (PackedGemm.sgemmRows), on this set's tile.
    public static func sgemmRows(n: Int, a: PackedA, b: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, c: UnsafeMutablePointer<Float>, ldc: Int,
                                 bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, epilogue: GemmEpilogue, workspace: PackedGemmWorkspace) {
        PackedGemm<AVX2Tile>.sgemmRows(n: n, a: a, b: b, rowOffsets: rowOffsets, c: c, ldc: ldc, bias: bias, residual: residual,
                                      epilogue: epilogue, workspace: workspace)
    }

    /// One image's convolution transposed, its input read in place (PackedGemm.convGather), on this set's tile.
    public static func convGather(_ s: GatherConv, image: UnsafePointer<Float>, rowOffsets: UnsafePointer<Int>, weights: PackedA,
                                  output: UnsafeMutablePointer<Float>, outputLayout: ActivationLayout, bias: UnsafePointer<Float>?,
                                  residual: UnsafePointer<Float>?, relu: Bool, workspace: PackedGemmWorkspace) {
        PackedGemm<AVX2Tile>.convGather(s, image: image, rowOffsets: rowOffsets, weights: weights, output: output, outputLayout: outputLayout,
                                      bias: bias, residual: residual, relu: relu, workspace: workspace)
    }

    /// One image's convolution by ShiftedRowsConv (PackedGemm.convShiftedRows), on this set's tile.
    public static func convShiftedRows(_ s: ShiftedRowsConv, image: UnsafePointer<Float>, rowOffsets: UnsafePointer<Int>, weights: PackedA,
                                       output: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                       relu: Bool, workspace: PackedGemmWorkspace) {
        PackedGemm<AVX2Tile>.convShiftedRows(s, image: image, rowOffsets: rowOffsets, weights: weights, output: output, bias: bias,
                                             residual: residual, relu: relu, workspace: workspace)
    }
}

extension SgemmAVX2 {
    /// The AVX2 tile's GFLOP/s on one core (KernelPeak), compiled for x86-64-v3.
    public static func measurePeak(seconds: Double = 0.2) -> Double { KernelPeak.measure(AVX2Tile.self, seconds: seconds) }
}

/// The AVX2 set's Winograd transforms: eight tiles per vector, compiled for x86-64-v3.
public enum WinogradAVX2 {
    public static func transformInput(_ tile: WinogradTile, _ x: UnsafePointer<Float>, _ g: ConvGeometry, channels: Range<Int>,
                                      tileRows: Range<Int>, v: UnsafeMutablePointer<Float>, ldv: Int, tileBase: Int, scratch: UnsafeMutablePointer<Float>,
                                      layout: ActivationLayout = .channelsFirst) {
        tile.transformInput(SIMD8<Float>.self, x, g, channels: channels, tileRows: tileRows, v: v, ldv: ldv, tileBase: tileBase, scratch: scratch, layout: layout)
    }
    public static func transformOutput(_ tile: WinogradTile, _ mt: UnsafePointer<Float>, _ g: ConvGeometry, outputs: Range<Int>, tileRows: Range<Int>,
                                       m: Int, ldm: Int, tileBase: Int, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool,
                                       into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, layout: ActivationLayout = .channelsFirst) {
        tile.transformOutput(SIMD8<Float>.self, mt, g, outputs: outputs, tileRows: tileRows, m: m, ldm: ldm, tileBase: tileBase, bias: bias,
                             residual: residual, relu: relu, into: y, scratch: scratch, layout: layout)
    }
}

extension WinogradAVX2 {
    /// Lanes over channels (Winograd.transformInputChannelsLast): C a multiple of 8.
    public static let channelLanes = 8
    public static func transformInputChannelsLast(_ tile: WinogradTile, _ x: UnsafePointer<Float>, _ g: ConvGeometry, tiles: Range<Int>,
                                                  v: UnsafeMutablePointer<Float>, xiStride: Int) {
        tile.transformInputChannelsLast(SIMD8<Float>.self, x, g, tiles: tiles, v: v, xiStride: xiStride)
    }
    public static func transformOutputChannelsLast(_ tile: WinogradTile, _ mt: UnsafePointer<Float>, _ g: ConvGeometry, m: Int, tiles: Range<Int>,
                                                   xiStride: Int, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool,
                                                   into y: UnsafeMutablePointer<Float>) {
        tile.transformOutputChannelsLast(SIMD8<Float>.self, mt, g, m: m, tiles: tiles, xiStride: xiStride, bias: bias, residual: residual, relu: relu, into: y)
    }
}
