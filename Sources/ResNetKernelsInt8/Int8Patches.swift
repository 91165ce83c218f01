import CInt8Tiles
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

    /// Float-coded 8-bit values plus `offset` as bytes (AVX2 where the tile is a SIMD one).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func bytes<T: ExecScalar>(_ x: UnsafePointer<T>, count: Int, offset: Int, tile: Int8Tile, into out: UnsafeMutablePointer<UInt8>) {
        if T.self == Float.self, tile != .reference {
            // Sound: T is Float, so x points at `count` Floats.
            UnsafeRawPointer(x).withMemoryRebound(to: Float.self, capacity: count) { rt_bytes_from_floats_avx2($0, count, Float(offset), out) }
        } else {
            for i in 0..<count { out[i] = byte(x[i], offset: offset) }
        }
    }

    /// x [C, H, W] (float-coded) -> B[C*kh*kw, Ho*Wo] in the tile's interleaved layout,
    /// `pad` where a window reads padding: the zero point, so a padded cell contributes
    /// (zp - zp) · w = 0, as ONNX's QLinearConv pads with the real value 0. `plane` holds
    /// C x H x W bytes (the image converted once).
    /// Threads take disjoint channel ranges (their rows of B); the operand is zeroed first, once, but
    /// where whole groups interleave (readsByteImage: they write every byte of their rows).
    /// With `tapMajor` (the plan's, for this geometry and tile), B is built tap-major instead
    /// (Int8TapMajor: the weights were packed in that order) through `words` (its wordCount).
    /// With `byteImage` (x's values plus `offset` as bytes, [C, H, W]: its producer's, see
    /// tapMajorWords) x is never read: tap-major, or a pointwise conv on byte groups whose
    /// channels fill whole groups (`readsByteImage`).
    public static func unfold<T: ExecScalar>(_ x: UnsafePointer<T>, _ g: ConvGeometry, offset: Int, pad: UInt8, layout: Int8BLayout,
                                             plane: UnsafeMutablePointer<UInt8>, bytes out8: UnsafeMutablePointer<UInt8>,
                                             halves out16: UnsafeMutablePointer<Int16>, tapMajor: Int8TapMajor? = nil,
                                             words: UnsafeMutablePointer<UInt32>? = nil, threads: Int, byteImage: UnsafePointer<UInt8>? = nil) {
        precondition(tapMajor == nil || words != nil, "a tap-major operand needs its words buffer")
        precondition(byteImage == nil || tapMajor != nil || readsByteImage(g, tile: layout.tile),
                     "a byte image feeds a tap-major operand or a pointwise one of whole groups")
        if let tapMajor, let words {
            precondition(tapMajor.g == g && tapMajor.tile == layout.tile, "tap-major plan for another conv")
            let parts = Swift.max(1, Swift.min(threads, tapMajor.groups)), area = g.height * g.width, step = tapMajor.step
            let operand = layout.tile == .avx2 ? UnsafeMutableRawPointer(out16) : UnsafeMutableRawPointer(out8)
            // Fewer channel groups than threads (the stem: one): the rows are copied in a second
            // loop split by output rows, once the words exist (on 2 threads, the int8 stem ran
            // 1.16 -> 0.97 ms where it could have halved).
            let byRows = threads > 1 && tapMajor.groups < threads
            let work = { (t: Int) in
                // Each part its channel groups: their bytes, their words, their rows of B (every tap).
                let groups = (tapMajor.groups * t / parts)..<(tapMajor.groups * (t + 1) / parts)
                guard !groups.isEmpty else { return }
                if byRows {
                    tapMajorWords(x, tapMajor, groups: groups, offset: offset, pad: pad, plane: plane, words: words, byteImage: byteImage)
                } else if let byteImage {
                    // Sound: with whole groups of channels (byteImagePlane's condition) build never writes its plane.
                    tapMajor.build(plane: byteImagePlane(byteImage, tapMajor), groups: groups, pad: pad, layout: layout, words: words, operand: operand)
                } else {
                    // The groups' real channels as bytes (build's interleave fills a padding channel's plane).
                    let c0 = groups.lowerBound * step, c1 = Swift.min(g.channels, groups.upperBound * step)
                    if c0 < c1 { bytes(x + c0 * area, count: (c1 - c0) * area, offset: offset, tile: layout.tile, into: plane + c0 * area) }
                    tapMajor.build(plane: plane, groups: groups, pad: pad, layout: layout, words: words, operand: operand)
                }
            }
            if parts > 1 { DispatchFor.concurrent(parts, work) } else { work(0) }
            if byRows {
                // As many parts as output rows at most, each a non-empty run (the last ends at outH: it zeroes the tail).
                let rowParts = Swift.min(threads, g.outH)
                DispatchFor.concurrent(rowParts) { t in
                    let rows = (g.outH * t / rowParts)..<(g.outH * (t + 1) / rowParts)
                    tapMajor.copyRows(groups: 0..<tapMajor.groups, outputRows: rows, pad: pad, layout: layout, words: words, operand: operand)
                }
            }
            return
        }
        // Zeroed first, but for whole groups of a pointwise conv on byte groups: interleaveGroups writes
        // every byte of their rows (resnet50's layer1 1x1s: 200 KB a run, on one thread).
        if !readsByteImage(g, tile: layout.tile) {
            if layout.tile == .avx2 { out16.update(repeating: 0, count: layout.count) } else { out8.update(repeating: 0, count: layout.count) }
        }
        let parts = Swift.max(1, Swift.min(threads, g.channels))
        let work = { (t: Int) in
            // Boundaries on whole groups of 4 channels (a VNNI group's 4 k rows stay with one thread).
            func bound(_ t: Int) -> Int { t == parts ? g.channels : (g.channels * t / parts) / 4 * 4 }
            let channels = bound(t)..<max(bound(t), bound(t + 1))
            if let byteImage {
                // Sound: readsByteImage (checked above): whole groups of 4 channels, each a plane of H x W bytes.
                interleaveGroups(byteImage, g, channels: channels, layout: layout, into: out8)
            } else {
                unfold(x, g, channels: channels, offset: offset, pad: pad, layout: layout, plane: plane, bytes: out8, halves: out16)
            }
        }
        if parts > 1 { DispatchFor.concurrent(parts, work) } else { work(0) }
    }

    /// Channel groups `groups` of x (float-coded, [C, H, W]) as the tap-major plan's words: their
    /// real channels as bytes into `plane`, then interleaved into `words` (Int8TapMajor.interleave).
    /// Distinct groups touch distinct bytes and words: threads may take disjoint ranges at once.
    /// With `byteImage` (x's values plus `offset` as bytes, [C, H, W]: its producer's byte image,
    /// Planner+ByteImages.swift) the groups interleave from it, and x is never read.
    public static func tapMajorWords<T: ExecScalar>(_ x: UnsafePointer<T>, _ tapMajor: Int8TapMajor, groups: Range<Int>, offset: Int, pad: UInt8,
                                                    plane: UnsafeMutablePointer<UInt8>, words: UnsafeMutablePointer<UInt32>,
                                                    byteImage: UnsafePointer<UInt8>? = nil) {
        if let byteImage {
            tapMajor.interleave(plane: byteImagePlane(byteImage, tapMajor), groups: groups, pad: pad, words: words)
            return
        }
        let g = tapMajor.g, area = g.height * g.width, step = tapMajor.step
        let c0 = groups.lowerBound * step, c1 = Swift.min(g.channels, groups.upperBound * step)
        if c0 < c1 { bytes(x + c0 * area, count: (c1 - c0) * area, offset: offset, tile: tapMajor.tile, into: plane + c0 * area) }
        tapMajor.interleave(plane: plane, groups: groups, pad: pad, words: words)
    }

    /// A byte image as the plane Int8TapMajor.interleave reads. Sound: interleave writes its plane only
    /// for the padding channels of a last group, and with whole groups (required here) there are none.
    static func byteImagePlane(_ image: UnsafePointer<UInt8>, _ tapMajor: Int8TapMajor) -> UnsafeMutablePointer<UInt8> {
        precondition(tapMajor.g.channels % tapMajor.step == 0, "a byte image for a conv whose channels fill whole groups")
        return UnsafeMutablePointer(mutating: image)
    }

    /// Rows of channels `channels` (each thread its own: distinct k, so distinct elements of B).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func unfold<T: ExecScalar>(_ x: UnsafePointer<T>, _ g: ConvGeometry, channels: Range<Int>, offset: Int, pad: UInt8, layout: Int8BLayout,
                                      plane: UnsafeMutablePointer<UInt8>, bytes out8: UnsafeMutablePointer<UInt8>,
                                      halves out16: UnsafeMutablePointer<Int16>) {
        let area = g.height * g.width
        guard !channels.isEmpty else { return }
        bytes(x + channels.lowerBound * area, count: channels.count * area, offset: offset, tile: layout.tile, into: plane + channels.lowerBound * area)
        if layout.tile == .avx2 {
            scatter(plane, g, channels: channels, pad: pad, layout: layout, into: out16)
        } else if layout.tile.readsByteGroups && g.isPointwise && channels.lowerBound % 4 == 0 {
            // A pointwise conv's B is the image: whole groups of 4 channels interleave with SIMD unpacks.
            let whole = channels.lowerBound..<(channels.lowerBound + channels.count / 4 * 4)
            interleaveGroups(plane, g, channels: whole, layout: layout, into: out8)
            if whole.upperBound < channels.upperBound {
                scatter(plane, g, channels: whole.upperBound..<channels.upperBound, pad: pad, layout: layout, into: out8)
            }
        } else {
            scatter(plane, g, channels: channels, pad: pad, layout: layout, into: out8)
        }
    }

    /// Whether a pointwise conv's operand can be interleaved straight from its input's byte image:
    /// B is the image itself on a tile of byte groups, and with whole groups of 4 channels no
    /// channel is scattered alone.
    public static func readsByteImage(_ g: ConvGeometry, tile: Int8Tile) -> Bool {
        tile.readsByteGroups && g.isPointwise && g.channels % 4 == 0
    }

    /// A pointwise conv's B from bytes [C, H, W] (`image`): channels `channels` (whole groups of 4,
    /// from a multiple of 4) interleaved with SIMD unpacks, a group's row of B its 4 planes' bytes,
    /// then zeros to the row's padded end.
    static func interleaveGroups(_ image: UnsafePointer<UInt8>, _ g: ConvGeometry, channels: Range<Int>, layout: Int8BLayout,
                                 into out8: UnsafeMutablePointer<UInt8>) {
        precondition(channels.lowerBound % 4 == 0 && channels.count % 4 == 0, "whole groups of 4 channels")
        let n = g.height * g.width
        interleaveWords(image, rowStride: n, groups: (channels.lowerBound / 4)..<(channels.upperBound / 4), n: n,
                        groupStride: layout.paddedN * 4, into: out8)
    }

    /// Groups `groups` of 4 byte rows (row c at rows + c x rowStride, n bytes each) interleaved into
    /// words, group q's at out8 + q x groupStride (>= 4n bytes), then zeros to groupStride: a VNNI
    /// operand's rows, every byte of them written.
    public static func interleaveWords(_ rows: UnsafePointer<UInt8>, rowStride: Int, groups: Range<Int>, n: Int, groupStride: Int,
                                       into out8: UnsafeMutablePointer<UInt8>) {
        precondition(groupStride >= 4 * n, "a group's row holds its n words")
        for q in groups {
            let r = rows + 4 * q * rowStride, out = out8 + q * groupStride
            rt_interleave4_avx2(r, r + rowStride, r + 2 * rowStride, r + 3 * rowStride, n, out)
            (out + 4 * n).update(repeating: 0, count: groupStride - 4 * n)
        }
    }

    /// The window rows of `channels` from the byte image into B's interleaved layout (E: UInt8 or Int16).
    /// Per (k, output row): the valid columns form one range, so the inner loop has no bounds test.
    @_specialize(where E == UInt8)
    @_specialize(where E == Int16)
    static func scatter<E: FixedWidthInteger>(_ plane: UnsafePointer<UInt8>, _ g: ConvGeometry, channels: Range<Int>, pad: UInt8,
                                              layout: Int8BLayout, into out: UnsafeMutablePointer<E>) {
        let step = layout.step, groupStride = layout.paddedN * step, padValue = E(pad)
        var row = channels.lowerBound * g.kernelH * g.kernelW
        for c in channels {
            let src = plane + c * g.height * g.width
            for ky in 0..<g.kernelH {
                for kx in 0..<g.kernelW {
                    let base = (row / step) * groupStride + row % step
                    let shift = kx * g.dilationW - g.padLeft
                    let valid = g.validColumns(kx: kx), lo = valid.lowerBound, hi = valid.upperBound
                    for oy in 0..<g.outH {
                        let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                        let dst = out + base + oy * g.outW * step
                        guard iy >= 0 && iy < g.height else {
                            for ox in 0..<g.outW { dst[ox * step] = padValue }
                            continue
                        }
                        let line = src + iy * g.width + shift
                        for ox in 0..<lo { dst[ox * step] = padValue }
                        for ox in lo..<hi { dst[ox * step] = E(line[ox * g.strideW]) }
                        for ox in hi..<g.outW { dst[ox * step] = padValue }
                    }
                    row += 1
                }
            }
        }
    }

    /// Σ_k B[k, j] per column of an interleaved operand: needed when a weight zero point is not 0.
    public static func columnSums(layout: Int8BLayout, bytes: UnsafePointer<UInt8>, halves: UnsafePointer<Int16>,
                                  into sums: UnsafeMutablePointer<Int32>) {
        sums.update(repeating: 0, count: layout.n)
        for p in 0..<layout.k {
            for j in 0..<layout.n {
                let o = layout.offset(k: p, j: j)
                sums[j] &+= layout.tile == .avx2 ? Int32(halves[o]) : Int32(bytes[o])
            }
        }
    }
}

