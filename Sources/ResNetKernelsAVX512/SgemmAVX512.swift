import ResNetKernelsReference

/// The AVX-512 kernel set's GEMM tile: 6 rows x 32 columns, 12 zmm accumulators
/// (6 x 2 SIMD16), B as 2 zmm per k, A broadcast per row; transposed (tileGather), 7 rows. This target is built
/// for x86-64-v4, so SIMD16<Float>.addingProduct is one vfmadd231ps zmm; it runs
/// only where CPUID reports AVX-512 (KernelSet.detect).
public enum AVX512Tile: GemmMicroKernel {
    public static let mr = 6
    public static let nr = 32
    @inlinable public static var gatherRows: Int { 7 }

    @inline(__always)
    public static func tile(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                            rows: Int, cols: Int, accumulate: Bool, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool) {
        let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
        // Sound: the A panel holds k x 6 floats (PackedA), the packed B panel k x 32 (PackedBSource.pack).
        product(k: k, aRow: { rawA + $0 * 24 }, aOffsets: (0, 4, 8, 12, 16, 20), bRow: { rawB + $0 * 128 }, c: c, ldc: ldc,
                rows: rows, cols: cols, accumulate: accumulate, bias: bias, columnBias: nil, residual: residual, relu: relu)
    }

    @inline(__always)
    public static func tileRows(k: Int, a: UnsafePointer<Float>, b: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, c: UnsafeMutablePointer<Float>,
                                ldc: Int, rows: Int, cols: Int, accumulate: Bool, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                relu: Bool) {
        let rawA = UnsafeRawPointer(a)
        // Sound: the A panel holds k x 6 floats (PackedA); the caller (PackedGemm.sgemmRows) keeps
        // b + rowOffsets[p] ..< +128 bytes inside B's allocation for p < k.
        product(k: k, aRow: { rawA + $0 * 24 }, aOffsets: (0, 4, 8, 12, 16, 20), bRow: { b + rowOffsets[$0] }, c: c, ldc: ldc,
                rows: rows, cols: cols, accumulate: accumulate, bias: bias, columnBias: nil, residual: residual, relu: relu)
    }

