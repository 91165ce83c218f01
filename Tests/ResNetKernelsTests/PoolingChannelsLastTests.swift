import Testing
import ResNetKernels
import ResNetKernelsReference

/// Max pooling from channels last into either layout (Pooling.maxPoolChannelsLast, and its
/// x86-64-v3 copy in PoolingAVX2 where this CPU runs it) against the channels-first pool of the
/// same image, bit for bit: NaNs dropped and signed zeros kept as the channels-first folds do.
/// Kernels, strides, pads and dilations as in PoolingTests (windows wholly in the padding
/// included), channel counts off and on the 8-wide transpose blocks, output widths likewise, and
/// the output rows split in uneven parts as threads split them.
struct PoolingChannelsLastTests {
    typealias Pool = (UnsafePointer<Float>, ConvGeometry, Range<Int>, UnsafeMutablePointer<Float>, Bool, UnsafeMutablePointer<Float>) -> Void

    static var sets: [(String, Pool)] {
        var sets: [(String, Pool)] = [("reference", { Pooling.maxPoolChannelsLast($0, $1, rows: $2, into: $3, channelsLastOutput: $4, scratch: $5) })]
        if KernelSet.avx2.isSupported {
            sets.append(("avx2", { PoolingAVX2.maxPoolChannelsLast($0, $1, rows: $2, into: $3, channelsLastOutput: $4, scratch: $5) }))
        }
        return sets
    }

    /// x [C, H, W] as [H, W, C].
    static func channelsLast(_ x: [Float], channels c: Int, positions: Int) -> [Float] {
        var out = [Float](repeating: 0, count: x.count)
        for ch in 0..<c { for p in 0..<positions { out[p * c + ch] = x[ch * positions + p] } }
        return out
    }

    @Test func matchesTheChannelsFirstPoolBitForBit() {
        var checked = 0
        for (h, w) in [(1, 1), (5, 7), (9, 4), (4, 19), (3, 34)] {
            for c in [1, 3, 8, 13] {
                for k in 1...3 { for s in 1...2 { for pad in 0...3 { for d in 1...2 {
                    let span = (k - 1) * d + 1
                    guard h + 2 * pad >= span, w + 2 * pad >= span else { continue }
                    let g = ConvGeometry(channels: c, height: h, width: w, kernelH: k, kernelW: k, strideH: s, strideW: s,
                                         padTop: pad, padLeft: pad, dilationH: d, dilationW: d,
                                         outH: (h + 2 * pad - span) / s + 1, outW: (w + 2 * pad - span) / s + 1)
                    checked += Self.check(g, "\(h)x\(w) C\(c) k\(k) s\(s) p\(pad) d\(d)")
                } } } }
            }
        }
        // resnet's stem pool at a reduced size and full channels, rectangular windows and unequal strides.
        checked += Self.check(ConvGeometry(channels: 64, height: 30, width: 30, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1,
                                           dilationH: 1, dilationW: 1, outH: 15, outW: 15), "stem-like")
        checked += Self.check(ConvGeometry(channels: 24, height: 11, width: 17, kernelH: 2, kernelW: 3, strideH: 1, strideW: 3, padTop: 0, padLeft: 1,
                                           dilationH: 1, dilationW: 1, outH: 10, outW: 6), "2x3 s1x3")
        // Unequal pads (top 0, bottom 2; left 2, right 0) and a ceil_mode-style output one longer than the
        // floor formula gives (its last window reaching past the end pad): outH, outW as convGeometry passes them.
        checked += Self.check(ConvGeometry(channels: 16, height: 9, width: 10, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 0, padLeft: 2,
                                           dilationH: 1, dilationW: 1, outH: 5, outW: 6), "unequal pads")
        checked += Self.check(ConvGeometry(channels: 9, height: 8, width: 8, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1,
                                           dilationH: 1, dilationW: 1, outH: 5, outW: 5), "ceil mode")
        #expect(checked > 1000)
    }

    /// Pools g's image (a pattern with NaNs and both zeros) by each set into each layout, its output
    /// rows in three uneven parts, and compares bit patterns with Pooling.pool on the channels-first
    /// image (transposed for a channels-last output).
    static func check(_ g: ConvGeometry, _ what: String) -> Int {
        let (c, positions) = (g.channels, g.height * g.width)
        var x = (0..<(c * positions)).map { Float(($0 * 37) % 23) - 11 }
        for i in stride(from: 5, to: x.count, by: 17) { x[i] = .nan }
        for i in stride(from: 2, to: x.count, by: 13) { x[i] = i % 2 == 0 ? -0.0 : 0.0 }
        var want = [Float](repeating: 7, count: c * g.outH * g.outW)
        x.withUnsafeBufferPointer { xp in want.withUnsafeMutableBufferPointer { yp in
            Pooling.pool(xp.baseAddress!, planes: c, g, max: true, countIncludePad: false, into: yp.baseAddress!)
        } }
        let xl = channelsLast(x, channels: c, positions: positions)
        let cuts = [0, g.outH / 3, g.outH * 2 / 3 + (g.outH > 2 ? 1 : 0), g.outH].map { min($0, g.outH) }
        var checked = 0
        for (name, pool) in sets { for channelsLastOutput in [false, true] {
            let expected = channelsLastOutput ? channelsLast(want, channels: c, positions: g.outH * g.outW) : want
            var got = [Float](repeating: 7, count: want.count)
            var scratch = [Float](repeating: 0, count: max(Pooling.channelsLastScratchFloats(g)!, 1))
            xl.withUnsafeBufferPointer { xp in got.withUnsafeMutableBufferPointer { yp in scratch.withUnsafeMutableBufferPointer { sp in
                for part in 0..<3 where cuts[part] < cuts[part + 1] {
                    pool(xp.baseAddress!, g, cuts[part]..<cuts[part + 1], yp.baseAddress!, channelsLastOutput, sp.baseAddress!)
                }
            } } }
            #expect(got.map(\.bitPattern) == expected.map(\.bitPattern), "\(name) \(what) channels last \(channelsLastOutput): \(got) vs \(expected)")
            checked += 1
        } }
        return checked
    }
}