/// Scratch of the integer steps, shared by every one of a plan (steps run one at a
/// time); grown only at plan time.
public final class Int8Scratch: @unchecked Sendable {
    // @unchecked: grown at plan time only; a plan runs its steps one after another.
    public private(set) var plane: UnsafeMutablePointer<UInt8> = Int8Scratch.allocate(1)
    public private(set) var bytes: UnsafeMutablePointer<UInt8> = Int8Scratch.allocate(1)
    public private(set) var halves: UnsafeMutablePointer<Int16> = Int8Scratch.allocate(1)
    public private(set) var accumulators: UnsafeMutablePointer<Int32> = Int8Scratch.allocate(1)
    public private(set) var columnSums: UnsafeMutablePointer<Int32> = Int8Scratch.allocate(1)
    /// The tap-major path's interleaved image (Int8TapMajor.wordCount).
    public private(set) var words: UnsafeMutablePointer<UInt32> = Int8Scratch.allocate(1)
    private var capacities = (plane: 1, operand: 1, halves: 1, accumulators: 1, columnSums: 1, words: 1)
    public let workspace: Int8GemmWorkspace

    public init(threads: Int) { workspace = Int8GemmWorkspace(threads: threads) }

    /// Grows each buffer to at least the counts given (the planner checked them against its budget):
    /// `plane` bytes of a converted image, B's elements (`layout.count`, as bytes or, for the AVX2
    /// tile, as int16), int32 sums, column sums, tap-major words.
    /// `operandElements`, when given, replaces layout.count (the chunked convs' per-thread operands).
    public func reserve(plane p: Int, operand layout: Int8BLayout, accumulators a: Int, columnSums c: Int, words w: Int = 0,
                        operandElements: Int? = nil) {
        if w > capacities.words { Self.free(words); words = Self.allocate(w); capacities.words = w }
        if p > capacities.plane { Self.free(plane); plane = Self.allocate(p); capacities.plane = p }
        let b = operandElements ?? layout.count
        if layout.tile == .avx2 {
            if b > capacities.halves { Self.free(halves); halves = Self.allocate(b); capacities.halves = b }
        } else if b > capacities.operand {
            Self.free(bytes); bytes = Self.allocate(b); capacities.operand = b
        }
        if a > capacities.accumulators { Self.free(accumulators); accumulators = Self.allocate(a); capacities.accumulators = a }
        if c > capacities.columnSums { Self.free(columnSums); columnSums = Self.allocate(c); capacities.columnSums = c }
    }
    deinit { Self.free(plane); Self.free(bytes); Self.free(halves); Self.free(accumulators); Self.free(columnSums); Self.free(words) }

