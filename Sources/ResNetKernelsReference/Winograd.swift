/// Winograd convolution for 3x3 stride-1 convolutions (issue 11), F(2x2, 3x3), F(3x3, 3x3)
/// and F(4x4, 3x3): each s x s output tile (s = `Shape.step`) comes from an (s+2) x (s+2)
/// input tile with (s+2)² multiplies per (output, input) channel pair instead of 9s²
/// (2.25x fewer for F(2x2), 3.24x for F(3x3), 4x for F(4x4)), as (s+2)² GEMMs
/// M_xi[Cout, T] = U_xi[Cout, Cin] · V_xi[Cin, T] over the T tiles (xi = tile position).
/// U = G g Gᵀ, V = Bᵀ d B, Y = Aᵀ M A (Lavin & Gray 2016); the matrices are in each
/// shape's type. Bᵀ and Aᵀ are small integers; G's fractions are applied to the
/// weights in float64 at plan time. The result differs from the direct sum by float32
/// rounding of the transformed values, more for the larger tiles;
/// `--exact` turns Winograd off, and the parity suites run both.
///
/// The transforms run on `lanes` consecutive tiles of one tile row at once (SIMD16 on
/// the AVX-512 set, SIMD8 on AVX2, Float for the scalar twin the tests compare against):
/// the same expressions in the same order, so every instantiation rounds identically.
public protocol WinogradShape {
    /// Output tile side s; the input tile side is s + 2.
    static var step: Int { get }
    /// Bᵀ z: reads z[0], z[zs], ... (s+2 values), writes o[0], o[os], ... (s+2 values).
    static func input<L: WinogradLanes>(_ z: UnsafePointer<L>, _ zs: Int, _ o: UnsafeMutablePointer<L>, _ os: Int)
    /// Aᵀ m: s+2 values in, s out.
    static func output<L: WinogradLanes>(_ m: UnsafePointer<L>, _ ms: Int, _ o: UnsafeMutablePointer<L>, _ os: Int)
    /// G g for three weights (a, b, d): s+2 values.
    static func weights(_ a: Double, _ b: Double, _ d: Double, _ o: UnsafeMutablePointer<Double>, _ os: Int)
}

/// F(2x2, 3x3), points 0, ±1, ∞:
///   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1], Aᵀ = [1 1 1 0; 0 1 -1 -1].
public enum WinogradF2x2: WinogradShape {
    @inlinable public static var step: Int { 2 }
    @inlinable @inline(__always)
    public static func input<L: WinogradLanes>(_ z: UnsafePointer<L>, _ zs: Int, _ o: UnsafeMutablePointer<L>, _ os: Int) {
        let z0 = z[0], z1 = z[zs], z2 = z[2 * zs], z3 = z[3 * zs]
        o[0] = z0 - z2; o[os] = z1 + z2; o[2 * os] = z2 - z1; o[3 * os] = z1 - z3
    }
    @inlinable @inline(__always)
    public static func output<L: WinogradLanes>(_ m: UnsafePointer<L>, _ ms: Int, _ o: UnsafeMutablePointer<L>, _ os: Int) {
        let m0 = m[0], m1 = m[ms], m2 = m[2 * ms], m3 = m[3 * ms]
        o[0] = m0 + m1 + m2; o[os] = m1 - m2 - m3
    }
    @inlinable @inline(__always)
    public static func weights(_ a: Double, _ b: Double, _ d: Double, _ o: UnsafeMutablePointer<Double>, _ os: Int) {
        o[0] = a; o[os] = (a + b + d) / 2; o[2 * os] = (a - b + d) / 2; o[3 * os] = d
    }
}