    @inline(__always)
    public static func tileGather(k: Int, positions: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, positionOffsets: UnsafePointer<Int>,
                                  b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool,
                                  columnBias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool) {
        let rawB = UnsafeRawPointer(b)
        let (o0, o1, o2, o3, o4, o5, o6) = (positionOffsets[0], positionOffsets[1], positionOffsets[2], positionOffsets[3],
                                            positionOffsets[4], positionOffsets[5], positionOffsets[6])
        var c00 = SIMD16<Float>(), c01 = SIMD16<Float>(), c10 = SIMD16<Float>(), c11 = SIMD16<Float>()
        var c20 = SIMD16<Float>(), c21 = SIMD16<Float>(), c30 = SIMD16<Float>(), c31 = SIMD16<Float>()
        var c40 = SIMD16<Float>(), c41 = SIMD16<Float>(), c50 = SIMD16<Float>(), c51 = SIMD16<Float>()
        var c60 = SIMD16<Float>(), c61 = SIMD16<Float>()
        for p in 0..<k {
            // Sound: the caller (PackedGemm.convGather) keeps positions + rowOffsets[p] + each of the seven
            // positionOffsets inside the activation it reads for p < k; the packed B panel holds k x 32 floats.
            let row = rawB + p * 128
            let b0 = row.loadUnaligned(as: SIMD16<Float>.self)
            let b1 = row.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            let ap = positions + rowOffsets[p]
            var x = SIMD16<Float>(repeating: ap.load(fromByteOffset: o0, as: Float.self)); c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: ap.load(fromByteOffset: o1, as: Float.self)); c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: ap.load(fromByteOffset: o2, as: Float.self)); c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: ap.load(fromByteOffset: o3, as: Float.self)); c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: ap.load(fromByteOffset: o4, as: Float.self)); c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: ap.load(fromByteOffset: o5, as: Float.self)); c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: ap.load(fromByteOffset: o6, as: Float.self)); c60 = c60.addingProduct(x, b0); c61 = c61.addingProduct(x, b1)
        }
        // Sound: columnBias holds the tile's cols floats, residual C's rows x cols (the caller).
        let cb = columnBias.map(UnsafeRawPointer.init)
        if rows > 0 { store(c00, c01, c, cols, accumulate, nil, cb, residual, relu) }
        if rows > 1 { store(c10, c11, c + ldc, cols, accumulate, nil, cb, residual.map { $0 + ldc }, relu) }
        if rows > 2 { store(c20, c21, c + 2 * ldc, cols, accumulate, nil, cb, residual.map { $0 + 2 * ldc }, relu) }
        if rows > 3 { store(c30, c31, c + 3 * ldc, cols, accumulate, nil, cb, residual.map { $0 + 3 * ldc }, relu) }
        if rows > 4 { store(c40, c41, c + 4 * ldc, cols, accumulate, nil, cb, residual.map { $0 + 4 * ldc }, relu) }
        if rows > 5 { store(c50, c51, c + 5 * ldc, cols, accumulate, nil, cb, residual.map { $0 + 5 * ldc }, relu) }
        if rows > 6 { store(c60, c61, c + 6 * ldc, cols, accumulate, nil, cb, residual.map { $0 + 6 * ldc }, relu) }
    }

    /// The tile's body: row r of A at step p is the float at aRow(p) + aOffsets.r bytes (a packed
    /// panel, or six positions of shifted-row planes), B's row p the 32 floats at bRow(p). One
    /// code for packed, shifted-row and gathered operands.
    @inline(__always)
    static func product(k: Int, aRow: (Int) -> UnsafeRawPointer, aOffsets: (Int, Int, Int, Int, Int, Int), bRow: (Int) -> UnsafeRawPointer,
                        c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool, bias: UnsafePointer<Float>?, columnBias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool) {
        var c00 = SIMD16<Float>(), c01 = SIMD16<Float>(), c10 = SIMD16<Float>(), c11 = SIMD16<Float>()
        var c20 = SIMD16<Float>(), c21 = SIMD16<Float>(), c30 = SIMD16<Float>(), c31 = SIMD16<Float>()
        var c40 = SIMD16<Float>(), c41 = SIMD16<Float>(), c50 = SIMD16<Float>(), c51 = SIMD16<Float>()
        for p in 0..<k {
            // Sound: row p of B holds 32 floats, A six at the offsets (the callers above).
            let row = bRow(p)
            let b0 = row.loadUnaligned(as: SIMD16<Float>.self)
            let b1 = row.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            let ap = aRow(p)
            var x = SIMD16<Float>(repeating: ap.load(fromByteOffset: aOffsets.0, as: Float.self)); c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: ap.load(fromByteOffset: aOffsets.1, as: Float.self)); c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: ap.load(fromByteOffset: aOffsets.2, as: Float.self)); c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: ap.load(fromByteOffset: aOffsets.3, as: Float.self)); c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: ap.load(fromByteOffset: aOffsets.4, as: Float.self)); c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
            x = SIMD16<Float>(repeating: ap.load(fromByteOffset: aOffsets.5, as: Float.self)); c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
        }
        let cb = columnBias.map(UnsafeRawPointer.init)
        if rows > 0 { store(c00, c01, c, cols, accumulate, bias?[0], cb, residual, relu) }
        if rows > 1 { store(c10, c11, c + ldc, cols, accumulate, bias?[1], cb, residual.map { $0 + ldc }, relu) }
        if rows > 2 { store(c20, c21, c + 2 * ldc, cols, accumulate, bias?[2], cb, residual.map { $0 + 2 * ldc }, relu) }
        if rows > 3 { store(c30, c31, c + 3 * ldc, cols, accumulate, bias?[3], cb, residual.map { $0 + 3 * ldc }, relu) }
        if rows > 4 { store(c40, c41, c + 4 * ldc, cols, accumulate, bias?[4], cb, residual.map { $0 + 4 * ldc }, relu) }
        if rows > 5 { store(c50, c51, c + 5 * ldc, cols, accumulate, bias?[5], cb, residual.map { $0 + 5 * ldc }, relu) }
    }

    /// One row of a tile: the first `cols` of lo|hi, with C, the row's bias or a bias per column
    /// (`columnBias`, cols floats), the residual and ReLU as asked.
    @inline(__always)
    static func store(_ accLo: SIMD16<Float>, _ accHi: SIMD16<Float>, _ row: UnsafeMutablePointer<Float>, _ cols: Int,
                      _ accumulate: Bool, _ bias: Float?, _ columnBias: UnsafeRawPointer?, _ residual: UnsafePointer<Float>?, _ relu: Bool) {
        var lo = accLo, hi = accHi
        if cols == 32 {
            let raw = UnsafeMutableRawPointer(row)
            if accumulate {
                lo += raw.loadUnaligned(as: SIMD16<Float>.self)
                hi += raw.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            }
            if let bias { lo += SIMD16(repeating: bias); hi += SIMD16(repeating: bias) }
            if let columnBias {
                lo += columnBias.loadUnaligned(as: SIMD16<Float>.self)
                hi += columnBias.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            }
            if let residual {
                let r = UnsafeRawPointer(residual)
                lo += r.loadUnaligned(as: SIMD16<Float>.self)
                hi += r.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
            }
            if relu { lo = lo.replacing(with: 0, where: lo .< 0); hi = hi.replacing(with: 0, where: hi .< 0) }
            raw.storeBytes(of: lo, as: SIMD16<Float>.self)
            raw.storeBytes(of: hi, toByteOffset: 64, as: SIMD16<Float>.self)
        } else {
            for j in 0..<cols {
                var v = j < 16 ? lo[j] : hi[j - 16]
                if accumulate { v += row[j] }
                if let bias { v += bias }
                if let columnBias { v += columnBias.load(fromByteOffset: 4 * j, as: Float.self) }
                if let residual { v += residual[j] }
                row[j] = relu ? max(v, 0) : v
            }
        }
    }
}

