/// Copies a position panel's K slice: dst[p * rows + i] = the float at source + steps[p] +
/// offsets[i] bytes, for steps p < kb and the panel's `rows` (the kernel's gatherRows, 6 or 7:
/// the only counts either copy takes) positions i; the tile then reads it with steps 4 * rows * p and offsets 4 * i.
/// `scalar` is the twin every kernel set can run (the default packPositions); `vector` moves
/// eight floats at a time where the steps are consecutive floats (a channels-last 1x1: each
/// position's channels a row), SIMD8, and is tested against it at every edge
/// (PositionPackingTests). The AVX2 set runs it: only it packs channels-last 1x1s
/// (packsChannelsLastPointwise). Why: a float at a time, that copy was about 1.3% of
/// resnet50's samples on one Zen 3 core (perf, session 23), six scalar loads and six scalar
/// stores a step; as vectors, ab-inproc 1 thread 16 rounds, summed steps 88.40 -> 87.05 ms.
/// (Channels first, a stride-1 panel's positions are adjacent too; copied as vectors there,
/// layer2.0.conv1, the one such conv, did not change: 2.44-2.46 ms.)
public enum PositionPacking {
    // Always inlined: a call would run this module's baseline x86-64 copy, not the kernel set's.
    @inlinable @inline(__always)
    public static func scalar(source: UnsafeRawPointer, steps: UnsafePointer<Int>, kb: Int, offsets: UnsafePointer<Int>, rows: Int,
                              into dst: UnsafeMutablePointer<Float>) {
        // Sound: rows is 6 or 7 (gatherRows: convGather's precondition); the caller keeps source +
        // steps[p] + offsets[i] readable for p < kb, i < rows (convGather: patch elements the tile
        // itself would read), and dst holds kb x rows floats (its B buffer).
        var dst = dst
        // The offsets held in locals (a store through dst may alias them for all the compiler knows).
        let (o0, o1, o2, o3, o4, o5, o6) = (offsets[0], offsets[1], offsets[2], offsets[3], offsets[4], offsets[5], offsets[rows - 1])
        for p in 0..<kb {
            let at = source + steps[p]
            dst[0] = at.load(fromByteOffset: o0, as: Float.self); dst[1] = at.load(fromByteOffset: o1, as: Float.self)
            dst[2] = at.load(fromByteOffset: o2, as: Float.self); dst[3] = at.load(fromByteOffset: o3, as: Float.self)
            dst[4] = at.load(fromByteOffset: o4, as: Float.self); dst[5] = at.load(fromByteOffset: o5, as: Float.self)
            if rows > 6 { dst[6] = at.load(fromByteOffset: o6, as: Float.self) }
            dst += rows
        }
    }

    /// As `scalar`, for rows 6 or 7 (convGather's gatherRows). With `consecutiveSteps` (steps[p] =
    /// steps[0] + 4p), eight steps of every position at once: each position's eight floats a vector
    /// (the block's rows past `rows` zero), transposed so that each step's `rows` positions are one
    /// vector's first lanes, stored as eight floats at dst + rows * p whose last 8 - rows the next
    /// step overwrites. The last step (at least) goes a float at a time, so nothing is written
    /// past kb x rows.
    // Always inlined: a call would run this module's baseline x86-64 copy, not the kernel set's.
    @inlinable @inline(__always)
    public static func vector(source: UnsafeRawPointer, steps: UnsafePointer<Int>, kb: Int, offsets: UnsafePointer<Int>, rows: Int,
                              consecutiveSteps: Bool, into dst: UnsafeMutablePointer<Float>) {
        let out = UnsafeMutableRawPointer(dst), stride = 4 * rows
        var p = 0
        if consecutiveSteps {
            // Sound: rows is 6 or 7 (gatherRows: convGather's precondition), so offsets[0 ..< 6] and
            // offsets[rows - 1] exist; steps p ..< p + 8 < kb are steps `scalar` reads, each eight
            // floats a row of them (consecutiveSteps); the store for step p + 7 ends at
            // dst + rows * (p + 7) + 8 <= dst + rows * (p + 9) <= dst + rows * kb.
            let o = (offsets[0], offsets[1], offsets[2], offsets[3], offsets[4], offsets[5], offsets[rows - 1])
            while p + 8 < kb {
                let at = source + steps[p]
                let columns = SIMD8Block.transposed(at.loadUnaligned(fromByteOffset: o.0, as: SIMD8<Float>.self),
                                                    at.loadUnaligned(fromByteOffset: o.1, as: SIMD8<Float>.self),
                                                    at.loadUnaligned(fromByteOffset: o.2, as: SIMD8<Float>.self),
                                                    at.loadUnaligned(fromByteOffset: o.3, as: SIMD8<Float>.self),
                                                    at.loadUnaligned(fromByteOffset: o.4, as: SIMD8<Float>.self),
                                                    at.loadUnaligned(fromByteOffset: o.5, as: SIMD8<Float>.self),
                                                    rows > 6 ? at.loadUnaligned(fromByteOffset: o.6, as: SIMD8<Float>.self) : SIMD8(),
                                                    SIMD8())
                SIMD8Block.store(columns, to: out, at: stride * p, stride: stride)
                p += 8
            }
        }
        scalar(source: source, steps: steps + p, kb: kb - p, offsets: offsets, rows: rows, into: dst + rows * p)
    }
}