    /// `count` uninitialised elements on a 64-byte boundary. Why: the tiles read B in place, one
    /// cache line per AVX2 step (two 32-byte loads), and the system allocator starts a large
    /// block 16 bytes past a page, which put every other one of those loads across two lines.
    /// resnet50-qop on the AVX2 tile, 1 thread, two plans in one process (ab-inproc --plans, 12
    /// rounds): summed steps 80.7 -> 74.6 ms, every layer group faster (layer3 26.4 -> 24.2).
    static func allocate<T>(_ count: Int) -> UnsafeMutablePointer<T> {
        let capacity = Swift.max(count, 1)
        return UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<T>.stride, alignment: 64)
            .bindMemory(to: T.self, capacity: capacity)
    }

    /// Frees what `allocate` returned (through the raw pointer it came from).
    static func free<T>(_ pointer: UnsafeMutablePointer<T>) { UnsafeMutableRawPointer(pointer).deallocate() }

    /// Bytes every buffer holds together: what the plan must charge (each buffer grows to its own
    /// largest request over all steps, so the total is the sum of those, not any one step's).
    public var reservedBytes: Int {
        capacities.plane + capacities.operand + 2 * capacities.halves + 4 * (capacities.accumulators + capacities.columnSums + capacities.words)
    }

    /// reservedBytes after `reserve` with these counts, nil on overflow: checked against the budget
    /// before anything is allocated.
    public func bytesAfterReserving(plane p: Int, operand layout: Int8BLayout, accumulators a: Int, columnSums c: Int, words w: Int = 0,
                                    operandElements: Int? = nil) -> Int? {
        let b = operandElements ?? layout.count
        let operand = layout.tile == .avx2 ? capacities.operand : Swift.max(capacities.operand, b)
        let halves = layout.tile == .avx2 ? Swift.max(capacities.halves, b) : capacities.halves
        let fours = [Swift.max(capacities.accumulators, a), Swift.max(capacities.columnSums, c), Swift.max(capacities.words, w)]
        var total = Swift.max(capacities.plane, p)
        for (count, size) in [(operand, 1), (halves, 2)] + fours.map({ ($0, 4) }) {
            let (bytes, o1) = count.multipliedReportingOverflow(by: size)
            let (sum, o2) = total.addingReportingOverflow(bytes)
            guard !o1, !o2 else { return nil }
            total = sum
        }
        return total
    }
}

