import ResNetKernelsReference

/// The integer GEMM's B operand from a float-coded quantized image (issue 13).
public enum Int8Patches {
    /// A float-coded 8-bit value plus `offset` (128 turns int8 into uint8, 0 keeps uint8)
    /// as a byte. Steps before saturated it already; clamped again (NaN to 0) so that a
    /// graph feeding anything else into a quantized operator cannot trap here.
    @inlinable
    public static func byte<T: ExecScalar>(_ v: T, offset: Int) -> UInt8 {
        let f = Float(v) + Float(offset)
        guard f == f else { return 0 }
        return UInt8(Swift.min(Swift.max(f, 0), 255))
    }

    /// x [C, H, W] (float-coded) -> B[C*kh*kw, Ho*Wo] bytes, `pad` where a window reads
    /// padding: the zero point, so a padded cell contributes (zp - zp) · w = 0, as ONNX's
    /// QLinearConv pads with the real value 0.
    @inlinable
    public static func unfold<T: ExecScalar>(_ x: UnsafePointer<T>, _ g: ConvGeometry, offset: Int, pad: UInt8, into out: UnsafeMutablePointer<UInt8>) {
        let plane = g.outH * g.outW
        if g.isPointwise {
            for i in 0..<(g.channels * plane) { out[i] = byte(x[i], offset: offset) }
            return
        }
        var row = 0
        for c in 0..<g.channels {
            let src = x + c * g.height * g.width
            for ky in 0..<g.kernelH {
                for kx in 0..<g.kernelW {
                    let dst = out + row * plane
                    for oy in 0..<g.outH {
                        let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                        for ox in 0..<g.outW {
                            let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                            dst[oy * g.outW + ox] = iy >= 0 && iy < g.height && ix >= 0 && ix < g.width
                                ? byte(src[iy * g.width + ix], offset: offset) : pad
                        }
                    }
                    row += 1
                }
            }
        }
    }

    /// Σ_k B[k, j] per column: needed when a weight zero point is not 0.
    public static func columnSums(_ b: UnsafePointer<UInt8>, k: Int, n: Int, into sums: UnsafeMutablePointer<Int32>) {
        sums.update(repeating: 0, count: n)
        for p in 0..<k { for j in 0..<n { sums[j] &+= Int32(b[p * n + j]) } }
    }
}

/// Scratch of the integer steps, shared by every one of a plan (steps run one at a
/// time); grown only at plan time.
public final class Int8Scratch: @unchecked Sendable {
    // @unchecked: grown at plan time only; a plan runs its steps one after another.
    public private(set) var bytes: UnsafeMutablePointer<UInt8> = .allocate(capacity: 1)
    public private(set) var accumulators: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    public private(set) var columnSums: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    private var capacities = (bytes: 1, accumulators: 1, columnSums: 1)
    public let workspace: Int8GemmWorkspace

    public init(threads: Int) { workspace = Int8GemmWorkspace(threads: threads) }

    /// Grows each buffer to at least the counts given (the planner checked them against its budget).
    public func reserve(bytes b: Int, accumulators a: Int, columnSums c: Int) {
        if b > capacities.bytes { bytes.deallocate(); bytes = .allocate(capacity: b); capacities.bytes = b }
        if a > capacities.accumulators { accumulators.deallocate(); accumulators = .allocate(capacity: a); capacities.accumulators = a }
        if c > capacities.columnSums { columnSums.deallocate(); columnSums = .allocate(capacity: c); capacities.columnSums = c }
    }
    deinit { bytes.deallocate(); accumulators.deallocate(); columnSums.deallocate() }
}
