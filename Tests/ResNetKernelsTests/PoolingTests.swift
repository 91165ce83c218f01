import Testing
import ResNetKernelsReference

/// Max pooling (computed separably: rows, then columns) against the window loop
/// written out longhand, over kernels, strides, pads, dilations and windows that
/// lie entirely in the padding; NaN inputs dropped the same way (max(best, NaN) keeps best).
struct PoolingTests {
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
                var got = [Float](repeating: 7, count: g.outH * g.outW)
                x.withUnsafeBufferPointer { xp in got.withUnsafeMutableBufferPointer { yp in
                    Pooling.pool(xp.baseAddress!, planes: 1, g, max: true, countIncludePad: false, into: yp.baseAddress!)
                } }
                let expected = Self.naive(x, g)
                #expect(got.elementsEqual(expected) { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(h)x\(w) k\(k) s\(s) p\(pad) d\(d): \(got) vs \(expected)")
                checked += 1
            } } } }
        }
        #expect(checked > 200)
    }
}