/// Requantization on the plan's tile: the AVX2 row kernel where it applies (float32
/// plans, no weight zero point), the twin's arithmetic otherwise. Both compute the same.
public enum Int8Requantize {
    public static func apply<T: ExecScalar>(_ r: Requantization, _ acc: UnsafePointer<Int32>, ldc: Int, rows: Range<Int>, n: Int,
                                            columnSums: UnsafePointer<Int32>?, into out: UnsafeMutablePointer<T>, ldo: Int, tile: Int8Tile) {
        guard !rows.isEmpty, n > 0 else { return }
        guard T.self == Float.self, tile != .reference, !r.needsColumnSums else {
            r.apply(acc, ldc: ldc, rows: rows, n: n, columnSums: columnSums, into: out, ldo: ldo)
            return
        }
        // Sound: T is Float; row i's n outputs are at out + i * ldo.
        UnsafeMutableRawPointer(out).withMemoryRebound(to: Float.self, capacity: (rows.upperBound - 1) * ldo + n) { o in
            for i in rows {
                rt_requantize_row_avx2(acc + i * ldc, n, r.constant(row: i), r.multiplier[i], r.outputZeroPoint, r.range.lo, r.range.hi, o + i * ldo)
            }
        }
    }
}

/// A product with one column, y = W · x (rows of int8 weights times one operand of bytes), exact
/// in int32: a classifier at batch 1 (resnet50's [1, 2048] x [2048, 1000]), which the 6 x 16 tiles ran
/// with one of 16 columns real (0.39-0.41 ms on one Zen 3 core, where onnxruntime takes 0.17).
public enum Int8Gemv {
    /// y[j] = Σ_k w[j · ldw + k] · x[k] for j < m (AVX2; rows split over `threads`). k · 128 · 255
    /// must stay below 2^31 (the planner's k is at most 33,025).
    public static func run(weights w: UnsafePointer<Int8>, ldw: Int, m: Int, k: Int, x: UnsafePointer<UInt8>,
                           into y: UnsafeMutablePointer<Int32>, threads: Int) {
        precondition(k <= 65_793 && ldw >= k, "a GEMV whose sums could pass int32, or rows overlapping")
        let parts = Swift.max(1, Swift.min(threads, m / 64))
        let work = { (t: Int) in
            let rows = (m * t / parts)..<(m * (t + 1) / parts)
            guard !rows.isEmpty else { return }
            // Sound: rows of this part lie within the m x ldw weights and the m sums; x holds k bytes (the caller's).
            rt_int8_gemv_avx2(w + rows.lowerBound * ldw, ldw, rows.count, k, x, y + rows.lowerBound)
        }
        if parts > 1 { DispatchFor.concurrent(parts, work) } else { work(0) }
    }
}

