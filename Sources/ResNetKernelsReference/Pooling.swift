/// Max and average pooling over [planes, H, W] (portable; no SIMD twin needed).
public enum Pooling {
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func pool<T: ExecScalar>(_ x: UnsafePointer<T>, planes: Int, _ g: ConvGeometry, max isMax: Bool, countIncludePad: Bool,
                            into y: UnsafeMutablePointer<T>) {
        for p in 0..<planes {
            let src = x + p * g.height * g.width
            let dst = y + p * g.outH * g.outW
            for oy in 0..<g.outH {
                for ox in 0..<g.outW {
                    var best = -T.infinity, sum: T = 0, count = 0, windowCells = 0
                    for ky in 0..<g.kernelH {
                        let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                        for kx in 0..<g.kernelW {
                            let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                            // Cells of the padded input count for count_include_pad (not past the padding).
                            if iy < g.height + g.padTop && ix < g.width + g.padLeft { windowCells += 1 }
                            guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                            let v = src[iy * g.width + ix]
                            best = Swift.max(best, v)
                            sum += v
                            count += 1
                        }
                    }
                    dst[oy * g.outW + ox] = isMax ? best : sum / T(countIncludePad ? Swift.max(windowCells, 1) : Swift.max(count, 1))
                }
            }
        }
    }

    /// Mean (or max) of each plane: [planes, size] -> [planes].
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func global<T: ExecScalar>(_ x: UnsafePointer<T>, planes: Int, size: Int, max isMax: Bool, into y: UnsafeMutablePointer<T>) {
        for p in 0..<planes {
            let src = x + p * size
            if isMax {
                var best = -T.infinity
                for i in 0..<size { best = Swift.max(best, src[i]) }
                y[p] = best
            } else {
                var sum: T = 0
                for i in 0..<size { sum += src[i] }
                y[p] = sum / T(size)
            }
        }
    }
}