/// F(3x3, 3x3), the five finite points 0, ±1, ±2 (no point at infinity):
///   Bᵀ = [4 0 -5 0 1; 0 -4 -4 1 1; 0 4 -4 -1 1; 0 -2 -1 2 1; 0 2 -1 -2 1],
///   G  = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6],
///   Aᵀ = [1 1 1 1 1; 0 1 -1 2 -2; 0 1 1 4 4].
/// 25 products per 3x3 outputs (81/25 = 3.24x fewer multiply-adds than direct, against F(2x2)'s
/// 2.25x) and 25/9 transformed values per output against F(2x2)'s 4. Why these points: the two
/// products Aᵀ weighs by ±2 and 4 are small (G's rows for ±2 are 1/24, ±1/12, 1/6, so each
/// product's size |G row| x |Bᵀ row| is 0.60), so their rounding errors are small before Aᵀ
/// scales them; with a point at infinity that product is the largest (3.16) and the point 2's
/// (1.08) is weighed by 4. Simulated in float32 against float64 (C = 64 channels of ReLU'd
/// N(0, 1) inputs, He-scaled weights, 400 tiles, six seeds), relative RMS error 5.1e-7 (largest 3.2e-6) against 7.3e-7 (6.8e-6) on
/// the points 0, ±1, 2, ∞ and 7.6e-7 (8.3e-6) on 0, ±1, 1/2, ∞; F(2x2) 2.4e-7 (1.2e-6),
/// F(4x4) on its points 1.0e-6 (1.1e-5).
public enum WinogradF3x3: WinogradShape {
    @inlinable public static var step: Int { 3 }
    @inlinable @inline(__always)
    public static func input<L: WinogradLanes>(_ z: UnsafePointer<L>, _ zs: Int, _ o: UnsafeMutablePointer<L>, _ os: Int) {
        let z0 = z[0], z1 = z[zs], z2 = z[2 * zs], z3 = z[3 * zs], z4 = z[4 * zs]
        let d42 = z4 - z2, d31 = z3 - z1
        o[0] = z0 * 4 - z2 * 5 + z4
        o[os] = z3 + z4 - (z1 + z2) * 4
        o[2 * os] = z4 - z3 + (z1 - z2) * 4
        o[3 * os] = d42 + d31 * 2
        o[4 * os] = d42 - d31 * 2
    }
    @inlinable @inline(__always)
    public static func output<L: WinogradLanes>(_ m: UnsafePointer<L>, _ ms: Int, _ o: UnsafeMutablePointer<L>, _ os: Int) {
        let m0 = m[0], m1 = m[ms], m2 = m[2 * ms], m3 = m[3 * ms], m4 = m[4 * ms]
        let a = m1 + m2, b = m3 + m4
        o[0] = m0 + a + b; o[os] = m1 - m2 + (m3 - m4) * 2; o[2 * os] = a + b * 4
    }
    @inlinable @inline(__always)
    public static func weights(_ a: Double, _ b: Double, _ d: Double, _ o: UnsafeMutablePointer<Double>, _ os: Int) {
        o[0] = a / 4; o[os] = -(a + b + d) / 6; o[2 * os] = (b - a - d) / 6
        o[3 * os] = (a + b * 2 + d * 4) / 24; o[4 * os] = (a - b * 2 + d * 4) / 24
    }
}