/// An 8 x 8 block of floats held in eight SIMD8 registers (LayoutTransposeSIMD's layout copies,
/// PositionPacking's channels-last panels).
public enum SIMD8Block {
    public typealias Eight = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

    /// Rows r0 ... r7 of an 8 x 8 block -> its columns, in three stages of two-source shuffles of
    /// the kind x86 has single instructions for: interleave pairs of rows within each 128-bit half
    /// (as vunpcklps/vunpckhps), then pairs of pairs (as vshufps), then join the low halves or the
    /// high halves of two vectors (as vinsertf128/vperm2f128); 24 shuffles, where LLVM is free to
    /// pick its own sequence (LayoutTransposeSIMD has how that compared with gathering each
    /// column from all eight rows at once).
    /// The eight vectors at `to` + `at`, `at` + `stride`, ... `at` + 7 `stride` bytes. Sound where the
    /// caller's eight 32-byte spans lie in its buffer (each caller says why).
    @inlinable @inline(__always)
    public static func store(_ v: Eight, to out: UnsafeMutableRawPointer, at offset: Int, stride: Int) {
        out.storeBytes(of: v.0, toByteOffset: offset, as: SIMD8<Float>.self)
        out.storeBytes(of: v.1, toByteOffset: offset + stride, as: SIMD8<Float>.self)
        out.storeBytes(of: v.2, toByteOffset: offset + 2 * stride, as: SIMD8<Float>.self)
        out.storeBytes(of: v.3, toByteOffset: offset + 3 * stride, as: SIMD8<Float>.self)
        out.storeBytes(of: v.4, toByteOffset: offset + 4 * stride, as: SIMD8<Float>.self)
        out.storeBytes(of: v.5, toByteOffset: offset + 5 * stride, as: SIMD8<Float>.self)
        out.storeBytes(of: v.6, toByteOffset: offset + 6 * stride, as: SIMD8<Float>.self)
        out.storeBytes(of: v.7, toByteOffset: offset + 7 * stride, as: SIMD8<Float>.self)
    }

    @inlinable @inline(__always)
    public static func transposed(_ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>, _ r3: SIMD8<Float>,
                                     _ r4: SIMD8<Float>, _ r5: SIMD8<Float>, _ r6: SIMD8<Float>, _ r7: SIMD8<Float>) -> Eight {
        @inline(__always) func low(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { SIMD8(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5]) }
        @inline(__always) func high(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { SIMD8(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7]) }
        @inline(__always) func pairsLow(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { SIMD8(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5]) }
        @inline(__always) func pairsHigh(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { SIMD8(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7]) }
        @inline(__always) func halves(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { SIMD8(lowHalf: a.lowHalf, highHalf: b.lowHalf) }
        @inline(__always) func upperHalves(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { SIMD8(lowHalf: a.highHalf, highHalf: b.highHalf) }
        // t: rows interleaved in pairs, (r0[0], r1[0], r0[1], r1[1] | r0[4], r1[4], r0[5], r1[5]) and so on.
        let t0 = low(r0, r1), t1 = high(r0, r1), t2 = low(r2, r3), t3 = high(r2, r3)
        let t4 = low(r4, r5), t5 = high(r4, r5), t6 = low(r6, r7), t7 = high(r6, r7)
        // s: columns j and j + 4 of four rows each, (r0[j], r1[j], r2[j], r3[j] | r0[j+4], ... r3[j+4]).
        let s0 = pairsLow(t0, t2), s1 = pairsHigh(t0, t2), s2 = pairsLow(t1, t3), s3 = pairsHigh(t1, t3)
        let s4 = pairsLow(t4, t6), s5 = pairsHigh(t4, t6), s6 = pairsLow(t5, t7), s7 = pairsHigh(t5, t7)
        return (halves(s0, s4), halves(s1, s5), halves(s2, s6), halves(s3, s7),
                upperHalves(s0, s4), upperHalves(s1, s5), upperHalves(s2, s6), upperHalves(s3, s7))
    }
}
