import Testing
import ResNetKernelsInt8
import ResNetKernelsReference

/// The one-column int8 product (Int8Gemv: rt_int8_gemv_avx2) against the plain sum, value for value:
/// rows in fours and the rows past them (1-5, 17, 1000), K across its 16-wide steps and their tail
/// (1, 15-17, 31-33, 2048), the extremes (weights -128 and 127 times 255: the largest sums; the
/// largest K the planner passes, 33,025, at -128 x 255 in every term), rows spaced wider than K,
/// and 1-3 threads splitting the rows.
struct Int8GemvTests {
    static func naive(_ w: [Int8], ldw: Int, m: Int, k: Int, x: [UInt8]) -> [Int32] {
        var y = [Int32](repeating: 0, count: m)
        for j in 0..<m {
            for q in 0..<k { y[j] += Int32(w[j * ldw + q]) * Int32(x[q]) }
        }
        return y
    }

    func check(m: Int, k: Int, ldw: Int, w: [Int8], x: [UInt8], threads: Int, _ label: String) {
        var y = [Int32](repeating: -7, count: m + 4)
        w.withUnsafeBufferPointer { wp in x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
            Int8Gemv.run(weights: wp.baseAddress!, ldw: ldw, m: m, k: k, x: xp.baseAddress!, into: yp.baseAddress!, threads: threads)
        } } }
        let expected = Self.naive(w, ldw: ldw, m: m, k: k, x: x)
        #expect(Array(y[..<m]) == expected, "\(label) m \(m) k \(k) ldw \(ldw) threads \(threads)")
        #expect(y[m...].allSatisfy { $0 == -7 }, "\(label): wrote past row \(m)")
    }

    @Test func matchesThePlainSum() {
        guard Int8Tile.avx2.isSupported else { print("the int8 GEMV not exercised: no AVX2 on this CPU"); return }
        for m in [1, 2, 3, 4, 5, 17, 1000] {
            for k in [1, 15, 16, 17, 31, 32, 33, 2048] {
                for ldw in [k, k + 5] {
                    let w = (0..<(m * ldw)).map { i in Int8(truncatingIfNeeded: (i &* 7919) % 256) }
                    let x = (0..<k).map { i in UInt8(truncatingIfNeeded: (i &* 104_729) % 256) }
                    for threads in [1, 2, 3] { check(m: m, k: k, ldw: ldw, w: w, x: x, threads: threads, "mixed") }
                }
            }
        }
        // The extremes: every term -128 x 255 (the most negative sum) or 127 x 255, at the deepest K the planner allows.
        for (k, weight) in [(33_025, Int8.min), (33_025, Int8.max), (2048, Int8.min)] {
            let m = 6
            check(m: m, k: k, ldw: k, w: Array(repeating: weight, count: m * k), x: Array(repeating: 255, count: k), threads: 2, "extreme \(weight)")
        }
    }
}