/// Elementwise int8 kernels the executor calls (the C ones stay behind this target).
public enum Int8Elementwise {
    /// DequantizeLinear of `count` float-coded values with one scale and zero point (AVX2): (x - zp) · scale.
    /// (resnet50-qdq's stem output, 802,816 values before its max pool, took 0.5 ms a float at a time.)
    public static func dequantizeLinear(_ x: UnsafePointer<Float>, count: Int, scale: Float, zeroPoint: Float,
                                        into out: UnsafeMutablePointer<Float>) {
        rt_dequantize_avx2(x, count, zeroPoint, scale, out)
    }

    /// QuantizeLinear of `count` floats with one scale and zero point (AVX2): QuantizedRange.quantize(x / scale).
    /// (A model's input step: resnet50's 150,528 values took 0.24-0.29 ms a float at a time.)
    public static func quantizeLinear(_ x: UnsafePointer<Float>, count: Int, scale: Float, zeroPoint: Float, range: QuantizedRange,
                                      into out: UnsafeMutablePointer<Float>) {
        rt_quantize_divide_avx2(x, count, scale, zeroPoint, range.lo, range.hi, out)
    }

    /// One operand of QLinearAdd: float-coded values, or a byte image holding each value plus `offset`
    /// (as `Int8Patches.bytes` converts it: exact for the in-range integers a producer writes).
    public enum AddOperand {
        case floats(UnsafePointer<Float>)
        case bytes(UnsafePointer<UInt8>, offset: Int)
    }

