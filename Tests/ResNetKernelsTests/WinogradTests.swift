import Testing
import ResNetKernels
import ResNetKernelsAVX512
import ResNetKernelsReference

/// Winograd F(2x2), F(3x3) and F(4x4) (with 3x3 kernels): the SIMD transforms against their
/// Float twin (the same expressions one tile at a time: equal bit for bit), and the whole conv
/// (transforms + (s+2)² plain products) against the direct sum in float64.
struct WinogradTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let tile: WinogradTile, h: Int, w: Int, padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
        var testDescription: String { "\(tile) \(h)x\(w) pads \(padTop),\(padLeft),\(padBottom),\(padRight)" }
        func geometry(channels: Int) -> ConvGeometry {
            ConvGeometry(channels: channels, height: h, width: w, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1,
                         padTop: padTop, padLeft: padLeft, dilationH: 1, dilationW: 1,
                         outH: h + padTop + padBottom - 2, outW: w + padLeft + padRight - 2)
        }
    }

    /// Sizes around the 2-, 3- and 4-wide tiles and the 8- and 16-tile lane groups (a 3-wide
    /// tile's 16 lanes span 48 columns: 50 and 66 cross into a second group).
    static let cases: [Case] = {
        var out: [Case] = []
        let sizes = [(3, 3), (4, 4), (5, 6), (7, 7), (13, 30), (14, 14), (17, 34), (30, 62), (9, 66), (56, 56), (10, 50)]
        for tile in [WinogradTile.f2x2, .f3x3, .f4x4] { for (h, w) in sizes {
            for (pt, pl, pb, pr) in [(1, 1, 1, 1), (0, 0, 0, 0), (2, 1, 0, 2)] where h + pt + pb >= 3 && w + pl + pr >= 3 {
                out.append(Case(tile: tile, h: h, w: w, padTop: pt, padLeft: pl, padBottom: pb, padRight: pr))
            }
        } }
        return out
    }()

    static func random(_ n: Int, seed: UInt64) -> [Float] { SgemmTests.random(n, seed: seed) }

    typealias Input = (WinogradTile, UnsafePointer<Float>, ConvGeometry, Range<Int>, Range<Int>, UnsafeMutablePointer<Float>, Int, Int,
                       UnsafeMutablePointer<Float>, ActivationLayout) -> Void
    typealias Output = (WinogradTile, UnsafePointer<Float>, ConvGeometry, Range<Int>, Range<Int>, Int, Int, Int, UnsafePointer<Float>?,
                        UnsafePointer<Float>?, Bool, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, ActivationLayout) -> Void

    /// The Float twin: the shapes' generic transforms one tile at a time.
    static func floatInput(_ tile: WinogradTile, _ x: UnsafePointer<Float>, _ g: ConvGeometry, _ channels: Range<Int>, _ rows: Range<Int>,
                           _ v: UnsafeMutablePointer<Float>,
                           _ ldv: Int, _ tileBase: Int, _ scratch: UnsafeMutablePointer<Float>, _ layout: ActivationLayout) {
        tile.transformInput(Float.self, x, g, channels: channels, tileRows: rows, v: v, ldv: ldv, tileBase: tileBase, scratch: scratch, layout: layout)
    }
    static func floatOutput(_ tile: WinogradTile, _ mt: UnsafePointer<Float>, _ g: ConvGeometry, _ outputs: Range<Int>, _ rows: Range<Int>, _ m: Int, _ ldm: Int, _ tileBase: Int,
                            _ bias: UnsafePointer<Float>?, _ residual: UnsafePointer<Float>?, _ relu: Bool, _ y: UnsafeMutablePointer<Float>,
                            _ scratch: UnsafeMutablePointer<Float>, _ layout: ActivationLayout) {
        tile.transformOutput(Float.self, mt, g, outputs: outputs, tileRows: rows, m: m, ldm: ldm, tileBase: tileBase, bias: bias,
                             residual: residual, relu: relu, into: y, scratch: scratch, layout: layout)
    }

    /// The lane types this CPU runs, with the Float twin first.
    static var laneSets: [(String, Input, Output)] {
        var sets: [(String, Input, Output)] = [("float", floatInput, floatOutput)]
        if KernelSet.avx2.isSupported {
            sets.append(("avx2", { WinogradAVX2.transformInput($0, $1, $2, channels: $3, tileRows: $4, v: $5, ldv: $6, tileBase: $7, scratch: $8, layout: $9) },
                         { WinogradAVX2.transformOutput($0, $1, $2, outputs: $3, tileRows: $4, m: $5, ldm: $6, tileBase: $7, bias: $8, residual: $9, relu: $10,
                                                        into: $11, scratch: $12, layout: $13) }))
        }
        if KernelSet.avx512.isSupported {
            sets.append(("avx512", { WinogradAVX512.transformInput($0, $1, $2, channels: $3, tileRows: $4, v: $5, ldv: $6, tileBase: $7, scratch: $8, layout: $9) },
                         { WinogradAVX512.transformOutput($0, $1, $2, outputs: $3, tileRows: $4, m: $5, ldm: $6, tileBase: $7, bias: $8, residual: $9, relu: $10,
                                                          into: $11, scratch: $12, layout: $13) }))
        }
        return sets
    }

    /// Runs the Winograd conv of x [C, H, W] with w [M, C, 3, 3] on one lane set: input
    /// transform (the image's tiles at column `tileBase`), the (s+2)² products in float64, output transform.
    /// `layout` channels last: x and the residual are handed to the transforms as [H, W, C] and y
    /// comes back [Ho, Wo, M]; what is returned is in the graph's layout either way.
    static func convolve(_ set: Int, tile: WinogradTile, x nchw: [Float], w: [Float], bias: [Float], residual nchwResidual: [Float]?, relu: Bool,
                         g: ConvGeometry, m: Int, tileBase: Int, layout: ActivationLayout = .channelsFirst) -> (v: [Float], y: [Float]) {
        let (_, input, output) = laneSets[set]
        let last = layout == .channelsLast, planeIn = g.height * g.width, planeOut = g.outH * g.outW
        let x = last ? GatherConvTests.transposed(nchw, rows: g.channels, columns: planeIn) : nchw
        let residual = nchwResidual.map { last ? GatherConvTests.transposed($0, rows: m, columns: planeOut) : $0 }
        let (tr, tc) = tile.tiles(g), c = g.channels, positions = tile.positions
        let tiles = tr * tc, ld = tileBase + tiles + 16
        var v = [Float](repeating: .nan, count: positions * c * ld)
        var u = [Float](repeating: 0, count: positions * m * c)
        var scratch = [Float](repeating: .nan, count: tile.scratchFloats(g))
        w.withUnsafeBufferPointer { wp in u.withUnsafeMutableBufferPointer { tile.transformWeights(wp.baseAddress!, m: m, c: c, into: $0.baseAddress!) } }
        x.withUnsafeBufferPointer { xp in v.withUnsafeMutableBufferPointer { vp in scratch.withUnsafeMutableBufferPointer { sp in
            // Four calls: two blocks of tile rows (as the planner's blocks) by two halves of the channels.
            for rows in [0..<(tr / 2), (tr / 2)..<tr] {
                let base = tileBase + rows.lowerBound * tc
                input(tile, xp.baseAddress!, g, 0..<(c / 2), rows, vp.baseAddress!, ld, base, sp.baseAddress!, layout)
                input(tile, xp.baseAddress!, g, (c / 2)..<c, rows, vp.baseAddress!, ld, base, sp.baseAddress!, layout)
            }
        } } }
        // M_xi = U_xi · V_xi, summed in float64 so only the transforms' rounding differs between sets.
        var mt = [Float](repeating: .nan, count: positions * m * ld)
        for xi in 0..<positions { for oc in 0..<m { for t in tileBase..<(tileBase + tiles) {
            var s = 0.0
            for ic in 0..<c { s += Double(u[(xi * m + oc) * c + ic]) * Double(v[(xi * c + ic) * ld + t]) }
            mt[(xi * m + oc) * ld + t] = Float(s)
        } } }
        var y = [Float](repeating: 7, count: m * g.outH * g.outW + 1)
        mt.withUnsafeBufferPointer { mp in bias.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer { yp in
            scratch.withUnsafeMutableBufferPointer { sp in
                let (mBase, bBase, yBase, sBase) = (mp.baseAddress!, bp.baseAddress!, yp.baseAddress!, sp.baseAddress!)
                for rows in [0..<(tr / 2), (tr / 2)..<tr] {
                    let base = tileBase + rows.lowerBound * tc
                    if let residual {
                        residual.withUnsafeBufferPointer { output(tile, mBase, g, 0..<m, rows, m, ld, base, bBase, $0.baseAddress!, relu, yBase, sBase, layout) }
                    } else {
                        output(tile, mBase, g, 0..<m, rows, m, ld, base, bBase, nil, relu, yBase, sBase, layout)
                    }
                }
            }
        } } }
        // Only this image's columns of V are defined.
        let used = (0..<(positions * c)).flatMap { row in v[(row * ld + tileBase)..<(row * ld + tileBase + tiles)] }
        // Back to [M, Ho, Wo], the sentinel past the end kept.
        if last { y = GatherConvTests.transposed(Array(y.dropLast()), rows: planeOut, columns: m) + [y.last!] }
        return (used, y)
    }

    /// Five input and three output channels of case t: (c, m, geometry, x, w, bias, residual), random from `seed`.
    static func operands(_ t: Case, seed: UInt64) -> (Int, Int, ConvGeometry, [Float], [Float], [Float], [Float]) {
        let c = 5, m = 3
        let g = t.geometry(channels: c)
        return (c, m, g, random(c * t.h * t.w, seed: seed), random(m * c * 9, seed: seed + 1), random(m, seed: seed + 2),
                random(m * g.outH * g.outW, seed: seed + 3))
    }

    @Test(arguments: cases)
    func simdTransformsEqualTheFloatTwin(_ t: Case) {
        let (_, m, g, x, w, bias, residual) = Self.operands(t, seed: 11)
        for (relu, r) in [(false, nil), (true, residual)] as [(Bool, [Float]?)] {
            let twin = Self.convolve(0, tile: t.tile, x: x, w: w, bias: bias, residual: r, relu: relu, g: g, m: m, tileBase: 3)
            for set in 1..<Self.laneSets.count {
                let fast = Self.convolve(set, tile: t.tile, x: x, w: w, bias: bias, residual: r, relu: relu, g: g, m: m, tileBase: 3)
                #expect(fast.v.elementsEqual(twin.v, by: { $0.bitPattern == $1.bitPattern }), "\(Self.laneSets[set].0): V differs")
                #expect(fast.y.elementsEqual(twin.y, by: { $0.bitPattern == $1.bitPattern }), "\(Self.laneSets[set].0): y differs")
                #expect(fast.y.last == 7, "wrote past the output")
            }
        }
    }

    /// Channels last in and out (a gathered input row, a scattered output row, the residual read
    /// alike): V and y bit for bit those of the channels-first run, on every lane set.
    @Test(arguments: cases)
    func channelsLastEqualsChannelsFirst(_ t: Case) {
        let (_, m, g, x, w, bias, residual) = Self.operands(t, seed: 31)
        for set in 0..<Self.laneSets.count {
            for (relu, r) in [(false, nil), (true, residual)] as [(Bool, [Float]?)] {
                let first = Self.convolve(set, tile: t.tile, x: x, w: w, bias: bias, residual: r, relu: relu, g: g, m: m, tileBase: 2)
                let last = Self.convolve(set, tile: t.tile, x: x, w: w, bias: bias, residual: r, relu: relu, g: g, m: m, tileBase: 2, layout: .channelsLast)
                #expect(last.v.elementsEqual(first.v, by: { $0.bitPattern == $1.bitPattern }), "\(Self.laneSets[set].0): V differs")
                #expect(last.y.elementsEqual(first.y, by: { $0.bitPattern == $1.bitPattern }), "\(Self.laneSets[set].0) residual \(r != nil): y differs")
                #expect(last.y.last == 7, "wrote past the output")
            }
        }
    }

    @Test(arguments: cases)
    func matchesTheDirectConvolution(_ t: Case) {
        let c = 6, m = 4
        let g = t.geometry(channels: c)
        let x = Self.random(c * t.h * t.w, seed: 21), w = Self.random(m * c * 9, seed: 22), bias = Self.random(m, seed: 23)
        let residual = Self.random(m * g.outH * g.outW, seed: 24)
        let set = Self.laneSets.count - 1
        let y = Self.convolve(set, tile: t.tile, x: x, w: w, bias: bias, residual: residual, relu: true, g: g, m: m, tileBase: 0).y
        var worst = 0.0
        for oc in 0..<m { for oy in 0..<g.outH { for ox in 0..<g.outW {
            var s = Double(bias[oc]), magnitude = abs(Double(bias[oc]))
            for ic in 0..<c { for ky in 0..<3 { for kx in 0..<3 {
                let iy = oy - g.padTop + ky, ix = ox - g.padLeft + kx
                guard iy >= 0, iy < t.h, ix >= 0, ix < t.w else { continue }
                let term = Double(x[(ic * t.h + iy) * t.w + ix]) * Double(w[((oc * c + ic) * 3 + ky) * 3 + kx])
                s += term
                magnitude += abs(term)
            } } }
            let at = (oc * g.outH + oy) * g.outW + ox
            let expected = max(s + Double(residual[at]), 0)
            magnitude += abs(Double(residual[at]))
            worst = max(worst, abs(Double(y[at]) - expected) / magnitude)
        } } }
        // Error relative to the sum of the terms' magnitudes. A direct float32 sum of these
        // 56 terms may be off by 56 x 2^-24 = 3.3e-6 of it; these cases measured at most
        // 1.0e-6 for F(4x4) (1.6e-6 on the points 0, ±1, ±2). A wrong tile, phase or pad gives errors of order 1.
        print("Winograd \(t.testDescription): worst error / sum |terms| = \(worst)")
        #expect(worst < 3.3e-6, "max error / sum |terms| \(worst)")
        #expect(y.last == 7, "wrote past the output")
    }

    /// F(4x4)'s rounding on a deep sum, as resnet's 28x28 convs see it: 128 channels of ReLU'd
    /// inputs, the relative RMS error against the float64 direct sum. On the interpolation points
    /// 0, ±1, 2, -1/2 it measures 3.2e-7 here (the data are seeded: the same on every machine and
    /// lane set); on the usual 0, ±1, ±2 5.0e-7, with which F(4x4) took a BN-folded resnet50 over
    /// parity's 1e-4 (WinogradF4x4).
    @Test func f4x4RoundsLessThanOnTheUsualPoints() {
        let c = 128, m = 8, t = Case(tile: .f4x4, h: 16, w: 16, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        let g = t.geometry(channels: c)
        let x = Self.random(c * t.h * t.w, seed: 51).map { max($0, 0) }, w = Self.random(m * c * 9, seed: 52)
        let y = Self.convolve(0, tile: .f4x4, x: x, w: w, bias: [Float](repeating: 0, count: m), residual: nil, relu: false, g: g, m: m, tileBase: 0).y
        let relative = Self.relativeRMSError(y, x: x, w: w, m: m, t, g)
        print("F(4x4), C 128: relative RMS error \(relative)")
        #expect(relative < 4e-7, "relative RMS error \(relative)")
    }

    /// F(3x3) on the five finite points 0, ±1, ±2 (WinogradF3x3) against the same tile on 0, ±1,
    /// 2, ∞ (`F3x3WithInfinity` below, the usual construction), as resnet's 56x56 convs see it: 64
    /// channels of ReLU'd inputs, the relative RMS error against the float64 direct sum, the
    /// products summed as the GEMM tiles sum them (float32 fused multiply-adds). Measured here
    /// (seeded data: the same on every machine) 5.2e-7 against 7.6e-7 (with the products summed in
    /// float64, so only the transforms round, 2.0e-7 against 2.4e-7: most of the difference is
    /// how Aᵀ weighs the products' rounding). With the latter points F(3x3) on resnet50's 56x56
    /// convs took a BN-folded export to 1.024e-4, over parity's 1e-4; on the finite points 8.0e-5.
    @Test func f3x3OnFinitePointsRoundsLessThanWithInfinity() {
        let finite = Self.relativeRMS(WinogradF3x3.self), infinity = Self.relativeRMS(F3x3WithInfinity.self)
        print("F(3x3), C 64: relative RMS error \(finite) on 0, ±1, ±2; \(infinity) on 0, ±1, 2, ∞")
        #expect(finite < 0.8 * infinity, "finite points \(finite), with infinity \(infinity)")
        #expect(finite < 6e-7, "relative RMS error \(finite)")
    }

    /// F(3x3, 3x3) on the points 0, 1, -1, 2, ∞: Bᵀ = [2 -1 -2 1 0; 0 -2 -1 1 0; 0 2 -3 1 0;
    /// 0 -1 0 1 0; 0 2 -1 -2 1], G = [1/2 0 0; -1/2 -1/2 -1/2; -1/6 1/6 -1/6; 1/6 1/3 2/3; 0 0 1],
    /// Aᵀ = [1 1 1 1 0; 0 1 -1 2 0; 0 1 1 4 1]. Only for the comparison above.
    enum F3x3WithInfinity: WinogradShape {
        static var step: Int { 3 }
        static func input<L: WinogradLanes>(_ z: UnsafePointer<L>, _ zs: Int, _ o: UnsafeMutablePointer<L>, _ os: Int) {
            let z0 = z[0], z1 = z[zs], z2 = z[2 * zs], z3 = z[3 * zs], z4 = z[4 * zs]
            let d31 = z3 - z1
            o[0] = (z0 - z2) * 2 + d31; o[os] = z3 - z1 * 2 - z2; o[2 * os] = z1 * 2 + z3 - z2 * 3
            o[3 * os] = d31; o[4 * os] = z4 + (z1 - z3) * 2 - z2
        }
        static func output<L: WinogradLanes>(_ m: UnsafePointer<L>, _ ms: Int, _ o: UnsafeMutablePointer<L>, _ os: Int) {
            let m0 = m[0], m1 = m[ms], m2 = m[2 * ms], m3 = m[3 * ms], m4 = m[4 * ms]
            o[0] = m0 + m1 + m2 + m3; o[os] = m1 - m2 + m3 * 2; o[2 * os] = m1 + m2 + m3 * 4 + m4
        }
        static func weights(_ a: Double, _ b: Double, _ d: Double, _ o: UnsafeMutablePointer<Double>, _ os: Int) {
            o[0] = a / 2; o[os] = -(a + b + d) / 2; o[2 * os] = (b - a - d) / 6; o[3 * os] = (a + b * 2 + d * 4) / 6; o[4 * os] = d
        }
    }

    /// Relative RMS error of shape S's whole conv (Float transforms, float32 FMA products) on 64
    /// channels of ReLU'd inputs, 18x18 padded by 1, 4 output channels, against the float64 direct sum.
    static func relativeRMS<S: WinogradShape>(_: S.Type) -> Double {
        let c = 64, m = 4, t = Case(tile: .f3x3, h: 18, w: 18, padTop: 1, padLeft: 1, padBottom: 1, padRight: 1)
        let g = t.geometry(channels: c)
        let x = random(c * t.h * t.w, seed: 61).map { max($0, 0) }, w = random(m * c * 9, seed: 62)
        let (tr, tc) = Winograd.tiles(S.self, g), positions = (S.step + 2) * (S.step + 2), ld = tr * tc + 16
        var u = [Float](repeating: 0, count: positions * m * c), v = [Float](repeating: .nan, count: positions * c * ld)
        var mt = [Float](repeating: .nan, count: positions * m * ld), y = [Float](repeating: .nan, count: m * g.outH * g.outW)
        var scratch = [Float](repeating: .nan, count: Winograd.scratchFloats(S.self, g))
        w.withUnsafeBufferPointer { wp in u.withUnsafeMutableBufferPointer { Winograd.transformWeights(S.self, wp.baseAddress!, m: m, c: c, into: $0.baseAddress!) } }
        x.withUnsafeBufferPointer { xp in v.withUnsafeMutableBufferPointer { vp in scratch.withUnsafeMutableBufferPointer { sp in
            Winograd.transformInput(S.self, Float.self, xp.baseAddress!, g, channels: 0..<c, tileRows: 0..<tr, v: vp.baseAddress!, ldv: ld, tileBase: 0,
                                    scratch: sp.baseAddress!)
        } } }
        // The products as the GEMM tiles sum them: fused multiply-adds in float32, channel by channel.
        for xi in 0..<positions { for oc in 0..<m { for tile in 0..<(tr * tc) {
            var s: Float = 0
            for ic in 0..<c { s = s.addingProduct(u[(xi * m + oc) * c + ic], v[(xi * c + ic) * ld + tile]) }
            mt[(xi * m + oc) * ld + tile] = s
        } } }
        mt.withUnsafeBufferPointer { mp in y.withUnsafeMutableBufferPointer { yp in scratch.withUnsafeMutableBufferPointer { sp in
            Winograd.transformOutput(S.self, Float.self, mp.baseAddress!, g, outputs: 0..<m, tileRows: 0..<tr, m: m, ldm: ld, tileBase: 0, bias: nil,
                                     residual: nil, relu: false, into: yp.baseAddress!, scratch: sp.baseAddress!)
        } } }
        return relativeRMSError(y, x: x, w: w, m: m, t, g)
    }

    /// Relative RMS error of y [M, Ho, Wo] against the float64 direct 3x3 convolution of x [C, H, W] with w [M, C, 3, 3].
    static func relativeRMSError(_ y: [Float], x: [Float], w: [Float], m: Int, _ t: Case, _ g: ConvGeometry) -> Double {
        let c = g.channels
        var squaredError = 0.0, squared = 0.0
        for oc in 0..<m { for oy in 0..<g.outH { for ox in 0..<g.outW {
            var s = 0.0
            for ic in 0..<c { for ky in 0..<3 { for kx in 0..<3 {
                let iy = oy - g.padTop + ky, ix = ox - g.padLeft + kx
                guard iy >= 0, iy < t.h, ix >= 0, ix < t.w else { continue }
                s += Double(x[(ic * t.h + iy) * t.w + ix]) * Double(w[((oc * c + ic) * 3 + ky) * 3 + kx])
            } } }
            let e = Double(y[(oc * g.outH + oy) * g.outW + ox]) - s
            squaredError += e * e
            squared += s * s
        } } }
        return (squaredError / squared).squareRoot()
    }
}
