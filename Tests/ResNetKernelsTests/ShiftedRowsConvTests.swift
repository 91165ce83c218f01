import Testing
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// Convolution by ShiftedRowsConv (input zero-padded and split into stride phases, the
/// GEMM reading B's rows in place, the grid compacted) against its twin, im2col then the
/// naive GEMM, with and without bias, the fused residual and ReLU: kernels 1-7, strides
/// 1-3, pads 0-3, dilation 1-2 (with stride 2 too), and geometries different across H and W
/// (3x1 and 1x3 windows, strides, dilations and pads per axis), outputs that leave trailing
/// input rows and columns unread, grids that cross the 512-column block, K across the 256
/// slice, 1-3 threads, on both SIMD kernel sets this CPU runs. Also the layout's figures for
/// resnet's shapes, and that the slack is exactly what the furthest row reads.
struct ShiftedRowsConvTests {
    /// H and W differing in every figure: the twin (im2col) reads each axis by its own.
    static let asymmetric: [ConvGeometry] = [
        geometry(c: 3, h: 11, w: 17, kh: 3, kw: 1, sh: 1, sw: 2, pt: 1, pl: 0, dh: 1, dw: 1),
        geometry(c: 2, h: 13, w: 9, kh: 1, kw: 3, sh: 2, sw: 1, pt: 0, pl: 2, dh: 1, dw: 2),
        geometry(c: 4, h: 20, w: 15, kh: 3, kw: 5, sh: 2, sw: 3, pt: 1, pl: 2, dh: 2, dw: 1),
        geometry(c: 2, h: 14, w: 14, kh: 3, kw: 3, sh: 3, sw: 3, pt: 0, pl: 0, dh: 1, dw: 1),  // the grid is the output; the last column unread
        geometry(c: 5, h: 9, w: 31, kh: 2, kw: 4, sh: 1, sw: 2, pt: 0, pl: 3, dh: 3, dw: 1),
    ]

    static func geometry(c: Int, h: Int, w: Int, kh: Int, kw: Int, sh: Int, sw: Int, pt: Int, pl: Int, dh: Int, dw: Int) -> ConvGeometry {
        // Output sizes as ONNX gives them with the same padding at both ends.
        let oh = (h + 2 * pt - (kh - 1) * dh - 1) / sh + 1, ow = (w + 2 * pl - (kw - 1) * dw - 1) / sw + 1
        return ConvGeometry(channels: c, height: h, width: w, kernelH: kh, kernelW: kw, strideH: sh, strideW: sw,
                            padTop: pt, padLeft: pl, dilationH: dh, dilationW: dw, outH: oh, outW: ow)
    }

    static let cases: [ImplicitConvTests.Case] = ImplicitConvTests.cases + [
        ImplicitConvTests.Case(c: 3, h: 23, w: 29, k: 3, stride: 3, pad: 2, dilation: 1, m: 8),
        ImplicitConvTests.Case(c: 4, h: 21, w: 18, k: 3, stride: 2, pad: 2, dilation: 2, m: 7),
        ImplicitConvTests.Case(c: 2, h: 10, w: 10, k: 3, stride: 2, pad: 0, dilation: 1, m: 6),  // the last row and column unread
        ImplicitConvTests.Case(c: 9, h: 56, w: 56, k: 3, stride: 1, pad: 1, dilation: 1, m: 13), // grid 56 x 58: blocks and a thread split mid-row
        ImplicitConvTests.Case(c: 5, h: 15, w: 15, k: 1, stride: 3, pad: 1, dilation: 1, m: 4),  // a 1x1 whose padding is read
        // 2^20 weights and more: the transposed path's threads split the channel panels (the
        // last one partial), each prefetching its own next weights across K slices.
        ImplicitConvTests.Case(c: 128, h: 5, w: 5, k: 3, stride: 1, pad: 1, dilation: 1, m: 1030),
        // K = 225: one slice, a partial one (one weight unit of the transposed path).
        ImplicitConvTests.Case(c: 25, h: 6, w: 6, k: 3, stride: 1, pad: 1, dilation: 1, m: 40),
    ]

