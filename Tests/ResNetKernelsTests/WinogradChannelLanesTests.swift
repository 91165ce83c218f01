import Testing
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// Winograd between channels-last activations with channel lanes
/// (Winograd.transformInputChannelsLast / transformOutputChannelsLast): every lane set
/// (the Float twin, each kernel set this CPU runs) bit for bit equal, split into runs of tiles
/// as the planner's blocks and thread shares split them, and the whole conv (transforms + plain
/// products) against the direct sum in float64.
struct WinogradChannelLanesTests {
    typealias Input = (WinogradTile, UnsafePointer<Float>, ConvGeometry, Range<Int>, UnsafeMutablePointer<Float>, Int) -> Void
    typealias Output = (WinogradTile, UnsafePointer<Float>, ConvGeometry, Int, Range<Int>, Int, UnsafePointer<Float>?, UnsafePointer<Float>?,
                        Bool, UnsafeMutablePointer<Float>) -> Void

    /// The Float twin and the kernel sets' lanes (16 on AVX-512, 8 on AVX2), where this CPU runs them.
    static var laneSets: [(String, Input, Output)] {
        var sets: [(String, Input, Output)] = [("float", { $0.transformInputChannelsLast(Float.self, $1, $2, tiles: $3, v: $4, xiStride: $5) },
                                                { $0.transformOutputChannelsLast(Float.self, $1, $2, m: $3, tiles: $4, xiStride: $5, bias: $6, residual: $7,
                                                                                 relu: $8, into: $9) })]
        if KernelSet.avx2.isSupported {
            sets.append(("avx2", { WinogradAVX2.transformInputChannelsLast($0, $1, $2, tiles: $3, v: $4, xiStride: $5) },
                         { WinogradAVX2.transformOutputChannelsLast($0, $1, $2, m: $3, tiles: $4, xiStride: $5, bias: $6, residual: $7, relu: $8, into: $9) }))
        }
        if KernelSet.avx512.isSupported {
            sets.append(("avx512", { WinogradAVX512.transformInputChannelsLast($0, $1, $2, tiles: $3, v: $4, xiStride: $5) },
                         { WinogradAVX512.transformOutputChannelsLast($0, $1, $2, m: $3, tiles: $4, xiStride: $5, bias: $6, residual: $7, relu: $8, into: $9) }))
        }
        return sets
    }

    /// Sizes around the 2-, 3- and 4-wide tiles and resnet's 14x14 and 7x7, with odd crops and pads.
    static let cases: [WinogradTests.Case] = WinogradTests.cases.filter { $0.h * $0.w <= 30 * 62 }