/// F(4x4, 3x3), points 0, 1, -1, 2, -1/2, ∞ (rows of Bᵀ and G scaled by powers of two, exactly, so Bᵀ is integer):
///   Bᵀ = [2 3 -4 -3 2 0; 0 -2 -5 -1 2 0; 0 2 1 -5 2 0; 0 -1 -2 1 2 0; 0 2 -1 -2 1 0; 0 2 3 -4 -3 2],
///   G  = [1/2 0 0; -1/6 -1/6 -1/6; 1/6 -1/6 1/6; 1/30 1/15 2/15; -16/15 8/15 -4/15; 0 0 1/2],
///   Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -1/2 0; 0 1 1 4 1/4 0; 0 1 -1 8 -1/8 1].
/// Why not the usual 0, ±1, ±2, ∞ (Lavin & Gray): -2 -> -1/2 keeps the same work and rounds
/// less, since Aᵀ's largest factor on the fifth product falls from 8 to 1/8 (Barabasz et al.,
/// "Error analysis and improving the accuracy of Winograd convolution", 2020, found this mixed
/// set among the best for F(4, 3)). Simulated in float32 against float64 (C = 128 channels of
/// ReLU'd N(0, 1) inputs, He-scaled weights, 400 tiles, three seeds), the relative RMS error
/// 1.86-1.88e-6 -> 1.24-1.28e-6 and the largest 1.8-2.3e-5 -> 0.8-1.2e-5 (direct float32: 4.3e-7).
public enum WinogradF4x4: WinogradShape {
    @inlinable public static var step: Int { 4 }
    @inlinable @inline(__always)
    public static func input<L: WinogradLanes>(_ z: UnsafePointer<L>, _ zs: Int, _ o: UnsafeMutablePointer<L>, _ os: Int) {
        let z0 = z[0], z1 = z[zs], z2 = z[2 * zs], z3 = z[3 * zs], z4 = z[4 * zs], z5 = z[5 * zs]
        let d31 = z3 - z1, d42 = z4 - z2
        o[0] = (z0 + z4) * 2 - d31 * 3 - z2 * 4
        o[os] = (z4 - z1) * 2 - z2 * 5 - z3
        o[2 * os] = (z1 + z4) * 2 + z2 - z3 * 5
        o[3 * os] = d42 * 2 + d31
        o[4 * os] = d42 - d31 * 2
        o[5 * os] = (z1 + z5) * 2 - d42 * 3 - z3 * 4
    }
    @inlinable @inline(__always)
    public static func output<L: WinogradLanes>(_ m: UnsafePointer<L>, _ ms: Int, _ o: UnsafeMutablePointer<L>, _ os: Int) {
        let m0 = m[0], m1 = m[ms], m2 = m[2 * ms], m3 = m[3 * ms], m4 = m[4 * ms], m5 = m[5 * ms]
        let a = m1 + m2, b = m1 - m2
        o[0] = m0 + a + m3 + m4; o[os] = b + m3 * 2 - m4 * 0.5; o[2 * os] = a + m3 * 4 + m4 * 0.25; o[3 * os] = b + m3 * 8 - m4 * 0.125 + m5
    }
    @inlinable @inline(__always)
    public static func weights(_ a: Double, _ b: Double, _ d: Double, _ o: UnsafeMutablePointer<Double>, _ os: Int) {
        o[0] = a / 2; o[os] = -(a + b + d) / 6; o[2 * os] = (a - b + d) / 6
        o[3 * os] = a / 30 + b / 15 + d * 2 / 15; o[4 * os] = (a * -16 + b * 8 - d * 4) / 15; o[5 * os] = d / 2
    }
}

public enum Winograd {
    /// Output tiles of one image: ceil(Ho / s) x ceil(Wo / s).
    @inlinable public static func tiles<S: WinogradShape>(_: S.Type, _ g: ConvGeometry) -> (rows: Int, cols: Int) {
        ((g.outH + S.step - 1) / S.step, (g.outW + S.step - 1) / S.step)
    }

    /// Whether a conv can run as Winograd: 3x3, stride 1, dilation 1.
    @inlinable public static func applies(_ g: ConvGeometry) -> Bool {
        g.kernelH == 3 && g.kernelW == 3 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1 && g.dilationW == 1
    }

    /// Tile columns rounded up to the widest lane count (16), plus one: the lanes a phase row holds.
    @inlinable static func phaseLength<S: WinogradShape>(_: S.Type, _ g: ConvGeometry) -> Int { (tiles(S.self, g).cols + 15) / 16 * 16 + 1 }
    /// Phase rows lie this far apart (a 16-lane load from lane phaseLength - 16 stays inside).
    @inlinable static func phaseStride<S: WinogradShape>(_: S.Type, _ g: ConvGeometry) -> Int { phaseLength(S.self, g) + 15 }

    /// Floats of per-thread scratch `transformInput` and `transformOutput` need.
    @inlinable public static func scratchFloats<S: WinogradShape>(_: S.Type, _ g: ConvGeometry) -> Int {
        max((S.step * tiles(S.self, g).rows + 2) * S.step * phaseStride(S.self, g), 2 * 4 * 16)
    }

