import Testing
import ResNetKernelsReference

/// The transposed driver (PackedGemm.convGather) at both tile heights it supports, whatever
/// the CPU: scalar micro-kernels with six and with seven gather rows (the AVX2 and AVX-512
/// tiles' heights), so the seven-position packing and offsets run on an AVX2-only machine
/// too. Against im2col then the naive GEMM, at position counts that leave partial tiles of
/// either height, packed (1x1) and windowed, channels first and last, 1-3 threads; the
/// seven-row twin with a channels-last 1x1 read in place in blocks of two position panels.
protocol ScalarGatherHeight { static var rows: Int { get } }
enum SixRows: ScalarGatherHeight { static var rows: Int { 6 } }
enum SevenRows: ScalarGatherHeight { static var rows: Int { 7 } }

/// A scalar GemmMicroKernel: 6 x 16 plain tiles, `Height.rows` x 16 gather tiles.
enum ScalarTile<Height: ScalarGatherHeight>: GemmMicroKernel {
    static var mr: Int { 6 }
    static var nr: Int { 16 }
    static var gatherRows: Int { Height.rows }
    /// The seven-row twin reads a channels-last 1x1 in place two position panels at a time, so
    /// convGather's blocks (inPlacePointwiseBlockPanels, AVX2's 16) run on any CPU; six rows, one block.
    static var inPlacePointwiseBlockPanels: Int? { Height.rows == 7 ? 2 : nil }

    static func tile(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                     rows: Int, cols: Int, accumulate: Bool, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool) {
        let offsets = (0..<k).map { 4 * mr * $0 }
        offsets.withUnsafeBufferPointer { o in
            product(k: k, a: { p, r in a[o[p] / 4 + r] }, b: b, c: c, ldc: ldc, rows: rows, cols: cols, accumulate: accumulate,
                    rowBias: bias, columnBias: nil, residual: residual, relu: relu)
        }
    }

    static func tileRows(k: Int, a: UnsafePointer<Float>, b: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, c: UnsafeMutablePointer<Float>,
                         ldc: Int, rows: Int, cols: Int, accumulate: Bool, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool) {
        // B's row p is the 16 floats at b + rowOffsets[p]: copied into a panel first.
        var panel = [Float](repeating: 0, count: k * nr)
        for p in 0..<k { for j in 0..<nr { panel[p * nr + j] = b.load(fromByteOffset: rowOffsets[p] + 4 * j, as: Float.self) } }
        panel.withUnsafeBufferPointer { tile(k: k, a: a, b: $0.baseAddress!, c: c, ldc: ldc, rows: rows, cols: cols, accumulate: accumulate,
                                             bias: bias, residual: residual, relu: relu) }
    }

    static func tileGather(k: Int, positions: UnsafeRawPointer, rowOffsets: UnsafePointer<Int>, positionOffsets: UnsafePointer<Int>,
                           b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int, accumulate: Bool,
                           columnBias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool) {
        #expect(rows >= 1 && rows <= gatherRows)
        product(k: k, a: { p, r in positions.load(fromByteOffset: rowOffsets[p] + positionOffsets[r], as: Float.self) }, b: b, c: c, ldc: ldc,
                rows: rows, cols: cols, accumulate: accumulate, rowBias: nil, columnBias: columnBias, residual: residual, relu: relu)
    }

    /// C[r, j] (+)= sum_p a(p, r) * b[p * nr + j], + bias, + residual, ReLU, for the valid rows x cols.
    static func product(k: Int, a: (Int, Int) -> Float, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int,
                        accumulate: Bool, rowBias: UnsafePointer<Float>?, columnBias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool) {
        for r in 0..<rows {
            for j in 0..<cols {
                var sum: Float = 0
                for p in 0..<k { sum += a(p, r) * b[p * nr + j] }
                var v = (accumulate ? c[r * ldc + j] : 0) + sum
                if let rowBias { v += rowBias[r] }
                if let columnBias { v += columnBias[j] }
                if let residual { v += residual[r * ldc + j] }
                c[r * ldc + j] = relu ? max(v, 0) : v
            }
        }
    }
}