/// The AVX-512 set's entry points.
public enum SgemmAVX512 {
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
        PackedGemm<AVX512Tile>.sgemm(n: n, a: a, b: b, c: c, ldc: ldc, bias: bias, residual: residual, epilogue: epilogue, workspace: workspace)
    }
}

extension SgemmAVX512 {
    /// C[M,N] (+)= W · B for narrow N (PackedGemm.sgemmNarrow): positions as the tile's
    /// rows, channels as its columns; W packed with AVX512Tile.nr-row panels.
    @_specialize(where Source == MatrixB)
    @_specialize(where Source == ConvPatchesB)
    public static func sgemmNarrow<Source: PackedBSource>(n: Int, weights: PackedA, b: Source, c: UnsafeMutablePointer<Float>, ldc: Int,
                                                          bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                                          epilogue: GemmEpilogue, workspace: PackedGemmWorkspace) {
        PackedGemm<AVX512Tile>.sgemmNarrow(n: n, weights: weights, b: b, c: c, ldc: ldc, bias: bias, residual: residual,
                                        epilogue: epilogue, workspace: workspace)
    }
}

extension SgemmAVX512 {
    /// C[M,N] (+)= packed A · B with B's rows read in place (PackedGemm.sgemmRows), on this set's tile.
    public static func sgemmRows(n: Int, a: PackedA, b: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, c: UnsafeMutablePointer<Float>, ldc: Int,
                                 bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, epilogue: GemmEpilogue, workspace: PackedGemmWorkspace) {
        PackedGemm<AVX512Tile>.sgemmRows(n: n, a: a, b: b, rowOffsets: rowOffsets, c: c, ldc: ldc, bias: bias, residual: residual,
                                      epilogue: epilogue, workspace: workspace)
    }