    /// Weights w [M, C, 3, 3] -> U [(s+2)²][M, C] (xi-major: U_xi at u + xi * M * C), in float64.
    public static func transformWeights<S: WinogradShape>(_: S.Type, _ w: UnsafePointer<Float>, m: Int, c: Int, into u: UnsafeMutablePointer<Float>) {
        let plane = m * c, span = S.step + 2
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * 6 * 6) { buffer in
            let gg = buffer.baseAddress!, row = gg + 18  // G g: span x 3, row-major; then one row of (G g) Gᵀ
            for oc in 0..<m {
                for ic in 0..<c {
                    let g = w + (oc * c + ic) * 9
                    for j in 0..<3 { S.weights(Double(g[j]), Double(g[3 + j]), Double(g[6 + j]), gg + j, 3) }
                    // (G g) Gᵀ row by row; element (i, j) is U_(span i + j).
                    for i in 0..<span {
                        S.weights(gg[3 * i], gg[3 * i + 1], gg[3 * i + 2], row, 1)
                        for j in 0..<span { u[(i * span + j) * plane + oc * c + ic] = Float(row[j]) }
                    }
                }
            }
        }
    }

    /// Input x [C, H, W] (or channels last, [H, W, C]: `layout`), channels `channels`, tile rows `tileRows` -> V [(s+2)²][C, ldv]: tile
    /// (ty, tx) at column `tileBase + (ty - tileRows.lowerBound) * tilesWide + tx`, zeros where
    /// a tile reads padding.
    /// `ldv` >= tileBase + T + 16: a lane group may run past its tile row into the next
    /// one's columns (written again, correctly, when that row comes) or into the 16
    /// spare columns after the last. `scratch` holds `scratchFloats`: each input row
    /// split into s column phases (phase j, lane k = x[s k + j - padLeft]; the tile's
    /// columns s and s + 1 are phases 0 and 1 at lane k + 1), so a tile group's values
    /// load as contiguous vectors.
    @inlinable
    public static func transformInput<S: WinogradShape, L: WinogradLanes>(_: S.Type, _: L.Type, _ x: UnsafePointer<Float>, _ g: ConvGeometry,
                                                                         channels: Range<Int>, tileRows: Range<Int>, v: UnsafeMutablePointer<Float>,
                                                                         ldv: Int, tileBase: Int, scratch: UnsafeMutablePointer<Float>,
                                                                         layout: ActivationLayout = .channelsFirst) {
        let tc = tiles(S.self, g).cols
        let step = S.step, ty0 = tileRows.lowerBound
        // Input rows step * ty0 - padTop ..< that + rows: what these tile rows read.
        let kLength = phaseLength(S.self, g), kStride = phaseStride(S.self, g), rows = step * tileRows.count + 2
        let xiStride = g.channels * ldv
        // x channels last ([H, W, C]): a channel's row is every C-th float, gathered one at a time.
        let channelsLast = layout == .channelsLast
        let rowStride = channelsLast ? g.width * g.channels : g.width, columnStride = channelsLast ? g.channels : 1
        withUnsafeTemporaryAllocation(of: L.self, capacity: 3 * 36) { buffer in
            // The shape's constants again inside the closure (a captured value is a variable
            // there: divisions and loops by it were not folded, 3x slower measured).
            let step = S.step, span = S.step + 2
            let d = buffer.baseAddress!, t = d + 36, o = d + 72  // span x span each
            for ch in channels {
                let src = x + (channelsLast ? ch : ch * g.height * g.width)
                for r in 0..<rows {
                    let iy = step * ty0 + r - g.padTop
                    for j in 0..<step {
                        let dst = scratch + (r * step + j) * kStride
                        guard iy >= 0 && iy < g.height else { dst.update(repeating: 0, count: kLength); continue }
                        // Phase j, lane k reads column s k + j - padLeft: inside the row for k in kLo..<kHi.
                        let line = src + iy * rowStride, offset = j - g.padLeft
                        // Wrapping arithmetic: every index here is below the plane's size, and
                        // without overflow checks the stride-s copy vectorizes.
                        let last = g.width &- 1 &- offset  // the largest s k inside the row
                        let kLo = offset >= 0 ? 0 : min(kLength, (step &- 1 &- offset) / step)
                        let kHi = last < 0 ? kLo : max(kLo, min(kLength, last / step &+ 1))
                        dst.update(repeating: 0, count: kLo)
                        let first = line + (step &* kLo &+ offset) &* columnStride
                        if channelsLast {
                            for k in 0..<(kHi &- kLo) { dst[kLo &+ k] = first[step &* k &* columnStride] }
                        } else {
                            for k in 0..<(kHi &- kLo) { dst[kLo &+ k] = first[step &* k] }
                        }
                        (dst + kHi).update(repeating: 0, count: kLength - kHi)
                    }
                }
                let out = v + ch * ldv + tileBase
                for ty in 0..<tileRows.count {
                    var k0 = 0
                    while k0 < tc {
                        // d (span x span): row i, column j from phase j % s at lane k0 + j / s.
                        for i in 0..<span {
                            for j in 0..<span {
                                d[i * span + j] = L(loading: scratch + ((step * ty + i) * step + j % step) * kStride + k0 + j / step)
                            }
                        }
                        // Bᵀ d column by column, then (Bᵀ d) B row by row: element (r, c) is V_(span r + c).
                        for j in 0..<span { S.input(d + j, span, t + j, span) }
                        for r in 0..<span { S.input(t + r * span, 1, o + r * span, 1) }
                        let column = out + ty * tc + k0
                        for xi in 0..<(span * span) { o[xi].store(to: column + xi * xiStride) }
                        k0 += L.width
                    }
                }
            }
        }
    }

    /// M [(s+2)²][Cout, ldm] (tile rows `tileRows` of this image from column `tileBase`, as
    /// transformInput lays them) -> y [Cout, Ho, Wo] (channels last, `layout`: [Ho, Wo, Cout]) for output channels `outputs`:
    /// Aᵀ M A, + bias, + residual (y's layout), ReLU; tiles
    /// cropped at the bottom and right edges. `ldm` >= tileBase + T + 16 (lane groups
    /// read past a tile row; those lanes are never written out). `scratch`: 2 x 4 x 16 floats.
    @inlinable
    public static func transformOutput<S: WinogradShape, L: WinogradLanes>(_: S.Type, _: L.Type, _ mt: UnsafePointer<Float>, _ g: ConvGeometry,
                                                                          outputs: Range<Int>, tileRows: Range<Int>, m: Int, ldm: Int, tileBase: Int,
                                                                          bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool,
                                                                          into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                                                                          layout: ActivationLayout = .channelsFirst) {
        let tc = tiles(S.self, g).cols
        let xiStride = m * ldm
        // y (and the residual) channels last ([Ho, Wo, M]): a channel's row is every M-th float.
        let channelsLast = layout == .channelsLast
        withUnsafeTemporaryAllocation(of: L.self, capacity: 36 + 24 + 4) { buffer in
            let step = S.step, span = S.step + 2  // constants inside the closure (see transformInput)
            let mv = buffer.baseAddress!, s = mv + 36, yv = s + 24  // span x span, step x span, step
            for oc in outputs {
                let b = bias?[oc] ?? 0
                let plane = channelsLast ? oc : oc * g.outH * g.outW
                let rowStride = channelsLast ? g.outW * m : g.outW, columnStride = channelsLast ? m : 1
                for ty in tileRows {
                    var k0 = 0
                    while k0 < tc {
                        let column = mt + oc * ldm + tileBase + (ty - tileRows.lowerBound) * tc + k0
                        for xi in 0..<(span * span) { mv[xi] = L(loading: column + xi * xiStride) }
                        // Aᵀ M column by column: step x span.
                        for c in 0..<span { S.output(mv + c, span, s + c, span) }
                        let lanes = min(L.width, tc - k0)
                        let ox0 = step * k0, count = min(step * lanes, g.outW - ox0)
                        for a in 0..<step {
                            let oy = step * ty + a
                            guard oy < g.outH else { break }
                            // (Aᵀ M) A, row a: s outputs per tile, one vector each, then
                            // interleaved into the output row (tile k, column q -> s k + q).
                            S.output(s + a * span, 1, yv, 1)
                            for q in 0..<step { yv[q].store(to: scratch + 16 * q) }
                            // Interleaved with constant strides (vector shuffles), then the
                            // epilogue over a contiguous run of the row.
                            let line = scratch + 64
                            for k in 0..<L.width { for q in 0..<step { line[step * k + q] = scratch[16 * q + k] } }
                            let row = y + plane + oy * rowStride + ox0 * columnStride
                            if channelsLast, let residual {
                                let res = residual + plane + oy * rowStride + ox0 * columnStride
                                for q in 0..<count { let v = line[q] + b + res[q * columnStride]; row[q * columnStride] = relu ? max(v, 0) : v }
                            } else if channelsLast {
                                for q in 0..<count { let v = line[q] + b; row[q * columnStride] = relu ? max(v, 0) : v }
                            } else if let residual {
                                let res = residual + plane + oy * g.outW + ox0
                                for q in 0..<count { let v = line[q] + b + res[q]; row[q] = relu ? max(v, 0) : v }
                            } else {
                                for q in 0..<count { let v = line[q] + b; row[q] = relu ? max(v, 0) : v }
                            }
                        }
                        k0 += L.width
                    }
                }
            }
        }
    }
}