    /// y [Ho, Wo, M] (one spare float after it, 7) of x [H, W, C] through lane set `set`, the tiles
    /// transformed in the runs `splits` cuts them into (V and Mᵀ rows of each run from its first
    /// tile, one row into planes two rows longer than the run, as a block inside a larger set;
    /// the rows around it must stay untouched), products as plain float32 loops; also V of the
    /// last run (its own rows only).
    static func convolve(_ set: Int, tile: WinogradTile, x: [Float], w: [Float], bias: [Float], residual: [Float]?, relu: Bool,
                         g: ConvGeometry, m: Int, splits: Int) -> (v: [Float], y: [Float]) {
        let (_, input, output) = laneSets[set]
        let (tr, tc) = tile.tiles(g), c = g.channels, positions = tile.positions, tiles = tr * tc
        var u = [Float](repeating: 0, count: positions * m * c)
        w.withUnsafeBufferPointer { wp in u.withUnsafeMutableBufferPointer { tile.transformWeights(wp.baseAddress!, m: m, c: c, into: $0.baseAddress!) } }
        var y = [Float](repeating: .nan, count: m * g.outH * g.outW + 1)
        y[y.count - 1] = 7
        var lastV: [Float] = []
        for part in 0..<splits {
            let run = (tiles * part / splits)..<(tiles * (part + 1) / splits), rows = run.count
            guard rows > 0 else { continue }
            // Planes of rows + 2 rows; the run's rows from row 1.
            let planeRows = rows + 2
            var v = [Float](repeating: .nan, count: positions * planeRows * c)
            var mt = [Float](repeating: .nan, count: positions * planeRows * m)
            x.withUnsafeBufferPointer { xp in v.withUnsafeMutableBufferPointer { input(tile, xp.baseAddress!, g, run, $0.baseAddress! + c, planeRows * c) } }
            for xi in 0..<positions {
                let plane: Int = xi * planeRows * c
                let before = v[plane..<(plane + c)], after = v[(plane + (rows + 1) * c)..<(plane + planeRows * c)]
                #expect(before.allSatisfy { $0.isNaN } && after.allSatisfy { $0.isNaN }, "V plane \(xi): a row outside the run written")
            }
            for xi in 0..<positions { for r in 1...rows { for oc in 0..<m {
                var s: Float = 0
                for ic in 0..<c { s += v[(xi * planeRows + r) * c + ic] * u[(xi * m + oc) * c + ic] }
                mt[(xi * planeRows + r) * m + oc] = s
            } } }
            mt.withUnsafeBufferPointer { mp in bias.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer { yp in
                let first = mp.baseAddress! + m
                if let residual {
                    residual.withUnsafeBufferPointer { output(tile, first, g, m, run, planeRows * m, bp.baseAddress!, $0.baseAddress!, relu, yp.baseAddress!) }
                } else {
                    output(tile, first, g, m, run, planeRows * m, bp.baseAddress!, nil, relu, yp.baseAddress!)
                }
            } } }
            lastV = []
            for xi in 0..<positions {
                let start: Int = (xi * planeRows + 1) * c, end: Int = start + rows * c
                lastV += v[start..<end]
            }
        }
        return (lastV, y)
    }

    /// C 32 and M 48: two and three lane groups of 16, four and six of 8.
    static func operands(_ t: WinogradTests.Case, seed: UInt64) -> (Int, ConvGeometry, [Float], [Float], [Float], [Float]) {
        let c = 32, m = 48
        let g = t.geometry(channels: c)
        return (m, g, WinogradTests.random(t.h * t.w * c, seed: seed), WinogradTests.random(m * c * 9, seed: seed + 1),
                WinogradTests.random(m, seed: seed + 2), WinogradTests.random(g.outH * g.outW * m, seed: seed + 3))
    }

    @Test(arguments: cases)
    func laneSetsAndTileRunsAgreeBitForBit(_ t: WinogradTests.Case) {
        let (m, g, x, w, bias, residual) = Self.operands(t, seed: 41)
        for (relu, r) in [(false, nil), (true, residual)] as [(Bool, [Float]?)] {
            let twin = Self.convolve(0, tile: t.tile, x: x, w: w, bias: bias, residual: r, relu: relu, g: g, m: m, splits: 1)
            #expect(twin.y.last == 7, "wrote past the output")
            #expect(!twin.y.dropLast().contains { $0.isNaN }, "an output left unwritten")
            for set in 0..<Self.laneSets.count {
                for splits in set == 0 ? [3] : [1, 3] {
                    let other = Self.convolve(set, tile: t.tile, x: x, w: w, bias: bias, residual: r, relu: relu, g: g, m: m, splits: splits)
                    #expect(other.y.elementsEqual(twin.y, by: { $0.bitPattern == $1.bitPattern }), "\(Self.laneSets[set].0) in \(splits) runs: y differs")
                    if splits == 1 { #expect(other.v.elementsEqual(twin.v, by: { $0.bitPattern == $1.bitPattern }), "\(Self.laneSets[set].0): V differs") }
                }
            }
        }
    }

    @Test(arguments: cases)
    func matchesTheDirectConvolution(_ t: WinogradTests.Case) {
        let (m, g, x, w, bias, residual) = Self.operands(t, seed: 51)
        for (relu, r) in [(true, residual), (false, nil)] as [(Bool, [Float]?)] {
            Self.compareWithDirect(t, m: m, g: g, x: x, w: w, bias: bias, residual: r, relu: relu)
        }
    }

    static func compareWithDirect(_ t: WinogradTests.Case, m: Int, g: ConvGeometry, x: [Float], w: [Float], bias: [Float], residual: [Float]?, relu: Bool) {
        let c = g.channels
        let y = Self.convolve(Self.laneSets.count - 1, tile: t.tile, x: x, w: w, bias: bias, residual: residual, relu: relu, g: g, m: m, splits: 2).y
        var worst = 0.0
        for oy in 0..<g.outH { for ox in 0..<g.outW { for oc in 0..<m {
            var s = Double(bias[oc]), magnitude = abs(Double(bias[oc]))
            for ky in 0..<3 { for kx in 0..<3 {
                let iy = oy - g.padTop + ky, ix = ox - g.padLeft + kx
                guard iy >= 0, iy < t.h, ix >= 0, ix < t.w else { continue }
                for ic in 0..<c {
                    let term = Double(x[(iy * t.w + ix) * c + ic]) * Double(w[((oc * c + ic) * 3 + ky) * 3 + kx])
                    s += term
                    magnitude += abs(term)
                }
            } }
            let at = (oy * g.outW + ox) * m + oc
            let sum = s + (residual.map { Double($0[at]) } ?? 0)
            let expected = relu ? max(sum, 0) : sum
            magnitude += abs(residual.map { Double($0[at]) } ?? 0)
            worst = max(worst, abs(Double(y[at]) - expected) / magnitude)
        } } }
        // As WinogradTests' bound: 9 x 32 terms in float32 may be off by 289 x 2^-24 = 1.7e-5 of
        // their magnitudes' sum; a wrong tile, lane or pad gives errors of order 1.
        #expect(worst < 1.7e-5, "relu \(relu) residual \(residual != nil): max error / sum |terms| \(worst)")
        #expect(y.last == 7, "wrote past the output")
    }
}
