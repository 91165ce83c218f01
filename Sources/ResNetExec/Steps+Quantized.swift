import ResNetKernels
import ResNetKernelsInt8
import ResNetKernelsReference

/// QuantizeLinear of x [outer, channels, inner] (per channel or per tensor) into float-coded y.
struct QuantizeLinearStep<T: ExecScalar> {
    let x: Int, y: Int
    let outer: Int, channels: Int, inner: Int
    let q: Planner<T>.Quantization
    /// Float32 plans on the SIMD sets quantize 8 at a time (Int8Elementwise).
    let vector: Bool

    func perform(on p: ExecutionPlanOf<T>) {
        let src = p.pointer(x), dst = p.pointer(y)
        for o in 0..<outer { for c in 0..<channels {
            let (scale, zp) = q.at(c), base = (o * channels + c) * inner
            if vector {
                Int8Elementwise.quantizeLinear(p.f32(x) + base, count: inner, scale: scale, zeroPoint: zp, range: q.range, into: p.f32(y) + base)
                continue
            }
            for i in 0..<inner { dst[base + i] = T(q.range.quantize(Float(src[base + i]) / scale, zeroPoint: zp)) }
        } }
    }
}

/// DequantizeLinear of float-coded x [outer, channels, inner] into y.
struct DequantizeLinearStep<T: ExecScalar> {
    let x: Int, y: Int
    let outer: Int, channels: Int, inner: Int
    let q: Planner<T>.Quantization
    /// Float32 plans on the SIMD sets dequantize 8 at a time (Int8Elementwise).
    let vector: Bool

    func perform(on p: ExecutionPlanOf<T>) {
        let src = p.pointer(x), dst = p.pointer(y)
        for o in 0..<outer { for c in 0..<channels {
            let (scale, zp) = q.at(c), base = (o * channels + c) * inner
            if vector {
                Int8Elementwise.dequantizeLinear(p.f32(x) + base, count: inner, scale: scale, zeroPoint: zp, into: p.f32(y) + base)
                continue
            }
            for i in 0..<inner { dst[base + i] = T((Float(src[base + i]) - zp) * scale) }
        } }
    }
}

/// QLinearAdd or QLinearMul of float-coded A and B (B as A, or one value) into y, in onnxruntime's arithmetic.
struct QLinearBinaryStep<T: ExecScalar> {
    let a: Int, b: Int, y: Int
    /// A's elements, and B's (A's or 1).
    let count: Int, bCount: Int
    let threads: Int
    let isAdd: Bool
    /// The AVX2 add kernel (float32 SIMD plans), 64 values a step on AVX-512 (`wide`).
    let vector: Bool, wide: Bool
    /// Byte images of A and B to read instead of their floats, and the offer of y's.
    let aBytes: (id: Int, offset: Int)?, bBytes: (id: Int, offset: Int)?
    let image: ByteImageOffer?
    let za: Float, zb: Float, zc: Float
    /// sa / sc, sb / sc, sa sb / sc, and zc - (sa/sc za + sb/sc zb).
    let ratioA: Float, ratioB: Float, ratioMul: Float, fixed: Float
    let qc: Planner<T>.Quantization

    func perform(on p: ExecutionPlanOf<T>) {
        if vector {
            // The AVX2 kernel computes the same expression, element for element; threads take disjoint runs.
            // Sound: a byte image holds a byte per value of its tensor (byteImage(of:) sizes it so), so
            // from `lo` on it holds the thread's hi - lo values, as the float-coded tensor does.
            func operand(_ floats: Int, _ bytes: (id: Int, offset: Int)?, from lo: Int) -> Int8Elementwise.AddOperand {
                bytes.map { .bytes(UnsafePointer(p.bytes($0.id) + lo), offset: $0.offset) } ?? .floats(UnsafePointer(p.f32(floats) + lo))
            }
            let out = image?.floatsWritten == false ? nil : p.f32(y)
            let bytes = image?.tensor.map { p.bytes($0) }, byteOffset = image?.offset ?? 0
            let work = { (t: Int) in
                let lo = count * t / threads, hi = count * (t + 1) / threads
                Int8Elementwise.qlinearAdd(operand(a, aBytes, from: lo), operand(b, bBytes, from: bCount == 1 ? 0 : lo), bIsScalar: bCount == 1,
                                           count: hi - lo, zeroPoints: (za, zb, zc), ratios: (ratioA, ratioB), range: qc.range,
                                           into: out.map { $0 + lo }, byteImage: bytes.map { ($0 + lo, offset: byteOffset) }, wide: wide)
            }
            if threads > 1 { DispatchFor.concurrent(threads, work) } else { work(0) }
            return
        }
        let pa = p.pointer(a), pb = p.pointer(b), out = p.pointer(y)
        for i in 0..<count {
            let ra = Float(pa[i]), rb = Float(pb[bCount == 1 ? 0 : i])
            if isAdd {
                out[i] = T(qc.range.quantize(fixed.addingProduct(rb, ratioB).addingProduct(ra, ratioA), zeroPoint: 0))
            } else {
                out[i] = T(qc.range.quantize((ra - za) * (rb - zb) * ratioMul, zeroPoint: zc))
            }
        }
    }
}