/// What the transforms compute on: `width` tiles' values at once.
public protocol WinogradLanes {
    static var width: Int { get }
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, s: Float) -> Self
    /// `width` floats from p (unaligned).
    init(loading p: UnsafePointer<Float>)
    /// Writes `width` floats to p.
    func store(to p: UnsafeMutablePointer<Float>)
    /// Each lane below zero set to zero (ReLU; NaN and -0 kept as they are).
    func clampedAtZero() -> Self
}

extension Float: WinogradLanes {
    @inlinable public static var width: Int { 1 }
    @inlinable public init(loading p: UnsafePointer<Float>) { self = p[0] }
    @inlinable public func store(to p: UnsafeMutablePointer<Float>) { p[0] = self }
    @inlinable @inline(__always) public func clampedAtZero() -> Float { self < 0 ? 0 : self }
}

// clampedAtZero always inlined: transformOutputChannelsLast's ReLU had called the reference
// module's baseline (SSE) copy of SIMD8's out of line (objdump; perf, 0.2% of resnet50's samples).
extension SIMD16: WinogradLanes where Scalar == Float {
    @inlinable public static var width: Int { 16 }
    // Sound: callers pass pointers with 16 readable (writable) floats (the transforms' padding rules).
    @inlinable public init(loading p: UnsafePointer<Float>) { self = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
    @inlinable public func store(to p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD16<Float>.self) }
    @inlinable @inline(__always) public func clampedAtZero() -> SIMD16<Float> { replacing(with: 0, where: self .< 0) }
}

