/// Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions (issue 11): each 2x2 output
/// tile comes from a 4x4 input tile with 16 multiplies per (output, input) channel
/// pair instead of 36, i.e. 2.25x fewer multiply-adds, as 16 GEMMs
/// M_xi[Cout, T] = U_xi[Cout, Cin] · V_xi[Cin, T] over the T tiles (xi = 4x4 position).
/// Transforms (Lavin & Gray 2016):
///   U = G g G^T,  V = B^T d B,  Y = A^T M A, with
///   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
///   A^T = [1 1 1 0; 0 1 -1 -1].
/// Its rounding differs from the direct sum's by a few float32 ulps of the
/// transformed values; `--exact` turns it off, and the parity suites run both.
public enum Winograd {
    /// Output tiles of one image: ceil(Ho / 2) x ceil(Wo / 2).
    @inlinable public static func tiles(_ g: ConvGeometry) -> (rows: Int, cols: Int) { ((g.outH + 1) / 2, (g.outW + 1) / 2) }

    /// Whether a conv can run as F(2x2, 3x3): 3x3, stride 1, dilation 1.
    @inlinable public static func applies(_ g: ConvGeometry) -> Bool {
        g.kernelH == 3 && g.kernelW == 3 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1 && g.dilationW == 1
    }

    /// Weights w [M, C, 3, 3] -> U [16][M, C] (xi-major: U_xi at u + xi * M * C).
    public static func transformWeights(_ w: UnsafePointer<Float>, m: Int, c: Int, into u: UnsafeMutablePointer<Float>) {
        let plane = m * c
        for oc in 0..<m {
            for ic in 0..<c {
                let g = w + (oc * c + ic) * 9
                // G g (4 x 3), then (G g) G^T (4 x 4): each row (a, b, d) -> (a, (a+b+d)/2, (a-b+d)/2, d).
                var t = SIMD16<Float>()
                for j in 0..<3 {
                    let a = g[j], b = g[3 + j], d = g[6 + j]
                    t[j] = a; t[4 + j] = (a + b + d) * 0.5; t[8 + j] = (a - b + d) * 0.5; t[12 + j] = d
                }
                for i in 0..<4 {
                    let a = t[i * 4], b = t[i * 4 + 1], d = t[i * 4 + 2]
                    let base = u + oc * c + ic
                    base[(i * 4) * plane] = a
                    base[(i * 4 + 1) * plane] = (a + b + d) * 0.5
                    base[(i * 4 + 2) * plane] = (a - b + d) * 0.5
                    base[(i * 4 + 3) * plane] = d
                }
            }
        }
    }