    @Test("phases and grids of resnet's strided and padded convs")
    func layout() throws {
        let c3 = try #require(ImplicitConvTests.Case(c: 64, h: 56, w: 56, k: 3, stride: 1, pad: 1, dilation: 1, m: 64).geometry)
        let s3 = try #require(ShiftedRowsConv(c3))
        #expect((s3.phasesY, s3.phasesX, s3.phaseH, s3.phaseW, s3.columns, s3.slack) == (1, 1, 58, 58, 56 * 58, 2))
        let stem = try #require(ImplicitConvTests.Case(c: 3, h: 224, w: 224, k: 7, stride: 2, pad: 3, dilation: 1, m: 64).geometry)
        let ss = try #require(ShiftedRowsConv(stem))
        #expect((ss.phasesY, ss.phasesX, ss.phaseH, ss.phaseW, ss.columns) == (2, 2, 115, 115, 112 * 115))
        let down = try #require(ImplicitConvTests.Case(c: 256, h: 56, w: 56, k: 1, stride: 2, pad: 0, dilation: 1, m: 512).geometry)
        let sd = try #require(ShiftedRowsConv(down))
        #expect((sd.phasesY, sd.phasesX, sd.phaseH, sd.phaseW, sd.gridIsOutput) == (1, 1, 28, 28, true))
        // Rows of tap (c, ky, kx) for the stem: phase (ky % 2, kx % 2), shifted by (ky / 2, kx / 2).
        let offsets = ss.rowOffsets(), plane = 115 * 115
        #expect(offsets[0] == 0 && offsets[1] == 4 * (1 * 3 * plane))
        #expect(offsets[7 * 3 + 5] == 4 * ((1 * 2 + 1) * 3 * plane + 1 * 115 + 2))
        // Figures that overflow are refused, not wrapped.
        // Every figure under 2^31, the planes' size past Int: refused, not wrapped.
        let huge = ConvGeometry(channels: 1 << 30, height: 1 << 30, width: 1 << 30, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1,
                                padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1, outH: 1 << 30, outW: 1 << 30)
        #expect(ShiftedRowsConv(huge) == nil)
        // So are figures whose index arithmetic could overflow (a hostile stride), and negative pads.
        let strided = ConvGeometry(channels: 1, height: 3, width: 3, kernelH: 1, kernelW: 1, strideH: 1 << 62, strideW: 1, padTop: 0, padLeft: 0,
                                   dilationH: 1, dilationW: 1, outH: 1, outW: 3)
        #expect(ShiftedRowsConv(strided) == nil)
        let negative = ConvGeometry(channels: 1, height: 5, width: 5, kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, padTop: -1, padLeft: 0,
                                    dilationH: 1, dilationW: 1, outH: 3, outW: 5)
        #expect(ShiftedRowsConv(negative) == nil)
    }