/// QLinearLeakyRelu or QLinearSigmoid as a lookup in a table of the 256 possible inputs.
struct QLinearActivationStep<T: ExecScalar> {
    let x: Int, y: Int, count: Int
    /// x's lowest value (the table's first entry).
    let lo: Int
    /// The 256 results, made at plan time.
    let table: [Float]

    func perform(on p: ExecutionPlanOf<T>) {
        let src = p.pointer(x), dst = p.pointer(y)
        // Inputs are integers of qx's range (an earlier step saturated them); clamped again so no index can trap.
        for i in 0..<count {
            // Clamped as a Float first: a NaN, infinity or huge value (a type-invalid graph) cannot trap the Int conversion.
            let v = Float(src[i]) - Float(lo)
            dst[i] = T(table[v.isNaN ? 0 : Int(min(max(v, 0), 255))])
        }
    }
}

/// QLinearGlobalAveragePool: each plane's integer sum, scaled once and requantized.
struct QLinearGlobalAveragePoolStep<T: ExecScalar> {
    let x: Int, y: Int, planes: Int, size: Int
    let sx: Float, zx: Float, sy: Float, zy: Float
    let qy: Planner<T>.Quantization

    func perform(on p: ExecutionPlanOf<T>) {
        let src = p.pointer(x), dst = p.pointer(y)
        for c in 0..<planes {
            // Integer sum of the plane (exact in Double), then one scaling: x_scale / (y_scale * size).
            let sum = Self.planeSum(src + c * size, count: size)
            let centered = Float(sum - Double(zx) * Double(size))
            dst[c] = T(qy.range.quantize(centered * (sx / (sy * Float(size))), zeroPoint: zy))
        }
    }

    /// The sum of `count` values in Double, in four running sums: one chain of dependent adds (four
    /// cycles each) took resnet50-qop's global pool (2048 planes of 49) 0.074 ms on 2 threads, where
    /// onnxruntime takes 0.021. For the integer values a quantized tensor holds every partial sum is
    /// an integer below 2^53, so the order changes nothing.
    @inline(__always)
    static func planeSum(_ p: UnsafePointer<T>, count: Int) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, i = 0
        while i + 4 <= count {
            s0 += Double(p[i]); s1 += Double(p[i + 1]); s2 += Double(p[i + 2]); s3 += Double(p[i + 3])
            i += 4
        }
        while i < count { s0 += Double(p[i]); i += 1 }
        return (s0 + s1) + (s2 + s3)
    }
}

/// QLinearAveragePool: a plane at a time dequantized, pooled by the float kernel, requantized.
struct QLinearAveragePoolStep<T: ExecScalar> {
    let x: Int, y: Int, planes: Int, inPlane: Int, outPlane: Int
    let g: ConvGeometry, includePad: Bool
    let sx: Float, zx: Float, sy: Float, zy: Float
    let qy: Planner<T>.Quantization
    /// One plane's float buffers, owned by the step.
    let buffers: PlaneBuffers

    func perform(on p: ExecutionPlanOf<T>) {
        let src = p.pointer(x), dst = p.pointer(y)
        for c in 0..<planes {
            for i in 0..<inPlane { buffers.input[i] = (Float(src[c * inPlane + i]) - zx) * sx }
            Pooling.pool(UnsafePointer(buffers.input), planes: 1, g, max: false, countIncludePad: includePad, into: buffers.output)
            for i in 0..<outPlane { dst[c * outPlane + i] = T(qy.range.quantize(buffers.output[i] / sy, zeroPoint: zy)) }
        }
    }
}

/// QLinearConcat: each input requantized to y's parameters into its run of y's axis.
struct QLinearConcatStep<T: ExecScalar> {
    let y: Int
    /// Each input: its tensor, its extent on the axis, its quantization.
    let parts: [(id: Int, width: Int, q: Planner<T>.Quantization)]
    let outer: Int, inner: Int, total: Int
    let sy: Float, zy: Float
    let qy: Planner<T>.Quantization

    func perform(on p: ExecutionPlanOf<T>) {
        let dst = p.pointer(y)
        var offset = 0
        for part in parts {
            let src = p.pointer(part.id), (sx, zx) = part.q.at(0), run = part.width * inner
            for o in 0..<outer { for i in 0..<run {
                dst[(o * total) * inner + offset + i] = T(qy.range.quantize((Float(src[o * run + i]) - zx) * sx / sy, zeroPoint: zy))
            } }
            offset += run
        }
    }
}
