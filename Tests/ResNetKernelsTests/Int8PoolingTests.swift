import Testing
import ResNetKernelsInt8
import ResNetKernelsReference

/// The byte max pool (Int8Pooling, rt_maxpool3x3s2_bytes_avx2) against its naive twin and the
/// twin against the float pool on the same values: 3x3 stride 2 over planes 1 to 41 wide and high
/// (the 16-output and 32-byte loops' edges and tails), pads 0, 1 and 2 at the top and left, output
/// sizes floor and ceil mode; values 0 and 255 among them. And which geometries it takes.
struct Int8PoolingTests {
    static func geometry(h: Int, w: Int, padTop: Int, padLeft: Int, ceil: Bool) -> ConvGeometry {
        func out(_ size: Int, _ pad: Int) -> Int { (size + 2 * pad - 3 + (ceil ? 1 : 0)) / 2 + 1 }
        return ConvGeometry(channels: 3, height: h, width: w, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2,
                            padTop: padTop, padLeft: padLeft, dilationH: 1, dilationW: 1, outH: out(h, padTop), outW: out(w, padLeft))
    }

    @Test func simdEqualsTheTwinAndTheFloatPool() {
        guard CPU.hasAVX2FMA else { print("the byte max pool not exercised: no AVX2 on this CPU"); return }
        var tested = 0
        for h in [1, 2, 3, 4, 7, 16, 17, 33] { for w in [1, 2, 3, 5, 31, 32, 33, 34, 35, 41, 66] {
            for padTop in 0...2 { for padLeft in 0...2 { for ceil in [false, true] {
                let g = Self.geometry(h: h, w: w, padTop: padTop, padLeft: padLeft, ceil: ceil)
                guard g.outH > 0, g.outW > 0, Int8Pooling.takesBytes(g) else { continue }
                let planes = 3, x = (0..<(planes * h * w)).map { i -> UInt8 in i % 11 == 0 ? 255 : i % 7 == 0 ? 0 : UInt8(truncatingIfNeeded: i &* 7919 >> 3) }
                let count = planes * g.outH * g.outW
                var simd = [UInt8](repeating: 0xAB, count: count + 16), twin = [UInt8](repeating: 0xCD, count: count)
                var floats = [Float](repeating: 0, count: count)
                let xf = x.map(Float.init)
                x.withUnsafeBufferPointer { src in
                    simd.withUnsafeMutableBufferPointer { Int8Pooling.maxPool(src.baseAddress!, planes: planes, g, into: $0.baseAddress!) }
                    twin.withUnsafeMutableBufferPointer { Int8Pooling.maxPoolReference(src.baseAddress!, planes: planes, g, into: $0.baseAddress!) }
                }
                xf.withUnsafeBufferPointer { src in floats.withUnsafeMutableBufferPointer {
                    Pooling.pool(src.baseAddress!, planes: planes, g, max: true, countIncludePad: false, into: $0.baseAddress!)
                } }
                let label = "\(h)x\(w) pads \(padTop),\(padLeft) ceil \(ceil) -> \(g.outH)x\(g.outW)"
                #expect(Array(simd[..<count]) == twin, "\(label): the AVX2 kernel differs from the twin")
                #expect(simd[count...].allSatisfy { $0 == 0xAB }, "\(label): wrote past the output")
                #expect(twin.map(Float.init) == floats, "\(label): the twin differs from the float pool")
                tested += 1
            } } }
        } }
        #expect(tested > 300, "only \(tested) geometries taken")
    }

    @Test func takesOnlyStemLikePoolsWithNoEmptyWindow() {
        #expect(Int8Pooling.takesBytes(Self.geometry(h: 112, w: 112, padTop: 1, padLeft: 1, ceil: false)))
        // A window wholly in the padding (pads of 3) would need -inf, which no byte holds.
        #expect(!Int8Pooling.takesBytes(Self.geometry(h: 8, w: 8, padTop: 3, padLeft: 1, ceil: false)))
        // 2x2 windows, stride 1, dilation 2: not the kernel's.
        let g = Self.geometry(h: 8, w: 8, padTop: 1, padLeft: 1, ceil: false)
        for other in [ConvGeometry(channels: 3, height: 8, width: 8, kernelH: 2, kernelW: 2, strideH: 2, strideW: 2, padTop: 0, padLeft: 0,
                                   dilationH: 1, dilationW: 1, outH: 4, outW: 4),
                      ConvGeometry(channels: 3, height: 8, width: 8, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padTop: 1, padLeft: 1,
                                   dilationH: 1, dilationW: 1, outH: 8, outW: 8),
                      ConvGeometry(channels: 3, height: 8, width: 8, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padTop: 1, padLeft: 1,
                                   dilationH: 2, dilationW: 2, outH: g.outH, outW: g.outW)] {
            #expect(!Int8Pooling.takesBytes(other), "\(other) taken")
        }
    }
}