    @Test(arguments: cases)
    func matchesIm2colTwin(_ t: ImplicitConvTests.Case) throws {
        try check(try #require(t.geometry), m: t.m)
    }

    @Test(arguments: asymmetric)
    func matchesIm2colTwinAcrossAxes(_ g: ConvGeometry) throws {
        try check(g, m: 7)
    }

    /// The twin: W [M, K] · im2col(x) [K, Ho*Wo], no epilogue.
    static func im2colProduct(_ g: ConvGeometry, m: Int, x: [Float], w: [Float]) -> [Float] {
        let k = g.channels * g.kernelH * g.kernelW, plane = g.outH * g.outW
        var columns = [Float](repeating: .nan, count: k * plane)
        var product = [Float](repeating: 0, count: m * plane)
        x.withUnsafeBufferPointer { xp in columns.withUnsafeMutableBufferPointer { Im2col.unfold(xp.baseAddress!, g, into: $0.baseAddress!) } }
        w.withUnsafeBufferPointer { a in columns.withUnsafeBufferPointer { b in product.withUnsafeMutableBufferPointer { c in
            GemmReference.sgemm(m: m, n: plane, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: plane, c: c.baseAddress!, ldc: plane,
                                bias: nil, epilogue: GemmEpilogue())
        } } }
        return product
    }

    /// Largest |got - epilogue(product)| ([M, plane], channels first; a NaN counts as infinite).
    static func worstError(_ got: [Float], product: [Float], bias: [Float]?, residual: [Float]?, relu: Bool, plane: Int) -> Float {
        var worst: Float = 0
        for i in product.indices {
            var want = product[i] + (bias?[i / plane] ?? 0) + (residual?[i] ?? 0)
            if relu { want = max(want, 0) }
            worst = max(worst, got[i].isNaN ? .infinity : abs(got[i] - want))
        }
        return worst
    }

    func check(_ g: ConvGeometry, m: Int) throws {
        let s = try #require(ShiftedRowsConv(g))
        let k = g.channels * g.kernelH * g.kernelW, plane = g.outH * g.outW
        let x = SgemmTests.random(g.channels * g.height * g.width, seed: 7), wts = SgemmTests.random(m * k, seed: 8)
        let bias = SgemmTests.random(m, seed: 9), residual = SgemmTests.random(m * plane, seed: 10)
        let product = Self.im2colProduct(g, m: m, x: x, w: wts)
        let offsets = s.rowOffsets()
        let planeFloats = try #require(s.planeFloats), gridColumns = try #require(s.columns)
        // Every row's columns lie within the planes and their slack; with one phase the slack
        // is exactly what the furthest row reads past the last plane.
        let furthest = offsets.max()! / 4 + gridColumns
        #expect(furthest <= planeFloats, "\(g): rows read to \(furthest) of \(planeFloats)")
        if s.phasesY * s.phasesX == 1 { #expect(furthest == planeFloats, "\(g): slack \(s.slack)") }
        let floats = planeFloats + (s.gridIsOutput ? 0 : m * gridColumns)
        // (bias, residual, ReLU): every branch of the epilogue, fused in the tile or in the compaction.
        let epilogues = [(true, false, true), (false, true, false), (true, true, true), (false, false, false)]
        for set in [KernelSet.avx2, .avx512] where set.isSupported {
            let packed = wts.withUnsafeBufferPointer { PackedA(a: $0.baseAddress!, lda: k, m: m, k: k, mr: set.tileRows) }
            for threads in [1, 2, 3] {
                for (useBias, useResidual, relu) in epilogues {
                    var got = [Float](repeating: .nan, count: m * plane)
                    let workspace = PackedGemmWorkspace(threads: threads, nr: set.tileColumns)
                    workspace.reserveShiftedRows(floats: floats)
                    // Stale values in the buffer must not leak into the result (padding is rewritten per call).
                    workspace.shiftedRowsBuffer(floats: floats).update(repeating: .nan, count: floats)
                    x.withUnsafeBufferPointer { xp in bias.withUnsafeBufferPointer { bp in residual.withUnsafeBufferPointer { rp in
                        offsets.withUnsafeBufferPointer { o in got.withUnsafeMutableBufferPointer { y in
                            let (b, r) = (useBias ? bp.baseAddress : nil, useResidual ? rp.baseAddress : nil)
                            if set == .avx512 {
                                SgemmAVX512.convShiftedRows(s, image: xp.baseAddress!, rowOffsets: o.baseAddress!, weights: packed, output: y.baseAddress!,
                                                            bias: b, residual: r, relu: relu, workspace: workspace)
                            } else {
                                SgemmAVX2.convShiftedRows(s, image: xp.baseAddress!, rowOffsets: o.baseAddress!, weights: packed, output: y.baseAddress!,
                                                          bias: b, residual: r, relu: relu, workspace: workspace)
                            }
                        } }
                    } } }
                    let worst = Self.worstError(got, product: product, bias: useBias ? bias : nil, residual: useResidual ? residual : nil,
                                                relu: relu, plane: plane)
                    #expect(worst <= 1e-5 * Float(k) + 1e-5,
                            "\(set) \(g) threads \(threads) bias \(useBias) residual \(useResidual) relu \(relu): max diff \(worst)")
                }
            }
        }
    }
}
