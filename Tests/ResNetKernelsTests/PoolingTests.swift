import Testing
import ResNetKernels
import ResNetKernelsReference

/// Max pooling (computed separably: rows, then columns) against the window loop
/// written out longhand, over kernels, strides, pads, dilations and windows that
/// lie entirely in the padding; NaN inputs dropped the same way (max(best, NaN) keeps best).
/// Both compiled copies (the reference module's `pool`, and `poolBody` compiled for x86-64-v3
/// in PoolingAVX2, which the SIMD sets run, where this CPU runs it) are checked, max and
/// average alike, since the vector width changes which loop handles which column.
struct PoolingTests {
    /// The pools this CPU can run, by name.
    static var sets: [(String, (UnsafePointer<Float>, Int, ConvGeometry, Bool, Bool, UnsafeMutablePointer<Float>) -> Void)] {
        var sets: [(String, (UnsafePointer<Float>, Int, ConvGeometry, Bool, Bool, UnsafeMutablePointer<Float>) -> Void)] = [
            ("reference", { Pooling.pool($0, planes: $1, $2, max: $3, countIncludePad: $4, into: $5) })]
        if KernelSet.avx2.isSupported { sets.append(("avx2", { PoolingAVX2.pool($0, planes: $1, $2, max: $3, countIncludePad: $4, into: $5) })) }
        return sets
    }

    static func naive(_ x: [Float], _ g: ConvGeometry) -> [Float] {
        var out = [Float](repeating: 0, count: g.outH * g.outW)
        for oy in 0..<g.outH { for ox in 0..<g.outW {
            var best = -Float.infinity
            for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                let iy = oy * g.strideH - g.padTop + ky * g.dilationH, ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                if iy >= 0 && iy < g.height && ix >= 0 && ix < g.width { best = max(best, x[iy * g.width + ix]) }
            } }
            out[oy * g.outW + ox] = best
        } }
        return out
    }

    @Test func maxPoolMatchesTheWindowLoop() {
        var checked = 0
        for (h, w) in [(1, 1), (5, 7), (8, 8), (9, 4), (5, 40), (4, 71), (3, 112)] {  // widths 40+: 16-wide stride-2 rows, and their tails
            for k in 1...3 { for s in 1...2 { for pad in 0...3 { for d in 1...2 {
                let span = (k - 1) * d + 1
                guard h + 2 * pad >= span, w + 2 * pad >= span else { continue }
                let g = ConvGeometry(channels: 1, height: h, width: w, kernelH: k, kernelW: k, strideH: s, strideW: s,
                                     padTop: pad, padLeft: pad, dilationH: d, dilationW: d,
                                     outH: (h + 2 * pad - span) / s + 1, outW: (w + 2 * pad - span) / s + 1)
                var x = (0..<(h * w)).map { Float(($0 * 37) % 23) - 11 }
                if h * w > 3 { x[1] = .nan; x[h * w - 2] = .nan; x[h * w / 2 + 3] = .nan }
                let expected = Self.naive(x, g)
                for (name, pool) in Self.sets {
                    var got = [Float](repeating: 7, count: g.outH * g.outW)
                    x.withUnsafeBufferPointer { xp in got.withUnsafeMutableBufferPointer { yp in pool(xp.baseAddress!, 1, g, true, false, yp.baseAddress!) } }
                    #expect(got.elementsEqual(expected) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(name) \(h)x\(w) k\(k) s\(s) p\(pad) d\(d): \(got) vs \(expected)")
                    checked += 1
                }
            } } } }
        }
        #expect(checked > 200)
    }

    /// Average pooling, both count_include_pad modes, on three planes: each set's copy against
    /// the window mean written out longhand.
    @Test func averagePoolMatchesTheWindowMean() {
        var checked = 0
        for (h, w) in [(5, 7), (9, 4), (7, 40)] {
            for k in 1...3 { for s in 1...2 { for pad in 0...1 where pad < k { for includePad in [false, true] {
                let g = ConvGeometry(channels: 3, height: h, width: w, kernelH: k, kernelW: k, strideH: s, strideW: s, padTop: pad, padLeft: pad,
                                     dilationH: 1, dilationW: 1, outH: (h + 2 * pad - k) / s + 1, outW: (w + 2 * pad - k) / s + 1)
                let x = (0..<(3 * h * w)).map { Float(($0 * 29) % 17) - 8 }
                var expected = [Float](repeating: 0, count: 3 * g.outH * g.outW)
                for p in 0..<3 { for oy in 0..<g.outH { for ox in 0..<g.outW {
                    var sum: Float = 0, count = 0, padded = 0
                    for ky in 0..<k { for kx in 0..<k {
                        let iy = oy * s - pad + ky, ix = ox * s - pad + kx
                        if iy < h + pad && ix < w + pad { padded += 1 }
                        if iy >= 0 && iy < h && ix >= 0 && ix < w { sum += x[p * h * w + iy * w + ix]; count += 1 }
                    } }
                    expected[(p * g.outH + oy) * g.outW + ox] = sum / Float(includePad ? padded : count)
                } } }
                for (name, pool) in Self.sets {
                    var got = [Float](repeating: .nan, count: expected.count)
                    x.withUnsafeBufferPointer { xp in got.withUnsafeMutableBufferPointer { yp in pool(xp.baseAddress!, 3, g, false, includePad, yp.baseAddress!) } }
                    // Counted as "not within", so an unwritten NaN fails too.
                    let off = zip(got, expected).filter { !(abs($0 - $1) <= 1e-5) }.count
                    #expect(off == 0, "\(name) \(h)x\(w) k\(k) s\(s) p\(pad) includePad \(includePad): \(off) outputs off")
                    checked += 1
                }
            } } } }
        }
        #expect(checked > 50)
    }
}