extension SIMD8: WinogradLanes where Scalar == Float {
    @inlinable public static var width: Int { 8 }
    // Sound: callers pass pointers with 8 readable (writable) floats.
    @inlinable public init(loading p: UnsafePointer<Float>) { self = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    @inlinable public func store(to p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD8<Float>.self) }
    @inlinable @inline(__always) public func clampedAtZero() -> SIMD8<Float> { replacing(with: 0, where: self .< 0) }
}

/// Which Winograd shape a conv runs: the planner's choice, a value the kernel sets switch on.
public enum WinogradTile: Sendable, Equatable {
    case f2x2, f3x3, f4x4

    /// Output tile side s.
    public var step: Int {
        switch self {
        case .f2x2: 2
        case .f3x3: 3
        case .f4x4: 4
        }
    }
    /// GEMMs per conv: (s+2)².
    public var positions: Int { (step + 2) * (step + 2) }
    public func tiles(_ g: ConvGeometry) -> (rows: Int, cols: Int) {
        switch self {
        case .f2x2: Winograd.tiles(WinogradF2x2.self, g)
        case .f3x3: Winograd.tiles(WinogradF3x3.self, g)
        case .f4x4: Winograd.tiles(WinogradF4x4.self, g)
        }
    }
    public func scratchFloats(_ g: ConvGeometry) -> Int {
        switch self {
        case .f2x2: Winograd.scratchFloats(WinogradF2x2.self, g)
        case .f3x3: Winograd.scratchFloats(WinogradF3x3.self, g)
        case .f4x4: Winograd.scratchFloats(WinogradF4x4.self, g)
        }
    }
    public func transformWeights(_ w: UnsafePointer<Float>, m: Int, c: Int, into u: UnsafeMutablePointer<Float>) {
        switch self {
        case .f2x2: Winograd.transformWeights(WinogradF2x2.self, w, m: m, c: c, into: u)
        case .f3x3: Winograd.transformWeights(WinogradF3x3.self, w, m: m, c: c, into: u)
        case .f4x4: Winograd.transformWeights(WinogradF4x4.self, w, m: m, c: c, into: u)
        }
    }