    /// Input x [C, H, W] channels `channels` -> V [16][C, T] (V_xi at v + xi * C * T), zeros where the
    /// 4x4 tile reads padding. Scalars in named locals (registers); interior tiles read without checks.
    @inlinable
    public static func transformInput(_ x: UnsafePointer<Float>, _ g: ConvGeometry, channels: Range<Int>, into v: UnsafeMutablePointer<Float>) {
        let (tr, tc) = tiles(g)
        let count = tr * tc, plane = g.channels * count
        // One 4-wide row of B^T d: (d0 - d2, d1 + d2, d2 - d1, d1 - d3) over rows, applied per column.
        for ch in channels {
            let src = x + ch * g.height * g.width
            for ty in 0..<tr {
                let y0 = 2 * ty - g.padTop
                let rowsInside = y0 >= 0 && y0 + 3 < g.height
                for tx in 0..<tc {
                    let x0 = 2 * tx - g.padLeft
                    @inline(__always) func at(_ i: Int, _ j: Int) -> Float {
                        let yy = y0 + i, xx = x0 + j
                        return yy >= 0 && yy < g.height && xx >= 0 && xx < g.width ? src[yy * g.width + xx] : 0
                    }
                    var r0 = SIMD4<Float>(), r1 = SIMD4<Float>(), r2 = SIMD4<Float>(), r3 = SIMD4<Float>()
                    if rowsInside && x0 >= 0 && x0 + 3 < g.width {
                        let p = src + y0 * g.width + x0
                        r0 = SIMD4(p[0], p[1], p[2], p[3])
                        r1 = SIMD4(p[g.width], p[g.width + 1], p[g.width + 2], p[g.width + 3])
                        r2 = SIMD4(p[2 * g.width], p[2 * g.width + 1], p[2 * g.width + 2], p[2 * g.width + 3])
                        r3 = SIMD4(p[3 * g.width], p[3 * g.width + 1], p[3 * g.width + 2], p[3 * g.width + 3])
                    } else {
                        r0 = SIMD4(at(0, 0), at(0, 1), at(0, 2), at(0, 3))
                        r1 = SIMD4(at(1, 0), at(1, 1), at(1, 2), at(1, 3))
                        r2 = SIMD4(at(2, 0), at(2, 1), at(2, 2), at(2, 3))
                        r3 = SIMD4(at(3, 0), at(3, 1), at(3, 2), at(3, 3))
                    }
                    // B^T d: rows combine (vectors over the 4 columns).
                    let t0 = r0 - r2, t1 = r1 + r2, t2 = r2 - r1, t3 = r1 - r3
                    // (B^T d) B: the same on each row's 4 values; element (i, j) to V_(4i+j).
                    let base = v + ch * count + ty * tc + tx
                    @inline(__always) func store(_ i: Int, _ t: SIMD4<Float>) {
                        base[(4 * i) * plane] = t[0] - t[2]
                        base[(4 * i + 1) * plane] = t[1] + t[2]
                        base[(4 * i + 2) * plane] = t[2] - t[1]
                        base[(4 * i + 3) * plane] = t[1] - t[3]
                    }
                    store(0, t0); store(1, t1); store(2, t2); store(3, t3)
                }
            }
        }
    }

    /// M [16][Cout, T] -> y [Cout, Ho, Wo] for output channels `outputs`: A^T M A, + bias,
    /// + residual (y's layout), ReLU; tiles cropped at the bottom and right edges.
    @inlinable
    public static func transformOutput(_ mt: UnsafePointer<Float>, _ g: ConvGeometry, outputs: Range<Int>, m: Int,
                                       bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, relu: Bool,
                                       into y: UnsafeMutablePointer<Float>) {
        let (tr, tc) = tiles(g)
        let count = tr * tc, plane = m * count
        for oc in outputs {
            let b = bias?[oc] ?? 0
            for ty in 0..<tr {
                for tx in 0..<tc {
                    let at = oc * count + ty * tc + tx
                    // A^T M: 2 x 4, as two row vectors over the 4 columns.
                    @inline(__always) func row(_ i: Int) -> SIMD4<Float> {
                        SIMD4(mt[(4 * i) * plane + at], mt[(4 * i + 1) * plane + at], mt[(4 * i + 2) * plane + at], mt[(4 * i + 3) * plane + at])
                    }
                    let m0 = row(0), m1 = row(1), m2 = row(2), m3 = row(3)
                    let s0 = m0 + m1 + m2, s1 = m1 - m2 - m3
                    for i in 0..<2 {
                        let oy = 2 * ty + i
                        guard oy < g.outH else { continue }
                        let si = i == 0 ? s0 : s1
                        let r0 = si[0], r1 = si[1], r2 = si[2], r3 = si[3]
                        let pair = (r0 + r1 + r2, r1 - r2 - r3)
                        for j in 0..<2 {
                            let ox = 2 * tx + j
                            guard ox < g.outW else { continue }
                            let at = (oc * g.outH + oy) * g.outW + ox
                            var v = (j == 0 ? pair.0 : pair.1) + b
                            if let residual { v += residual[at] }
                            y[at] = relu ? max(v, 0) : v
                        }
                    }
                }
            }
        }
    }
}
