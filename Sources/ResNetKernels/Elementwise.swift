import ResNetKernelsReference

/// SIMD8 twins of ElementwiseReference.add/relu/affine (tested against them at tile edges).
public enum Elementwise {
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, relu: Bool) {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b), ry = UnsafeMutableRawPointer(y)
        var i = 0
        while i + 8 <= count {
            // Sound: i + 8 <= count, all three buffers hold count floats.
            var v = ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) + rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            if relu { v = v.replacing(with: 0, where: v .< 0) }
            ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        if i < count { ElementwiseReference.add(a + i, b + i, y + i, count: count - i, relu: relu) }
    }

    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        let rx = UnsafeRawPointer(x), ry = UnsafeMutableRawPointer(y)
        var i = 0
        while i + 8 <= count {
            let v = rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            ry.storeBytes(of: v.replacing(with: 0, where: v .< 0), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        if i < count { ElementwiseReference.relu(x + i, y + i, count: count - i) }
    }

    public static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, planes: Int, channels: Int, size: Int,
                              scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, relu: Bool) {
        for p in 0..<planes {
            let c = p % channels
            let s = SIMD8<Float>(repeating: scale[c]), t = SIMD8<Float>(repeating: shift[c])
            let rx = UnsafeRawPointer(x + p * size), ry = UnsafeMutableRawPointer(y + p * size)
            var i = 0
            while i + 8 <= size {
                // One FMA: x * scale + shift.
                var v = t.addingProduct(rx.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self), s)
                if relu { v = v.replacing(with: 0, where: v .< 0) }
                ry.storeBytes(of: v, toByteOffset: i * 4, as: SIMD8<Float>.self)
                i += 8
            }
            for j in i..<size {
                let v = x[p * size + j] * scale[c] + shift[c]
                y[p * size + j] = relu ? max(v, 0) : v
            }
        }
    }
}

/// Pooling compiled for x86-64-v3 (the shared body, specialised here under this module's tag),
/// which both SIMD sets run.
public enum PoolingAVX2 {
    public static func pool(_ x: UnsafePointer<Float>, planes: Int, _ g: ConvGeometry, max isMax: Bool, countIncludePad: Bool,
                            into y: UnsafeMutablePointer<Float>) {
        Pooling.poolBody(x, planes: planes, g, max: isMax, countIncludePad: countIncludePad, into: y, tag: PoolingAVX2.self)
    }

    /// Pooling.maxPoolChannelsLast at x86-64-v3, its channels-first writes by LayoutTransposeSIMD.
    public static func maxPoolChannelsLast(_ x: UnsafePointer<Float>, _ g: ConvGeometry, rows: Range<Int>, into y: UnsafeMutablePointer<Float>,
                                           channelsLastOutput: Bool = false, scratch: UnsafeMutablePointer<Float>) {
        Pooling.maxPoolChannelsLastBody(x, g, rows: rows, into: y, channelsLastOutput: channelsLastOutput, scratch: scratch,
                                        tag: PoolingAVX2.self) { src, rows, columns, dst, dstRows in
            LayoutTransposeSIMD.transpose(src, rows: rows, columns: columns, columnRange: 0..<columns, into: dst, dstRows: dstRows)
        }
    }
}