    /// One image's convolution transposed, its input read in place (PackedGemm.convGather), on this set's tile.
    public static func convGather(_ s: GatherConv, image: UnsafePointer<Float>, rowOffsets: UnsafePointer<Int>, weights: PackedA,
                                  output: UnsafeMutablePointer<Float>, outputLayout: ActivationLayout, bias: UnsafePointer<Float>?,
                                  residual: UnsafePointer<Float>?, relu: Bool, workspace: PackedGemmWorkspace) {
        PackedGemm<AVX512Tile>.convGather(s, image: image, rowOffsets: rowOffsets, weights: weights, output: output, outputLayout: outputLayout,
                                      bias: bias, residual: residual, relu: relu, workspace: workspace)
    }

    /// One image's convolution by ShiftedRowsConv (PackedGemm.convShiftedRows), on this set's tile.
    public static func convShiftedRows(_ s: ShiftedRowsConv, image: UnsafePointer<Float>, rowOffsets: UnsafePointer<Int>, weights: PackedA,
                                       output: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                                       relu: Bool, workspace: PackedGemmWorkspace) {
        PackedGemm<AVX512Tile>.convShiftedRows(s, image: image, rowOffsets: rowOffsets, weights: weights, output: output, bias: bias,
                                             residual: residual, relu: relu, workspace: workspace)
    }
}

extension SgemmAVX512 {
    /// The AVX-512 tile's GFLOP/s on one core (KernelPeak), compiled for x86-64-v4.
    public static func measurePeak(seconds: Double = 0.2) -> Double { KernelPeak.measure(AVX512Tile.self, seconds: seconds) }
}

/// The AVX-512 set's Winograd transforms: sixteen tiles per vector, compiled for x86-64-v4.
public enum WinogradAVX512 {
    public static func transformInput(_ tile: WinogradTile, _ x: UnsafePointer<Float>, _ g: ConvGeometry, channels: Range<Int>,
                                      tileRows: Range<Int>, v: UnsafeMutablePointer<Float>, ldv: Int, tileBase: Int, scratch: UnsafeMutablePointer<Float>,
                                      layout: ActivationLayout = .channelsFirst) {
        tile.transformInput(SIMD16<Float>.self, x, g, channels: channels, tileRows: tileRows, v: v, ldv: ldv, tileBase: tileBase, scratch: scratch, layout: layout)
    }
    public static func transformOutput(_ tile: WinogradTile, _ mt: UnsafePointer<Float>, _ g: ConvGeometry, outputs: Range<Int>, tileRows: Range<Int>,
                                       m: Int, ldm: Int, tileBase: Int, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool,
                                       into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, layout: ActivationLayout = .channelsFirst) {
        tile.transformOutput(SIMD16<Float>.self, mt, g, outputs: outputs, tileRows: tileRows, m: m, ldm: ldm, tileBase: tileBase, bias: bias,
                             residual: residual, relu: relu, into: y, scratch: scratch, layout: layout)
    }
}

extension WinogradAVX512 {
    /// Lanes over channels (Winograd.transformInputChannelsLast): C a multiple of 16.
    public static let channelLanes = 16
    public static func transformInputChannelsLast(_ tile: WinogradTile, _ x: UnsafePointer<Float>, _ g: ConvGeometry, tiles: Range<Int>,
                                                  v: UnsafeMutablePointer<Float>, xiStride: Int) {
        tile.transformInputChannelsLast(SIMD16<Float>.self, x, g, tiles: tiles, v: v, xiStride: xiStride)
    }
    public static func transformOutputChannelsLast(_ tile: WinogradTile, _ mt: UnsafePointer<Float>, _ g: ConvGeometry, m: Int, tiles: Range<Int>,
                                                   xiStride: Int, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool,
                                                   into y: UnsafeMutablePointer<Float>) {
        tile.transformOutputChannelsLast(SIMD16<Float>.self, mt, g, m: m, tiles: tiles, xiStride: xiStride, bias: bias, residual: residual, relu: relu, into: y)
    }
}
