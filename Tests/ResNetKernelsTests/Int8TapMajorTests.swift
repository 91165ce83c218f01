import Testing
import ResNetKernelsInt8
import ResNetKernelsReference

/// The tap-major integer operand (Int8TapMajor) against the naive twin's channel-major one:
/// the same convolution through each, int32 sums and requantized outputs equal exactly, on
/// every SIMD tile this CPU runs, at 1 to 4 threads (one channel group on several threads
/// copies its rows split by output rows, also where there are fewer rows than threads). Geometries: stride 1 and 2, padding, dilation, an asymmetric
/// window, widths past the 32-column and 8-word vector loops, strided 1x1s, stride 3, pads
/// larger than the image and asymmetric ones, and
/// channels that do not fill a word (3 and 5: padding channels whose zero-point terms must
/// cancel, checked with non-zero weight zero points). And the operand built from the image's
/// bytes (a byte image) with the floats all NaN, where the channels fill whole words.
struct Int8TapMajorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let c: Int, h: Int, w: Int, kh: Int, kw: Int, sh: Int, sw: Int, pad: Int, dilation: Int
        /// Asymmetric padding: the top and left pads (else `pad`), the bottom and right `pad`.
        var padTop: Int? = nil, padLeft: Int? = nil
        var testDescription: String { "C\(c) \(h)x\(w) k\(kh)x\(kw) s\(sh)x\(sw) p\(padTop ?? pad),\(padLeft ?? pad),\(pad) d\(dilation)" }
        var geometry: ConvGeometry {
            let top = padTop ?? pad, left = padLeft ?? pad
            let outH = (h + top + pad - (kh - 1) * dilation - 1) / sh + 1, outW = (w + left + pad - (kw - 1) * dilation - 1) / sw + 1
            return ConvGeometry(channels: c, height: h, width: w, kernelH: kh, kernelW: kw, strideH: sh, strideW: sw,
                                padTop: top, padLeft: left, dilationH: dilation, dilationW: dilation, outH: outH, outW: outW)
        }
    }

    static let cases: [Case] = [
        Case(c: 8, h: 9, w: 11, kh: 3, kw: 3, sh: 1, sw: 1, pad: 1, dilation: 1),
        Case(c: 8, h: 10, w: 10, kh: 3, kw: 3, sh: 2, sw: 2, pad: 1, dilation: 1),
        Case(c: 4, h: 7, w: 40, kh: 3, kw: 3, sh: 1, sw: 1, pad: 1, dilation: 1),
        Case(c: 3, h: 21, w: 21, kh: 7, kw: 7, sh: 2, sw: 2, pad: 3, dilation: 1),
        Case(c: 5, h: 6, w: 6, kh: 3, kw: 3, sh: 1, sw: 1, pad: 1, dilation: 1),
        Case(c: 12, h: 9, w: 9, kh: 3, kw: 3, sh: 1, sw: 1, pad: 2, dilation: 2),
        Case(c: 8, h: 8, w: 8, kh: 1, kw: 1, sh: 2, sw: 2, pad: 0, dilation: 1),
        // Stride 2 past the 8-word vector step, ending on the image's last word (41 wide) and one short of it (34).
        Case(c: 4, h: 5, w: 41, kh: 1, kw: 1, sh: 2, sw: 2, pad: 0, dilation: 1),
        Case(c: 4, h: 3, w: 34, kh: 1, kw: 1, sh: 2, sw: 2, pad: 0, dilation: 1),
        Case(c: 4, h: 6, w: 40, kh: 3, kw: 3, sh: 2, sw: 2, pad: 1, dilation: 1),
        Case(c: 6, h: 5, w: 7, kh: 2, kw: 3, sh: 1, sw: 2, pad: 0, dilation: 1),
        Case(c: 2, h: 5, w: 5, kh: 3, kw: 3, sh: 1, sw: 1, pad: 1, dilation: 1),
        // One output row (fewer rows than threads: the row split's parts), for one group on VNNI and on AVX2.
        Case(c: 4, h: 3, w: 9, kh: 3, kw: 3, sh: 1, sw: 1, pad: 0, dilation: 1),
        Case(c: 2, h: 3, w: 9, kh: 3, kw: 3, sh: 1, sw: 1, pad: 0, dilation: 1),
        // Stride 3 (the word-at-a-time copy), pads larger than the image, asymmetric pads.
        Case(c: 4, h: 4, w: 13, kh: 3, kw: 3, sh: 3, sw: 3, pad: 5, dilation: 1),
        Case(c: 3, h: 2, w: 2, kh: 3, kw: 3, sh: 1, sw: 2, pad: 6, dilation: 3),
        Case(c: 8, h: 7, w: 9, kh: 3, kw: 3, sh: 2, sw: 1, pad: 0, dilation: 1, padTop: 2, padLeft: 1),
        Case(c: 8, h: 6, w: 6, kh: 1, kw: 1, sh: 1, sw: 1, pad: 0, dilation: 1),
        // Stride 1 at the input's width (rt_shifted_planes, one copy a group): whole rows outside the image at
        // the top (padTop 3), and a one-column image whose outer taps read only padding.
        Case(c: 4, h: 5, w: 7, kh: 3, kw: 3, sh: 1, sw: 1, pad: 1, dilation: 1, padTop: 3, padLeft: 1),
        Case(c: 4, h: 4, w: 1, kh: 3, kw: 3, sh: 1, sw: 1, pad: 1, dilation: 1),
        // Stride 2 both ways (phased on the byte-group tiles: rt_interleave4_phases): odd heights and widths
        // (a phase's last row or column past the image), widths past the 16-column step, outW below the
        // phases' width (a copy a row), dilation 2 with asymmetric pads, pads past the image, a 7x7 stem.
        Case(c: 8, h: 9, w: 11, kh: 3, kw: 3, sh: 2, sw: 2, pad: 2, dilation: 2, padTop: 1, padLeft: 0),
        Case(c: 4, h: 7, w: 37, kh: 3, kw: 3, sh: 2, sw: 2, pad: 1, dilation: 1),
        Case(c: 4, h: 8, w: 34, kh: 3, kw: 3, sh: 2, sw: 2, pad: 0, dilation: 1),
        Case(c: 4, h: 3, w: 3, kh: 3, kw: 3, sh: 2, sw: 2, pad: 4, dilation: 1),
        Case(c: 3, h: 15, w: 18, kh: 7, kw: 7, sh: 2, sw: 2, pad: 3, dilation: 1),
        Case(c: 8, h: 1, w: 1, kh: 1, kw: 1, sh: 2, sw: 2, pad: 0, dilation: 1),
    ]

    /// One quantized conv of `g` on `tile`, B built as `tapMajor` says: (int32 sums [M, N], requantized outputs [M, N]).
    /// With `fromBytes`, B is built from the image's bytes (a byte image, as its producer writes it)
    /// while the float image handed over is all NaN, so a path that still read it would differ.
    static func run(_ g: ConvGeometry, image: [Float], weights: [Int8], m: Int, tile: Int8Tile, tapMajor: Int8TapMajor?,
                    wzp: [Int32], threads: Int, double: Bool = false, fromBytes: Bool = false) -> ([Int32], [Float]) {
        let k = g.channels * g.kernelH * g.kernelW, operandK = tapMajor?.k ?? k, n = g.outH * g.outW
        let xzp: UInt8 = 117
        let layout = Int8BLayout(k: operandK, n: n, tile: tile)
        let ordered = tapMajor.map { tm in weights.withUnsafeBufferPointer { tm.reorderedWeights($0.baseAddress!, m: m) } } ?? weights
        let packed = ordered.withUnsafeBufferPointer { PackedInt8Weights(weights: $0.baseAddress!, m: m, k: operandK, tile: tile) }
        var plane = [UInt8](repeating: 0, count: tapMajor?.planeBytes ?? g.channels * g.height * g.width)
        var bytes = [UInt8](repeating: 0xEE, count: layout.count), halves = [Int16](repeating: -1, count: layout.count)
        var words = [UInt32](repeating: 0xDEAD_BEEF, count: max(1, tapMajor?.wordCount ?? 1))
        var acc = [Int32](repeating: 0, count: m * n), sums = [Int32](repeating: 0, count: n)
        // A float64 plan's image (generic conversion to bytes) as well as a float32 one's (AVX2 conversion).
        let image64 = image.map(Double.init)
        var byteImage = [UInt8](repeating: 0, count: fromBytes ? image.count : 0)
        byteImage.withUnsafeMutableBufferPointer { bi in image.withUnsafeBufferPointer { x in
            if fromBytes { Int8Patches.bytes(x.baseAddress!, count: image.count, offset: 0, tile: .reference, into: bi.baseAddress!) }
        } }
        let floats = fromBytes ? [Float](repeating: .nan, count: image.count) : image
        floats.withUnsafeBufferPointer { x in image64.withUnsafeBufferPointer { x64 in plane.withUnsafeMutableBufferPointer { p in
            bytes.withUnsafeMutableBufferPointer { b8 in halves.withUnsafeMutableBufferPointer { b16 in words.withUnsafeMutableBufferPointer { wd in
                byteImage.withUnsafeBufferPointer { bi in
                    if double {
                        Int8Patches.unfold(x64.baseAddress!, g, offset: 0, pad: xzp, layout: layout, plane: p.baseAddress!, bytes: b8.baseAddress!,
                                           halves: b16.baseAddress!, tapMajor: tapMajor, words: wd.baseAddress!, threads: threads)
                    } else {
                        Int8Patches.unfold(x.baseAddress!, g, offset: 0, pad: xzp, layout: layout, plane: p.baseAddress!, bytes: b8.baseAddress!,
                                           halves: b16.baseAddress!, tapMajor: tapMajor, words: wd.baseAddress!, threads: threads,
                                           byteImage: fromBytes ? bi.baseAddress! : nil)
                    }
                }
            } } }
        } } }
        bytes.withUnsafeBufferPointer { b8 in halves.withUnsafeBufferPointer { b16 in
            acc.withUnsafeMutableBufferPointer { c in
                Int8Gemm.gemm(weights: packed, layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!, c: c.baseAddress!, ldc: n,
                              workspace: Int8GemmWorkspace(threads: threads))
            }
            sums.withUnsafeMutableBufferPointer { Int8Patches.columnSums(layout: layout, bytes: b8.baseAddress!, halves: b16.baseAddress!, into: $0.baseAddress!) }
        } }
        let r = Requantization(multiplier: (0..<m).map { 0.0007 + Float($0) * 0.0003 }, bias: (0..<m).map { Int32($0 * 37 - 100) },
                               weightRowSums: packed.rowSums, weightZeroPoints: wzp, inputZeroPoint: Int32(xzp), outputZeroPoint: 5,
                               range: .uint8, k: operandK)
        var out = [Float](repeating: .nan, count: m * n)
        acc.withUnsafeBufferPointer { a in sums.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { o in
            r.apply(a.baseAddress!, ldc: n, rows: 0..<m, n: n, columnSums: s.baseAddress, into: o.baseAddress!, ldo: n)
        } } }
        return (acc, out)
    }

    @Test(arguments: cases)
    func equalsTheChannelMajorOperand(_ c: Case) {
        let g = c.geometry, m = 7, k = g.channels * g.kernelH * g.kernelW
        // Float-coded uint8 values, both ends included, and values a conversion must clamp or zero
        // alike on every path (NaN, below 0, above 255, fractional); int8 weights likewise.
        let image = Int8GemmTests.values(g.channels * g.height * g.width, seed: 5, as: UInt8.self).enumerated().map { i, v -> Float in
            i % 17 == 5 ? .nan : i % 19 == 7 ? -3.5 : i % 23 == 9 ? 300 : i % 29 == 11 ? 254.9 : Float(v)
        }
        let weights = Int8GemmTests.values(m * k, seed: 6, as: Int8.self)
        for wzp in [[Int32](repeating: 0, count: m), (0..<m).map { Int32($0 % 3) - 1 }] {
            let (expectedSums, expected) = Self.run(g, image: image, weights: weights, m: m, tile: .reference, tapMajor: nil, wzp: wzp, threads: 1)
            #expect(!expected.contains { $0.isNaN })
            for tile in [Int8Tile.vnni, .avx2, .avx2Bytes] where tile.isSupported {
                let tapMajor = Int8TapMajor(g, tile: tile)
                // Where it declines: the VNNI pointwise conv (already interleaved) and one or two channels that do not fill a word.
                let declines = (tile.readsByteGroups && g.isPointwise && g.channels % 4 == 0) || (g.channels % tile.kStep != 0 && g.channels < 3)
                #expect((tapMajor == nil) == declines, "\(tile) \(c)")
                guard let tapMajor else { continue }
                #expect(tapMajor.k == g.kernelH * g.kernelW * ((g.channels + tile.kStep - 1) / tile.kStep * tile.kStep))
                for (threads, double) in [(1, false), (2, false), (3, false), (4, false), (1, true), (2, true)] {
                    let (sums, got) = Self.run(g, image: image, weights: weights, m: m, tile: tile, tapMajor: tapMajor, wzp: wzp, threads: threads,
                                               double: double)
                    #expect(sums == expectedSums, "\(tile) \(c) threads \(threads) double \(double): int32 sums differ")
                    #expect(got == expected, "\(tile) \(c) threads \(threads) double \(double) wzp \(wzp): outputs differ")
                }
                // From a byte image (whole groups of channels only), on every thread count: one group on
                // several threads takes the row split (byRows), more groups the channel split.
                guard g.channels % tile.kStep == 0 else { continue }
                for threads in 1...4 {
                    let (sums, got) = Self.run(g, image: image, weights: weights, m: m, tile: tile, tapMajor: tapMajor, wzp: wzp, threads: threads,
                                               fromBytes: true)
                    #expect(sums == expectedSums && got == expected, "\(tile) \(c) threads \(threads) from a byte image: outputs differ")
                }
            }
        }
    }

    @Test func refusesFiguresOutsideItsRange() {
        let g = ConvGeometry(channels: 8, height: 1 << 31, width: 2, kernelH: 1, kernelW: 1, strideH: 1, strideW: 1,
                             padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: 1 << 31, outW: 2)
        #expect(Int8TapMajor(g, tile: .avx2) == nil)
        #expect(Int8TapMajor(Case(c: 8, h: 9, w: 9, kh: 3, kw: 3, sh: 1, sw: 1, pad: 1, dilation: 1).geometry, tile: .reference) == nil)
    }
}
