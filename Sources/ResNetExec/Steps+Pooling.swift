import ResNetKernels
import ResNetKernelsInt8
import ResNetKernelsReference

/// Pools as data (Planner.pool, globalPool, genericPool, maxPoolOnBytes, maxPoolChannelsLast).
/// Planes are images x channels; each thread writes only its own output planes or rows.
enum PoolStep<T: ExecScalar> {
    /// A 2-D max or average pool of x [N, C, H, W] into y [N, C, Ho, Wo], planes split over `threads`.
    case window(x: Int, y: Int, g: ConvGeometry, planes: Int, max: Bool, countIncludePad: Bool, threads: Int, simd: Bool)
    /// A max pool on byte images (Int8Pooling): xBytes into yBytes at the same offset, y's floats
    /// written too where `image.floatsWritten` (settled before any run).
    case maxOnBytes(xBytes: Int, yBytes: Int, y: Int, image: ByteImageOffer, g: ConvGeometry, planes: Int, threads: Int)
    /// A max pool of channels-last x, threads splitting each image's output rows, each with its
    /// `perThread` floats of row buffers in `scratch`; y channels last where `channelsLastOutput`.
    case maxChannelsLast(x: Int, y: Int, scratch: Int, images: Int, g: ConvGeometry, threads: Int, perThread: Int, channelsLastOutput: Bool)
    /// A global pool of channels-last x [N, size, C] into y [N, C] (the same floats in either layout).
    case globalChannelsLast(x: Int, y: Int, images: Int, channels: Int, size: Int, max: Bool)
    /// A global average on the SIMD sets, planes split into `parts`.
    case globalAverage(x: Int, y: Int, planes: Int, size: Int, parts: Int)
    /// A global max or average on the reference kernels.
    case global(x: Int, y: Int, planes: Int, size: Int, max: Bool)
    /// The N-D pool (GenericOps.pool), with its optional indices output.
    case generic(x: Int, y: Int, indices: Int?, planes: Int, window: GenericOps.Window, max: Bool, countIncludePad: Bool,
                 padEnd: [Int], columnMajor: Bool)

    func perform(on p: ExecutionPlanOf<T>) {
        switch self {
        case let .window(x, y, g, planes, isMax, includePad, threads, simd):
            let (inPlane, outPlane) = (g.height * g.width, g.outH * g.outW)
            let work = { (t: Int) in
                let lo = planes * t / threads, hi = planes * (t + 1) / threads
                guard hi > lo else { return }
                if simd && !isMax && PoolingAVX2.isAveragePool2x2(g) {
                    PoolingAVX2.averagePool2x2(p.f32(x) + lo * inPlane, planes: hi - lo, g, into: p.f32(y) + lo * outPlane)
                } else if simd {  // both SIMD sets run the body compiled for x86-64-v3
                    PoolingAVX2.pool(p.f32(x) + lo * inPlane, planes: hi - lo, g, max: isMax, countIncludePad: includePad,
                                     into: p.f32(y) + lo * outPlane)
                } else {
                    Pooling.pool(p.pointer(x) + lo * inPlane, planes: hi - lo, g, max: isMax, countIncludePad: includePad,
                                 into: p.pointer(y) + lo * outPlane)
                }
            }
            if threads > 1 { DispatchFor.concurrent(threads, work) } else { work(0) }
        case let .maxOnBytes(xBytes, yBytes, y, image, g, planes, threads):
            let (inPlane, outPlane, offset) = (g.height * g.width, g.outH * g.outW, image.offset)
            let xb = UnsafePointer(p.bytes(xBytes)), yb = p.bytes(yBytes)
            let floats = image.floatsWritten ? p.f32(y) : nil
            let work = { (t: Int) in
                let lo = planes * t / threads, hi = planes * (t + 1) / threads
                guard hi > lo else { return }
                // Sound: planes lo ..< hi of x's and y's byte images (a byte per value of their tensors).
                Int8Pooling.maxPool(xb + lo * inPlane, planes: hi - lo, g, into: yb + lo * outPlane)
                if let floats { for i in (lo * outPlane)..<(hi * outPlane) { floats[i] = Float(yb[i]) - Float(offset) } }
            }
            if threads > 1 { DispatchFor.concurrent(threads, work) } else { work(0) }
        case let .maxChannelsLast(x, y, scratch, images, g, threads, perThread, channelsLastOutput):
            let (inImage, outImage) = (g.channels * g.height * g.width, g.channels * g.outH * g.outW)
            for img in 0..<images {
                let src = UnsafePointer(p.f32(x) + img * inImage), dst = p.f32(y) + img * outImage
                DispatchFor.concurrent(threads) { t in
                    let rows = (g.outH * t / threads)..<(g.outH * (t + 1) / threads)
                    guard !rows.isEmpty else { return }
                    PoolingAVX2.maxPoolChannelsLast(src, g, rows: rows, into: dst, channelsLastOutput: channelsLastOutput,
                                                    scratch: p.f32(scratch) + t * perThread)
                }
            }
        case let .globalChannelsLast(x, y, images, channels, size, isMax):
            Pooling.globalChannelsLast(p.pointer(x), images: images, channels: channels, size: size, max: isMax, into: p.pointer(y))
        case let .globalAverage(x, y, planes, size, parts):
            let (px, py) = (p.f32(x), p.f32(y))
            DispatchFor.concurrent(parts) { t in PoolingAVX2.globalAverage(px, planes: (planes * t / parts)..<(planes * (t + 1) / parts), size: size, into: py) }
        case let .global(x, y, planes, size, isMax):
            Pooling.global(p.pointer(x), planes: planes, size: size, max: isMax, into: p.pointer(y))
        case let .generic(x, y, indices, planes, w, isMax, includePad, padEnd, columnMajor):
            GenericOps.pool(p.pointer(x), planes: planes, w, max: isMax, countIncludePad: includePad, padEnd: padEnd,
                            into: p.pointer(y), indices: indices.map { p.pointer($0) }, columnMajor: columnMajor)
        }
    }
}
