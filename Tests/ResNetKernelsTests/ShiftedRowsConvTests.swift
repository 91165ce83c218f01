import Testing
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// Convolution by ShiftedRowsConv (input zero-padded and split into stride phases, the
/// GEMM reading B's rows in place, the grid compacted) against its twin, im2col then the
/// naive GEMM, with bias, the fused residual and ReLU: kernels 1-7, strides 1-3, pads 0-3,
/// dilation 1-2 (with stride 2 too), outputs that drop trailing input rows and columns,
/// grids that cross the 512-column block, K across the 256 slice, 1 and 2 threads, on both
/// SIMD kernel sets this CPU runs. Also the layout's figures for resnet's shapes.
struct ShiftedRowsConvTests {
    static let cases: [ImplicitConvTests.Case] = ImplicitConvTests.cases + [
        ImplicitConvTests.Case(c: 3, h: 23, w: 29, k: 3, stride: 3, pad: 2, dilation: 1, m: 8),
        ImplicitConvTests.Case(c: 4, h: 21, w: 18, k: 3, stride: 2, pad: 2, dilation: 2, m: 7),
        ImplicitConvTests.Case(c: 2, h: 10, w: 11, k: 3, stride: 2, pad: 0, dilation: 1, m: 6),  // the last row and column unread
        ImplicitConvTests.Case(c: 9, h: 56, w: 56, k: 3, stride: 1, pad: 1, dilation: 1, m: 13), // grid 56 x 58: blocks and a thread split mid-row
        ImplicitConvTests.Case(c: 5, h: 15, w: 15, k: 1, stride: 3, pad: 1, dilation: 1, m: 4),  // a 1x1 whose padding is read
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
        let huge = ConvGeometry(channels: Int.max / 2, height: 1 << 20, width: 1 << 20, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1,
                                padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1, outH: 1 << 20, outW: 1 << 20)
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
        let g = try #require(t.geometry)
        let s = try #require(ShiftedRowsConv(g))
        let k = t.c * t.k * t.k, plane = g.outH * g.outW
        let x = SgemmTests.random(t.c * t.h * t.w, seed: 7), wts = SgemmTests.random(t.m * k, seed: 8)
        let bias = SgemmTests.random(t.m, seed: 9), residual = SgemmTests.random(t.m * plane, seed: 10)
        var columns = [Float](repeating: .nan, count: k * plane)
        var expected = [Float](repeating: 0, count: t.m * plane)
        x.withUnsafeBufferPointer { xp in columns.withUnsafeMutableBufferPointer { Im2col.unfold(xp.baseAddress!, g, into: $0.baseAddress!) } }
        wts.withUnsafeBufferPointer { a in columns.withUnsafeBufferPointer { b in bias.withUnsafeBufferPointer { bp in expected.withUnsafeMutableBufferPointer { c in
            GemmReference.sgemm(m: t.m, n: plane, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: plane, c: c.baseAddress!, ldc: plane,
                                bias: bp.baseAddress, epilogue: GemmEpilogue())
        } } } }
        let offsets = s.rowOffsets()
        let floats = try #require(s.planeFloats) + (s.gridIsOutput ? 0 : t.m * (try #require(s.columns)))
        for set in [KernelSet.avx2, .avx512] where set.isSupported {
            let packed = wts.withUnsafeBufferPointer { PackedA(a: $0.baseAddress!, lda: k, m: t.m, k: k, mr: set.tileRows) }
            for threads in [1, 2] {
                for useResidual in [false, true] {
                    var got = [Float](repeating: .nan, count: t.m * plane)
                    let workspace = PackedGemmWorkspace(threads: threads, nr: set.tileColumns)
                    workspace.reserveShiftedRows(floats: floats)
                    // Stale values in the buffer must not leak into the result (padding is rewritten per call).
                    workspace.shiftedRowsBuffer(floats: floats).update(repeating: .nan, count: floats)
                    x.withUnsafeBufferPointer { xp in bias.withUnsafeBufferPointer { bp in residual.withUnsafeBufferPointer { rp in
                        offsets.withUnsafeBufferPointer { o in got.withUnsafeMutableBufferPointer { y in
                            let r = useResidual ? rp.baseAddress : nil
                            if set == .avx512 {
                                SgemmAVX512.convShiftedRows(s, image: xp.baseAddress!, rowOffsets: o.baseAddress!, weights: packed, output: y.baseAddress!,
                                                            bias: bp.baseAddress, residual: r, relu: true, workspace: workspace)
                            } else {
                                SgemmAVX2.convShiftedRows(s, image: xp.baseAddress!, rowOffsets: o.baseAddress!, weights: packed, output: y.baseAddress!,
                                                          bias: bp.baseAddress, residual: r, relu: true, workspace: workspace)
                            }
                        } }
                    } } }
                    var worst: Float = 0
                    for i in 0..<(t.m * plane) {
                        let want = max(expected[i] + (useResidual ? residual[i] : 0), 0)
                        worst = max(worst, got[i].isNaN ? .infinity : abs(got[i] - want))
                    }
                    #expect(worst <= 1e-5 * Float(k) + 1e-5, "\(set) \(t) threads \(threads) residual \(useResidual): max diff \(worst)")
                }
            }
        }
    }
}
