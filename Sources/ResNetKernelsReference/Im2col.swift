/// Convolution geometry for one image: input [C, H, W] -> output [M, Ho, Wo].
public struct ConvGeometry: Sendable, Equatable {
    public let channels: Int, height: Int, width: Int
    public let kernelH: Int, kernelW: Int, strideH: Int, strideW: Int
    public let padTop: Int, padLeft: Int, dilationH: Int, dilationW: Int
    public let outH: Int, outW: Int
    public init(channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
                padTop: Int, padLeft: Int, dilationH: Int, dilationW: Int, outH: Int, outW: Int) {
        self.channels = channels; self.height = height; self.width = width
        self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.dilationH = dilationH; self.dilationW = dilationW
        self.outH = outH; self.outW = outW
    }
    /// 1x1, stride 1, no padding: the input already is the GEMM's B matrix.
    /// The output must also be exactly the input's size: end pads (pads=[0, 0, k, k]) would make
    /// the output larger than the input it is read from.
    public var isPointwise: Bool {
        kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && outH == height && outW == width
    }

    /// Whether every figure lies in 1 ..< 2^31 (the pads in 0 ..< 2^31), so that each product of
    /// two of them, and a sum of a few such products, fits an Int: what the in-place kernels
    /// (GatherConv, Int8TapMajor) require before they index with them unchecked.
    public var figuresFit31Bits: Bool {
        let limit = 1 << 31
        let positive = [channels, height, width, kernelH, kernelW, strideH, strideW, dilationH, dilationW, outH, outW]
        return positive.allSatisfy { $0 > 0 && $0 < limit } && [padTop, padLeft].allSatisfy { $0 >= 0 && $0 < limit }
    }

    /// The output columns whose window tap `kx` reads inside the row: 0 <= ox * strideW +
    /// kx * dilationW - padLeft < width, a contiguous range (the others read padding).
    public func validColumns(kx: Int) -> Range<Int> {
        let shift = kx * dilationW - padLeft
        var lo = 0, hi = outW
        while lo < hi && lo * strideW + shift < 0 { lo += 1 }
        while hi > lo && (hi - 1) * strideW + shift >= width { hi -= 1 }
        return lo..<hi
    }
}

public enum Im2col {
    /// x [C, H, W] -> col [C*kh*kw, Ho*Wo], zeros where the window reads padding.
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func unfold<T: ExecScalar>(_ x: UnsafePointer<T>, _ g: ConvGeometry, into col: UnsafeMutablePointer<T>) {
        unfold(x, g, channels: 0..<g.channels, into: col)
    }

    /// The rows of channels `channels` only (rows c*kh*kw ..< (c+1)*kh*kw for each c), so
    /// threads can unfold disjoint channel ranges of one image at once.
    @inlinable
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func unfold<T: ExecScalar>(_ x: UnsafePointer<T>, _ g: ConvGeometry, channels: Range<Int>, into col: UnsafeMutablePointer<T>) {
        let plane = g.outH * g.outW
        var row = channels.lowerBound * g.kernelH * g.kernelW
        for c in channels {
            let src = x + c * g.height * g.width
            for ky in 0..<g.kernelH {
                for kx in 0..<g.kernelW {
                    let dst = col + row * plane
                    for oy in 0..<g.outH {
                        let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                        let out = dst + oy * g.outW
                        if iy < 0 || iy >= g.height { out.update(repeating: 0, count: g.outW); continue }
                        let line = src + iy * g.width
                        if g.strideW == 1 {
                            // Contiguous: zeros left of the image, one copy, zeros right of it.
                            let shift = kx * g.dilationW - g.padLeft  // ix = ox + shift
                            let first = min(g.outW, max(0, -shift)), end = max(first, min(g.outW, g.width - shift))
                            if first > 0 { out.update(repeating: 0, count: first) }
                            if end > first { (out + first).update(from: line + first + shift, count: end - first) }
                            if end < g.outW { (out + end).update(repeating: 0, count: g.outW - end) }
                            continue
                        }
                        for ox in 0..<g.outW {
                            let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                            out[ox] = ix >= 0 && ix < g.width ? line[ix] : 0
                        }
                    }
                    row += 1
                }
            }
        }
    }
}