    /// com.microsoft QLinearAdd in MLAS's arithmetic (AVX2):
    /// out = saturate(round((a - za)·ra + (b - zb)·rb) + zc); b one (float-coded) value when bIsScalar.
    /// Either operand may come as a byte image (the same integers, so the same results). The results
    /// go to `out` where non-nil and, with `byteImage`, as `Int8Patches.bytes` converts them with that
    /// offset (the byte image its readers take); at least one of the two.
    /// `wide` (an AVX-512 plan, on a CPU with AVX-512 BW): the joins between byte images, bytes alone
    /// out, 64 values a step (rt_qlinear_add_bytes_avx512, the same bytes), where its figures allow.
    public static func qlinearAdd(_ a: AddOperand, _ b: AddOperand, bIsScalar: Bool, count: Int,
                                  zeroPoints: (a: Float, b: Float, c: Float), ratios: (a: Float, b: Float), range: QuantizedRange,
                                  into out: UnsafeMutablePointer<Float>?, byteImage: (UnsafeMutablePointer<UInt8>, offset: Int)? = nil,
                                  wide: Bool = false) {
        precondition(out != nil || byteImage != nil, "QLinearAdd with nowhere to write")
        if wide, out == nil, !bIsScalar, let (image, offset) = byteImage, case let .bytes(au, ao) = a, case let .bytes(bu, bo) = b,
           rt_qlinear_add_bytes_avx512(au, Float(ao), bu, Float(bo), count, zeroPoints.a, zeroPoints.b, ratios.a, ratios.b, zeroPoints.c,
                                       range.lo, range.hi, image, Float(offset)) != 0 {
            return
        }
        func parts(_ o: AddOperand) -> (UnsafePointer<Float>?, UnsafePointer<UInt8>?, Float) {
            switch o {
            case let .floats(f): return (f, nil, 0)
            case let .bytes(u, offset): return (nil, u, Float(offset))
            }
        }
        let (af, au, ao) = parts(a), (bf, bu, bo) = parts(b)
        precondition(!bIsScalar || bf != nil, "a scalar B is float-coded")
        rt_qlinear_add_avx2(af, au, ao, bf, bu, bo, bIsScalar ? 1 : 0, count, zeroPoints.a, zeroPoints.b, ratios.a, ratios.b, zeroPoints.c,
                            range.lo, range.hi, out, byteImage?.0, Float(byteImage?.offset ?? 0))
    }
}
