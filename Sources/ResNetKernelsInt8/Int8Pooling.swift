import CInt8Tiles
import ResNetKernelsReference

/// MaxPool on byte images (issue 11, int8): a quantized resnet's stem pool, read from the stem
/// conv's bytes and written as bytes for layer1's convs, where the float-coded path wrote the
/// stem's 802,816 values as 3.2 MB of floats, pooled those and converted the result back to bytes.
/// A byte holds value + offset for one offset, so the largest byte is the largest value's.
public enum Int8Pooling {
    /// Whether `g` runs on bytes: 3x3, stride 2, dilation 1 (resnet's stem pool), every window
    /// holding at least one cell of the image (then the zero bytes the kernel pads with never win
    /// where padding should not: ONNX pads a max pool with -inf), figures within 2^31.
    public static func takesBytes(_ g: ConvGeometry) -> Bool {
        guard g.kernelH == 3, g.kernelW == 3, g.strideH == 2, g.strideW == 2, g.dilationH == 1, g.dilationW == 1,
              g.figuresFit31Bits, g.height > 0, g.width > 0, g.outH > 0, g.outW > 0 else { return false }
        // The first window starts at -pad, the last at 2 (out - 1) - pad: both must reach into the image.
        func covers(_ pad: Int, _ out: Int, _ size: Int) -> Bool { pad <= 2 && 2 * (out - 1) - pad < size }
        return covers(g.padTop, g.outH, g.height) && covers(g.padLeft, g.outW, g.width)
    }

    /// Scratch bytes rt_maxpool3x3s2_bytes_avx2 needs for `g`'s rows.
    static func rowBytes(_ g: ConvGeometry) -> Int { Swift.max(g.padLeft + g.width, 2 * g.outW + 2) + 48 }

    /// y = MaxPool(x) over `planes` planes of `g` (takesBytes), AVX2; the same bytes as maxPoolReference.
    public static func maxPool(_ x: UnsafePointer<UInt8>, planes: Int, _ g: ConvGeometry, into y: UnsafeMutablePointer<UInt8>) {
        precondition(takesBytes(g), "a pool the byte kernel does not take")
        let rowBytes = Self.rowBytes(g)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: rowBytes) { row in
            // Sound: x holds planes x H x W bytes and y planes x outH x outW (the caller); row, rowBytes,
            // which covers the kernel's reads (takesBytes keeps every window's start within 2 of the image).
            rt_maxpool3x3s2_bytes_avx2(x, planes, g.height, g.width, g.outH, g.outW, g.padTop, g.padLeft, y, row.baseAddress!, rowBytes)
        }
    }

    /// The naive twin: each output the largest byte of its window's cells inside the image.
    public static func maxPoolReference(_ x: UnsafePointer<UInt8>, planes: Int, _ g: ConvGeometry, into y: UnsafeMutablePointer<UInt8>) {
        precondition(takesBytes(g), "a pool the byte kernel does not take")
        for plane in 0..<planes {
            let xp = x + plane * g.height * g.width, yp = y + plane * g.outH * g.outW
            for oy in 0..<g.outH {
                for ox in 0..<g.outW {
                    var best: UInt8 = 0
                    for ky in 0..<3 {
                        let iy = oy * 2 - g.padTop + ky
                        guard iy >= 0 && iy < g.height else { continue }
                        for kx in 0..<3 {
                            let ix = ox * 2 - g.padLeft + kx
                            if ix >= 0 && ix < g.width { best = Swift.max(best, xp[iy * g.width + ix]) }
                        }
                    }
                    yp[oy * g.outW + ox] = best
                }
            }
        }
    }
}