    /// Winograd.transformInput for this tile on lanes L. Inlinable: each kernel set calls it with
    /// its own lanes, so it is compiled at that set's instruction level.
    @inlinable
    public func transformInput<L: WinogradLanes>(_: L.Type, _ x: UnsafePointer<Float>, _ g: ConvGeometry, channels: Range<Int>, tileRows: Range<Int>,
                                                 v: UnsafeMutablePointer<Float>, ldv: Int, tileBase: Int, scratch: UnsafeMutablePointer<Float>,
                                                 layout: ActivationLayout = .channelsFirst) {
        switch self {
        case .f2x2: Winograd.transformInput(WinogradF2x2.self, L.self, x, g, channels: channels, tileRows: tileRows, v: v, ldv: ldv, tileBase: tileBase, scratch: scratch, layout: layout)
        case .f3x3: Winograd.transformInput(WinogradF3x3.self, L.self, x, g, channels: channels, tileRows: tileRows, v: v, ldv: ldv, tileBase: tileBase, scratch: scratch, layout: layout)
        case .f4x4: Winograd.transformInput(WinogradF4x4.self, L.self, x, g, channels: channels, tileRows: tileRows, v: v, ldv: ldv, tileBase: tileBase, scratch: scratch, layout: layout)
        }
    }

    /// Winograd.transformOutput for this tile on lanes L (see transformInput).
    @inlinable
    public func transformOutput<L: WinogradLanes>(_: L.Type, _ mt: UnsafePointer<Float>, _ g: ConvGeometry, outputs: Range<Int>, tileRows: Range<Int>,
                                                  m: Int, ldm: Int, tileBase: Int, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool,
                                                  into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, layout: ActivationLayout = .channelsFirst) {
        switch self {
        case .f2x2:
            Winograd.transformOutput(WinogradF2x2.self, L.self, mt, g, outputs: outputs, tileRows: tileRows, m: m, ldm: ldm, tileBase: tileBase, bias: bias,
                                     residual: residual, relu: relu, into: y, scratch: scratch, layout: layout)
        case .f3x3:
            Winograd.transformOutput(WinogradF3x3.self, L.self, mt, g, outputs: outputs, tileRows: tileRows, m: m, ldm: ldm, tileBase: tileBase, bias: bias,
                                     residual: residual, relu: relu, into: y, scratch: scratch, layout: layout)
        case .f4x4:
            Winograd.transformOutput(WinogradF4x4.self, L.self, mt, g, outputs: outputs, tileRows: tileRows, m: m, ldm: ldm, tileBase: tileBase, bias: bias,
                                     residual: residual, relu: relu, into: y, scratch: scratch, layout: layout)
        }
    }
}
