import Testing
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// Convolution as implicit GEMM (patches packed straight from the image) against
/// its twin, im2col then the naive GEMM: kernels 1-7, strides 1-2, pads 0-3,
/// dilation 1-2, planes that cross the 512-column block and the thread split in
/// the middle of an output row, on both SIMD kernel sets this CPU runs; through the
/// plain packed GEMM and the narrow-output one (patches packed 6 positions wide).
struct ImplicitConvTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let c: Int, h: Int, w: Int, k: Int, stride: Int, pad: Int, dilation: Int, m: Int
        var testDescription: String { "C\(c) \(h)x\(w) k\(k) s\(stride) p\(pad) d\(dilation) M\(m)" }
        var geometry: ConvGeometry? {
            let span = (k - 1) * dilation + 1
            let oh = (h + 2 * pad - span) / stride + 1, ow = (w + 2 * pad - span) / stride + 1
            guard h + 2 * pad >= span, w + 2 * pad >= span else { return nil }
            return ConvGeometry(channels: c, height: h, width: w, kernelH: k, kernelW: k, strideH: stride, strideW: stride,
                                padTop: pad, padLeft: pad, dilationH: dilation, dilationW: dilation, outH: oh, outW: ow)
        }
    }

    static let cases: [Case] = [
        Case(c: 3, h: 40, w: 37, k: 7, stride: 2, pad: 3, dilation: 1, m: 13),
        Case(c: 5, h: 33, w: 35, k: 3, stride: 1, pad: 1, dilation: 1, m: 7),
        Case(c: 4, h: 30, w: 41, k: 3, stride: 2, pad: 1, dilation: 1, m: 6),
        Case(c: 2, h: 26, w: 26, k: 3, stride: 1, pad: 2, dilation: 2, m: 5),
        Case(c: 6, h: 17, w: 19, k: 1, stride: 2, pad: 0, dilation: 1, m: 12),
        Case(c: 9, h: 56, w: 56, k: 1, stride: 2, pad: 0, dilation: 1, m: 37),  // pointwise table: 784 columns, 28-wide rows
        Case(c: 5, h: 14, w: 14, k: 1, stride: 2, pad: 0, dilation: 1, m: 40),
        Case(c: 4, h: 15, w: 15, k: 1, stride: 2, pad: 1, dilation: 1, m: 9),   // a padded 1x1: run by run
        Case(c: 3, h: 9, w: 50, k: 5, stride: 1, pad: 0, dilation: 1, m: 1),
        Case(c: 70, h: 7, w: 7, k: 3, stride: 1, pad: 1, dilation: 1, m: 33),   // K crosses the 256 slice
        Case(c: 1, h: 3, w: 3, k: 3, stride: 1, pad: 3, dilation: 1, m: 2),     // windows mostly padding
    ]

    @Test(arguments: cases)
    func matchesIm2colTwin(_ t: Case) throws {
        let g = try #require(t.geometry)
        let k = t.c * t.k * t.k, plane = g.outH * g.outW
        let x = SgemmTests.random(t.c * t.h * t.w, seed: 7), wts = SgemmTests.random(t.m * k, seed: 8), bias = SgemmTests.random(t.m, seed: 9)
        var columns = [Float](repeating: .nan, count: k * plane)
        var expected = [Float](repeating: 0, count: t.m * plane)
        x.withUnsafeBufferPointer { xp in columns.withUnsafeMutableBufferPointer { Im2col.unfold(xp.baseAddress!, g, into: $0.baseAddress!) } }
        wts.withUnsafeBufferPointer { a in columns.withUnsafeBufferPointer { b in bias.withUnsafeBufferPointer { bp in expected.withUnsafeMutableBufferPointer { c in
            GemmReference.sgemm(m: t.m, n: plane, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: plane, c: c.baseAddress!, ldc: plane,
                                bias: bp.baseAddress, epilogue: GemmEpilogue(relu: true))
        } } } }
        for set in [KernelSet.avx2, .avx512] where set.isSupported {
          for narrow in [false, true] {
            let packed = wts.withUnsafeBufferPointer { PackedA(a: $0.baseAddress!, lda: k, m: t.m, k: k, mr: narrow ? set.tileColumns : set.tileRows) }
            for threads in [1, 2] {
                var got = [Float](repeating: .nan, count: t.m * plane)
                let workspace = PackedGemmWorkspace(threads: threads, nr: set.tileColumns)
                workspace.reserveTransposed(floats: t.m * plane)
                x.withUnsafeBufferPointer { xp in bias.withUnsafeBufferPointer { bp in got.withUnsafeMutableBufferPointer { c in
                    let patches = ConvPatchesB(x: xp.baseAddress!, g: g)
                    switch (set, narrow) {
                    case (.avx512, false):
                        SgemmAVX512.sgemm(n: plane, a: packed, b: patches, c: c.baseAddress!, ldc: plane, bias: bp.baseAddress,
                                         residual: nil, epilogue: GemmEpilogue(relu: true), workspace: workspace)
                    case (.avx512, true):
                        SgemmAVX512.sgemmNarrow(n: plane, weights: packed, b: patches, c: c.baseAddress!, ldc: plane, bias: bp.baseAddress,
                                               residual: nil, epilogue: GemmEpilogue(relu: true), workspace: workspace)
                    case (_, false):
                        SgemmAVX2.sgemm(n: plane, a: packed, b: patches, c: c.baseAddress!, ldc: plane, bias: bp.baseAddress,
                                       residual: nil, epilogue: GemmEpilogue(relu: true), workspace: workspace)
                    case (_, true):
                        SgemmAVX2.sgemmNarrow(n: plane, weights: packed, b: patches, c: c.baseAddress!, ldc: plane, bias: bp.baseAddress,
                                             residual: nil, epilogue: GemmEpilogue(relu: true), workspace: workspace)
                    }
                } } }
                let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-5 * Float(k) + 1e-5, "\(set) narrow \(narrow) \(t) threads \(threads): max diff \(worst)")
            }
          }
        }
    }
}