struct GatherRowsTests {
    static let cases: [ImplicitConvTests.Case] = [
        ImplicitConvTests.Case(c: 20, h: 7, w: 7, k: 3, stride: 1, pad: 1, dilation: 1, m: 40),     // 49: seven 7-row tiles; 6-row: a 1-row tail
        ImplicitConvTests.Case(c: 130, h: 7, w: 8, k: 1, stride: 1, pad: 0, dilation: 1, m: 17),    // 56 (packed channels first)
        ImplicitConvTests.Case(c: 300, h: 5, w: 4, k: 1, stride: 1, pad: 0, dilation: 1, m: 17),    // 20, K across the 256 slice (packed channels first)
        ImplicitConvTests.Case(c: 9, h: 11, w: 9, k: 1, stride: 2, pad: 0, dilation: 1, m: 33),     // 30 packed at the stride: 7-row tail of 2
        ImplicitConvTests.Case(c: 70, h: 6, w: 5, k: 3, stride: 2, pad: 1, dilation: 1, m: 16),     // 9 positions, K 630 across the 256 slice
    ]

    @Test(arguments: cases)
    func sixAndSevenRowsMatchIm2colTwin(_ t: ImplicitConvTests.Case) throws {
        let g = try #require(t.geometry)
        try check(ScalarTile<SixRows>.self, g, m: t.m)
        try check(ScalarTile<SevenRows>.self, g, m: t.m)
    }

    func check<Kernel: GemmMicroKernel>(_: Kernel.Type, _ g: ConvGeometry, m: Int) throws {
        let k = g.channels * g.kernelH * g.kernelW, plane = g.outH * g.outW
        let x = SgemmTests.random(g.channels * g.height * g.width, seed: 17), wts = SgemmTests.random(m * k, seed: 18)
        let bias = SgemmTests.random(m, seed: 19), residual = SgemmTests.random(m * plane, seed: 20)
        let product = ShiftedRowsConvTests.im2colProduct(g, m: m, x: x, w: wts)
        for input in [ActivationLayout.channelsFirst, .channelsLast] {
            let s = try #require(GatherConv(g, input: input))
            let offsets = s.rowOffsets()
            let image = input == .channelsFirst ? x : GatherConvTests.transposed(x, rows: g.channels, columns: g.height * g.width)
            let ordered = wts.withUnsafeBufferPointer { s.reorderedWeights($0.baseAddress!, m: m) }
            let packed = ordered.withUnsafeBufferPointer { PackedA(a: $0.baseAddress!, lda: k, m: m, k: k, mr: Kernel.nr) }
            for output in [ActivationLayout.channelsFirst, .channelsLast] {
                let shortcut = output == .channelsFirst ? residual : GatherConvTests.transposed(residual, rows: m, columns: plane)
                for threads in [1, 2, 3] {
                    var got = [Float](repeating: .nan, count: m * plane)
                    let workspace = PackedGemmWorkspace(threads: threads, nr: Kernel.nr)
                    workspace.reserveShiftedRows(floats: max(s.paddedFloats, 1))
                    workspace.reserveTransposed(floats: m * plane)
                    image.withUnsafeBufferPointer { xp in bias.withUnsafeBufferPointer { bp in shortcut.withUnsafeBufferPointer { rp in
                        offsets.withUnsafeBufferPointer { o in got.withUnsafeMutableBufferPointer { y in
                            PackedGemm<Kernel>.convGather(s, image: xp.baseAddress!, rowOffsets: o.baseAddress!, weights: packed, output: y.baseAddress!,
                                                          outputLayout: output, bias: bp.baseAddress, residual: rp.baseAddress, relu: true,
                                                          workspace: workspace)
                        } }
                    } } }
                    if output == .channelsLast { got = GatherConvTests.transposed(got, rows: plane, columns: m) }
                    let worst = ShiftedRowsConvTests.worstError(got, product: product, bias: bias, residual: residual, relu: true, plane: plane)
                    #expect(worst <= 1e-5 * Float(k) + 1e-5,
                            "\(Kernel.gatherRows) rows, \(g) in \(input) out \(output) threads \(threads): max diff \(worst)")
                }
            }
        }
    }
}
